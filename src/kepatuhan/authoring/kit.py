"""Test kit for kepatuhan and for plugin authors: reference scorer, strategies, plugin managers.

Needs the ``test`` extra (``pip install kepatuhan[test]``) for the hypothesis strategies.

- :func:`reference_scores` — a plain, obviously-correct Python scorer (recursive, one
  entity at a time) that the vectorised engine must equal, bit for bit;
- :func:`rubrics` and :func:`tables` — hypothesis strategies for random valid rubrics and
  random observation tables for a given rubric;
- :func:`synthetic_campaign` — a realistic random national round for any rubric (numpy only;
  also importable from :mod:`kepatuhan.synthetic` without hypothesis);
- :func:`check_aggregator` — the aggregator contract's laws for one rule, failing in one
  line that names the law and the input (:class:`AggregatorLawError`);
- :func:`fresh_manager` — a plugin manager with the built-ins only, plus any plugins
  given, for one test.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any, NoReturn

import attrs
import numpy as np
from hypothesis import strategies as st

from ..aggregators import Aggregator
from ..applicability import not_applicable_reason
from ..errors import ObservationError, Problem
from ..observations import NOT_APPLICABLE, VALUE, ObservationTable
from ..plugins import PluginManager, Registry
from ..rubric import (
    LEVELS,
    TOTAL,
    Criterion,
    LevelRule,
    Levels,
    NotApplicableFor,
    Rubric,
    RuleRef,
    ScaleRef,
)
from .synthetic import leaf_cap, synthetic_campaign

__all__ = [
    "AggregatorLawError",
    "check_aggregator",
    "check_rubric_laws",
    "fresh_manager",
    "reference_scores",
    "rubrics",
    "rule_refs",
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
    product_weights: Iterable[float] | None = None,
) -> dict[tuple[int, int], float | None]:
    """Overall score of every entity, ``{(level, index): score or None}``, computed plainly.

    Follows the rules of :mod:`kepatuhan.engine` one entity at a time with recursion and
    plain Python arithmetic (the aggregators' ``reduce_one``). ``None`` is not applicable.
    A criterion the rubric's ``not_applicable_for`` rule excludes for an entity is not
    applicable there (asked per entity and node, not from the engine's matrices); under
    ``weight_by = "product_weight"`` products weigh by ``product_weights``, else by each
    product's ``weight`` in the table. Raises :class:`~kepatuhan.ObservationError` where
    the engine must raise too.
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
    by_weight = rubric.levels.unit.weight_by == "product_weight"
    if product_weights is not None:
        pw = [float(w) for w in product_weights]
    elif by_weight:
        if any(p.weight is None for p in table.products):
            raise ObservationError(Problem("a product has no weight"))
        pw = [float(p.weight or 0.0) for p in table.products]
    else:
        pw = [1.0] * len(table.products)

    has_rules = any(c.not_applicable_for is not None for c in nodes)

    def ruled(L: int, e: int, n: int) -> bool:
        """The rubric's not_applicable_for rule excludes node ``n`` for this entity."""
        return has_rules and not_applicable_reason(rubric, table, L, e, n) is not None

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
        if ruled(int(table.level[r]), int(table.entity[r]), n):
            continue  # excluded by the rule: reported, never used
        given[(int(table.level[r]), int(table.entity[r]), n)] = (state, val)

    def weight(n: int) -> float:
        p = tree.parent[n]
        c = nodes[n]
        if p >= 0 and nodes[p].rule.name == "sum" and c.points is not None:
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
    rules: dict[RuleRef, Aggregator] = {}

    def rule_of(ref: RuleRef) -> Aggregator:
        """The configured aggregator of a rule reference (parameters applied once)."""
        if ref not in rules:
            rules[ref] = registry.rule(ref)
        return rules[ref]

    def value(L: int, e: int, n: int) -> Result:
        key = (L, e, n)
        if key in memo:
            return memo[key]
        got = given.get(key)
        if ruled(L, e, n):
            res: Result = ("na", 0.0)
        elif got is not None:
            state, val = got
            res = ("v", val) if state == VALUE else ("na", 0.0)
        elif tree.level[n] == L or has_data_below(L, e, n):
            if not kids[n]:
                res = missing(L, e, n)
            else:
                parts = [(value(L, e, k), weight(k)) for k in kids[n]]
                inc = [(r[1], w) for r, w in parts if r[0] != "na"]
                if not inc:
                    res = ("na", 0.0)
                else:
                    agg = rule_of(nodes[n].rule)
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
                    w = uw[s] if L == 0 else pw[s]
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
                    agg = rule_of(rule.combine)
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


#: The penalties random rubrics give ``penalised_mean``: its two ends (the weighted mean and
#: the minimum) and values between.
_PENALTIES = ("0", "0.25", "0.5", "0.9", "1")


@st.composite
def rule_refs(draw: Callable[..., Any]) -> RuleRef:
    """A random rule for combining children or entities that needs no points: weighted
    means, means, minima, and ``penalised_mean`` with a parameter (non-linear rules and
    rules with parameters, so the laws are tested on them too)."""
    name = draw(st.sampled_from(["weighted_mean", "mean", "minimum", "penalised_mean"]))
    if name == "penalised_mean":
        penalty = Decimal(draw(st.sampled_from(_PENALTIES)))
        return RuleRef(name, (("penalty", penalty),))
    return RuleRef(name)


#: The unit sectors and institution kinds random rubrics' ``not_applicable_for`` rules and
#: random tables draw from.
SECTORS: tuple[str, ...] = ("kesehatan", "pendidikan", "perizinan")
KINDS: tuple[str, ...] = ("kabupaten", "kota", "kementerian")


def _na_rule(draw: Callable[..., Any], crits: list[Criterion]) -> list[Criterion]:
    """The criteria with a ``not_applicable_for`` rule on one random non-root criterion
    (``unit_sector`` only where something below it is scored per unit or product)."""
    candidates = [k for k, c in enumerate(crits) if c.parent is not None]
    if not candidates:
        return crits
    k = draw(st.sampled_from(candidates))
    kids: dict[str, list[str]] = {}
    for c in crits:
        if c.parent is not None:
            kids.setdefault(c.parent, []).append(c.id)
    by_id = {c.id: c for c in crits}
    stack, finest = [crits[k].id], 0
    while stack:
        cid = stack.pop()
        if cid in kids:
            stack.extend(kids[cid])
        else:
            finest = max(finest, LEVELS.index(by_id[cid].level or "institution"))
    keys = ["institution_kind", "unit_sector"] if finest >= 1 else ["institution_kind"]
    rule: dict[str, tuple[str, ...]] = {}
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True)):
        pool = SECTORS if key == "unit_sector" else KINDS
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
        rule[key] = tuple(values)
    out = list(crits)
    out[k] = attrs.evolve(crits[k], not_applicable_for=NotApplicableFor(**rule))
    return out


