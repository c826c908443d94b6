"""The aggregation laws of design.md, each a property over random rubrics and observations."""

from __future__ import annotations

import random
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import kepatuhan
from kepatuhan import KepatuhanError, ObservationTable, Rubric, rubric_from_toml, rubric_to_toml
from kepatuhan.bands import Band, BandScheme
from kepatuhan.engine import score
from kepatuhan.plugins import PluginManager
from kepatuhan.results import NA, Scores
from kepatuhan.testing import fresh_manager, reference_scores, rubrics, table_records

PM: PluginManager = fresh_manager()
REG = PM.registry


@st.composite
def cases(
    draw: Any, overrides: bool = True, coarser: bool = True
) -> tuple[Rubric, list[dict[str, Any]]]:
    rubric = draw(rubrics())
    return rubric, draw(table_records(rubric, REG, overrides=overrides, coarser=coarser))


def run(rubric: Rubric, records: list[dict[str, Any]]) -> Scores | None:
    """Score, or None when the input is (legitimately) refused — both scorers must agree."""
    try:
        return score(rubric, ObservationTable.from_records(records), plugins=PM)
    except KepatuhanError:
        return None


def all_scores(res: Scores) -> dict[tuple[int, int], float | None]:
    out: dict[tuple[int, int], float | None] = {}
    for level in range(3):
        if res.node_levels[res.root] < level:
            continue
        vals = res.values_at(level)[res.root]
        sts = res.states_at(level)[res.root]
        for e in range(len(vals)):
            out[(level, e)] = None if sts[e] == NA else float(vals[e])
    return out


def by_id(res: Scores) -> dict[tuple[str, ...], float | None]:
    """Overall scores keyed by entity ids (institution, unit, product)."""
    out: dict[tuple[str, ...], float | None] = {}
    t = res.table
    for (level, e), v in all_scores(res).items():
        if level == 0:
            key: tuple[str, ...] = (t.institutions[e].id,)
        elif level == 1:
            key = (t.units[e].institution, t.units[e].id)
        else:
            key = (t.products[e].institution, t.products[e].unit, t.products[e].id)
        out[key] = v
    return out


@given(cases())
def test_every_score_is_finite_and_within_0_100(case: tuple[Rubric, list[dict[str, Any]]]) -> None:
    res = run(*case)
    assume(res is not None)
    assert res is not None
    for level in range(3):
        v = res.values_at(level)
        assert np.all(np.isfinite(v))
        assert np.all((v >= 0) & (v <= 100))


def _extreme(rubric: Rubric, best: bool) -> list[dict[str, Any]]:
    recs = []
    tree = rubric.tree
    for n in tree.leaves():
        c = tree.nodes[n]
        assert c.scale is not None
        lo, hi = REG.scale(c.scale.name).bounds(c.scale)
        lv = tree.level[n]
        for i in range(2):
            for u in range(2):
                for p in range(2):
                    if (lv == 0 and (u or p)) or (lv == 1 and p):
                        continue
                    recs.append(
                        dict(
                            institution=f"i{i}",
                            unit=f"u{u}" if lv >= 1 else "",
                            product=f"p{p}" if lv == 2 else "",
                            criterion=c.id,
                            value=hi if best else lo,
                            # rubrics weighing products by their weight need one
                            **(
                                {"weight": 1 + p}
                                if lv == 2 and rubric.levels.unit.weight_by == "product_weight"
                                else {}
                            ),
                        )
                    )
    return recs


@given(rubrics())
def test_all_best_scores_100_and_all_worst_scores_0(rubric: Rubric) -> None:
    best = run(rubric, _extreme(rubric, True))
    worst = run(rubric, _extreme(rubric, False))
    assert best is not None and worst is not None
    for v in all_scores(best).values():
        assert v == pytest.approx(100.0, abs=1e-9)
    for v in all_scores(worst).values():
        assert v == 0.0


@given(cases(), st.randoms(use_true_random=False))
def test_score_never_drops_when_a_value_improves(
    case: tuple[Rubric, list[dict[str, Any]]], rnd: random.Random
) -> None:
    rubric, recs = case
    before = run(rubric, recs)
    assume(before is not None)
    assert before is not None
    tree = rubric.tree
    candidates = [
        k
        for k, r in enumerate(recs)
        if r["value"] not in ("na", "") and tree.is_leaf(tree.index[r["criterion"]])
    ]
    assume(candidates)
    k = rnd.choice(candidates)
    c = tree.node(recs[k]["criterion"])
    assert c.scale is not None
    s = REG.scale(c.scale.name)
    allowed = s.discrete(c.scale)
    lo, hi = s.bounds(c.scale)
    higher = (
        [v for v in allowed if v > recs[k]["value"]]
        if allowed
        else [min(hi, recs[k]["value"] + (hi - lo) / 3)]
    )
    assume(higher)
    better = [dict(r) for r in recs]
    better[k]["value"] = higher[0]
    after = run(rubric, better)
    assert after is not None
    b, a = all_scores(before), all_scores(after)
    for key, v in b.items():
        if v is not None and a[key] is not None:
            assert a[key] >= v, key


