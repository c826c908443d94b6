"""``gap``: the smallest improvement that reaches the next band, as published."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kepatuhan import KepatuhanError, ObservationTable, Rubric, rubric_from_toml
from kepatuhan.analysis.gap import GapPlan, _variants, gap, gap_threshold
from kepatuhan.bands import Band, BandScheme
from kepatuhan.engine import score
from kepatuhan.results import Scores
from kepatuhan.rounding import publish
from kepatuhan.rubric import LEVELS
from kepatuhan.testing import fresh_manager, rubrics, table_records

PM = fresh_manager()
REG = PM.registry

#: The bands of 2022–2025 (D below 54.00, C to 77.99, B to 87.99, A from 88.00), written out
#: here so these tests do not depend on an edition's file.
BANDS = """
[bands]
[[bands.band]]
id = "D"
label = "D"
min = 0
max = 53.99
[[bands.band]]
id = "C"
label = "C"
min = 54
max = 77.99
[[bands.band]]
id = "B"
label = "B"
min = 78
max = 87.99
[[bands.band]]
id = "A"
label = "A"
min = 88
max = 100
"""


def small(rule: str, scales: dict[str, str]) -> Rubric:
    """A rubric with the root's ``rule`` over leaves observed per institution."""
    crits = "".join(
        f'\n[[criterion]]\nid = "{c}"\nparent = "total"\nlabel = "{c}"\nscale = {s}\n'
        'level = "institution"\n'
        for c, s in scales.items()
    )
    head = f'id = "t"\ntitle = "t"\nmissing = "zero"\n{BANDS}'
    root = f'\n[[criterion]]\nid = "total"\nlabel = "total"\nrule = "{rule}"\n'
    return rubric_from_toml(head + root + crits)


def scored(rubric: Rubric, values: dict[str, float]) -> Scores:
    recs = [dict(institution="x", criterion=c, value=v) for c, v in values.items()]
    return score(rubric, ObservationTable.from_records(recs), plugins=PM)


def rescore(res: Scores, plan: GapPlan, last: float | None = None) -> float:
    """The institution's score with the plan applied (its last step set to ``last``)."""
    t = res.table
    edits = []
    for k, s in enumerate(plan.steps):
        to = last if last is not None and k == len(plan.steps) - 1 else s.to
        n = _node(res, s.entity, s.criterion)
        edits.append(((n[0], n[1], s.criterion), to))
    got = score(res.rubric, _variants(t, [edits]), plugins=PM).columns(0)
    return float(got.score[0])


def _node(res: Scores, entity: str, criterion: str) -> tuple[int, int]:
    tree = res.explain(res.table.institutions[0].id)
    n = next(n for n in tree.walk() if n.entity == entity and n.criterion == criterion)
    return LEVELS.index(n.level), n.entity_index


PCT = '{ name = "percentage" }'


def test_the_threshold_is_the_edge_minus_half_a_published_unit() -> None:
    assert gap_threshold(Decimal("54.00")) == 53.995
    assert publish(53.995) == "54.00" and publish(53.99499999) == "53.99"


def test_just_below_an_edge_the_plan_is_the_exact_amount_not_the_maximum() -> None:
    # 53.99 is C's neighbour: +0.005 publishes as 54.00; the old plan raised a to 100 (+46.01)
    r = small("weighted_mean", {"a": PCT, "b": PCT})
    res = scored(r, {"a": 53.99, "b": 53.99})
    plan = gap(res, "x", plugins=PM)
    assert plan.method == "closed form" and plan.reached and len(plan.steps) == 1
    (s,) = plan.steps
    # one of two equal weights: +0.01 on the leaf is +0.005 on the score
    assert s.to == pytest.approx(54.0, abs=1e-9) and s.points == pytest.approx(0.005)
    assert publish(plan.achieved) == "54.00" and plan.target is not None
    assert plan.target.id == "C"
    # both sides of the edge, re-scored by the engine
    assert publish(rescore(res, plan)) == "54.00"
    assert publish(rescore(res, plan, s.to - 1e-6)) == "53.99"


