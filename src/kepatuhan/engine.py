"""The scoring engine: a rubric and an observation table in, :class:`Scores` out.

No I/O and no Python loop per observation or per entity: the rubric is compiled once
into index arrays (cached), observations are placed into dense ``node × entity``
matrices per level (institution, unit, product), and every combination is a segmented
reduction (``np.bincount``) done once per criterion node and level.

The rules (``docs/concepts.md`` says them in prose):

* A node *given directly* for an entity is taken as given; its subtree is not needed
  for that entity and may be absent (rows under it are reported as overridden).
* Every entity's own overall score is needed; needs flow down the criterion tree at the
  node's level, and down to sub-entities where a node is computed at a finer level.
* Not applicable (``na``) is excluded and the siblings' weights renormalise; a node whose
  children are all not applicable is itself not applicable.
* Missing (needed, not given, nothing below) follows the rubric's policy: ``zero``
  (counted as 0), ``not_applicable``, or ``error``.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Sequence

import attrs
import numpy as np
from numpy.typing import NDArray

from .aggregators import Aggregator
from .errors import (
    DuplicateObservationError,
    KepatuhanError,
    ObservationError,
    PluginError,
    Problem,
    RubricError,
)
from .observations import MISSING, NOT_APPLICABLE, VALUE, ObservationTable, UnitSelection
from .plugins import PluginManager, Registry, default_manager
from .results import EMPTY, NA, SCORED, ZERO, Provenance, Scores
from .rubric import LEVELS, TOTAL, Rubric
from .scales import Scale

__all__ = ["CompiledRubric", "compile_rubric", "score"]

#: At most this many problems are listed in one error (the count of the rest is given).
MAX_LISTED = 20

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
StateArray = NDArray[np.int8]


@attrs.frozen(eq=False)
class CompiledRubric:
    """A rubric as index arrays, with its aggregators and scales resolved."""

    rubric: Rubric
    ids: tuple[str, ...]
    order: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    level: IntArray
    weight: FloatArray
    """Each node's weight among its siblings (points under a ``sum`` parent)."""
    unit_max: FloatArray
    """The maximum of a value given directly for the node: its points, else 100."""
    has_points: BoolArray
    na_allowed: BoolArray
    aggregators: tuple[Aggregator | None, ...]
    scales: tuple[Scale | None, ...]
    level_aggregators: tuple[Aggregator, Aggregator]
    weight_by: tuple[str, str]
    providers: dict[str, str] = attrs.field(factory=dict)
    """``"scale yes_no"`` / ``"aggregator sum"`` → the plugin that registered it."""

    @property
    def root(self) -> int:
        """Index of the root node."""
        return self.order[-1]

    def node_index(self, cid: str) -> int | None:
        """Index of criterion ``cid`` (``total`` is the root), or None."""
        idx = self.rubric.tree.index.get(cid)
        if idx is None and cid == TOTAL:
            return self.root
        return idx


@functools.lru_cache(maxsize=64)
def compile_rubric(rubric: Rubric, registry: Registry) -> CompiledRubric:
    """Compile ``rubric`` against ``registry`` (cached per rubric and registry)."""
    problems = registry.check(rubric)
    if problems:
        raise RubricError(problems)
    tree = rubric.tree
    nodes = tree.nodes
    n = len(nodes)
    weight = np.ones(n)
    for i, c in enumerate(nodes):
        p = tree.parent[i]
        if p >= 0 and nodes[p].rule == "sum" and c.points is not None:
            weight[i] = float(c.points)
        elif p >= 0:
            weight[i] = float(c.effective_weight)
    has_points = np.array([c.points is not None for c in nodes])
    unit_max = np.array([float(c.points) if c.points is not None else 100.0 for c in nodes])
    aggs = tuple(
        None if tree.is_leaf(i) else registry.aggregator(c.rule) for i, c in enumerate(nodes)
    )
    scales = tuple(registry.scale(c.scale.name) if c.scale is not None else None for c in nodes)
    lv = rubric.levels
    return CompiledRubric(
        rubric=rubric,
        ids=tuple(c.id for c in nodes),
        order=tree.order,
        children=tree.children,
        level=np.asarray(tree.level, dtype=np.intp),
        weight=weight,
        unit_max=unit_max,
        has_points=has_points,
        na_allowed=np.array([c.na_allowed for c in nodes]),
        aggregators=aggs,
        scales=scales,
        level_aggregators=(
            registry.aggregator(lv.institution.combine),
            registry.aggregator(lv.unit.combine),
        ),
        weight_by=(lv.institution.weight_by, lv.unit.weight_by),
        providers={
            **{f"scale {k}": v.plugin for k, v in registry.scales.items()},
            **{f"aggregator {k}": v.plugin for k, v in registry.aggregators.items()},
        },
    )


