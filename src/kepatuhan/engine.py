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
  children are all not applicable is itself not applicable. A criterion the rubric declares
  not applicable for an entity (``not_applicable_for``, :mod:`kepatuhan.applicability`) is
  not applicable there with its subtree; a value given for such a cell is excluded, never
  used.
* A unit weighs its products equally, or by their weights under ``weight_by =
  "product_weight"`` (the data's ``weight`` column or ``kepatuhan_product_weights``).
* Missing (needed, not given, nothing below) follows the rubric's policy: ``zero``
  (counted as 0), ``not_applicable``, or ``error``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from .aggregators import Aggregator
from .applicability import (
    not_applicable_cells,
    not_applicable_reason,
    ruled_rows,
    unmatched_warnings,
)
from .errors import (
    DuplicateObservationError,
    KepatuhanError,
    ObservationError,
    PluginError,
    Problem,
    RubricError,
    listed,
    suggest,
)
from .observations import MISSING, NOT_APPLICABLE, VALUE, ObservationTable, UnitSelection
from .plugins import PluginManager, Registry, default_manager
from .results import (
    EMPTY,
    NA,
    ROW_EMPTY,
    ROW_EXCLUDED,
    ROW_OVERRIDDEN,
    ROW_USED,
    SCORED,
    ZERO,
    Provenance,
    Scores,
)
from .rubric import LEVELS, TOTAL, Rubric
from .scales import Scale
from .states import has_value

__all__ = ["CompiledRubric", "compile_rubric", "score"]

#: At most this many problems are listed in one error (the count of the rest is given).
MAX_LISTED = 20

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
StateArray = NDArray[np.int8]
#: Per level, the cells not applicable by the rubric's ``not_applicable_for`` rules.
NaCells = tuple[BoolArray, BoolArray, BoolArray]


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
        if p >= 0 and nodes[p].rule.name == "sum" and c.points is not None:
            weight[i] = float(c.points)
        elif p >= 0:
            weight[i] = float(c.effective_weight)
    has_points = np.array([c.points is not None for c in nodes])
    unit_max = np.array([float(c.points) if c.points is not None else 100.0 for c in nodes])
    aggs = tuple(None if tree.is_leaf(i) else registry.rule(c.rule) for i, c in enumerate(nodes))
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
            registry.rule(lv.institution.combine),
            registry.rule(lv.unit.combine),
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
    raise cls(listed(problems[:MAX_LISTED], total, " of the same kind"))


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
        hint = suggest(cid, [*comp.ids, TOTAL])
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
        scale = comp.scales[n]
        if scale is None or scale.name != "yes_no":
            # ya/tidak on a numeric criterion would be a silent 1 or 0
            words = rows[(st == VALUE) & table.word[rows]]
            total_bad += len(words)
            problems.extend(
                table.problem(
                    int(r),
                    f'column "value": criterion "{crit.id}" takes a number '
                    f"({_expected(comp, n)}), found the yes/no word "
                    f"{'ya' if table.value[r] else 'tidak'}: yes/no words are for yes/no "
                    "criteria only",
                    expected=_expected(comp, n),
                    found="ya" if table.value[r] else "tidak",
                )
                for r in words[: max(0, MAX_LISTED - len(problems))]
            )
            rows = rows[~((st == VALUE) & table.word[rows])]
            st = table.state[rows]
        vr = rows[st == VALUE]
        raw = table.value[vr]
        if scale is not None and crit.scale is not None:
            ok = _call_plugin(comp, "scale", scale.name, scale.valid, raw, crit.scale).astype(bool)
            expected = scale.describe(crit.scale)
            got = _call_plugin(
                comp, "scale", scale.name, scale.normalise, raw[ok], crit.scale
            ).astype(np.float64)
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


def _expected(comp: CompiledRubric, n: int) -> str:
    """What a value of node ``n`` must be, for messages."""
    scale, ref = comp.scales[n], comp.rubric.tree.nodes[n].scale
    if scale is not None and ref is not None:
        return scale.describe(ref)
    return f"a number from 0 to {comp.unit_max[n]:g}" + (" (points)" if comp.has_points[n] else "")


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
    calls = pm.call_each("kepatuhan_select_units", rubric=rubric, table=table)
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
    """The engine's matrices for one weighting of the units (``node × entity`` per level)."""

    values: tuple[FloatArray, FloatArray, FloatArray]
    states: tuple[StateArray, StateArray, StateArray]
    given: tuple[BoolArray, BoolArray, BoolArray]
    """A value (or ``na``) was given for the entity at the node."""
    needed: tuple[BoolArray, BoolArray, BoolArray]
    from_children: tuple[BoolArray, BoolArray, BoolArray]
    """Computed from the node's children for the entity itself (not from sub-entities)."""
    missing: tuple[BoolArray, BoolArray, BoolArray]
    """Needed, not given, nothing below: filled in by the rubric's missing policy."""
    sub_weights: tuple[FloatArray, FloatArray, FloatArray]
    """Per level, each entity's weight in its parent's roll-up of the root (0 = excluded)."""


def _place_given(
    comp: CompiledRubric,
    table: ObservationTable,
    node: IntArray,
    norm: FloatArray,
    na_rule: NaCells | None = None,
) -> tuple[list[FloatArray], list[StateArray]]:
    """Step 1: the cells given in the data, per level: values (0–100) and a code
    (0 nothing, 1 + VALUE, 1 + NOT_APPLICABLE). An empty cell (state MISSING) gives nothing:
    it is no value at all, never an override (`k,u,,total,` leaves the dimensions in charge).
    A cell not applicable by the rubric's rule (``na_rule``) gives nothing either: its row
    is excluded (:func:`_classify_rows`)."""
    nn = len(comp.ids)
    sizes = _sizes(table)
    G = [np.zeros((nn, m)) for m in sizes]
    GS = [np.zeros((nn, m), dtype=np.int8) for m in sizes]
    for L in range(3):
        r = (table.level == L) & (table.state != MISSING)
        if na_rule is not None:
            r[r] = ~na_rule[L][node[r], table.entity[r]]
        G[L][node[r], table.entity[r]] = norm[r]
        GS[L][node[r], table.entity[r]] = table.state[r] + 1
    return G, GS


def _data_below(comp: CompiledRubric, GS: list[StateArray]) -> list[BoolArray]:
    """Step 2: per level, whether the entity has something given at a node strictly below
    each node. Such an entity's node is computed from its children (its own data), not
    rolled up from its sub-entities: dimension points on an institution row with no units
    score the institution; ``standar_pelayanan`` on a unit row is the unit's value."""
    D = [np.zeros(g.shape, dtype=bool) for g in GS]
    for L in range(3):
        has = GS[L] > 0
        for n in comp.order:  # children before parents
            for c in comp.children[n]:
                D[L][n] |= has[c] | D[L][c]
    return D


def _propagate_needs(
    comp: CompiledRubric,
    table: ObservationTable,
    GS: list[StateArray],
    D: list[BoolArray],
    unit_w: FloatArray,
    na_rule: NaCells | None = None,
) -> tuple[list[BoolArray], list[BoolArray]]:
    """Step 3: what must be computed. Every entity's own overall score is needed; a needed
    node that is not given is computed from its children for the entity itself when the
    node sits at the entity's level or the entity has data below it (``from_children``),
    else from the same node of its sub-entities (units with weight 0 excluded). A cell not
    applicable by the rubric's rule needs nothing: it is not applicable, whatever is below."""
    sizes = _sizes(table)
    nn = len(comp.ids)
    parents = _parents(table)
    N = [np.zeros((nn, m), dtype=bool) for m in sizes]
    C = [np.zeros((nn, m), dtype=bool) for m in sizes]
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
            if na_rule is not None:
                open_ &= ~na_rule[L][n]
            if comp.level[n] == L:
                C[L][n] = open_
            else:
                C[L][n] = open_ & D[L][n]
                down = open_ & ~D[L][n]
                par = parents[L + 1]
                if down.any() and par is not None:
                    sub = down[par]
                    if L == 0:
                        sub &= unit_w > 0
                    N[L + 1][n] |= sub
            if C[L][n].any():
                for c in comp.children[n]:
                    N[L][c] |= C[L][n]
    return N, C


def _evaluate(
    comp: CompiledRubric,
    table: ObservationTable,
    node: IntArray,
    norm: FloatArray,
    unit_w: FloatArray,
    product_w: FloatArray | None = None,
    na_rule: NaCells | None = None,
) -> Evaluation:
    """Steps 1–4: place what is given, find the data below, propagate needs, fold up.

    What the steps give, for the three cases people trip over (2023 rubric):

    * a unit's ``total`` given over its four dimension rows: the total is taken as given
      (step 1), the dimensions are not needed (step 3) and their rows are *overridden*;
    * ``k,u,,total,`` (an empty cell) over the same rows: step 1 places nothing, so the
      total is computed from the dimensions — 8.72 + 10.76 + 20.76 + 9.61 = 49.85;
    * the four dimension points on an institution row with no units: step 2 finds data
      below the institution's ``total`` at its own level, so step 3 computes it from its own
      children instead of rolling up (absent) units — again 49.85.
    """
    G, GS = _place_given(comp, table, node, norm, na_rule)
    D = _data_below(comp, GS)
    N, C = _propagate_needs(comp, table, GS, D, unit_w, na_rule)
    pw = np.ones(len(table.products)) if product_w is None else product_w
    V, S, M, sub_weights = _fold(comp, table, G, GS, N, C, unit_w, pw, na_rule)
    if comp.rubric.missing == "error" and any(m.any() for m in M):
        _missing_error(comp, table, M)
    given = tuple(GS[L] > 0 for L in range(3))
    return Evaluation(
        values=(V[0], V[1], V[2]),
        states=(S[0], S[1], S[2]),
        given=(given[0], given[1], given[2]),
        needed=(N[0], N[1], N[2]),
        from_children=(C[0], C[1], C[2]),
        missing=(M[0], M[1], M[2]),
        sub_weights=(sub_weights[0], sub_weights[1], sub_weights[2]),
    )


def _fold(
    comp: CompiledRubric,
    table: ObservationTable,
    G: list[FloatArray],
    GS: list[StateArray],
    N: list[BoolArray],
    C: list[BoolArray],
    unit_w: FloatArray,
    product_w: FloatArray,
    na_rule: NaCells | None = None,
) -> tuple[list[FloatArray], list[StateArray], list[BoolArray], list[FloatArray]]:
    """Step 4: values bottom-up, products to institutions, leaves to the root.

    Per entity and node: given → as given; ``from_children`` → the node's rule over its
    children; else → the level's rule over the sub-entities' same node. A needed node with
    nothing given and nothing below is *missing*: the policy fills it (0, or not
    applicable; under ``error`` a stand-in 0 so the nodes above do not report the same
    hole again) and it is recorded. When every child of a node is missing the node itself
    is recorded instead of its children (the unit gave no ``pengaduan`` at all). A cell not
    applicable by the rubric's rule is not applicable, never missing; a unit combines its
    products with ``product_w`` (ones unless ``weight_by = "product_weight"``)."""
    nn = len(comp.ids)
    sizes = _sizes(table)
    parents = _parents(table)
    policy = comp.rubric.missing
    V = [np.zeros((nn, m)) for m in sizes]
    S = [np.zeros((nn, m), dtype=np.int8) for m in sizes]
    M = [np.zeros((nn, m), dtype=bool) for m in sizes]
    product_count = (
        np.bincount(table.product_unit, minlength=sizes[1]).astype(np.float64)
        if sizes[1]
        else np.zeros(0)
    )
    sub_weights = [np.ones(sizes[0]), unit_w.copy(), product_w.copy()]
    for L in (2, 1, 0):
        m = sizes[L]
        if m == 0:
            continue
        for n in comp.order:
            if comp.level[n] < L:
                continue
            v = np.zeros(m)
            s = np.zeros(m, dtype=np.int8)
            kids = comp.children[n]
            if kids and C[L][n].any():
                vc, sc = _combine(comp, n, V[L], S[L], m, C[L][n], table, L)
                v = np.where(C[L][n], vc, v)
                s = np.where(C[L][n], sc, s).astype(np.int8)
                ks = np.asarray(kids, dtype=np.intp)
                all_missing = C[L][n] & M[L][ks].all(axis=0)
                if all_missing.any():
                    M[L][ks[:, None], np.flatnonzero(all_missing)[None, :]] = False
                    M[L][n] |= all_missing
            if comp.level[n] > L:
                par = parents[L + 1]
                assert par is not None
                w = product_w.copy() if L == 1 else unit_w.copy()
                down = ~C[L][n] & (GS[L][n] == 0)
                if L == 0 and comp.weight_by[0] == "products":
                    # a unit weighs by the number of its service products in the data
                    w = w * product_count
                    used = (N[0][n] & down)[par]
                    _check_product_weights(table, comp, n, S[1][n], w, (unit_w > 0) & used)
                sub_weights[L + 1] = w  # the same for every node of this level
                present = unit_w > 0 if L == 0 else np.ones(sizes[L + 1], dtype=bool)
                agg = comp.level_aggregators[L]
                vr, sr = _rollup(comp, agg, V[L + 1][n], S[L + 1][n], w, present, par, m)
                v = np.where(down, vr, v)
                s = np.where(down, sr, s).astype(np.int8)
            gs = GS[L][n]
            if na_rule is not None:
                s = np.where(na_rule[L][n], NA, s).astype(np.int8)
            miss = N[L][n] & (gs == 0) & (s == EMPTY)
            if miss.any():
                M[L][n] |= miss
                if policy == "not_applicable":
                    s = np.where(miss, NA, s).astype(np.int8)
                else:  # "zero", and the stand-in zeros of "error" (raised by the caller)
                    v = np.where(miss, 0.0, v)
                    s = np.where(miss, ZERO, s).astype(np.int8)
            v = np.where(gs == 1 + VALUE, G[L][n], v)
            s = np.where(gs == 1 + VALUE, SCORED, s)
            s = np.where(gs == 1 + NOT_APPLICABLE, NA, s).astype(np.int8)
            V[L][n] = np.where(s == SCORED, v, 0.0)
            S[L][n] = s
    return V, S, M, sub_weights


def _sizes(table: ObservationTable) -> tuple[int, int, int]:
    return (len(table.institutions), len(table.units), len(table.products))


def _parents(table: ObservationTable) -> tuple[IntArray | None, IntArray, IntArray]:
    """For each level, the index of each entity's parent entity (None for institutions)."""
    return (None, table.unit_institution, table.product_unit)


def _check_product_weights(
    table: ObservationTable,
    comp: CompiledRubric,
    n: int,
    unit_state: StateArray,
    w: FloatArray,
    used: BoolArray,
) -> None:
    """Under "products" weighting a scored unit with no scored products cannot be weighed."""
    lost = np.flatnonzero(has_value(unit_state) & (w == 0) & used)
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
    comp: CompiledRubric,
    n: int,
    V: FloatArray,
    S: StateArray,
    m: int,
    wanted: BoolArray,
    table: ObservationTable,
    level: int,
) -> tuple[FloatArray, StateArray]:
    """Node ``n`` from its children for every entity of one level (``wanted``: the
    entities that take it from their children)."""
    ks = np.asarray(comp.children[n], dtype=np.intp)
    sc = S[ks]
    inc = has_value(sc)
    rows, cols = np.nonzero(inc)
    agg = comp.aggregators[n]
    assert agg is not None
    out = _call_aggregator(comp, agg, V[ks][rows, cols], comp.weight[ks][rows], cols, m)
    if agg.additive:
        out = _check_added_up(comp, n, out, wanted & (inc.sum(axis=0) > 0), table, level)
    _check_plugin_output(comp, "aggregator", agg.name, out, m, inc.sum(axis=0) > 0)
    n_inc = inc.sum(axis=0)
    n_na = (sc == NA).sum(axis=0)
    n_empty = (sc == EMPTY).sum(axis=0)
    s = np.where((n_inc > 0) & (n_empty == 0), SCORED, np.where(n_na == len(ks), NA, EMPTY)).astype(
        np.int8
    )
    return np.where(s == SCORED, out, 0.0), s