def test_an_ordinal_leaf_moves_to_the_next_level_that_reaches() -> None:
    r = small("weighted_mean", {"a": '{ name = "ordinal", points = [0, 1, 2, 3, 4] }', "b": PCT})
    res = scored(r, {"a": 1, "b": 70})  # (25 + 70) / 2 = 47.5, D
    plan = gap(res, "x", plugins=PM)
    # C needs 53.995, +6.495: b (continuous) to 82.99 gains exactly that; a's next level
    # (2, worth 50) gains 12.5 — the least overshoot wins
    assert plan.reached and [s.criterion for s in plan.steps] == ["b"]
    assert plan.steps[0].to == pytest.approx(82.99)
    res2 = scored(r, {"a": 1, "b": 100})  # only a can move: (25 + 100) / 2 = 62.5, C
    plan2 = gap(res2, "x", plugins=PM)
    (s,) = plan2.steps
    # B needs 77.995: a at level 3 (75) gives 87.5, level 2 (50) gives 75 — level 3
    assert s.criterion == "a" and s.to == 3 and not s.full and s.amount == 2
    assert publish(rescore(res2, plan2, 2)) == "75.00"


def test_a_minimum_is_searched_by_rescoring_and_the_amount_is_exact() -> None:
    r = small("minimum", {"a": PCT, "b": PCT})
    res = scored(r, {"a": 40, "b": 60})
    plan = gap(res, "x", plugins=PM)
    assert plan.method == "search" and plan.reached
    (s,) = plan.steps
    assert s.criterion == "a" and s.to == pytest.approx(53.995, abs=1e-6)
    assert publish(rescore(res, plan, s.to - 1e-4)) == "53.99"


def test_a_minimum_with_a_tie_at_the_bottom_is_refused_with_the_reason() -> None:
    r = small("minimum", {"a": PCT, "b": PCT})
    plan = gap(scored(r, {"a": 40, "b": 40}), "x", plugins=PM)
    assert not plan.reached and plan.steps == ()
    assert plan.reason is not None and "rise together" in plan.reason


ADD = """
id = "t25"
title = "2025-like"
missing = "zero"
[levels.institution]
combine = "weighted_mean"
[[criterion]]
id = "total"
label = "total"
rule = "sum"
[[criterion]]
id = "dimensi"
parent = "total"
label = "dimensi"
points = 70
rule = "add"
[[criterion]]
id = "input"
parent = "dimensi"
label = "input"
scale = { name = "points", max = 70 }
na_allowed = false
level = "unit"
[[criterion]]
id = "proses"
parent = "dimensi"
label = "proses"
scale = { name = "points", max = 70 }
na_allowed = false
level = "unit"
[[criterion]]
id = "kepercayaan"
parent = "total"
label = "kepercayaan"
points = 30
scale = { name = "points", max = 30 }
level = "unit"
"""


def add_case(input_: float, proses: float, trust: float) -> Scores:
    r = rubric_from_toml(ADD + BANDS)
    recs = [
        dict(institution="x", unit="u", criterion="input", value=input_),
        dict(institution="x", unit="u", criterion="proses", value=proses),
        dict(institution="x", unit="u", criterion="kepercayaan", value=trust),
    ]
    return score(r, ObservationTable.from_records(recs), plugins=PM)


def test_under_add_a_raise_is_capped_by_the_room_left_under_the_parent() -> None:
    # dimensi 68 of 70 (room 2), trust 10 of 30: 78 (B); A needs 87.995. The old plan
    # raised a dimension to its whole 70 and was refused ("add up to ...").
    res = add_case(40, 28, 10)
    plan = gap(res, "x", plugins=PM)
    assert plan.method == "closed form" and plan.reached
    (s,) = plan.steps
    assert s.criterion == "kepercayaan" and s.to == pytest.approx(19.995)