@given(cases(), st.randoms(use_true_random=False))
def test_order_of_rows_changes_no_bit(
    case: tuple[Rubric, list[dict[str, Any]]], rnd: random.Random
) -> None:
    rubric, recs = case
    res = run(rubric, recs)
    assume(res is not None)
    assert res is not None
    shuffled = list(recs)
    rnd.shuffle(shuffled)
    again = run(rubric, shuffled)
    assert again is not None
    for level in range(3):
        assert np.array_equal(res.values_at(level), again.values_at(level))
        assert np.array_equal(res.states_at(level), again.states_at(level))


@given(cases(), st.sampled_from([0.5, 2.0, 3.0, 10.0, 1e-3]), st.data())
def test_scaling_sibling_weights_changes_nothing(
    case: tuple[Rubric, list[dict[str, Any]]], factor: float, data: st.DataObject
) -> None:
    rubric, recs = case
    tree = rubric.tree

    # A weight, or a leaf's points (which weigh it when it has no weight), is a pure weight
    # that the law may scale; an internal node's points without a weight weigh it but are
    # also the maximum of a value given for it directly, so its parent is left out.
    def scalable(k: int) -> bool:
        c = tree.nodes[k]
        return c.weight is not None or c.points is None or tree.is_leaf(k)

    parents = [
        i
        for i in tree.order
        if tree.children[i]
        and tree.nodes[i].rule.name != "sum"
        and all(scalable(k) for k in tree.children[i])
    ]
    assume(parents)
    p = data.draw(st.sampled_from(parents))
    kids = {tree.nodes[k].id for k in tree.children[p]}
    from decimal import Decimal

    f = Decimal(repr(factor))
    scaled = attrs.evolve(
        rubric,
        criteria=tuple(
            (
                attrs.evolve(c, points=c.points * f)
                if c.points is not None and c.weight is None
                else attrs.evolve(c, weight=c.effective_weight * f)
            )
            if c.id in kids
            else c
            for c in rubric.criteria
        ),
    )
    a, b = run(rubric, recs), run(scaled, recs)
    assume(a is not None)
    assert a is not None and b is not None
    sa, sb = all_scores(a), all_scores(b)
    for key in sa:
        if sa[key] is None:
            assert sb[key] is None
        else:
            assert sb[key] == pytest.approx(sa[key], abs=1e-9)


@given(cases())
def test_vectorised_engine_equals_reference_scorer(
    case: tuple[Rubric, list[dict[str, Any]]],
) -> None:
    rubric, recs = case
    table = ObservationTable.from_records(recs)
    try:
        ref: dict[tuple[int, int], float | None] | None = reference_scores(rubric, table, REG)
    except KepatuhanError:
        ref = None
    res = run(rubric, recs)
    if ref is None:
        assert res is None
        return
    assert res is not None
    assert all_scores(res) == ref  # bit for bit


@st.composite
def band_schemes(draw: Any) -> BandScheme:
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=0, max_size=5, unique=True)))
    mins = [0, *cuts]
    return BandScheme(tuple(Band(f"b{i}", f"band {i}", min=m / 100) for i, m in enumerate(mins)))


@given(band_schemes(), st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=50))
def test_every_score_falls_in_one_band_and_higher_never_gets_lower(
    scheme: BandScheme, xs: list[float]
) -> None:
    xs = sorted(xs)
    idx = scheme.index(xs)
    assert np.all(idx >= 0) and np.all(idx < len(scheme.bands))
    assert np.all(np.diff(idx) >= 0)
    for x, i in zip(xs, idx, strict=True):
        b = scheme.bands[i]
        assert float(b.min) <= kepatuhan.round_half_away(x)
        if i + 1 < len(scheme.bands):
            assert kepatuhan.round_half_away(x) < float(scheme.bands[i + 1].min)


@given(rubrics())
def test_rubric_to_toml_and_back_is_the_identity(rubric: Rubric) -> None:
    again = rubric_from_toml(rubric_to_toml(rubric))
    assert again == rubric
    assert again.digest == rubric.digest


