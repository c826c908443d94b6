"""``[levels.unit] weight_by = "product_weight"``: a unit as the weighted mean of its products.

The worked example (checked by hand): unit ``u`` has product ``p1`` (weight 3) with a = 80,
b = 100, so p1 = (80 + 100) / 2 = 90, and ``p2`` (weight 1) with a = 40, b = 0, so p2 = 20.
Weighted: (3 × 90 + 1 × 20) / 4 = 290 / 4 = 72.50; equal weights would give
(90 + 20) / 2 = 55.00. In ``explain``, p1 has a share of 3/4 and contributes 0.75 × 90 =
67.50, p2 0.25 × 20 = 5.00: 72.50 in all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kepatuhan import (
    KepatuhanError,
    ObservationTable,
    Rubric,
    hookimpl,
    read_observations,
    rubric_from_toml,
    rubric_to_toml,
)
from kepatuhan.engine import score
from kepatuhan.errors import ObservationError, PluginError, RubricError
from kepatuhan.io.observations_io import read_observations_text
from kepatuhan.plugins import PluginManager
from kepatuhan.rubric import canonical_rubric
from kepatuhan.testing import fresh_manager, reference_scores, rubrics, table_records

RUBRIC = """
id = "w-demo"
title = "weights demo"

[levels.unit]
weight_by = "product_weight"

[[criterion]]
id = "total"
label = "Total"

[[criterion]]
id = "a"
label = "A"
parent = "total"
scale = "percentage"
level = "product"

[[criterion]]
id = "b"
label = "B"
parent = "total"
scale = "percentage"
level = "product"
"""

CSV = """institution,unit,product,criterion,value,weight
k,u,p1,a,80,3
k,u,p2,a,40,1
k,u,p1,b,100,
k,u,p2,b,0,1
"""


@pytest.fixture
def rubric() -> Rubric:
    return rubric_from_toml(RUBRIC)


def equal() -> Rubric:
    return rubric_from_toml(RUBRIC.replace('weight_by = "product_weight"', ""))


def table(text: str = CSV, fmt: str = "csv", **kw: Any) -> ObservationTable:
    return read_observations_text(text, fmt, f"d.{fmt}", **kw)


def test_the_worked_example_by_hand(rubric: Rubric, pm: PluginManager) -> None:
    t = table()
    assert [p.weight for p in t.products] == [3.0, 1.0]
    res = score(rubric, t, plugins=pm)
    assert res.values_at(2)[res.root].tolist() == [90.0, 20.0]
    assert float(res.values_at(1)[res.root, 0]) == 72.5
    assert res.card("k").score == 72.5
    assert res.entity_weights("product").tolist() == [3.0, 1.0]
    assert reference_scores(rubric, t, pm.registry)[(1, 0)] == 72.5


def test_equal_weights_ignore_the_column_and_say_so(pm: PluginManager) -> None:
    res = score(equal(), table(), plugins=pm)
    assert res.card("k").score == 55.0
    warned = [str(w) for w in res.warnings if "weights are not used" in str(w)]
    assert len(warned) == 1 and warned[0].startswith("d.csv: 2 products")


def test_explained_contributions_follow_the_product_weights(
    rubric: Rubric, pm: PluginManager
) -> None:
    node = score(rubric, table(), plugins=pm).explain("k", "u")
    p1, p2 = node.entities
    assert (p1.share, p2.share) == (0.75, 0.25)
    assert p1.contribution == pytest.approx(67.5) and p2.contribution == pytest.approx(5.0)
    assert p1.contribution + p2.contribution == pytest.approx(node.contribution)
    assert node.contribution == pytest.approx(72.5)


def test_weights_from_toml_json_and_declarations_read_the_same(
    rubric: Rubric, pm: PluginManager
) -> None:
    toml = """
[[product]]
institution = "k"
unit = "u"
id = "p1"
weight = 3

[[product]]
institution = "k"
unit = "u"
id = "p2"

[[observation]]
institution = "k"
unit = "u"
product = "p1"
criterion = "a"
value = 80