def test_under_add_two_steps_when_neither_room_suffices() -> None:
    # dimensi 47.8 (room 22.2), trust 7.2 (room 22.8): 55 (C); B needs 77.995 = +22.995
    res = add_case(47.8, 0, 7.2)
    plan = gap(res, "x", plugins=PM)
    assert plan.reached and len(plan.steps) == 2
    first, last = plan.steps
    # the larger room first, in full; then the exact rest on a dimension
    assert first.criterion == "kepercayaan" and first.to == 30 and first.full
    assert first.points == pytest.approx(22.8)
    assert last.criterion == "input" and last.to == pytest.approx(47.995) and not last.full
    assert last.points == pytest.approx(0.195)
    assert publish(rescore(res, plan)) == "78.00"
    assert publish(rescore(res, plan, last.to - 1e-4)) == "77.99"


def test_the_top_band_has_no_target() -> None:
    plan = gap(add_case(70, 0, 30), "x", plugins=PM)
    assert plan.target is None and plan.steps == ()


# -- the law ----------------------------------------------------------------------------------
_SCHEME = BandScheme(
    (
        Band("D", "D", Decimal(0), Decimal("53.99")),
        Band("C", "C", Decimal(54), Decimal("77.99")),
        Band("B", "B", Decimal(78), Decimal("87.99")),
        Band("A", "A", Decimal(88), Decimal(100)),
    )
)


@st.composite
def below_the_top(draw: Any) -> tuple[Scores, str]:
    rubric = attrs.evolve(draw(rubrics()), bands=_SCHEME)
    recs = draw(table_records(rubric, REG))
    try:
        res = score(rubric, ObservationTable.from_records(recs), plugins=PM)
    except KepatuhanError:
        assume(False)
    col = res.columns(0)
    ok = [i for i in range(len(col.ids)) if col.has_score[i] and col.band[i] < 3]
    assume(ok)
    return res, col.ids[draw(st.sampled_from(ok))]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(below_the_top())
def test_a_plan_reaches_the_next_band_and_a_little_less_does_not(case: tuple[Scores, str]) -> None:
    res, inst = case
    plan = gap(res, inst, plugins=PM)
    if not plan.reached:
        assert plan.reason  # refused, and says why
        return
    alone = score(res.rubric, res.table.for_institutions([res.institution_index(inst)]), plugins=PM)
    assert plan.target is not None
    assert float(publish(rescore(alone, plan))) >= float(plan.target.min)
    last = plan.steps[-1]
    n = alone.rubric.tree.nodes[alone.rubric.tree.index[last.criterion]]
    if n.scale is not None and REG.scale(n.scale.name).discrete(n.scale) is not None:
        allowed = REG.scale(n.scale.name).discrete(n.scale)
        assert allowed is not None
        below = [v for v in allowed if v < last.to]
        lower = below[-1] if below else None
    else:
        lower = last.to - max(1e-4 * last.best, 1e-9)
    start = last.value if last.value is not None else 0.0
    if lower is None or lower < start:
        return  # the last step is the smallest raise there is
    assert float(publish(rescore(alone, plan, lower))) < float(plan.target.min)


def test_the_cli_json_has_numbers_and_the_exact_last_step(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json
    from pathlib import Path

    from kepatuhan.cli import main

    example = Path(__file__).parent.parent / "examples" / "maluku-tenggara-2023.csv"
    argv = ["gap", str(example), "--rubric", "ombudsman-2023"]
    assert main([*argv, "--institution", "kab-maluku-tenggara", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"]["min"] == 78.0 and doc["threshold"] == 77.995
    assert doc["method"] == "closed form" and doc["reached"] and doc["reason"] is None
    last = doc["steps"][-1]
    # Dinas Sosial's total 62.06 -> 97.365: +35.305 of its 100, one unit of seven: +5.04357
    assert (last["value"], last["to"], last["full"]) == (62.06, 97.365, False)
    assert last["points"] == pytest.approx(35.305 / 7)
    assert main([*argv, "--institution", "kab-maluku-tenggara"]) == 0
    assert capsys.readouterr().out.startswith("Kabupaten Maluku Tenggara (kab-maluku-tenggara):")