def _call_plugin(
    comp: CompiledRubric, kind: str, name: str, fn: Callable[..., Any], *args: Any
) -> NDArray[Any]:
    """A scale's or aggregator's method, with an exception from it reported as that
    plugin's error (exit 1 naming the plugin), not as an internal error of kepatuhan."""
    try:
        return np.asarray(fn(*args))
    except KepatuhanError:
        raise
    except Exception as exc:
        plugin = comp.providers.get(f"{kind} {name}", "?")
        raise PluginError(
            f'{kind} "{name}" of plugin {plugin!r} raised {type(exc).__name__}: {exc}'
        ) from exc


def _call_aggregator(
    comp: CompiledRubric,
    agg: Aggregator,
    values: FloatArray,
    weights: FloatArray,
    segments: IntArray,
    m: int,
) -> FloatArray:
    """``agg.reduce`` through :func:`_call_plugin`."""
    out = _call_plugin(comp, "aggregator", agg.name, agg.reduce, values, weights, segments, m)
    return out.astype(np.float64, copy=False)


def _check_added_up(
    comp: CompiledRubric,
    n: int,
    out: FloatArray,
    used: BoolArray,
    table: ObservationTable,
    level: int,
) -> FloatArray:
    """An additive node's children must not add up past its maximum (never clipped)."""
    # Shares of a maximum are sums of v·100/max: allow the last bits of float error.
    over = np.flatnonzero(used & (out > 100.0 + 1e-9))
    hi = float(comp.unit_max[n])
    kids = ", ".join(comp.ids[k] for k in comp.children[n])
    problems = [
        Problem(
            f"{table.entity_label(level, int(e))}: the points of {kids} add up to "
            f'{out[e] * hi / 100:.2f}, above the {hi:g} points of "{comp.ids[n]}"',
            path=table.source,
            expected=f"at most {hi:g} points in all",
            found=f"{out[e] * hi / 100:.2f}",
        )
        for e in over[:MAX_LISTED]
    ]
    _raise(ObservationError, problems, len(over))
    return np.clip(out, 0.0, 100.0)


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
    inc = has_value(s) & present & (w > 0)
    out = _call_aggregator(comp, agg, v[inc], w[inc], par[inc], m)
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
    comp: CompiledRubric, table: ObservationTable, missing: Sequence[BoolArray]
) -> None:
    total = int(sum(int(m.sum()) for m in missing))
    problems: list[Problem] = []
    for L, mat in enumerate(missing):
        for n, e in zip(*np.nonzero(mat), strict=True):
            if len(problems) >= MAX_LISTED:
                break
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