@given(cases())
def test_scoring_twice_gives_identical_bits(case: tuple[Rubric, list[dict[str, Any]]]) -> None:
    a, b = run(*case), run(*case)
    assume(a is not None)
    assert a is not None and b is not None
    for level in range(3):
        assert a.values_at(level).tobytes() == b.values_at(level).tobytes()


# Without leaves on coarser rows: an institution row for a unit-level leaf makes the
# institution take that node from its own children, some of them rolled up from the units'
# rows — which a node given for one unit then does not hide from the institution.
@given(cases(overrides=False, coarser=False), st.data())
def test_a_node_given_directly_overrides_its_subtree(
    case: tuple[Rubric, list[dict[str, Any]]], data: st.DataObject
) -> None:
    rubric, recs = case
    tree = rubric.tree
    internal = [i for i in tree.order if tree.children[i]]
    assume(internal)
    n = data.draw(st.sampled_from(internal))
    c = tree.nodes[n]
    lv = tree.level[n]
    # give node n directly for unit u0 of i0 (or the institution / a product, by its level)
    where = dict(institution="i0", unit="u0" if lv >= 1 else "", product="p0" if lv == 2 else "")
    value = float(c.points) / 2 if c.points is not None else 50.0
    base = [
        r
        for r in recs
        if not (
            r["institution"] == "i0"
            and r["unit"] == where["unit"]
            and r["product"] == where["product"]
            and r["criterion"] == c.id
        )
    ]
    with_node = [*base, dict(where, criterion=c.id, value=value)]
    # change every observation under n for that entity: nothing at or above it may move
    below = {tree.nodes[k].id for k in range(len(tree.nodes)) if n in tree.path(k) and k != n}
    changed = [
        dict(r, value="na")
        if r["criterion"] in below
        and r["institution"] == "i0"
        and r["unit"] == where["unit"]
        and r["product"] == where["product"]
        else r
        for r in with_node
    ]
    a, b = run(rubric, with_node), run(rubric, changed)
    assume(a is not None)
    assert a is not None and b is not None
    lvl = lv
    e = 0
    # a cell the rubric's not_applicable_for rule excludes takes no given value (its own law)
    assume(a.na_rule is None or not a.na_rule[lvl][n, e])
    assert a.values_at(lvl)[n, e] == pytest.approx(50.0)
    assert b.values_at(lvl)[n, e] == a.values_at(lvl)[n, e]
    assert a.values_at(0)[a.root, 0] == b.values_at(0)[b.root, 0]


@given(cases(overrides=False), st.data())
def test_not_applicable_is_the_same_as_absent_from_the_rubric(
    case: tuple[Rubric, list[dict[str, Any]]], data: st.DataObject
) -> None:
    rubric, recs = case
    tree = rubric.tree
    leaves = [
        i
        for i in tree.leaves()
        if tree.parent[i] >= 0
        and len(tree.children[tree.parent[i]]) >= 2
        and tree.nodes[tree.parent[i]].rule.name != "sum"
        and tree.level[i] == tree.level[tree.parent[i]]
    ]
    assume(leaves)
    li = data.draw(st.sampled_from(leaves))
    leaf = tree.nodes[li]
    # "na" for the leaf at every entity of its level (a missing cell would count as zero)
    lv = tree.level[li]
    ents = {
        (r["institution"], r["unit"] if lv >= 1 else "", r["product"] if lv == 2 else "")
        for r in recs
        if (lv == 0) or (lv == 1 and r["unit"]) or (lv == 2 and r["product"])
    }
    as_na = [r for r in recs if r["criterion"] != leaf.id] + [
        dict(institution=i, unit=u, product=p, criterion=leaf.id, value="na")
        for i, u, p in sorted(ents)
    ]
    try:
        reduced = attrs.evolve(
            rubric, criteria=tuple(c for c in rubric.criteria if c.id != leaf.id)
        )
    except KepatuhanError:  # a unit_sector rule left with nothing per unit below it
        assume(False)
    # The law is about renormalising siblings: it holds where removing the leaf does not
    # move any node to another level (a parent computed per institution because of this
    # leaf would otherwise become a per-unit node, a different roll-up).
    rt = reduced.tree
    assume(all(rt.level[rt.index[c.id]] == tree.level[tree.index[c.id]] for c in reduced.criteria))
    without = [r for r in recs if r["criterion"] != leaf.id]
    assume(without)
    a, b = run(rubric, as_na), run(reduced, without)
    assume(a is not None and b is not None)
    assert a is not None and b is not None
    # an entity with rows only for the removed leaf would vanish from the reduced table
    # (a different set of units, a different mean): the law is about the same entities
    assume(a.table.units == b.table.units and a.table.products == b.table.products)
    sa, sb = by_id(a), by_id(b)
    # the root may be computed at another level: compare what both have
    common = sa.keys() & sb.keys()
    assert common
    assert {k: sa[k] for k in common} == {k: sb[k] for k in common}


