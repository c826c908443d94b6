"""The engine on hand-checked cases: overrides, missing policies, errors that point at rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from kepatuhan import (
    DuplicateObservationError,
    ObservationError,
    ObservationTable,
    Rubric,
    load_rubric,
    publish,
    round_half_away,
    score,
)
from kepatuhan.plugins import PluginManager

DIMENSIONS = ("input", "proses", "output", "pengaduan")


def table(rows: list[tuple[Any, ...]]) -> ObservationTable:
    return ObservationTable.from_records(
        dict(institution=i, unit=u, product=p, criterion=c, value=v) for i, u, p, c, v in rows
    )


@pytest.fixture
def demo(demo_rubric_path: Path) -> Rubric:
    return load_rubric(demo_rubric_path)


def test_unit_is_sum_of_dimension_points_and_institution_the_plain_mean(
    demo: Rubric, pm: PluginManager
) -> None:
    rows = [
        ("i", "a", "", d, v) for d, v in zip(DIMENSIONS, (8.72, 10.76, 20.76, 9.61), strict=True)
    ]
    rows += [("i", "b", "", "total", 55.09)]
    res = score(demo, table(rows), plugins=pm)
    card = res.card("i")
    units = {u.id: u for u in card.children}
    assert units["a"].score == pytest.approx(49.85, abs=1e-12)
    assert card.score == pytest.approx((49.85 + 55.09) / 2, abs=1e-12)
    assert card.published == "52.47" and card.band is not None and card.band.id == "D"
    assert units["a"].criteria["input"] == pytest.approx(8.72)


def test_rows_under_a_node_given_directly_are_reported_as_overridden(
    demo: Rubric, pm: PluginManager
) -> None:
    rows = [
        ("i", "a", "", "total", 70),
        ("i", "a", "", "persepsi", 10),
        ("i", "a", "", "aduan", 20),
    ]
    res = score(demo, table(rows), plugins=pm)
    assert res.card("i").score == 70
    acc = res.accounting()
    counted = ("rows", "used", "flags", "overridden", "empty", "excluded", "refused")
    assert {k: acc[k] for k in counted} == {
        "rows": 3,
        "used": 1,
        "flags": 0,
        "overridden": 2,
        "empty": 0,
        "excluded": 0,
        "refused": 0,
    }
    assert acc["overridden_lines"] == [2, 3]
    by = {r["by"] for r in acc["overridden_rows"]}
    assert by == {'institution "i" unit "a" criterion "total"'}


def test_missing_counts_as_zero_under_the_zero_policy(demo: Rubric, pm: PluginManager) -> None:
    rows = [
        ("i", "a", "", "input", 21.85),
        ("i", "a", "", "proses", 32.37),
        ("i", "a", "", "output", 24.24),
    ]
    res = score(demo, table(rows), plugins=pm)  # pengaduan has no value and nothing below it
    assert res.card("i").score == pytest.approx(78.46)


def test_missing_is_an_error_under_the_error_policy(demo: Rubric, pm: PluginManager) -> None:
    strict = attrs.evolve(demo, missing="error")
    rows = [
        ("i", "a", "", "input", 21.85),
        ("i", "a", "", "proses", 32.37),
        ("i", "a", "", "output", 24.24),
    ]
    with pytest.raises(ObservationError, match=r'unit "a": no value for criterion "pengaduan"'):
        score(strict, table(rows), plugins=pm)


def test_not_applicable_renormalises_the_siblings(demo: Rubric, pm: PluginManager) -> None:
    rows = [
        ("i", "a", "", "input", 21.85),
        ("i", "a", "", "proses", 32.37),
        ("i", "a", "", "output", 24.24),
        ("i", "a", "", "pengaduan", "na"),
    ]
    assert score(demo, table(rows), plugins=pm).card("i").score == pytest.approx(100.0)


def test_zero_missing_and_na_are_three_states(demo: Rubric, pm: PluginManager) -> None:
    rows = [
        ("i", "a", "", "persepsi", 0),
        ("i", "a", "", "aduan", "na"),
        ("i", "a", "", "kompetensi", 3),
    ]
    res = score(demo, table(rows), plugins=pm)
    states = {n.criterion: n.state for n in res.explain("i", "a").walk()}
    assert states["persepsi"] == "given"
    assert states["aduan"] == "not_applicable"
    assert states["proses"] == "missing_as_zero"  # no product rows: nothing to roll up


def test_value_outside_its_scale_names_row_and_scale(demo: Rubric, pm: PluginManager) -> None:
    with pytest.raises(ObservationError) as e:
        score(demo, table([("i", "a", "", "kompetensi", 4)]), plugins=pm)
    assert e.value.key_path == "row 1" and "from 0 to 3" in str(e.value)


def test_points_above_the_maximum_are_refused(demo: Rubric, pm: PluginManager) -> None:
    with pytest.raises(ObservationError, match=r"from 0 to 21.85"):
        score(demo, table([("i", "a", "", "input", 21.86)]), plugins=pm)


def test_unknown_criterion_suggests_the_nearest(demo: Rubric, pm: PluginManager) -> None:
    hint = r'unknown criterion "proces".*did you mean "proses"'
    with pytest.raises(ObservationError, match=hint):
        score(demo, table([("i", "a", "", "proces", 4)]), plugins=pm)


def test_duplicate_observation_names_both_rows(demo: Rubric, pm: PluginManager) -> None:
    with pytest.raises(
        DuplicateObservationError, match=r"observed twice .first on line 1. with different values"
    ):
        score(
            demo, table([("i", "a", "", "persepsi", 4), ("i", "a", "", "persepsi", 5)]), plugins=pm
        )


def test_a_unit_level_criterion_cannot_be_given_for_a_product(
    demo: Rubric, pm: PluginManager
) -> None:
    with pytest.raises(ObservationError, match=r'"persepsi" is scored per unit'):
        score(demo, table([("i", "a", "p", "persepsi", 4)]), plugins=pm)


@pytest.mark.parametrize(
    ("x", "out"),
    [(0.285, "0.29"), (60.8014, "60.80"), (52.855, "52.86"), (-1.005, "-1.01"), (88.0, "88.00")],
)
def test_published_rounding_is_half_away_from_zero(x: float, out: str) -> None:
    assert publish(x) == out
    assert round_half_away(x) == float(out)


def test_json_score_and_criteria_total_are_the_same_float(pm: PluginManager) -> None:
    """One figure everywhere: an entity's score and its root criterion are one number."""
    import kepatuhan
    from kepatuhan.testing import synthetic_campaign

    for rid in ("ombudsman-2021", "ombudsman-2023", "ombudsman-2025"):
        rubric = kepatuhan.get_rubric(rid)
        res = kepatuhan.score(rubric, synthetic_campaign(rubric, 30, seed=3))
        root = rubric.root.id
        for card in res.cards():
            for c in (card, *card.children):
                if c.score is not None:
                    assert c.criteria[root] == c.score, (rid, c.id)


def test_an_institution_scores_to_the_same_bits_alone() -> None:
    """``for_institutions`` keeps the canonical order: the same sums, the same bits."""
    import kepatuhan
    from kepatuhan.testing import synthetic_campaign

    for rid in ("ombudsman-2021", "ombudsman-2023", "ombudsman-2024"):
        rubric = kepatuhan.get_rubric(rid)
        table = synthetic_campaign(rubric, 12, seed=5)
        res = kepatuhan.score(rubric, table)
        for i in (0, 5, 11):
            inst = table.institutions[i].id
            alone = kepatuhan.score(rubric, table.for_institutions([i]))
            assert alone.card(inst).to_dict() == res.card(inst).to_dict()
            assert len(alone.table.institutions) == 1