def _classify_rows(
    comp: CompiledRubric,
    table: ObservationTable,
    node: IntArray,
    ev: Evaluation,
    na_rule: NaCells | None = None,
) -> tuple[NDArray[np.int8], NDArray[np.int64]]:
    """Every row in exactly one class: used, overridden, empty or excluded.

    *Empty*: the cell was empty (no value at all). *Used*: the engine needed the cell.
    *Overridden*: not needed because a value is given above it — at an ancestor node of the
    same entity, or at the same node or an ancestor of an entity above it; ``row_over``
    names that cell as ``(level, entity, node)``. *Excluded*: not needed for another reason
    (its unit is not selected by the rubric's plugin, or its cell is not applicable by the
    rubric's ``not_applicable_for`` rule: such a row is excluded even below a given value).
    Returns the classes and the overriding cells (``-1`` where there is none).
    """
    n_rows = len(table)
    cls = np.full(n_rows, ROW_EXCLUDED, dtype=np.int8)
    over = np.full((n_rows, 3), -1, dtype=np.int64)
    needed = np.zeros(n_rows, dtype=bool)
    for L in range(3):
        r = np.flatnonzero(table.level == L)
        needed[r] = ev.needed[L][node[r], table.entity[r]]
    empty = table.state == MISSING
    cls[needed & ~empty] = ROW_USED
    cls[empty] = ROW_EMPTY
    ruled = None if na_rule is None else ruled_rows(table, node, na_rule) & ~empty
    todo = np.flatnonzero(~needed & ~empty)
    if not len(todo):
        if ruled is not None:
            cls[ruled] = ROW_EXCLUDED
        return cls, over
    parent_node = np.asarray(comp.rubric.tree.parent, dtype=np.intp)
    parents = _parents(table)
    lv = table.level[todo].astype(np.intp)
    ent = table.entity[todo].astype(np.intp)
    found = np.zeros(len(todo), dtype=bool)
    # Entity by entity upwards (the row's own entity first, from the parent node; then each
    # entity above it, from the same node), and node by node up to the root.
    start = parent_node[node[todo]]
    for step in range(3):
        cur = start.copy()
        while True:
            live = ~found & (cur >= 0) & (lv >= 0)
            if not live.any():
                break
            for L in range(3):
                k = np.flatnonzero(live & (lv == L))
                if len(k):
                    hit = ev.given[L][cur[k], ent[k]]
                    kk = k[hit]
                    over[todo[kk]] = np.stack([lv[kk], ent[kk], cur[kk]], axis=1)
                    found[kk] = True
            cur = np.where(cur >= 0, parent_node[np.maximum(cur, 0)], -1)
        if step == 2:
            break
        # up one entity: a unit's institution, a product's unit; start again at the row's node
        for L in (1, 2):
            k = np.flatnonzero(lv == L)
            par = parents[L]
            assert par is not None
            ent[k] = par[ent[k]]
        lv = np.where(lv >= 0, lv - 1, -1)
        start = node[todo].astype(np.intp).copy()
    cls[todo[found]] = ROW_OVERRIDDEN
    if ruled is not None:
        cls[ruled] = ROW_EXCLUDED
        over[ruled] = -1
    return cls, over