def _level_of(rec: dict[str, Any]) -> int:
    return 2 if rec["product"] else 1 if rec["unit"] else 0


def _entities(res: Scores) -> set[tuple[str, ...]]:
    t = res.table
    return (
        {(i.id,) for i in t.institutions}
        | {(u.institution, u.id) for u in t.units}
        | {(p.institution, p.unit, p.id) for p in t.products}
    )


@given(cases(), st.data())
def test_deleting_a_needed_row_changes_a_score_or_adds_a_missing_value(
    case: tuple[Rubric, list[dict[str, Any]]], data: st.DataObject
) -> None:
    """Nothing is lost silently: a row the engine used, once deleted, shows — a score moves,
    a missing value is listed that was not before, or the entity it alone described is gone
    from the result. Never none of these.

    The row must be the only data for its cell: no other row for the same entity (or one of
    its sub-entities) at its criterion or below; and it must sit on an entity of its
    criterion's own level. Otherwise other data takes over, as the rule says it should (the
    sub-entities' rows, for a row on a coarser entity), and may well give the same number."""
    from kepatuhan.results import ROW_USED

    rubric, recs = case
    before = run(rubric, recs)
    assume(before is not None)
    assert before is not None
    tree = rubric.tree

    def covers(a: dict[str, Any], b: dict[str, Any]) -> bool:
        """Row ``b`` is data at or below ``a``'s cell (its entity or a sub-entity)."""
        na, nb = tree.index[a["criterion"]], tree.index[b["criterion"]]
        same_or_sub = (
            all(not a[k] or a[k] == b[k] for k in ("institution", "unit", "product"))
            and a["institution"] == b["institution"]
        )
        return same_or_sub and na in tree.path(nb)

    # table rows keep their record number in `line` (1-based)
    used = [
        k
        for k in (
            int(before.table.line[r]) - 1 for r in np.flatnonzero(before.row_class == ROW_USED)
        )
        if not any(covers(recs[k], r) for j, r in enumerate(recs) if j != k)
        and tree.level[tree.index[recs[k]["criterion"]]] == _level_of(recs[k])
    ]
    assume(used and len(recs) > 1)
    k = data.draw(st.sampled_from(used))
    after = run(rubric, recs[:k] + recs[k + 1 :])
    assume(after is not None)
    assert after is not None
    sa, sb = by_id(before), by_id(after)
    moved = any(sa[key] != sb[key] for key in sa.keys() & sb.keys())
    new_missing = set(after.missing()) - set(before.missing())
    gone = _entities(before) - _entities(after)
    assert moved or new_missing or gone, (recs[k], before.missing(), after.missing())


@given(cases())
def test_explained_contributions_add_up_to_the_score_at_every_node(
    case: tuple[Rubric, list[dict[str, Any]]],
) -> None:
    """The roll-up is computed once: ``explain`` reads the engine's own weights, so what it
    shows below any node with a linear rule (criteria or sub-entities) adds up to that node's
    contribution and lost points; below a non-linear rule it says so (``linear`` false, the
    nodes below ``rescored`` with no contribution) instead of numbers that do not add up."""
    rubric, recs = case
    res = run(rubric, recs)
    assume(res is not None)
    assert res is not None
    for inst in res.table.institutions:
        tree = res.explain(inst.id)
        assert tree.contribution == pytest.approx(
            0.0 if tree.score is None else tree.score, abs=1e-9
        )
        for node in tree.walk():
            below = [*node.children, *node.entities]
            if not below or node.score is None:
                continue
            if not node.linear or node.rescored:
                assert all(c.rescored and c.contribution is None for c in below)
                assert all(c.lost >= 0 for c in below)
                continue
            assert node.contribution is not None
            total = sum(c.contribution or 0.0 for c in below)
            assert total == pytest.approx(node.contribution, rel=1e-9, abs=1e-9), (
                node.criterion,
                node.entity,
            )
            if not any(c.rule == "add" for c in (node, *below)):
                # a weighted mean's lost points add up too (the shares of an additive
                # rule are not weights: each child's lost is the parent's, see Add)
                lost = sum(c.lost for c in below if c.score is not None)
                assert lost == pytest.approx(node.lost, rel=1e-9, abs=1e-9)