@st.composite
def rubrics(
    draw: Callable[..., Any],
    max_depth: int = 3,
    max_children: int = 4,
    not_applicable: bool = True,
    product_weights: bool = True,
) -> Rubric:
    """Random valid rubrics: trees of weighted means, means, minima, penalised means (a rule
    with a parameter) and sums of points.

    Now and then one criterion carries a ``not_applicable_for`` rule (``not_applicable``)
    and the unit level weighs products by their weight (``product_weights``)."""
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
        can_sum = budget is not None and budget >= k
        rule = RuleRef("sum") if can_sum and draw(st.integers(0, 4)) == 0 else draw(rule_refs())
        crits.append(Criterion(cid, cid, parent=parent, weight=w, points=pts, rule=rule))
        if rule.name == "sum":
            assert budget is not None
            for b in _split(draw, budget, k):
                build(new_id(), cid, depth + 1, b, None)
        else:
            for _ in range(k):
                child_budget = draw(st.one_of(st.none(), st.integers(4, 60)))
                build(new_id(), cid, depth + 1, child_budget, draw(st.integers(1, 10)))

    build("root", None, 0, 100, None)
    if not_applicable and draw(st.integers(0, 2)) == 0:
        crits = _na_rule(draw, crits)
    has_products = any(c.level == "product" for c in crits)
    unit_weighing = ["equal", "product_weight"] if has_products and product_weights else ["equal"]
    levels = Levels(
        institution=LevelRule(
            combine=draw(rule_refs()),
            # weighing units by their products needs products to exist
            weight_by=draw(st.sampled_from(["equal", "products"] if has_products else ["equal"])),
        ),
        unit=LevelRule(
            combine=draw(rule_refs()),
            weight_by=draw(st.sampled_from(unit_weighing)),
        ),
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
    product. When the rubric has ``not_applicable_for`` rules, units get a sector and
    institutions a kind (sometimes none); under ``weight_by = "product_weight"`` every
    product row carries its product's weight (rarely none: an error both scorers raise).
    """
    tree = rubric.tree
    leaves = list(tree.leaves())
    internal = [i for i in tree.order if tree.children[i]]
    ruled = any(c.not_applicable_for is not None for c in tree.nodes)
    weighed = rubric.levels.unit.weight_by == "product_weight"
    recs: list[dict[str, Any]] = []

    def attribute(pool: tuple[str, ...]) -> str | None:
        return draw(st.sampled_from([*pool, None])) if ruled else None

    for i in range(draw(st.integers(1, max_institutions))):
        inst = f"i{i}"
        kind = attribute(KINDS)
        ents: list[tuple[int, str, str]] = [(0, "", "")]
        extra: dict[tuple[str, str], dict[str, Any]] = {("", ""): {}}
        for u in range(draw(st.integers(1, max_units))):
            ents.append((1, f"u{u}", ""))
            sector = attribute(SECTORS)
            extra[(f"u{u}", "")] = {} if sector is None else {"unit_sector": sector}
            for p in range(draw(st.integers(1, max_products))):
                ents.append((2, f"u{u}", f"p{p}"))
                w = draw(st.sampled_from([1, 2, 3, 0.5, 1.5])) if weighed else None
                if weighed and draw(st.integers(0, 19)) == 0:
                    w = None
                extra[(f"u{u}", f"p{p}")] = {
                    **extra[(f"u{u}", "")],
                    **({} if w is None else {"weight": w}),
                }
        if kind is not None:
            for e in extra.values():
                e["institution_kind"] = kind
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
                    dict(
                        institution=inst,
                        unit=unit,
                        product=prod,
                        criterion=c.id,
                        value=val,
                        **extra[(unit, prod)],
                    )
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
                        dict(
                            institution=inst,
                            unit=unit,
                            product=prod,
                            criterion=c.id,
                            value=v,
                            **extra[(unit, prod)],
                        )
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
                **({"weight": 1} if weighed and lv == 2 else {}),
            )
        )
    return recs


def tables(rubric: Rubric, registry: Registry, **kw: Any) -> st.SearchStrategy[ObservationTable]:
    """Random :class:`ObservationTable` for ``rubric`` (see :func:`table_records`)."""
    return table_records(rubric, registry, **kw).map(ObservationTable.from_records)


def _first_difference(
    got: dict[tuple[int, int], float | None], ref: dict[tuple[int, int], float | None]
) -> str:
    """One line for the first entity whose engine score differs from the reference's."""
    for key in sorted(got.keys() | ref.keys()):
        a, b = got.get(key), ref.get(key)
        if a != b:
            where = f"{LEVELS[key[0]]} #{key[1]}"
            how = f" by {_ulps(a, b)}" if a is not None and b is not None else ""
            return (
                f"the vectorised engine differs from the reference scorer{how} at {where} "
                f"(engine {a!r}, reference {b!r})"
            )
    return "the vectorised engine differs from the reference scorer"  # pragma: no cover


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
    def laws(records: list[dict[str, Any]], rnd: random.Random) -> None:
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
        if got != ref:
            raise AssertionError(_first_difference(got, ref))
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


# -- the aggregator contract ------------------------------------------------------------------
#: The slack the float laws allow (bounded, weight scaling, order, linearity): the engine's
#: own tolerance for a plugin's output. ``reduce`` == ``reduce_one`` and monotone are exact.
LAW_TOLERANCE = 1e-9


class AggregatorLawError(AssertionError):
    """An aggregator broke a law of its contract (:class:`~kepatuhan.aggregators.Aggregator`).

    ``str()`` is one line: the rule, the law, the input that breaks it, and what was seen.
    ``law`` is the law's short name (``reduce == reduce_one``, ``bounded``, ``monotone``,
    ``weight scaling``, ``order``, ``linear``, ``finite``), ``values`` and ``weights`` the
    smallest failing segment found.
    """

    def __init__(
        self, name: str, law: str, what: str, values: list[float], weights: list[float], seen: str
    ) -> None:
        self.aggregator = name
        self.law = law
        self.values = values
        self.weights = weights
        super().__init__(
            f"{name}: {what} for values={_floats(values)}, weights={_floats(weights)} ({seen})"
        )


def _floats(xs: Iterable[float]) -> str:
    return "[" + ", ".join(repr(float(x)) for x in xs) + "]"


def _ulps(a: float, b: float) -> str:
    """How far apart two floats are, in units in the last place (``1 ulp``)."""
    if not (np.isfinite(a) and np.isfinite(b)):
        return f"{abs(a - b)!r}"
    ia, ib = (int(np.array(x, dtype=np.float64).view(np.int64)) for x in (a, b))
    # floats of opposite signs: count through zero
    ia = ia if ia >= 0 else -(ia & 0x7FFFFFFFFFFFFFFF)
    ib = ib if ib >= 0 else -(ib & 0x7FFFFFFFFFFFFFFF)
    n = abs(ia - ib)
    return f"{n} ulp" if n < 1 << 20 else f"{abs(a - b):g}"


Segment = tuple[list[float], list[float]]
_Failure = tuple[str, str, str]  # law, what, seen


def _vectorised(agg: Aggregator, segments: list[Segment], order: list[int]) -> list[float]:
    """``agg.reduce`` over the segments at once, their values interleaved in ``order`` (the
    segment of each next value, each segment's values kept in their order, as the engine
    passes them), plus one empty segment at the end."""
    taken = [0] * len(segments)
    vals: list[float] = []
    wts: list[float] = []
    for s in order:
        vals.append(segments[s][0][taken[s]])
        wts.append(segments[s][1][taken[s]])
        taken[s] += 1
    try:
        out = agg.reduce(
            np.asarray(vals, dtype=np.float64),
            np.asarray(wts, dtype=np.float64),
            np.asarray(order, dtype=np.intp),
            len(segments) + 1,
        )
    except Exception as exc:
        raise _Broken("raises", f"reduce raised {type(exc).__name__}: {exc}", "no result") from exc
    arr = np.asarray(out)
    if arr.shape != (len(segments) + 1,):
        raise _Broken("finite", "reduce returned the wrong shape", f"{arr.shape}")
    if not np.all(np.isfinite(arr.astype(np.float64))):
        raise _Broken("finite", "reduce returned NaN or infinity", f"reduce {arr.tolist()}")
    return [float(x) for x in arr]


class _Broken(Exception):
    """A law broken inside a step; ``at`` is the input it broke on, when not the segment's."""

    def __init__(self, law: str, what: str, seen: str, at: Segment | None = None) -> None:
        super().__init__(law, what, seen)
        self.failure: _Failure = (law, what, seen)
        self.at = at


def _one(agg: Aggregator, values: Sequence[float], weights: Sequence[float]) -> float:
    at = (list(values), list(weights))
    try:
        r = float(agg.reduce_one(list(values), list(weights)))
    except Exception as exc:
        what = f"reduce_one raised {type(exc).__name__}: {exc}"
        raise _Broken("raises", what, "no result", at) from exc
    if not np.isfinite(r):
        raise _Broken("finite", "reduce_one returned NaN or infinity", f"reduce_one {r!r}", at)
    return r


def _segment_laws(agg: Aggregator, values: list[float], weights: list[float]) -> _Failure | None:
    """The first law of one segment that fails (laws 1–4 and 6), or None."""
    tol = LAW_TOLERANCE
    r = _one(agg, values, weights)
    lo, hi = min(values), (sum(values) if agg.additive else max(values))
    if not lo - tol <= r <= hi + tol:
        span = "the smallest value and the sum" if agg.additive else "the values' range"
        return ("bounded", f"not bounded: the result leaves {span}", f"result {r!r}, {lo!r}–{hi!r}")
    room = 100.0 - sum(values) if agg.additive else 100.0
    for i, v in enumerate(values):
        for up in (min(100.0, v + room) if agg.additive else 100.0, float(np.nextafter(v, 101.0))):
            if up <= v or (agg.additive and sum(values) - v + up > 100.0):
                continue
            raised = [*values[:i], up, *values[i + 1 :]]
            r2 = _one(agg, raised, weights)
            if r2 < r:
                return (
                    "monotone",
                    f"not monotone: raising value {i} from {v!r} to {up!r} lowers the result",
                    f"{r!r} -> {r2!r}",
                )
    for factor in (2.0, 3.0, 0.1):
        r2 = _one(agg, values, [w * factor for w in weights])
        if abs(r2 - r) > tol:
            return (
                "weight scaling",
                f"not invariant under a common scaling of the weights: weights × {factor:g} "
                "change the result",
                f"{r!r} -> {r2!r}",
            )
    n = len(values)
    for perm in (list(range(n))[::-1], [*range(1, n), 0]):
        r2 = _one(agg, [values[k] for k in perm], [weights[k] for k in perm])
        if abs(r2 - r) > tol:
            return (
                "order",
                f"not permutation invariant: the children in the order {perm} change the result",
                f"{r!r} -> {r2!r}",
            )
    if agg.linear:
        unit = 100.0
        coef = [
            _one(agg, [unit if k == i else 0.0 for k in range(n)], weights) / unit for i in range(n)
        ]
        expect = sum(a * v for a, v in zip(coef, values, strict=True))
        if abs(expect - r) > tol * max(1.0, abs(r)) * 10:
            return (
                "linear",
                "declared linear but is not Σ aᵢvᵢ with fixed aᵢ",
                f"result {r!r}; the coefficients read one child at a time, {_floats(coef)}, "
                f"give {expect!r}",
            )
    return None


def _draw_value(rnd: random.Random) -> float:
    kind = rnd.randrange(5)
    if kind == 0:
        return float(rnd.choice((0, 100, 50, 70)))
    if kind == 1:
        return float(rnd.randrange(0, 101))
    if kind == 2:
        return rnd.randrange(0, 10001) / 100.0
    return rnd.uniform(0.0, 100.0)


def _draw_weight(rnd: random.Random) -> float:
    kind = rnd.randrange(4)
    if kind == 0:
        return float(rnd.randrange(1, 11))
    if kind == 1:
        return rnd.randrange(1, 10001) / 100.0
    return rnd.uniform(0.01, 100.0)


def _draw_segment(rnd: random.Random, additive: bool) -> Segment:
    n = rnd.randrange(1, 7)
    values = [_draw_value(rnd) for _ in range(n)]
    if additive and sum(values) > 100.0:  # shares of the parent's maximum: at most 100 in all
        tot = sum(values)
        values = [min(100.0, v * 100.0 / tot) for v in values]
        while sum(values) > 100.0:
            values = [v * 0.999 for v in values]
    return values, [_draw_weight(rnd) for _ in range(n)]


def _shrink(
    values: list[float], weights: list[float], fails: Callable[[list[float], list[float]], bool]
) -> Segment:
    """A smaller failing segment: fewer children, then rounder numbers, while it still fails."""
    changed = True
    while changed:
        changed = False
        for i in range(len(values)):
            if len(values) > 1:
                v2, w2 = values[:i] + values[i + 1 :], weights[:i] + weights[i + 1 :]
                if fails(v2, w2):
                    values, weights, changed = v2, w2, True
                    break
        if changed:
            continue
        for xs, other, is_values in ((values, weights, True), (weights, values, False)):
            for i, x in enumerate(xs):
                for simpler in (float(round(x)), round(x, 1), round(x, 2)):
                    if simpler == x or (not is_values and simpler <= 0):
                        continue
                    trial = [*xs[:i], simpler, *xs[i + 1 :]]
                    v2, w2 = (trial, other) if is_values else (other, trial)
                    if fails(v2, w2):
                        values, weights, changed = v2, w2, True
                        break
                if changed:
                    break
            if changed:
                break
    return values, weights


def check_aggregator(agg: Aggregator, *, examples: int = 300, seed: int = 0) -> None:
    """Check that ``agg`` keeps the aggregator contract; raise :class:`AggregatorLawError`.

    A seeded search (the same inputs on every run for one ``seed``) over ``examples`` groups
    of segments: values in 0–100 (round numbers, two-decimal numbers and arbitrary floats;
    shares adding up to at most 100 for an ``additive`` rule), positive weights. For each it
    checks, in this order: ``reduce`` returns one finite value per segment and equals
    ``reduce_one`` bit for bit per segment (values interleaved across segments, as the
    engine passes them); then per segment bounded, monotone (each value raised to the top
    and by one ulp), invariant under weights × 2, × 3, × 0.1 and under reordering, and — if
    the rule declares ``linear`` — equal to Σ aᵢvᵢ with the coefficients read off one child
    at a time. The failing input is shrunk (fewer children, rounder numbers) and the error's
    message is one line naming the law, e.g. ``penalised_mean: reduce and reduce_one differ
    by 1 ulp for values=[…], weights=[…] (reduce 70.00000000000001, reduce_one 70.0)``.

    A rule with parameters is checked configured: ``check_aggregator(rule.with_params(…))``.
    """
    rnd = random.Random(seed)
    name = agg.name or type(agg).__name__

    def law_failure(values: list[float], weights: list[float]) -> _Failure | None:
        return located(values, weights)[0]

    def located(values: list[float], weights: list[float]) -> tuple[_Failure | None, Segment]:
        """The first failing law for one segment, and the input it fails on."""
        try:
            got = _vectorised(agg, [(values, weights)], [0] * len(values))[0]
            ref = _one(agg, values, weights)
            if got != ref:
                what = f"reduce and reduce_one differ by {_ulps(got, ref)}"
                seen = f"reduce {got!r}, reduce_one {ref!r}"
                return ("reduce == reduce_one", what, seen), (values, weights)
            return _segment_laws(agg, values, weights), (values, weights)
        except _Broken as exc:
            return exc.failure, exc.at or (values, weights)

    def report(values: list[float], weights: list[float], failure: _Failure) -> NoReturn:
        law = failure[0]

        def same(v: list[float], w: list[float]) -> bool:
            f = law_failure(v, w)
            return f is not None and f[0] == law

        if same(values, weights):
            values, weights = _shrink(values, weights, same)
            found, (values, weights) = located(values, weights)
            failure = found or failure
        law, what, seen = failure
        raise AggregatorLawError(name, law, what, values, weights, seen) from None

    for _ in range(examples):
        segs = [_draw_segment(rnd, agg.additive) for _ in range(rnd.randrange(1, 4))]
        order = [s for s, (vals, _) in enumerate(segs) for _ in vals]
        rnd.shuffle(order)
        try:
            got = _vectorised(agg, segs, order)
        except _Broken as exc:
            # find the segment it breaks on alone; else name the first
            alone = [seg for seg in segs if law_failure(*seg) is not None]
            report(*(alone or segs)[0], exc.failure)
        for s, (vals, wts) in enumerate(segs):
            try:
                ref = _one(agg, vals, wts)
            except _Broken as exc:
                report(vals, wts, exc.failure)
            if got[s] != ref:
                report(
                    vals,
                    wts,
                    (
                        "reduce == reduce_one",
                        f"reduce and reduce_one differ by {_ulps(got[s], ref)}",
                        f"reduce {got[s]!r}, reduce_one {ref!r}",
                    ),
                )
            failure = law_failure(vals, wts)
            if failure is not None:
                report(vals, wts, failure)