def _product_weights(
    pm: PluginManager, rubric: Rubric, table: ObservationTable
) -> tuple[FloatArray | None, list[Problem]]:
    """Each product's weight in its unit, under ``weight_by = "product_weight"``: the first
    answer of ``kepatuhan_product_weights``, else the data's ``weight`` column (a product
    without one is an error, never a silent 1). ``None`` for any other rubric (with a
    warning when the data gives weights that are then not used)."""
    n = len(table.products)
    data_w = table.product_weights
    if rubric.levels.unit.weight_by != "product_weight":
        given = int(np.count_nonzero(~np.isnan(data_w)))
        if not given:
            return None, []
        return None, [
            Problem(
                f"{given} products have a weight in the data, but rubric "
                f'"{rubric.id}" weighs a unit\'s products equally: the weights are not used '
                '(a rubric weighs them with [levels.unit] weight_by = "product_weight")',
                path=table.source,
            )
        ]
    calls = pm.call_each("kepatuhan_product_weights", rubric=rubric, table=table)
    slow = pm.slow_calls(calls, "kepatuhan_product_weights")
    answer = next((c for c in calls if c.result is not None), None)
    if answer is not None:
        try:
            arr = np.asarray(answer.result, dtype=np.float64)
        except (TypeError, ValueError):
            arr = np.zeros(0)
        if arr.shape != (n,) or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            raise PluginError(
                f"plugin {answer.plugin!r}: kepatuhan_product_weights must return {n} finite "
                f"weights > 0 (one per product), found "
                + (f"shape {arr.shape}" if arr.shape != (n,) else "a weight <= 0, NaN or infinity")
            )
        return arr, slow
    lacking = np.flatnonzero(np.isnan(data_w)).tolist()
    if lacking:
        first_row = np.full(n, -1, dtype=np.int64)
        rows = np.flatnonzero(table.level == 2)
        first_row[table.entity[rows[::-1]]] = rows[::-1]
        problems = [
            table.problem(
                int(first_row[p]),
                f'{table.entity_label(2, p)} has no weight: rubric "{rubric.id}" weighs a '
                'unit\'s products by their weight ([levels.unit] weight_by = "product_weight"); '
                'give it in the "weight" column of the product\'s rows',
                expected="a weight > 0",
                found="none",
            )
            if first_row[p] >= 0
            else Problem(f"{table.entity_label(2, p)} has no weight", path=table.source)
            for p in lacking[:MAX_LISTED]
        ]
        _raise(ObservationError, problems, len(lacking))
    return data_w.copy(), slow