[[observation]]
institution = "k"
unit = "u"
product = "p1"
criterion = "b"
value = 100

[[observation]]
institution = "k"
unit = "u"
product = "p2"
criterion = "a"
value = 40
weight = 1.0

[[observation]]
institution = "k"
unit = "u"
product = "p2"
criterion = "b"
value = 0
"""
    json = (
        '{"observations": ['
        '{"institution": "k", "unit": "u", "product": "p1", "criterion": "a", "value": 80,'
        ' "weight": "3"},'
        '{"institution": "k", "unit": "u", "product": "p1", "criterion": "b", "value": 100},'
        '{"institution": "k", "unit": "u", "product": "p2", "criterion": "a", "value": 40,'
        ' "weight": 1},'
        '{"institution": "k", "unit": "u", "product": "p2", "criterion": "b", "value": 0}]}'
    )
    for t in (table(toml, "toml"), table(json, "json")):
        assert [p.weight for p in t.products] == [3.0, 1.0]
        assert score(rubric, t, plugins=pm).card("k").score == 72.5


def test_a_decimal_comma_weight(rubric: Rubric, pm: PluginManager) -> None:
    text = CSV.replace(",3\n", ',"1,5"\n').replace(",80,", ',"80,0",')
    t = table(text, decimal_comma=True)
    assert [p.weight for p in t.products] == [1.5, 1.0]
    # (1.5 × 90 + 1 × 20) / 2.5 = 155 / 2.5 = 62
    assert score(rubric, t, plugins=pm).card("k").score == 62.0


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("0", "expected a number > 0 (a product's weight), found 0"),
        ("-2", "expected a number > 0 (a product's weight), found -2"),
        ("na", 'expected a number > 0, found "na"'),
        ("ya", 'expected a number > 0, found "ya"'),
        ("berat", 'column "weight": expected a number'),
        ("2%", "without a percent sign"),
    ],
)
def test_a_bad_weight_is_a_located_error(cell: str, message: str) -> None:
    text = CSV.replace("k,u,p2,a,40,1", f"k,u,p2,a,40,{cell}")
    with pytest.raises(ObservationError) as err:
        table(text)
    assert message in str(err.value)
    assert "d.csv:3" in str(err.value)


def test_two_weights_for_one_product_are_refused_naming_both_lines() -> None:
    text = CSV.replace("k,u,p2,b,0,1", "k,u,p2,b,0,2")
    with pytest.raises(ObservationError) as err:
        table(text)
    msg = str(err.value)
    assert msg.startswith("d.csv:5:") and "weight 1 (line 3), found 2" in msg
    table(CSV.replace("k,u,p2,b,0,1", "k,u,p2,b,0,1.0"))  # the same number: no conflict


def test_a_weight_on_a_unit_row_is_refused() -> None:
    text = CSV + "k,u,,a,50,2\n"
    with pytest.raises(ObservationError, match=r"d.csv:6: .*this row is about a unit"):
        table(text)


def test_a_product_without_a_weight_is_an_error_never_a_silent_1(
    rubric: Rubric, pm: PluginManager
) -> None:
    text = CSV.replace("k,u,p2,a,40,1", "k,u,p2,a,40,").replace("k,u,p2,b,0,1", "k,u,p2,b,0,")
    t = table(text)
    with pytest.raises(ObservationError) as err:
        score(rubric, t, plugins=pm)
    msg = str(err.value)
    assert 'd.csv:3: institution "k" unit "u" product "p2" has no weight' in msg
    assert 'weight_by = "product_weight"' in msg
    with pytest.raises(KepatuhanError):
        reference_scores(rubric, t, pm.registry)


class Applicants:
    """A plugin giving each product a weight by its id."""

    def __init__(self, weights: Any) -> None:
        self.weights = weights
        self.calls = 0

    @hookimpl
    def kepatuhan_product_weights(self, rubric: Rubric, table: ObservationTable) -> Any:
        self.calls += 1
        if rubric.id != "w-demo":
            return None
        return self.weights(table) if callable(self.weights) else self.weights


def test_a_hook_gives_the_weights_and_replaces_the_data(rubric: Rubric) -> None:
    plugin = Applicants(lambda t: np.array([1.0 if p.id == "p1" else 4.0 for p in t.products]))
    pm = fresh_manager(plugin)
    # (1 × 90 + 4 × 20) / 5 = 170 / 5 = 34
    res = score(rubric, table(), plugins=pm)
    assert res.card("k").score == 34.0 and plugin.calls == 1
    assert res.entity_weights(2).tolist() == [1.0, 4.0]
    # without data weights at all, the hook is enough
    bare = table(CSV.replace(",3\n", ",\n").replace(",1\n", ",\n"))
    assert all(p.weight is None for p in bare.products)
    assert score(rubric, bare, plugins=pm).card("k").score == 34.0
    # not asked for a rubric that weighs products equally
    score(equal(), table(), plugins=pm)
    assert plugin.calls == 2


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0], "must return 2 finite weights > 0 (one per product), found shape (1,)"),
        ([1.0, 0.0], "a weight <= 0, NaN or infinity"),
        ([1.0, float("nan")], "a weight <= 0, NaN or infinity"),
        (["x", "y"], "found shape (0,)"),
    ],
)
def test_a_wrong_hook_answer_is_the_plugins_error(
    rubric: Rubric, weights: Any, message: str
) -> None:
    pm = fresh_manager(Applicants(weights))
    with pytest.raises(PluginError) as err:
        score(rubric, table(), plugins=pm)
    assert "'test-plugin-0'" in str(err.value) and message in str(err.value)


def test_the_rubric_rule_is_checked_where_it_is_written() -> None:
    inst = RUBRIC.replace("[levels.unit]", "[levels.institution]")
    with pytest.raises(RubricError) as err:
        rubric_from_toml(inst, "r.toml")
    assert err.value.problems[0].key_path == "levels.institution.weight_by"
    assert '"product_weight" is for the unit level' in str(err.value)
    units = RUBRIC.replace('"product_weight"', '"products"')
    with pytest.raises(RubricError, match='with "product_weight"'):
        rubric_from_toml(units)


def test_round_trip_and_digest(rubric: Rubric) -> None:
    assert rubric_from_toml(rubric_to_toml(rubric)) == rubric
    assert canonical_rubric(rubric)["rubric"]["levels"]["unit"]["weight_by"] == "product_weight"
    assert rubric.digest != equal().digest


def test_a_table_without_weights_keeps_the_digest_it_had_before_weights_existed() -> None:
    """The digest below was computed by kepatuhan before the ``weight`` column existed
    (commit 1a620c4) for this very table."""
    t = ObservationTable.from_records(
        [
            dict(
                institution="k",
                unit="u",
                product="p1",
                criterion="a",
                value=80,
                product_name="Izin A",
                unit_sector="perizinan",
            ),
            dict(institution="k", unit="u", product="p2", criterion="a", value="na"),
            dict(institution="k", unit="", product="", criterion="total", value=""),
        ]
    )
    assert t.digest == "sha256:be9a6f93ae903a3226348fdc542ec1cefb12aff4bcf84a056edd3c098cf7cd31"


def test_weights_are_part_of_the_input_digest() -> None:
    a, b = table(), table(CSV.replace(",3\n", ",2\n"))
    once = table(CSV.replace("k,u,p2,b,0,1", "k,u,p2,b,0,"))  # p2's weight given once
    assert a.digest != b.digest
    assert a.digest == once.digest  # the same table: the weight is the product's


def test_read_observations_reads_the_column(tmp_path: Path, rubric: Rubric) -> None:
    path = tmp_path / "w.csv"
    path.write_text(CSV, encoding="utf-8")
    for engine in ("stdlib", "auto"):
        assert [p.weight for p in read_observations(path, engine=engine).products] == [3.0, 1.0]


# -- laws -------------------------------------------------------------------------------------
PM = fresh_manager()


@st.composite
def weighted_cases(draw: Any) -> tuple[Rubric, list[dict[str, Any]]]:
    rubric = draw(rubrics())
    assume(any(c.level == "product" for c in rubric.criteria))
    rubric = attrs.evolve(
        rubric,
        levels=attrs.evolve(
            rubric.levels, unit=attrs.evolve(rubric.levels.unit, weight_by="product_weight")
        ),
    )
    return rubric, draw(table_records(rubric, PM.registry))


def _run(rubric: Rubric, recs: list[dict[str, Any]]) -> Any:
    try:
        return score(rubric, ObservationTable.from_records(recs), plugins=PM)
    except KepatuhanError:
        return None


@given(weighted_cases(), st.sampled_from([2.0, 4.0, 0.5]))
def test_scaling_every_product_weight_by_a_power_of_two_changes_no_bit(
    case: tuple[Rubric, list[dict[str, Any]]], factor: float
) -> None:
    rubric, recs = case
    a = _run(rubric, recs)
    assume(a is not None)
    scaled = [dict(r, weight=r["weight"] * factor) if "weight" in r else r for r in recs]
    b = _run(rubric, scaled)
    assert b is not None
    for level in range(3):
        assert a.values_at(level).tobytes() == b.values_at(level).tobytes()


@given(weighted_cases())
def test_weighted_engine_equals_reference_and_explain_adds_up(
    case: tuple[Rubric, list[dict[str, Any]]],
) -> None:
    rubric, recs = case
    t = ObservationTable.from_records(recs)
    try:
        ref = reference_scores(rubric, t, PM.registry)
    except KepatuhanError:
        ref = None
    res = _run(rubric, recs)
    assert (ref is None) == (res is None)
    if res is None:
        return
    tree = rubric.tree
    got = {}
    for level in range(3):
        if tree.level[tree.root_index] < level:
            continue
        vals, sts = res.values_at(level)[res.root], res.states_at(level)[res.root]
        for e in range(len(vals)):
            got[(level, e)] = None if sts[e] == 2 else float(vals[e])
    assert got == ref
    for inst in res.table.institutions:
        for node in res.explain(inst.id).walk():
            below = [*node.children, *node.entities]
            if below and node.score is not None and node.linear and not node.rescored:
                # below a non-linear rule explain re-scores instead (the law in test_laws)
                total = sum(c.contribution or 0.0 for c in below)
                assert total == pytest.approx(node.contribution, rel=1e-9, abs=1e-9)


def test_a_synthetic_round_gives_every_product_a_weight(rubric: Rubric, pm: PluginManager) -> None:
    from kepatuhan.synthetic import synthetic_campaign

    t = synthetic_campaign(rubric, 4, units=2, products=3, registry=pm.registry)
    assert [p.weight for p in t.products[:3]] == [1.0, 2.0, 3.0]
    res = score(rubric, t, plugins=pm)
    assert res.entity_weights(2)[:3].tolist() == [1.0, 2.0, 3.0]
    # and a rubric that weighs products equally gets none, as before
    assert all(
        p.weight is None for p in synthetic_campaign(equal(), 2, registry=pm.registry).products
    )


def test_institution_products_weighting_still_counts_products(pm: PluginManager) -> None:
    """Under institution ``weight_by = "products"`` a unit weighs by its number of products,
    whatever their weights: unit u (72.50, two products) and unit v (one product, 10):
    (2 × 72.5 + 1 × 10) / 3 = 155 / 3."""
    r = rubric_from_toml(
        RUBRIC.replace(
            "[levels.unit]", '[levels.institution]\nweight_by = "products"\n\n[levels.unit]'
        )
    )
    text = CSV + "k,v,q,a,10,5\nk,v,q,b,10,\n"
    res = score(r, table(text), plugins=pm)
    assert res.card("k").score == pytest.approx(155 / 3, abs=1e-12)
    assert res.entity_weights(1).tolist() == [2.0, 1.0]
