"""Test kit for kepatuhan and for plugin authors: reference scorer, strategies, plugin managers.

Needs the ``test`` extra (``pip install kepatuhan[test]``) for the hypothesis strategies.

- :func:`reference_scores` — a plain, obviously-correct Python scorer (recursive, one
  entity at a time) that the vectorised engine must equal, bit for bit;
- :func:`rubrics` and :func:`tables` — hypothesis strategies for random valid rubrics and
  random observation tables for a given rubric;
- :func:`synthetic_campaign` — a realistic random national round for any rubric (numpy only;
  also importable from :mod:`kepatuhan.synthetic` without hypothesis);
- :func:`fresh_manager` — a plugin manager with the built-ins only, plus any plugins
  given, for one test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np
from hypothesis import strategies as st

from ..errors import ObservationError, Problem
from ..observations import NOT_APPLICABLE, VALUE, ObservationTable
from ..plugins import PluginManager, Registry
from ..rubric import LEVELS, TOTAL, Criterion, LevelRule, Levels, Rubric, ScaleRef
from .synthetic import leaf_cap, synthetic_campaign

__all__ = [
    "check_rubric_laws",
    "fresh_manager",
    "reference_scores",
    "rubrics",
    "synthetic_campaign",
    "table_records",
    "tables",
]

Result = tuple[str, float]  # ("v", value) | ("z", 0.0) missing-as-zero | ("na", 0.0)


def fresh_manager(*plugins: object) -> PluginManager:
    """A plugin manager with the built-in plugin and ``plugins`` (no entry points)."""
    pm = PluginManager(entrypoints=False, env={})
    for i, p in enumerate(plugins):
        pm.register(p, name=f"test-plugin-{i}")
    pm.check_pending()
    return pm


def reference_scores(
    rubric: Rubric,
    table: ObservationTable,
    registry: Registry,
    unit_weights: Iterable[float] | None = None,
) -> dict[tuple[int, int], float | None]:
    """Overall score of every entity, ``{(level, index): score or None}``, computed plainly.

    Follows the rules of :mod:`kepatuhan.engine` one entity at a time with recursion and
    plain Python arithmetic (the aggregators' ``reduce_one``). ``None`` is not applicable.
    Raises :class:`~kepatuhan.ObservationError` where the engine must raise too.
    """
    tree = rubric.tree
    nodes = tree.nodes
    kids = tree.children
    uw = [1.0] * len(table.units) if unit_weights is None else [float(w) for w in unit_weights]
    sub_of: list[list[list[int]]] = [
        [[] for _ in table.institutions],
        [[] for _ in table.units],
        [],
    ]
    for u, i in enumerate(table.unit_institution.tolist()):
        sub_of[0][i].append(u)
    for p, u in enumerate(table.product_unit.tolist()):
        sub_of[1][u].append(p)
    index = dict(tree.index)
    if TOTAL not in index:
        index[TOTAL] = tree.root_index
    given: dict[tuple[int, int, int], tuple[int, float]] = {}
    for r in range(len(table)):
        n = index[table.criterion_ids[int(table.criterion[r])]]
        raw = float(table.value[r])
        state = int(table.state[r])
        if state not in (VALUE, NOT_APPLICABLE):
            continue  # an empty cell is no value at all
        if state == NOT_APPLICABLE and not nodes[n].na_allowed:
            raise ObservationError(Problem(f"{nodes[n].id} does not allow na"))
        if state == VALUE:
            c = nodes[n]
            if c.scale is not None:
                scale = registry.scale(c.scale.name)
                val = float(scale.normalise(np.array([raw]), c.scale)[0])
            else:
                hi = float(c.points) if c.points is not None else 100.0
                val = raw * (100.0 / hi)
            val = min(100.0, max(0.0, val))
        else:
            val = 0.0
        given[(int(table.level[r]), int(table.entity[r]), n)] = (state, val)

    def weight(n: int) -> float:
        p = tree.parent[n]
        c = nodes[n]
        if p >= 0 and nodes[p].rule == "sum" and c.points is not None:
            return float(c.points)
        return float(c.effective_weight)

    def missing(L: int, e: int, n: int) -> Result:
        if rubric.missing == "zero":
            return ("z", 0.0)
        if rubric.missing == "not_applicable":
            return ("na", 0.0)
        raise ObservationError(Problem(f"missing {nodes[n].id} at level {L} entity {e}"))

    def below(n: int) -> list[int]:
        out = []
        for k in kids[n]:
            out += [k, *below(k)]
        return out

    def has_data_below(L: int, e: int, n: int) -> bool:
        """The entity itself has something given under ``n``: compute ``n`` from its children."""
        return any((L, e, d) in given for d in below(n))

    memo: dict[tuple[int, int, int], Result] = {}

    def value(L: int, e: int, n: int) -> Result:
        key = (L, e, n)
        if key in memo:
            return memo[key]
        got = given.get(key)
        if got is not None:
            state, val = got
            res: Result = ("v", val) if state == VALUE else ("na", 0.0)
        elif tree.level[n] == L or has_data_below(L, e, n):
            if not kids[n]:
                res = missing(L, e, n)
            else:
                parts = [(value(L, e, k), weight(k)) for k in kids[n]]
                inc = [(r[1], w) for r, w in parts if r[0] != "na"]
                if not inc:
                    res = ("na", 0.0)
                else:
                    agg = registry.aggregator(nodes[n].rule)
                    added = agg.reduce_one([v for v, _ in inc], [w for _, w in inc])
                    if agg.additive:
                        if added > 100.0 + 1e-9:
                            raise ObservationError(Problem(f"{nodes[n].id} adds up past 100 %"))
                        added = min(100.0, max(0.0, added))
                    res = ("v", added)
        else:
            subs = sub_of[L][e]
            if L == 0:
                subs = [s for s in subs if uw[s] > 0]
            if not subs:
                res = missing(L, e, n)
            else:
                rule = rubric.levels.rule(LEVELS[L])
                parts2 = []
                for s in subs:
                    w = uw[s] if L == 0 else 1.0
                    r = value(L + 1, s, n)
                    if L == 0 and rule.weight_by == "products":
                        w *= len(sub_of[1][s])
                        if w == 0 and r[0] != "na":
                            raise ObservationError(Problem(f"unit {s} has a score but no products"))
                    parts2.append((r, w))
                inc = [(r[1], w) for r, w in parts2 if r[0] != "na" and w > 0]
                if not inc:
                    res = ("na", 0.0)
                else:
                    agg = registry.aggregator(rule.combine)
                    res = ("v", agg.reduce_one([v for v, _ in inc], [w for _, w in inc]))
        memo[key] = res
        return res

    out: dict[tuple[int, int], float | None] = {}
    sizes = (len(table.institutions), len(table.units), len(table.products))
    for L in range(3):
        if tree.level[tree.root_index] < L:
            continue
        for e in range(sizes[L]):
            res = value(L, e, tree.root_index)
            out[(L, e)] = None if res[0] == "na" else res[1]
    return out


# -- hypothesis strategies --------------------------------------------------------------------
_SCALES = ("yes_no", "points", "percentage", "ordinal")


@st.composite
def _scale(draw: Callable[..., Any]) -> ScaleRef:
    name = draw(st.sampled_from(_SCALES))
    if name == "points":
        return ScaleRef("points", (("max", Decimal(draw(st.integers(1, 10)))),))
    if name == "ordinal":
        steps = draw(st.lists(st.integers(0, 5), min_size=1, max_size=4))
        pts = [Decimal(0)]
        for s in steps:
            pts.append(pts[-1] + s)
        if pts[-1] == 0:
            pts[-1] = Decimal(1)
        return ScaleRef("ordinal", (("points", tuple(pts)),))
    return ScaleRef(name)


def _split(draw: Callable[..., Any], total: int, k: int) -> list[int]:
    if k == 1:
        return [total]
    cuts = sorted(
        draw(st.lists(st.integers(1, total - 1), min_size=k - 1, max_size=k - 1, unique=True))
    )
    edges = [0, *cuts, total]
    return [b - a for a, b in pairwise(edges)]


@st.composite
def rubrics(draw: Callable[..., Any], max_depth: int = 3, max_children: int = 4) -> Rubric:
    """Random valid rubrics: trees of weighted means, means, minima and sums of points."""
    crits: list[Criterion] = []
    counter = [0]

    def new_id() -> str:
        counter[0] += 1
        return f"c{counter[0]}"

    def build(
        cid: str, parent: str | None, depth: int, budget: int | None, weight: int | None
    ) -> None:
        leaf = depth >= max_depth or (parent is not None and draw(st.booleans()))
        pts = Decimal(budget) if budget is not None else None
        w = Decimal(weight) if weight is not None else None
        if leaf and pts is not None:
            w = None  # a leaf has points or a weight; an internal node may use both
        if leaf:
            crits.append(
                Criterion(
                    cid,
                    cid,
                    parent=parent,
                    weight=w,
                    points=pts,
                    scale=draw(_scale()),
                    level=draw(st.sampled_from(LEVELS)),
                )
            )
            return
        k = draw(st.integers(1, max_children))
        rules = ["weighted_mean", "mean", "minimum"]
        if budget is not None and budget >= k:
            rules.append("sum")
        rule = draw(st.sampled_from(rules))
        crits.append(Criterion(cid, cid, parent=parent, weight=w, points=pts, rule=rule))
        if rule == "sum":
            assert budget is not None
            for b in _split(draw, budget, k):
                build(new_id(), cid, depth + 1, b, None)
        else:
            for _ in range(k):
                child_budget = draw(st.one_of(st.none(), st.integers(4, 60)))
                build(new_id(), cid, depth + 1, child_budget, draw(st.integers(1, 10)))

    build("root", None, 0, 100, None)
    has_products = any(c.level == "product" for c in crits)
    levels = Levels(
        institution=LevelRule(
            combine=draw(st.sampled_from(["weighted_mean", "mean", "minimum"])),
            # weighing units by their products needs products to exist
            weight_by=draw(st.sampled_from(["equal", "products"] if has_products else ["equal"])),
        ),
        unit=LevelRule(combine=draw(st.sampled_from(["weighted_mean", "mean", "minimum"]))),
    )
    return Rubric(
        id="random",
        title="random rubric",
        criteria=tuple(crits),
        levels=levels,
        missing=draw(st.sampled_from(["zero", "not_applicable"])),
    )


def _raw_value(
    draw: Callable[..., Any], scale: ScaleRef, registry: Registry, cap: float | None = None
) -> float:
    s = registry.scale(scale.name)
    allowed = s.discrete(scale)
    if allowed is not None:
        return float(draw(st.sampled_from([a for a in allowed if cap is None or a <= cap])))
    lo, hi = s.bounds(scale)
    hi = hi if cap is None else min(hi, cap)
    return float(draw(st.integers(0, 100))) * (hi - lo) / 100.0 + lo


@st.composite
def table_records(
    draw: Callable[..., Any],
    rubric: Rubric,
    registry: Registry,
    max_institutions: int = 3,
    max_units: int = 3,
    max_products: int = 2,
    overrides: bool = True,
    coarser: bool = True,
) -> list[dict[str, Any]]:
    """Random observation records (dicts with the CSV's columns) for ``rubric``.

    Every entity gets a few of its leaves (some ``na``, some missing, some an empty cell),
    sometimes an internal node given directly (``overrides``) and, now and then, a leaf of
    a finer level given on the entity's own row (``coarser``); every unit has at least one
    product.
    """
    tree = rubric.tree
    leaves = list(tree.leaves())
    internal = [i for i in tree.order if tree.children[i]]
    recs: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, max_institutions))):
        inst = f"i{i}"
        ents: list[tuple[int, str, str]] = [(0, "", "")]
        for u in range(draw(st.integers(1, max_units))):
            ents.append((1, f"u{u}", ""))
            for p in range(draw(st.integers(1, max_products))):
                ents.append((2, f"u{u}", f"p{p}"))
        for lv, unit, prod in ents:
            for n in leaves:
                if tree.level[n] < lv:
                    continue
                # now and then a leaf of a finer level on this coarser entity's own row
                # (dimension points on an institution row, standar_pelayanan on a unit row)
                if tree.level[n] > lv and (not coarser or draw(st.integers(0, 5)) != 0):
                    continue
                na = ["na"] if tree.nodes[n].na_allowed else []
                kind = draw(st.sampled_from(["value"] * 8 + na + ["missing", "empty"]))
                if kind == "missing":
                    continue
                c = tree.nodes[n]
                assert c.scale is not None
                cap = leaf_cap(rubric, n, registry)
                val: Any = (
                    "na"
                    if kind == "na"
                    else ""
                    if kind == "empty"
                    else _raw_value(draw, c.scale, registry, cap)
                )
                recs.append(
                    dict(institution=inst, unit=unit, product=prod, criterion=c.id, value=val)
                )
            if overrides and internal and draw(st.integers(0, 4)) == 0:
                n = draw(st.sampled_from(internal))
                if tree.level[n] >= lv:
                    c = tree.nodes[n]
                    hi = float(c.points) if c.points is not None else 100.0
                    v = draw(st.integers(0, 100)) * hi / 100.0
                    key = (inst, unit, prod, c.id)
                    recs = [
                        r
                        for r in recs
                        if (r["institution"], r["unit"], r["product"], r["criterion"]) != key
                    ]
                    recs.append(
                        dict(institution=inst, unit=unit, product=prod, criterion=c.id, value=v)
                    )
    if not recs:
        c = tree.nodes[leaves[0]]
        assert c.scale is not None
        lv = tree.level[leaves[0]]
        recs.append(
            dict(
                institution="i0",
                unit="u0" if lv >= 1 else "",
                product="p0" if lv == 2 else "",
                criterion=c.id,
                value=_raw_value(draw, c.scale, registry),
            )
        )
    return recs


def tables(rubric: Rubric, registry: Registry, **kw: Any) -> st.SearchStrategy[ObservationTable]:
    """Random :class:`ObservationTable` for ``rubric`` (see :func:`table_records`)."""
    return table_records(rubric, registry, **kw).map(ObservationTable.from_records)


def check_rubric_laws(
    rubric: Rubric, *, plugins: PluginManager | None = None, max_examples: int = 50
) -> None:
    """Assert that ``rubric`` obeys the aggregation laws on random observation tables.

    For plugin authors: every third-party rubric gets the property tests the core's own
    rubrics get. Checks, on ``max_examples`` random tables built for the rubric: scores
    finite and within 0–100; the vectorised engine equals the reference scorer bit for
    bit; row order changes no bit; raising one indicator value lowers no score; the rubric
    survives TOML and back. Raises ``AssertionError`` (from hypothesis, with the smallest
    failing table) when a law fails.
    """
    from hypothesis import HealthCheck, given, settings

    from ..engine import score
    from ..errors import KepatuhanError
    from ..io.rubric_toml import rubric_from_toml, rubric_to_toml
    from ..results import NA

    pm = plugins or fresh_manager()
    reg = pm.registry
    assert rubric_from_toml(rubric_to_toml(rubric)) == rubric, "rubric -> TOML -> rubric changed it"
    tree = rubric.tree

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(table_records(rubric, reg), st.randoms(use_true_random=False))
    def laws(records: list[dict[str, Any]], rnd: Any) -> None:
        table = ObservationTable.from_records(records)
        try:
            ref: dict[tuple[int, int], float | None] | None = reference_scores(rubric, table, reg)
        except KepatuhanError:
            ref = None
        try:
            res = score(rubric, table, plugins=pm)
        except KepatuhanError:
            assert ref is None, "the engine refused a table the reference scorer accepts"
            return
        assert ref is not None, "the engine scored a table the reference scorer refuses"
        got: dict[tuple[int, int], float | None] = {}
        for level in range(3):
            if tree.level[tree.root_index] < level:
                continue
            vals, sts = res.values_at(level)[tree.root_index], res.states_at(level)[tree.root_index]
            for e in range(len(vals)):
                got[(level, e)] = None if sts[e] == NA else float(vals[e])
        assert got == ref, "the vectorised engine differs from the reference scorer"
        for v in (res.values_at(L) for L in range(3)):
            assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v <= 100)), "a score left 0–100"
        shuffled = list(records)
        rnd.shuffle(shuffled)
        again = score(rubric, ObservationTable.from_records(shuffled), plugins=pm)
        for level in range(3):
            assert np.array_equal(res.values_at(level), again.values_at(level)), (
                "row order changed a score"
            )
        leaves = [
            k
            for k, r in enumerate(records)
            if r["value"] not in ("na", "") and tree.is_leaf(tree.index[r["criterion"]])
        ]
        if leaves:
            k = rnd.choice(leaves)
            c = tree.node(records[k]["criterion"])
            assert c.scale is not None
            s = reg.scale(c.scale.name)
            cap = leaf_cap(rubric, tree.index[c.id], reg)
            hi = s.bounds(c.scale)[1] if cap is None else cap
            better = [dict(r) for r in records]
            better[k]["value"] = hi
            up = score(rubric, ObservationTable.from_records(better), plugins=pm)
            for level in range(3):
                assert np.all(up.values_at(level) >= res.values_at(level)), (
                    "a better value lowered a score"
                )

    laws()