def _rule_warnings(
    rubric: Rubric,
    table: ObservationTable,
    node: IntArray,
    na_rule: NaCells | None,
    comp: CompiledRubric,
) -> list[Problem]:
    """What the ``not_applicable_for`` rules did with the data: rows given for a cell the
    rule makes not applicable (excluded, never used), and entities the rule cannot match
    because the data lacks their sector or kind."""
    if na_rule is None:
        return []
    out = unmatched_warnings(rubric, table)
    ruled = np.flatnonzero(ruled_rows(table, node, na_rule) & (table.state != MISSING))
    if len(ruled):
        r = int(ruled[0])
        lv, e = int(table.level[r]), int(table.entity[r])
        why = not_applicable_reason(rubric, table, lv, e, int(node[r]))
        first = table.problem(
            r,
            f'{table.entity_label(lv, e)} criterion "{comp.ids[node[r]]}": not applicable ({why})',
        )
        out.append(
            Problem(
                f"{len(ruled)} rows give values for criteria that are not applicable by the "
                "rubric's not_applicable_for rule; they are excluded, not used (first: "
                f"{first})",
                path=table.source,
            )
        )
    return out


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
    product_w, product_warnings = _product_weights(pm, rubric, table)
    na_rule = not_applicable_cells(rubric, table)
    main = _evaluate(comp, table, node, norm, unit_w, product_w, na_rule)
    views = {}
    for name, w in sel.views.items():
        wv = np.asarray(w, dtype=np.float64)
        ev = _evaluate(comp, table, node, norm, wv, product_w, na_rule)
        # a view is computed from the units it selects: where an institution has none (or
        # its score was given as a whole) the view is not computed, never a 0.00
        n_inst = len(table.institutions)
        selects = np.bincount(table.unit_institution, weights=wv > 0, minlength=n_inst) > 0
        computed = selects & ~ev.given[0][comp.root]
        states = np.where(computed, ev.states[0][comp.root], EMPTY).astype(np.int8)
        views[name] = (np.where(computed, ev.values[0][comp.root], 0.0), states)
    row_class, row_over = _classify_rows(comp, table, node, main, na_rule)
    rule_warnings = _rule_warnings(rubric, table, node, na_rule, comp)
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
        from_children=main.from_children,
        missing_cells=main.missing,
        sub_weights=main.sub_weights,
        row_node=node,
        row_class=row_class,
        row_over=row_over,
        views=views,
        flags=flags,
        flag_rows=n_flag_rows,
        warnings=(*sel.warnings, *slow, *slow_sel, *product_warnings, *rule_warnings),
        na_rule=na_rule,
        provenance=Provenance(
            rubric_id=rubric.id,
            rubric_version=rubric.version,
            rubric_digest=rubric.digest,
            input_digest=input_digest,
            kepatuhan_version=__version__,
            plugins=pm.versions(),
            derived_from_id=None if rubric.derived_from is None else rubric.derived_from.id,
            derived_from_digest=None if rubric.derived_from is None else rubric.derived_from.digest,
        ),
    )