def _raise(cls: type[KepatuhanError], problems: list[Problem], total: int | None = None) -> None:
    if not problems:
        return
    total = len(problems) if total is None else total
    listed = problems[:MAX_LISTED]
    if total > len(listed):
        listed.append(Problem(f"… and {total - len(listed)} more problems of the same kind"))
    raise cls(listed)


def _node_codes(comp: CompiledRubric, table: ObservationTable) -> IntArray:
    """Each row's node index; unknown criterion ids raise, naming the first row of each."""
    codes_of = [comp.node_index(c) for c in table.criterion_ids]
    lookup = np.array(
        [-1 if c is None else c for c in codes_of] or [0],
        dtype=np.intp,
    )
    codes: IntArray = lookup[table.criterion] if len(table) else np.zeros(0, dtype=np.intp)
    present = np.bincount(table.criterion, minlength=len(lookup)) > 0
    bad = np.flatnonzero((lookup < 0) & present)
    problems = []
    for k in bad:
        cid = table.criterion_ids[k]
        row = int(np.argmax(table.criterion == k))
        close = difflib.get_close_matches(cid, [*comp.ids, TOTAL], n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        problems.append(
            table.problem(
                row,
                f'column "criterion": unknown criterion "{cid}" '
                f'for rubric "{comp.rubric.id}"{hint}',
                expected="a criterion id of the rubric, or total",
                found=f'"{cid}"',
            )
        )
    _raise(ObservationError, problems)
    return codes


def _check_levels(comp: CompiledRubric, table: ObservationTable, node: IntArray) -> None:
    """A criterion computed per unit cannot be observed for a product, and so on."""
    too_fine = np.flatnonzero(table.level.astype(np.intp) > comp.level[node])
    problems = [
        table.problem(
            int(r),
            f'criterion "{comp.ids[node[r]]}" is scored per {LEVELS[comp.level[node[r]]]}; '
            f"this row is about a {LEVELS[table.level[r]]} "
            f"({table.entity_label(int(table.level[r]), int(table.entity[r]))})",
            expected=f"a row about an {LEVELS[comp.level[node[r]]]} or coarser",
            found=f"a {LEVELS[table.level[r]]} row",
        )
        for r in too_fine[:MAX_LISTED]
    ]
    _raise(ObservationError, problems, len(too_fine))


def _normalise(comp: CompiledRubric, table: ObservationTable, node: IntArray) -> FloatArray:
    """Raw values to 0–100 through each leaf's scale (internal nodes: value / max · 100)."""
    out = np.zeros(len(table))
    problems: list[Problem] = []
    total_bad = 0
    # A stable sort of small integers is a radix sort in numpy: O(n), not O(n log n).
    small = node.astype(np.int16) if len(comp.ids) < 2**15 else node
    order = np.argsort(small, kind="stable")
    bounds = np.flatnonzero(np.diff(node[order])) + 1
    for rows in np.split(order, bounds) if len(order) else []:
        n = int(node[rows[0]])
        crit = comp.rubric.tree.nodes[n]
        st = table.state[rows]
        if not comp.na_allowed[n]:
            bad_na = rows[st == NOT_APPLICABLE]
            total_bad += len(bad_na)
            problems.extend(
                table.problem(
                    int(r),
                    f'criterion "{crit.id}" does not allow na (na_allowed = false)',
                    expected="a value",
                    found="na",
                )
                for r in bad_na[:MAX_LISTED]
            )
        vr = rows[st == VALUE]
        raw = table.value[vr]
        scale = comp.scales[n]
        if scale is not None and crit.scale is not None:
            ok = scale.valid(raw, crit.scale)
            expected = scale.describe(crit.scale)
            got = np.asarray(scale.normalise(raw[ok], crit.scale), dtype=np.float64)
            _check_plugin_output(comp, "scale", scale.name, got, int(ok.sum()))
            out[vr[ok]] = got
        else:
            hi = comp.unit_max[n]
            ok = (raw >= 0) & (raw <= hi)
            expected = f"a number from 0 to {hi:g}" + (" (points)" if comp.has_points[n] else "")
            out[vr[ok]] = raw[ok] * (100.0 / hi)
        bad = vr[~ok]
        total_bad += len(bad)
        problems.extend(
            table.problem(
                int(r),
                f'column "value": {table.value[r]:g} is outside the scale of criterion '
                f'"{crit.id}": expected {expected}',
                expected=expected,
                found=f"{table.value[r]:g}",
            )
            for r in bad[: max(0, MAX_LISTED - len(problems))]
        )
    _raise(ObservationError, problems, total_bad)
    # v/max·100 can land one ulp above 100 (11 · (100/11)); a score never leaves 0–100.
    return np.clip(out, 0.0, 100.0)


def _check_duplicates(comp: CompiledRubric, table: ObservationTable, node: IntArray) -> None:
    n_nodes = len(comp.ids)
    sizes = (len(table.institutions), len(table.units), len(table.products))
    offset = np.array([0, sizes[0], sizes[0] + sizes[1]], dtype=np.int64)
    key = (offset[table.level] + table.entity.astype(np.int64)) * n_nodes + node
    cells = int(sum(sizes)) * n_nodes
    # Counting is O(n); sorting is needed only to name the rows when there is a duplicate.
    small = cells <= 8 * len(key) + 1_000_000
    if small and not np.any(np.bincount(key, minlength=cells) > 1):
        return
    order = np.argsort(key, kind="stable")
    sk = key[order]
    dup = np.flatnonzero(sk[1:] == sk[:-1])
    problems = []
    for d in dup[:MAX_LISTED]:
        first, again = int(order[d]), int(order[d + 1])
        lv, ent = int(table.level[again]), int(table.entity[again])
        same = table.value[first] == table.value[again] and table.state[first] == table.state[again]
        where_first = (
            f"record {table.line[first]}"
            if table.line_kind == "record"
            else f"line {table.line[first]}"
        )
        problems.append(
            table.problem(
                again,
                f'{table.entity_label(lv, ent)} criterion "{comp.ids[node[again]]}" is observed '
                f"twice (first on {where_first})" + ("" if same else " with different values"),
                expected="one observation per entity and criterion",
                found="two",
            )
        )
    _raise(DuplicateObservationError, problems, len(dup))


def _selection(
    pm: PluginManager, rubric: Rubric, table: ObservationTable
) -> tuple[UnitSelection, list[Problem]]:
    calls = pm.call_each("kepatuhan_select_units", firstresult=True, rubric=rubric, table=table)
    slow = pm.slow_calls(calls, "kepatuhan_select_units")
    answer = next((c for c in calls if c.result is not None), None)
    if answer is None:
        return UnitSelection(), slow
    sel = answer.result
    if not isinstance(sel, UnitSelection):
        raise PluginError(
            f"plugin {answer.plugin!r}: kepatuhan_select_units returned "
            f"{type(sel).__name__}, expected UnitSelection or None"
        )
    n = len(table.units)
    for name, w in [("weights", sel.weights), *sel.views.items()]:
        if w is None:
            continue
        arr = np.asarray(w, dtype=np.float64)
        if arr.shape != (n,) or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise PluginError(
                f"plugin {answer.plugin!r}: kepatuhan_select_units {name} must be {n} finite "
                f"weights >= 0 (one per unit), found shape {arr.shape}"
            )
    return sel, slow


def _validate_hook(pm: PluginManager, rubric: Rubric, table: ObservationTable) -> list[Problem]:
    calls = pm.call_each("kepatuhan_validate", rubric=rubric, table=table)
    problems: list[Problem] = []
    for c in calls:
        if c.result is None:
            continue
        if not isinstance(c.result, list) or not all(isinstance(p, Problem) for p in c.result):
            raise PluginError(
                f"plugin {c.plugin!r}: kepatuhan_validate must return a list of Problem, "
                f"found {type(c.result).__name__}"
            )
        problems.extend(c.result)
    _raise(ObservationError, problems)
    return pm.slow_calls(calls, "kepatuhan_validate")


def _read_flags(
    rubric: Rubric, table: ObservationTable
) -> tuple[dict[str, NDArray[np.int8]], BoolArray]:
    """Each flag's value per entity of its level (1 yes, 0 no, -1 unknown); flag rows."""
    ids = {f.id: f for f in rubric.flags}
    is_flag = np.zeros(len(table), dtype=bool)
    out: dict[str, NDArray[np.int8]] = {}
    if not ids:
        return out, is_flag
    sizes = (len(table.institutions), len(table.units), len(table.products))
    problems: list[Problem] = []
    for k, cid in enumerate(table.criterion_ids):
        f = ids.get(cid)
        if f is None:
            continue
        lv = LEVELS.index(f.level)
        rows = np.flatnonzero(table.criterion == k)
        is_flag[rows] = True
        vals = np.full(sizes[lv], -1, dtype=np.int8)
        for r in rows:  # flags are one per entity: a handful of rows, not observations
            rr = int(r)
            if int(table.level[rr]) != lv:
                problems.append(
                    table.problem(
                        rr,
                        f'flag "{f.id}" is recorded per {f.level}; this row is about a '
                        f"{LEVELS[table.level[rr]]}",
                    )
                )
                continue
            e = int(table.entity[rr])
            if vals[e] != -1:
                problems.append(table.problem(rr, f'flag "{f.id}" is given twice for this entity'))
            if table.state[rr] == VALUE:
                if table.value[rr] not in (0.0, 1.0):
                    problems.append(
                        table.problem(
                            rr,
                            f'flag "{f.id}": expected ya/tidak, found {table.value[rr]:g}',
                            expected="ya or tidak",
                            found=f"{table.value[rr]:g}",
                        )
                    )
                    continue
                vals[e] = int(table.value[rr])
        out[f.id] = vals
    _raise(ObservationError, problems)
    return out, is_flag


@attrs.frozen(eq=False)
class Evaluation:
    """The engine's matrices for one weighting of the units."""

    values: tuple[FloatArray, FloatArray, FloatArray]
    states: tuple[StateArray, StateArray, StateArray]
    given: tuple[BoolArray, BoolArray, BoolArray]
    needed: tuple[BoolArray, BoolArray, BoolArray]
    sub_weights: tuple[FloatArray, FloatArray, FloatArray]
    """Per level, each entity's weight in its parent's roll-up of the root (0 = excluded)."""


def _evaluate(
    comp: CompiledRubric,
    table: ObservationTable,
    node: IntArray,
    norm: FloatArray,
    unit_w: FloatArray,
) -> Evaluation:
    nn = len(comp.ids)
    sizes = (len(table.institutions), len(table.units), len(table.products))
    parents: tuple[IntArray | None, ...] = (None, table.unit_institution, table.product_unit)
    policy = comp.rubric.missing
    # -- given cells --------------------------------------------------------------------
    G = [np.zeros((nn, m)) for m in sizes]
    GS = [np.zeros((nn, m), dtype=np.int8) for m in sizes]  # 0 none, else 1 + state
    for L in range(3):
        r = table.level == L
        G[L][node[r], table.entity[r]] = norm[r]
        GS[L][node[r], table.entity[r]] = table.state[r] + 1
    # -- what is needed: every entity's own score, then down the tree -------------------
    N = [np.zeros((nn, m), dtype=bool) for m in sizes]
    root = comp.root
    for L in range(3):
        if comp.level[root] >= L:
            N[L][root, :] = True
    preorder = comp.order[::-1]
    for L in range(3):
        for n in preorder:
            if comp.level[n] < L:
                continue
            open_ = N[L][n] & (GS[L][n] == 0)
            if not open_.any():
                continue
            if comp.level[n] == L:
                for c in comp.children[n]:
                    N[L][c] |= open_
            else:
                par = parents[L + 1]
                assert par is not None
                sub = open_[par]
                if L == 0:
                    sub &= unit_w > 0
                N[L + 1][n] |= sub
    # -- values, bottom-up ---------------------------------------------------------------
    V = [np.zeros((nn, m)) for m in sizes]
    S = [np.zeros((nn, m), dtype=np.int8) for m in sizes]
    product_count = (
        np.bincount(table.product_unit, minlength=sizes[1]).astype(np.float64)
        if sizes[1]
        else np.zeros(0)
    )
    missing: list[tuple[int, int, IntArray]] = []
    sub_weights = [np.ones(sizes[0]), unit_w.copy(), np.ones(sizes[2])]
    for L in (2, 1, 0):
        m = sizes[L]
        if m == 0:
            continue
        for n in comp.order:
            if comp.level[n] < L:
                continue
            if comp.level[n] == L:
                if comp.children[n]:
                    v, s = _combine(comp, n, V[L], S[L], m)
                else:
                    v, s = np.zeros(m), np.zeros(m, dtype=np.int8)
            else:
                par = parents[L + 1]
                assert par is not None
                w = np.ones(sizes[L + 1]) if L == 1 else unit_w.copy()
                if L == 0 and comp.weight_by[0] == "products":
                    # a unit weighs by the number of its service products in the data
                    w = w * product_count
                    used = (N[0][n] & (GS[0][n] == 0))[par]
                    _check_product_weights(table, comp, n, S[1][n], w, (unit_w > 0) & used)
                if n == root:
                    sub_weights[L + 1] = w
                present = unit_w > 0 if L == 0 else np.ones(sizes[L + 1], dtype=bool)
                agg = comp.level_aggregators[L]
                v, s = _rollup(comp, agg, V[L + 1][n], S[L + 1][n], w, present, par, m)
            # missing: needed, not given, nothing below
            gs = GS[L][n]
            miss = N[L][n] & (((gs == 0) & (s == EMPTY)) | (gs == 1 + MISSING))
            if miss.any():
                if policy == "zero":
                    v = np.where(miss, 0.0, v)
                    s = np.where(miss, ZERO, s).astype(np.int8)
                elif policy == "not_applicable":
                    s = np.where(miss, NA, s).astype(np.int8)
                else:
                    missing.append((L, n, np.flatnonzero(miss)))
                    # stand-in zeros: the error is raised below, and the nodes above must
                    # not report the same hole again as their own missing value
                    v = np.where(miss, 0.0, v)
                    s = np.where(miss, ZERO, s).astype(np.int8)
            v = np.where(gs == 1 + VALUE, G[L][n], v)
            s = np.where(gs == 1 + VALUE, SCORED, s)
            s = np.where(gs == 1 + NOT_APPLICABLE, NA, s)
            s = np.where((gs == 1 + MISSING) & ~N[L][n], EMPTY, s).astype(np.int8)
            V[L][n] = np.where(s == SCORED, v, 0.0)
            S[L][n] = s
    if missing:
        _missing_error(comp, table, missing)
    given = tuple((GS[L] == 1 + VALUE) | (GS[L] == 1 + NOT_APPLICABLE) for L in range(3))
    return Evaluation(
        values=(V[0], V[1], V[2]),
        states=(S[0], S[1], S[2]),
        given=(given[0], given[1], given[2]),
        needed=(N[0], N[1], N[2]),
        sub_weights=(sub_weights[0], sub_weights[1], sub_weights[2]),
    )


def _check_product_weights(
    table: ObservationTable,
    comp: CompiledRubric,
    n: int,
    unit_state: StateArray,
    w: FloatArray,
    used: BoolArray,
) -> None:
    """Under "products" weighting a scored unit with no scored products cannot be weighed."""
    lost = np.flatnonzero(((unit_state == SCORED) | (unit_state == ZERO)) & (w == 0) & used)
    problems = [
        Problem(
            f'{table.entity_label(1, int(u))}: criterion "{comp.ids[n]}" has a score but the '
            "institution weighs units by their number of service products and this unit has "
            "none in the data; give its product rows, or use a rubric alternative that "
            "weighs units equally",
            path=table.source,
        )
        for u in lost[:MAX_LISTED]
    ]
    _raise(ObservationError, problems, len(lost))


def _combine(
    comp: CompiledRubric, n: int, V: FloatArray, S: StateArray, m: int
) -> tuple[FloatArray, StateArray]:
    ks = np.asarray(comp.children[n], dtype=np.intp)
    sc = S[ks]
    inc = (sc == SCORED) | (sc == ZERO)
    rows, cols = np.nonzero(inc)
    agg = comp.aggregators[n]
    assert agg is not None
    out = agg.reduce(V[ks][rows, cols], comp.weight[ks][rows], cols, m)
    _check_plugin_output(comp, "aggregator", agg.name, out, m, inc.sum(axis=0) > 0)
    n_inc = inc.sum(axis=0)
    n_na = (sc == NA).sum(axis=0)
    n_empty = (sc == EMPTY).sum(axis=0)
    s = np.where((n_inc > 0) & (n_empty == 0), SCORED, np.where(n_na == len(ks), NA, EMPTY)).astype(
        np.int8
    )
    return np.where(s == SCORED, out, 0.0), s


def _check_plugin_output(
    comp: CompiledRubric,
    kind: str,
    name: str,
    out: FloatArray,
    size: int,
    used: BoolArray | None = None,
) -> None:
    """A scale or aggregator that returns the wrong shape, NaN, or a value off 0–100 is
    reported with its plugin's name; its output never reaches a score silently."""
    plugin = comp.providers.get(f"{kind} {name}", "?")
    if out.shape != (size,):
        raise PluginError(
            f'{kind} "{name}" of plugin {plugin!r} returned shape {out.shape}, expected ({size},)'
        )
    vals = out if used is None else out[used]
    if not np.all(np.isfinite(vals)):
        raise PluginError(f'{kind} "{name}" of plugin {plugin!r} returned NaN or infinity')
    if np.any(vals < -1e-9) or np.any(vals > 100 + 1e-9):
        raise PluginError(
            f'{kind} "{name}" of plugin {plugin!r} returned {float(vals.min()):g}–'
            f"{float(vals.max()):g}, outside 0–100"
        )


def _rollup(
    comp: CompiledRubric,
    agg: Aggregator,
    v: FloatArray,
    s: StateArray,
    w: FloatArray,
    present: BoolArray,
    par: IntArray,
    m: int,
) -> tuple[FloatArray, StateArray]:
    """Combine sub-entities into their parents; ``present`` = selected (weight > 0)."""
    inc = ((s == SCORED) | (s == ZERO)) & present & (w > 0)
    out = agg.reduce(v[inc], w[inc], par[inc], m)
    n_inc = np.bincount(par[inc], minlength=m)
    _check_plugin_output(comp, "aggregator", agg.name, out, m, n_inc > 0)
    n_na = np.bincount(par[(s == NA) & present], minlength=m)
    n_present = np.bincount(par[present], minlength=m)
    n_empty = np.bincount(par[(s == EMPTY) & present], minlength=m)
    st = np.where(
        (n_inc > 0) & (n_empty == 0),
        SCORED,
        np.where((n_present > 0) & (n_na == n_present), NA, EMPTY),
    ).astype(np.int8)
    return np.where(st == SCORED, out, 0.0), st


def _missing_error(
    comp: CompiledRubric, table: ObservationTable, missing: Sequence[tuple[int, int, IntArray]]
) -> None:
    total = sum(len(e) for _, _, e in missing)
    problems: list[Problem] = []
    for L, n, ents in missing:
        for e in ents[: MAX_LISTED - len(problems)]:
            problems.append(
                Problem(
                    f'{table.entity_label(L, int(e))}: no value for criterion "{comp.ids[n]}" '
                    f'(rubric "{comp.rubric.id}" says missing = "error")',
                    path=table.source,
                    expected="a value or na",
                    found="nothing",
                )
            )
    _raise(ObservationError, problems, total)


def score(
    rubric: Rubric | str,
    table: ObservationTable,
    *,
    plugins: PluginManager | None = None,
) -> Scores:
    """Score every institution, unit and product of ``table`` under ``rubric``.

    ``rubric`` is a :class:`~kepatuhan.Rubric` or an installed rubric id. Observations
    may be given at any criterion node and any level (see the module docstring). Raises
    :class:`~kepatuhan.ObservationError` (and subclasses) for an observation that cannot
    be used — unknown criterion, value outside its scale, duplicate, a missing value
    under the ``error`` policy — naming the file and line; nothing is dropped silently.
    """
    pm = plugins or default_manager()
    reg = pm.registry
    if isinstance(rubric, str):
        rubric = reg.rubric(rubric)
    comp = compile_rubric(rubric, reg)
    if len(table) == 0:
        raise ObservationError(Problem("no observations to score", path=table.source))
    input_digest = table.digest
    flags, is_flag = _read_flags(rubric, table)
    n_flag_rows = int(is_flag.sum())
    if n_flag_rows:
        table = table.take(~is_flag)
        if len(table) == 0:
            raise ObservationError(
                Problem("no observations to score, only flags", path=table.source)
            )
    node = _node_codes(comp, table)
    _check_levels(comp, table, node)
    norm = _normalise(comp, table, node)
    _check_duplicates(comp, table, node)
    slow = _validate_hook(pm, rubric, table)
    sel, slow_sel = _selection(pm, rubric, table)
    unit_w = (
        np.ones(len(table.units))
        if sel.weights is None
        else np.asarray(sel.weights, dtype=np.float64)
    )
    main = _evaluate(comp, table, node, norm, unit_w)
    views = {}
    for name, w in sel.views.items():
        ev = _evaluate(comp, table, node, norm, np.asarray(w, dtype=np.float64))
        views[name] = (ev.values[0][comp.root].copy(), ev.states[0][comp.root].copy())
    used_rows = np.zeros(len(table), dtype=bool)
    for L in range(3):
        r = np.flatnonzero(table.level == L)
        used_rows[r] = main.needed[L][node[r], table.entity[r]]
    from . import __version__

    return Scores(
        rubric=rubric,
        table=table,
        node_ids=comp.ids,
        node_levels=tuple(int(x) for x in comp.level),
        weights=comp.weight,
        aggregators=comp.aggregators,
        level_aggregators=comp.level_aggregators,
        unit_max=comp.unit_max,
        has_points=comp.has_points,
        values=main.values,
        states=main.states,
        given=main.given,
        sub_weights=main.sub_weights,
        row_node=node,
        row_used=used_rows,
        views=views,
        flags=flags,
        flag_rows=n_flag_rows,
        warnings=(*sel.warnings, *slow, *slow_sel),
        provenance=Provenance(
            rubric_id=rubric.id,
            rubric_version=rubric.version,
            rubric_digest=rubric.digest,
            input_digest=input_digest,
            kepatuhan_version=__version__,
            plugins=pm.versions(),
        ),
    )
