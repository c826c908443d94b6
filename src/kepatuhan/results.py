"""Scores, score cards and explanations: read-only views over the engine's matrices.

:class:`Scores` keeps, per level (institution, unit, product), a ``node × entity`` matrix
of values (0–100, float64) and one of states — *scored*, *zero* (missing, counted as 0
by the rubric's policy), *not applicable*, or *empty* (not computed: not needed because a
node above was given directly). Nothing here computes a score; it only looks them up,
rounds them for display (:func:`kepatuhan.publish`), finds bands, and explains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from json.encoder import encode_basestring as _encode_basestring
from pathlib import Path
from typing import Any, TypeVar, cast

import attrs
import numpy as np
from numpy.typing import NDArray

from .aggregators import Aggregator
from .applicability import not_applicable_reason, ruled_rows
from .bands import Band
from .observations import ObservationTable
from .rounding import DECIMALS, publish, round_scores
from .rubric import LEVELS, Rubric
from .states import RowClass, State, has_value

__all__ = [
    "EMPTY",
    "MISSING_REASON",
    "NA",
    "RECORD_COLUMNS",
    "ROW_CLASSES",
    "ROW_EMPTY",
    "ROW_EXCLUDED",
    "ROW_OVERRIDDEN",
    "ROW_USED",
    "SCORED",
    "STATE_NAMES",
    "ZERO",
    "ExplainNode",
    "LevelColumns",
    "MissingValue",
    "Provenance",
    "ScoreCard",
    "Scores",
]

#: Cell states of the result matrices (the codes of :class:`~kepatuhan.states.State`).
EMPTY, SCORED, NA, ZERO = State.EMPTY, State.SCORED, State.NA, State.ZERO
#: The state names used in JSON and explanations.
STATE_NAMES: dict[int, str] = {int(s): s.label for s in State}

#: Classes of input rows (the codes of :class:`~kepatuhan.states.RowClass`).
ROW_USED, ROW_OVERRIDDEN, ROW_EMPTY, ROW_EXCLUDED = (
    RowClass.USED,
    RowClass.OVERRIDDEN,
    RowClass.EMPTY,
    RowClass.EXCLUDED,
)
#: The class names used in ``accounting``.
ROW_CLASSES: dict[int, str] = {int(c): c.label for c in RowClass}

#: The columns of :meth:`Scores.record_columns` (the rows of ``export --output FILE.csv``).
RECORD_COLUMNS = (
    "level",
    "institution",
    "unit",
    "product",
    "criterion",
    "score",
    "value",
    "published",
    "state",
    "given",
    "band",
    "zone",
    "name",
    "kind",
    "origin",
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
_T = TypeVar("_T")
_A = TypeVar("_A", bound=np.generic)


@attrs.frozen
class MissingValue:
    """A needed value that was not in the data and that the rubric's policy filled in.

    ``policy`` is ``"zero"`` (counted as 0) or ``"not_applicable"`` (left out, siblings
    renormalised). ``criterion`` is the highest node for which nothing at all was given
    (a unit with no ``pengaduan`` rows is one missing ``pengaduan``, not one per variable).
    """

    level: str
    institution: str
    unit: str | None
    product: str | None
    criterion: str
    policy: str

    def __str__(self) -> str:
        who = f'institution "{self.institution}"'
        if self.unit is not None:
            who += f' unit "{self.unit}"'
        if self.product is not None:
            who += f' product "{self.product}"'
        return f'{who}: criterion "{self.criterion}"'

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return attrs.asdict(self)


@attrs.frozen
class Provenance:
    """What produced a result: rubric id, version and digest, input digest, versions."""

    rubric_id: str
    rubric_version: str
    rubric_digest: str
    input_digest: str
    kepatuhan_version: str
    plugins: Mapping[str, str | None]
    derived_from_id: str | None = None
    """The parent of a derived rubric (``extends`` / :meth:`Rubric.derive`), else None."""
    derived_from_digest: str | None = None


@attrs.frozen
class ScoreCard:
    """One entity's result: overall score, published form, band, criteria, children.

    ``score`` is unrounded, on the published scale (0–100, or the root's points such as
    0–110), or ``None`` when the entity is not applicable;
    ``published`` the two-decimal string. ``criteria`` maps every computed node to its
    value *in the node's own unit* (points for a node with ``points``, else 0–100).
    """

    level: str
    id: str
    score: float | None
    published: str | None
    state: str
    band: Band | None
    criteria: Mapping[str, float]
    name: str | None = None
    kind: str | None = None
    sector: str | None = None
    weight: float | None = None
    children: tuple[ScoreCard, ...] = ()
    views: Mapping[str, float | None] = attrs.field(factory=dict)
    flags: Mapping[str, bool | None] = attrs.field(factory=dict)
    opinion: str | None = None
    """The band label, with the suffix of every flag that is yes (2025:
    ``Kualitas Sedang Tanpa Maladministrasi``)."""
    missing: tuple[str, ...] = ()
    """Criteria of this entity that were needed, absent, and filled in by the missing
    policy (see :meth:`Scores.missing`)."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``kepatuhan score --format json``)."""
        band = None
        if self.band is not None:
            band = {"id": self.band.id, "label": self.band.label, "zone": self.band.zone}
        out: dict[str, Any] = {"id": self.id}
        if self.name:
            out["name"] = self.name
        if self.kind:
            out["kind"] = self.kind
        if self.sector:
            out["sector"] = self.sector
        out.update(
            score=self.score,
            published=self.published,
            state=self.state,
            band=band,
            criteria=dict(self.criteria),
        )
        if self.weight is not None and self.level != "institution":
            out["weight"] = self.weight
        if self.flags:
            out["flags"] = dict(self.flags)
        if self.opinion is not None:
            out["opinion"] = self.opinion
        if self.missing:
            out["missing"] = list(self.missing)
        if self.views:
            out["views"] = {
                k: {"score": v, "published": None if v is None else publish(v)}
                for k, v in self.views.items()
            }
        if self.level == "institution":
            out["units"] = [c.to_dict() for c in self.children]
        elif self.level == "unit" and self.children:
            out["products"] = [c.to_dict() for c in self.children]
        return out


#: :attr:`ExplainNode.reason` of a needed value that was missing and that the rubric's
#: ``missing = "not_applicable"`` policy left out (listed by :meth:`Scores.missing` too).
MISSING_REASON = "missing"


@attrs.frozen
class ExplainNode:
    """One node of an explanation tree.

    ``score`` is 0–100; ``value`` is in the node's own unit (points out of
    ``maximum``). ``share`` is the node's weight among the siblings that apply (under a
    rule that is not linear, the rule's own ``shares``: which child decides);
    ``effective_weight`` its weight in the explained entity's overall score;
    ``contribution`` = effective weight × score and ``lost`` = effective weight ×
    (100 − score): points of the overall score gained and lost here. ``children`` are
    the criteria below (same entity); ``entities`` the sub-entities a roll-up combines.

    Those two formulas hold only while every rule from the explained score down to the
    node is linear (:attr:`~kepatuhan.aggregators.Aggregator.linear`). ``linear`` says
    whether this node's own rule is: only then do the contributions and lost points shown
    below it add up to its own. Below a rule that is not linear (``minimum``,
    ``penalised_mean``) a node is ``rescored``: its ``lost`` is computed by re-scoring —
    the explained overall score with this node alone at its best (100), everything else as
    it is, minus the actual score — and its ``contribution`` is None. Re-scored lost points
    are what raising that one node would gain; they do not add up (raising two children
    of a minimum gains less than the sum of their gains, or more).
    """

    criterion: str
    label: str
    entity: str
    level: str
    state: str
    given: bool
    score: float | None
    value: float | None
    maximum: float
    share: float
    effective_weight: float
    contribution: float | None
    lost: float
    rule: str | None
    children: tuple[ExplainNode, ...] = ()
    entities: tuple[ExplainNode, ...] = ()
    entity_index: int = -1
    """Index of the entity in its level's list of the table (for tools that edit it)."""
    linear: bool = True
    """Whether this node's rule (for its children or its sub-entities) is linear, so that
    what is shown below it adds up to its contribution and lost points."""
    rescored: bool = False
    """Whether ``lost`` was computed by re-scoring (the node is below a non-linear rule);
    then ``contribution`` is None and ``lost`` does not add up with its siblings'."""
    reason: str | None = None
    """Why a not-applicable node does not apply: the rubric's ``not_applicable_for`` rule
    (``"unit sector kesehatan"``), or ``"missing"`` (:data:`MISSING_REASON`) where the value
    was missing and the rubric's ``missing = "not_applicable"`` policy left it out; None
    otherwise (``na`` given, or computed so)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (``reason`` only where there is one)."""
        d = attrs.asdict(self, recurse=False)
        if d["reason"] is None:
            del d["reason"]
        d["children"] = [c.to_dict() for c in self.children]
        d["entities"] = [c.to_dict() for c in self.entities]
        return d

    def walk(self) -> list[ExplainNode]:
        """This node and every node below it, depth first."""
        out = [self]
        for c in (*self.children, *self.entities):
            out.extend(c.walk())
        return out


@attrs.frozen(eq=False)
class LevelColumns:
    """One level of a result as columns, one entry per entity (:meth:`Scores.columns`).

    ``score`` is the overall score on the published scale (0.0 where ``has_score`` is false),
    ``state`` its :class:`~kepatuhan.states.State` code, ``band`` the index of its band in the
    rubric's scheme (-1 for none), ``published`` its two-decimal string. ``node_value`` is
    ``nodes × entities``: every criterion in its own unit (points, or 0–100), valid where
    ``node_has``. ``parent`` indexes the level above (-1 for institutions).
    """

    level: str
    ids: tuple[str, ...]
    parent: NDArray[np.intp]
    score: FloatArray
    has_score: NDArray[np.bool_]
    state: NDArray[np.int8]
    band: NDArray[np.intp]
    published: tuple[str | None, ...]
    weight: FloatArray
    node_value: FloatArray
    node_has: NDArray[np.bool_]


@attrs.frozen(eq=False)
class _LevelSlice:
    """Entities ``lo``–``hi`` of one level as plain lists, for the JSON builders."""

    ents: tuple[Any, ...]
    scores: list[float]
    has: list[bool]
    band: list[int]
    published: tuple[str | None, ...]
    state: list[str]
    values: list[list[float]]
    present: list[list[bool]]
    weights: list[float]
    missing: dict[int, list[int]]
    flags: list[tuple[Any, list[int] | None]]
    views: list[tuple[str, list[float], list[bool]]]


@attrs.frozen(eq=False)
class Scores:
    """The result of :func:`kepatuhan.score`: every node for every entity at every level.

    Use :meth:`cards` / :meth:`card` for score cards, :meth:`to_dict` for the JSON
    document, :meth:`to_records` for one flat row per entity and node, and
    :meth:`explain` for the contribution tree. ``provenance`` says what produced it.
    """

    rubric: Rubric
    table: ObservationTable
    node_ids: tuple[str, ...]
    node_levels: tuple[int, ...]
    weights: FloatArray
    aggregators: tuple[Aggregator | None, ...]
    level_aggregators: tuple[Aggregator, Aggregator]
    unit_max: FloatArray
    has_points: NDArray[np.bool_]
    _values: tuple[FloatArray, FloatArray, FloatArray]
    _states: tuple[NDArray[np.int8], NDArray[np.int8], NDArray[np.int8]]
    _given: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]
    _from_children: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]
    """Per level, where an entity's node was computed from its own children (not rolled up
    from its sub-entities)."""
    _missing_cells: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]]
    """Per level, the needed cells the missing policy filled in (see :meth:`missing`)."""
    _sub_weights: tuple[FloatArray, FloatArray, FloatArray]
    row_node: NDArray[np.intp]
    row_class: NDArray[np.int8]
    """Each input row's class (``ROW_USED`` … ``ROW_EXCLUDED``)."""
    row_over: NDArray[np.int64]
    """For an overridden row, the given cell above it as ``(level, entity, node)``."""
    views: Mapping[str, tuple[FloatArray, NDArray[np.int8]]]
    flags: Mapping[str, NDArray[np.int8]]
    """Per flag, per entity of its level: 1 yes, 0 no, -1 not given."""
    flag_rows: int
    warnings: tuple[Any, ...]
    provenance: Provenance
    root_index: int = attrs.field(default=-1)
    """Index of the root criterion (looked up once, not through the rubric per call)."""
    na_rule: tuple[NDArray[np.bool_], NDArray[np.bool_], NDArray[np.bool_]] | None = None
    """Per level, the ``node × entity`` cells not applicable by the rubric's
    ``not_applicable_for`` rules (None when it has none)."""
    _cache: dict[Any, Any] = attrs.field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.root_index < 0:
            object.__setattr__(self, "root_index", self.rubric.tree.root_index)

    # -- lookups ---------------------------------------------------------------------------
    @property
    def root(self) -> int:
        """Index of the root criterion."""
        return self.root_index

    def _entities(self, level: int) -> tuple[Any, ...]:
        return (self.table.institutions, self.table.units, self.table.products)[level]

    def _memo(self, key: Any, make: Callable[[], _T]) -> _T:
        """A view computed once per result (a result never changes)."""
        got = self._cache.get(key)
        if got is None:
            got = self._cache[key] = make()
        return cast(_T, got)

    def institution_index(self, institution: str) -> int:
        """Index of an institution id; ``KepatuhanError`` naming the known ids if absent."""
        index = self._memo(
            "institution_index", lambda: {x.id: i for i, x in enumerate(self.table.institutions)}
        )
        got = index.get(institution)
        if got is not None:
            return got
        from .errors import UnknownNameError

        known = ", ".join(i.id for i in self.table.institutions[:10])
        raise UnknownNameError(f'no institution "{institution}" in the data (it has: {known}…)')

    def children(self, level: int, e: int) -> IntArray:
        """Indices of the sub-entities of entity ``e`` of ``level`` (units of an institution,
        products of a unit), in canonical order: one sort for the whole level, no scan."""
        order, offsets = self.children_index(level)
        return order[offsets[e] : offsets[e + 1]]

    def children_index(self, level: int) -> tuple[IntArray, IntArray]:
        """``(order, offsets)``: the sub-entities of entity ``e`` of ``level`` are
        ``order[offsets[e]:offsets[e + 1]]`` (one stable sort for the whole level)."""
        return self._memo(("children", level), lambda: self._child_index(level))

    def _child_index(self, level: int) -> tuple[IntArray, IntArray]:
        par = self.table.unit_institution if level == 0 else self.table.product_unit
        m = len(self._entities(level))
        order = np.argsort(par, kind="stable").astype(np.intp)
        offsets = np.zeros(m + 1, dtype=np.intp)
        np.cumsum(np.bincount(par, minlength=m), out=offsets[1:])
        return order, offsets

    def _unit_index(self, institution: int, unit: str) -> int:
        """Index of ``unit`` within institution number ``institution``; UnknownNameError if none."""
        for k in self.children(0, institution):
            if self.table.units[k].id == unit:
                return int(k)
        from .errors import UnknownNameError

        inst = self.table.institutions[institution].id
        raise UnknownNameError(f'institution "{inst}" has no unit "{unit}" in the data')

    def scores(self, level: str = "institution") -> FloatArray:
        """Overall scores of every entity of ``level`` (0.0 where not scored; see states)."""
        out: FloatArray = self._values[LEVELS.index(level)][self.root].copy()
        return out

    def score_states(self, level: str = "institution") -> NDArray[np.int8]:
        """States of the overall scores of every entity of ``level``."""
        out: NDArray[np.int8] = self._states[LEVELS.index(level)][self.root].copy()
        return out

    def _score(self, level: int, e: int, node: int | None = None) -> float | None:
        n = self.root if node is None else node
        if self.node_levels[n] < level:
            return None
        if has_value(self._states[level][n, e]):
            return float(self._values[level][n, e])
        return None

    # -- the engine's matrices, read-only -----------------------------------------------------
    def _level(self, level: int | str) -> int:
        return LEVELS.index(level) if isinstance(level, str) else level

    def values_at(self, level: int | str) -> FloatArray:
        """Every node's 0–100 value for every entity of ``level`` (``nodes × entities``,
        read-only; 0.0 where the state says there is no value, see :meth:`states_at`)."""
        return _read_only(self._values[self._level(level)])

    def states_at(self, level: int | str) -> NDArray[np.int8]:
        """The :class:`~kepatuhan.states.State` of every node for every entity of ``level``."""
        return _read_only(self._states[self._level(level)])

    def given_at(self, level: int | str) -> NDArray[np.bool_]:
        """Where a value (or ``na``) was given in the data, per node and entity of ``level``."""
        return _read_only(self._given[self._level(level)])

    def from_children_at(self, level: int | str) -> NDArray[np.bool_]:
        """Where an entity's node was computed from its own children (not its sub-entities)."""
        return _read_only(self._from_children[self._level(level)])

    def missing_at(self, level: int | str) -> NDArray[np.bool_]:
        """The needed cells the missing policy filled in (see :meth:`missing`)."""
        return _read_only(self._missing_cells[self._level(level)])

    def entity_weights(self, level: int | str) -> FloatArray:
        """Each entity's weight in its parent's roll-up, as the engine used it (0 = left out;
        under ``weight_by = "products"`` a unit's number of products)."""
        return _read_only(self._sub_weights[self._level(level)])

    @property
    def maximum(self) -> float:
        """The top of the published scale: the root's points, else 100."""
        return float(self.unit_max[self.root])

    def published_value(self, value: float | None) -> float | None:
        """An internal 0–100 score on the published scale (0–110 where the root has 110 points)."""
        # the same arithmetic as the root's own value in `criteria` (one figure everywhere)
        return None if value is None else self._in_unit(self.root, value)

    def band(self, value: float | None) -> Band | None:
        """The band of a published-scale score under the rubric's scheme (``None`` without one)."""
        if value is None or self.rubric.bands is None:
            return None
        return self.rubric.bands.lookup(value)

    def _in_unit(self, n: int, v: float) -> float:
        """A 0–100 node score in the node's own unit: points where it has points."""
        return float(v * self.unit_max[n] / 100.0) if self.has_points[n] else float(v)

    def columns(self, level: str | int = "institution") -> LevelColumns:
        """Every entity of one level as columns: ids, parents, overall scores on the published
        scale, states, band codes, published strings, weights, and every node's value in its
        own unit. Computed once per level with array operations; cards, the JSON and CSV
        writers and the exports read from here."""
        lv = LEVELS.index(level) if isinstance(level, str) else level
        return self._memo(("columns", lv), lambda: self._columns(lv))

    def _columns(self, lv: int) -> LevelColumns:
        ents = self._entities(lv)
        m = len(ents)
        root = self.root
        computed = self.node_levels[root] >= lv
        state = (
            self._states[lv][root].copy() if computed else np.full(m, State.EMPTY, dtype=np.int8)
        )
        has = has_value(state)
        # the root's value in its own unit is the published score (same arithmetic as _in_unit)
        node_value = np.where(
            self.has_points[:, None],
            self._values[lv] * self.unit_max[:, None] / 100.0,
            self._values[lv],
        )
        node_ok = has_value(self._states[lv]) & (np.asarray(self.node_levels)[:, None] >= lv)
        score = np.where(has, node_value[root], 0.0)
        bands = self.rubric.bands
        band = (
            np.where(has, bands.index(score), -1).astype(np.intp)
            if bands is not None
            else np.full(m, -1, dtype=np.intp)
        )
        rounded = round_scores(score).tolist()
        published = tuple(
            f"{r:.{DECIMALS}f}" if ok else None for r, ok in zip(rounded, has.tolist(), strict=True)
        )
        parent = (
            np.full(m, -1, dtype=np.intp)
            if lv == 0
            else (self.table.unit_institution if lv == 1 else self.table.product_unit)
        )
        return LevelColumns(
            level=LEVELS[lv],
            ids=tuple(x.id for x in ents),
            parent=parent,
            score=score,
            has_score=has,
            state=state,
            band=band,
            published=published,
            weight=self._sub_weights[lv],
            node_value=node_value,
            node_has=node_ok,
        )

    def _criteria(self, level: int, e: int) -> dict[str, float]:
        col = self.columns(level)
        return {
            self.node_ids[n]: float(col.node_value[n, e])
            for n in np.flatnonzero(col.node_has[:, e])
        }

    def opinion_suffixes(self, level: int) -> tuple[str, ...]:
        """Per entity of ``level``, the words its flags that are yes add to its opinion after
        the band's label (2025: ``Tanpa Maladministrasi``), ``""`` where none: the suffix
        part of :attr:`ScoreCard.opinion`, for every entity at once (the score table)."""
        n = len(self._entities(level))
        words: list[list[str]] = [[] for _ in range(n)]
        for f in self.rubric.flags:
            if f.suffix and LEVELS.index(f.level) == level and f.id in self.flags:
                for k in np.flatnonzero(self.flags[f.id] == 1).tolist():
                    words[k].append(f.suffix)
        return tuple(" ".join(w) for w in words)

    def _flags(self, level: int, e: int) -> tuple[dict[str, bool | None], list[str]]:
        flags: dict[str, bool | None] = {}
        suffixes = []
        for f in self.rubric.flags:
            if LEVELS.index(f.level) != level:
                continue
            got = int(self.flags[f.id][e]) if f.id in self.flags else -1
            flags[f.id] = None if got < 0 else bool(got)
            if got == 1 and f.suffix:
                suffixes.append(f.suffix)
        return flags, suffixes

    def _card(self, level: int, e: int, with_children: bool = True) -> ScoreCard:
        ent = self._entities(level)[e]
        col = self.columns(level)
        v = float(col.score[e]) if col.has_score[e] else None
        children: tuple[ScoreCard, ...] = ()
        if with_children and level < 2:
            children = tuple(self._card(level + 1, int(k)) for k in self.children(level, e))
        views = {}
        if level == 0:
            for name, (vals, sts) in self.views.items():
                views[name] = self.published_value(float(vals[e])) if has_value(sts[e]) else None
        flags, suffixes = self._flags(level, e)
        b = int(col.band[e])
        band = None if b < 0 or self.rubric.bands is None else self.rubric.bands.bands[b]
        opinion = None if band is None else " ".join([band.label, *suffixes])
        return ScoreCard(
            level=LEVELS[level],
            id=ent.id,
            score=v,
            published=col.published[e],
            state=State(int(col.state[e])).label,
            band=band,
            criteria=self._criteria(level, e),
            name=ent.name,
            kind=getattr(ent, "kind", None),
            sector=getattr(ent, "sector", None),
            weight=float(self._sub_weights[level][e]),
            children=children,
            views=views,
            flags=flags,
            opinion=opinion,
            missing=tuple(self._entity_missing(level, e)),
        )

    def card(self, institution: str) -> ScoreCard:
        """The score card of one institution, with its units (and their products)."""
        return self._card(0, self.institution_index(institution))

    def cards(self) -> list[ScoreCard]:
        """Score cards of every institution, in canonical (id) order. For many institutions
        prefer :meth:`columns` or the streaming writers, which build no object per entity."""
        return [self._card(0, i) for i in range(len(self.table.institutions))]

    # -- the JSON document, streamed ---------------------------------------------------------
    def document_header(self) -> dict[str, Any]:
        """The JSON document of ``score --format json`` without its ``institutions``."""
        p = self.provenance
        return {
            "rubric": {
                "id": p.rubric_id,
                "version": p.rubric_version,
                "digest": p.rubric_digest,
                # only for a derived rubric: the documents of other rubrics keep their bytes
                **(
                    {"derived_from": {"id": p.derived_from_id, "digest": p.derived_from_digest}}
                    if p.derived_from_id is not None
                    else {}
                ),
            },
            "kepatuhan_version": p.kepatuhan_version,
            "plugins": dict(p.plugins),
            "input": {"source": self.table.source, "digest": p.input_digest},
            "accounting": self.accounting(),
            "warnings": [str(w) for w in self.warnings],
        }

    def iter_institution_dicts(self, chunk: int = 2048) -> Iterator[dict[str, Any]]:
        """Each institution's JSON form (equal to ``card.to_dict()``), built from the columns
        ``chunk`` institutions at a time: memory stays flat and no card object is made."""
        return self._by_chunks(self._level_dicts, chunk)

    def _by_chunks(self, build: Callable[..., list[_T]], chunk: int) -> Iterator[_T]:
        """Institutions ``chunk`` at a time, each level built by ``build(level, lo, hi, kids,
        offsets)`` from the one below (entities are in canonical order, so the units of a run
        of institutions, and their products, are contiguous runs too)."""
        n_inst = len(self.table.institutions)
        _, u_off = self.children_index(0)
        _, p_off = self.children_index(1)
        for i0 in range(0, n_inst, chunk):
            i1 = min(n_inst, i0 + chunk)
            u0, u1 = int(u_off[i0]), int(u_off[i1])
            p0, p1 = int(p_off[u0]), int(p_off[u1])
            products = build(2, p0, p1, None, None)
            units = build(1, u0, u1, products, p_off[u0 : u1 + 1] - p0)
            yield from build(0, i0, i1, units, u_off[i0 : i1 + 1] - u0)

    def _slice(self, lv: int, lo: int, hi: int) -> _LevelSlice:
        """What both JSON builders read of entities ``lo``–``hi`` of one level, as lists."""
        col = self.columns(lv)
        missing: dict[int, list[int]] = {}
        for n, e in zip(*np.nonzero(self._missing_cells[lv][:, lo:hi]), strict=True):
            missing.setdefault(int(e), []).append(int(n))
        return _LevelSlice(
            ents=self._entities(lv)[lo:hi],
            scores=col.score[lo:hi].tolist(),
            has=col.has_score[lo:hi].tolist(),
            band=col.band[lo:hi].tolist(),
            published=col.published[lo:hi],
            state=[STATE_NAMES[x] for x in col.state[lo:hi].tolist()],
            values=col.node_value[:, lo:hi].T.tolist(),
            present=col.node_has[:, lo:hi].T.tolist(),
            weights=self._sub_weights[lv][lo:hi].tolist(),
            missing=missing,
            flags=[
                (f, self.flags[f.id][lo:hi].tolist() if f.id in self.flags else None)
                for f in self.rubric.flags
                if LEVELS.index(f.level) == lv
            ],
            views=[
                (name, vals[lo:hi].tolist(), has_value(sts[lo:hi]).tolist())
                for name, (vals, sts) in self.views.items()
            ]
            if lv == 0
            else [],
        )

    def _level_dicts(
        self,
        lv: int,
        lo: int,
        hi: int,
        kids: list[dict[str, Any]] | None,
        offsets: IntArray | None,
    ) -> list[dict[str, Any]]:
        """The JSON dicts of entities ``lo``–``hi`` of one level (children already built;
        entities are in canonical order, so each one's children are a contiguous run)."""
        if hi <= lo:
            return []
        sl = self._slice(lv, lo, hi)
        ids = self.node_ids
        bands = self.rubric.bands
        band_dicts = (
            [{"id": b.id, "label": b.label, "zone": b.zone} for b in bands.bands]
            if bands is not None
            else []
        )
        band_labels = [b.label for b in bands.bands] if bands is not None else []
        scores, has, band, state = sl.scores, sl.has, sl.band, sl.state
        values, present, weights = sl.values, sl.present, sl.weights
        missing = {e: [ids[n] for n in ns] for e, ns in sl.missing.items()}
        flag_vals, views = sl.flags, sl.views
        out: list[dict[str, Any]] = []
        for k, ent in enumerate(sl.ents):
            d: dict[str, Any] = {"id": ent.id}
            if ent.name:
                d["name"] = ent.name
            kind = getattr(ent, "kind", None)
            if kind:
                d["kind"] = kind
            sector = getattr(ent, "sector", None)
            if sector:
                d["sector"] = sector
            b = band[k]
            d["score"] = scores[k] if has[k] else None
            d["published"] = sl.published[k]
            d["state"] = state[k]
            d["band"] = dict(band_dicts[b]) if b >= 0 and band_dicts else None
            d["criteria"] = {
                c: v for c, v, ok in zip(ids, values[k], present[k], strict=True) if ok
            }
            if lv != 0:
                d["weight"] = weights[k]
            suffixes = []
            if flag_vals:
                flags: dict[str, bool | None] = {}
                for f, vals in flag_vals:
                    got = -1 if vals is None else vals[k]
                    flags[f.id] = None if got < 0 else bool(got)
                    if got == 1 and f.suffix:
                        suffixes.append(f.suffix)
                d["flags"] = flags
            if b >= 0 and band_labels:
                d["opinion"] = " ".join([band_labels[b], *suffixes])
            if k in missing:
                d["missing"] = missing[k]
            if views:
                d["views"] = {}
                for name, view_vals, ok in views:
                    v = self.published_value(view_vals[k]) if ok[k] else None
                    d["views"][name] = {
                        "score": v,
                        "published": None if v is None else publish(v),
                    }
            if kids is not None and offsets is not None:
                mine = kids[int(offsets[k]) : int(offsets[k + 1])]
                if lv == 0:
                    d["units"] = mine
                elif mine:
                    d["products"] = mine
            out.append(d)
        return out

    def iter_institution_json(self, chunk: int = 2048) -> Iterator[str]:
        """Each institution's compact JSON text — the same document as
        ``json.dumps(card.to_dict(), separators=(",", ":"), ensure_ascii=False)`` — written
        straight from the columns, without a dict per entity (the writers use this)."""
        return self._by_chunks(self._level_json, chunk)

    def _level_json(
        self,
        lv: int,
        lo: int,
        hi: int,
        kids: list[str] | None,
        offsets: IntArray | None,
    ) -> list[str]:
        """:meth:`_level_dicts` as JSON text, key for key (the tests hold the two equal)."""
        if hi <= lo:
            return []
        q = _json_str
        sl = self._slice(lv, lo, hi)
        keys = [q(c) + ":" for c in self.node_ids]
        bands = self.rubric.bands.bands if self.rubric.bands is not None else ()
        band_text = [
            '{"id":' + q(b.id) + ',"label":' + q(b.label) + ',"zone":' + _json_opt(b.zone) + "}"
            for b in bands
        ]
        scores, has, band, values, present = sl.scores, sl.has, sl.band, sl.values, sl.present
        state = [q(x) for x in sl.state]
        missing = {e: [q(self.node_ids[n]) for n in ns] for e, ns in sl.missing.items()}
        flag_vals, views, weights = sl.flags, sl.views, sl.weights
        out: list[str] = []
        for k, ent in enumerate(sl.ents):
            parts = ['{"id":' + q(ent.id)]
            if ent.name:
                parts.append('"name":' + q(ent.name))
            kind = getattr(ent, "kind", None)
            if kind:
                parts.append('"kind":' + q(kind))
            sector = getattr(ent, "sector", None)
            if sector:
                parts.append('"sector":' + q(sector))
            b = band[k]
            pub = sl.published[k]
            parts.append('"score":' + (repr(scores[k]) if has[k] else "null"))
            parts.append('"published":' + ("null" if pub is None else q(pub)))
            parts.append('"state":' + state[k])
            parts.append('"band":' + (band_text[b] if b >= 0 and band_text else "null"))
            crit = ",".join(
                key + repr(v) for key, v, ok in zip(keys, values[k], present[k], strict=True) if ok
            )
            parts.append('"criteria":{' + crit + "}")
            if lv != 0:
                parts.append('"weight":' + repr(weights[k]))
            suffixes = []
            if flag_vals:
                flags = []
                for f, vals in flag_vals:
                    got = -1 if vals is None else vals[k]
                    flags.append(
                        q(f.id) + ":" + ("null" if got < 0 else "true" if got else "false")
                    )
                    if got == 1 and f.suffix:
                        suffixes.append(f.suffix)
                parts.append('"flags":{' + ",".join(flags) + "}")
            if b >= 0 and bands:
                parts.append('"opinion":' + q(" ".join([bands[b].label, *suffixes])))
            if k in missing:
                parts.append('"missing":[' + ",".join(missing[k]) + "]")
            if views:
                vs = []
                for name, view_vals, ok in views:
                    v = self.published_value(view_vals[k]) if ok[k] else None
                    vs.append(
                        q(name)
                        + ':{"score":'
                        + ("null" if v is None else repr(v))
                        + ',"published":'
                        + ("null" if v is None else q(publish(v)))
                        + "}"
                    )
                parts.append('"views":{' + ",".join(vs) + "}")
            if kids is not None and offsets is not None:
                mine = kids[int(offsets[k]) : int(offsets[k + 1])]
                if lv == 0:
                    parts.append('"units":[' + ",".join(mine) + "]")
                elif mine:
                    parts.append('"products":[' + ",".join(mine) + "]")
            out.append(",".join(parts) + "}")
        return out

    # -- accounting ------------------------------------------------------------------------
    def missing_count(self) -> int:
        """How many needed values the missing policy filled in (no object per value)."""
        return int(sum(int(m.sum()) for m in self._missing_cells))

    def missing(self, limit: int | None = None) -> tuple[MissingValue, ...]:
        """Every needed value that was absent and filled in by the rubric's missing policy
        (the first ``limit`` only, when given: a national file may miss millions).

        One entry per entity and criterion, institutions first, in entity then tree order.
        Empty when nothing was missing; under ``missing = "error"`` scoring refuses instead.
        """
        out: list[MissingValue] = []
        policy = self.rubric.missing
        for level in range(3):
            ents = self._entities(level)
            nodes, cols = np.nonzero(self._missing_cells[level])
            order = np.lexsort((nodes, cols))
            for k in order:
                if limit is not None and len(out) >= limit:
                    return tuple(out)
                ent = ents[int(cols[k])]
                out.append(
                    MissingValue(
                        level=LEVELS[level],
                        institution=ent.id if level == 0 else ent.institution,
                        unit=None if level == 0 else (ent.id if level == 1 else ent.unit),
                        product=ent.id if level == 2 else None,
                        criterion=self.node_ids[int(nodes[k])],
                        policy=policy,
                    )
                )
        return tuple(out)

    def _entity_missing(self, level: int, e: int) -> list[str]:
        return [self.node_ids[int(n)] for n in np.flatnonzero(self._missing_cells[level][:, e])]

    def _row_line(self, r: int) -> int:
        return int(self.table.line[r]) or r + 1

    def overridden_by(self, row: int) -> str | None:
        """For an overridden input row (index into ``table``), the given cell above it."""
        lv, e, n = (int(x) for x in self.row_over[row])
        if lv < 0:
            return None
        return f'{self.table.entity_label(lv, e)} criterion "{self.node_ids[n]}"'

    def ruled_rows(self) -> NDArray[np.intp]:
        """The input rows (indices into ``table``) excluded because their criterion does not
        apply to their entity by the rubric's ``not_applicable_for`` rule."""
        return self._memo("ruled_rows", self._ruled_rows)

    def _ruled_rows(self) -> NDArray[np.intp]:
        if self.na_rule is None:
            return np.zeros(0, dtype=np.intp)
        hit = ruled_rows(self.table, self.row_node, self.na_rule)
        return np.flatnonzero(hit & (self.row_class == ROW_EXCLUDED))

    def excluded_by(self, row: int) -> str | None:
        """For an excluded input row (index into ``table``), why: the rubric's
        ``not_applicable_for`` rule (``not applicable: unit sector kesehatan``), or its unit
        not selected by the rubric's plugin. None for a row of another class."""
        if self.row_class[row] != ROW_EXCLUDED:
            return None
        lv, e, n = int(self.table.level[row]), int(self.table.entity[row]), int(self.row_node[row])
        if self.na_rule is not None and self.na_rule[lv][n, e]:
            why = not_applicable_reason(self.rubric, self.table, lv, e, n)
            return f'criterion "{self.node_ids[n]}" not applicable ({why})'
        return "unit not selected by the rubric's plugin"

    def accounting(self, listed: int = 1000) -> dict[str, Any]:
        """Every input row in exactly one class, and every value the missing policy filled in.

        ``used`` (needed by a score; flag rows included), ``overridden`` (below a value given
        above it: ``overridden_rows`` names that value), ``empty`` (an empty cell: no value
        at all), ``excluded`` (its unit is not selected by the rubric's plugin, or its criterion
        is not applicable to its entity by the rubric's ``not_applicable_for`` rule:
        ``excluded_rows`` says why, ``excluded_by_rule`` counts the latter) and
        ``refused`` (always 0: a row that cannot be used is an error for the whole file).
        ``used + overridden + empty + excluded + refused == rows``. ``missing`` counts the
        needed values the policy filled in (:meth:`missing`). At most ``listed`` lines are
        listed per class.
        """
        counts = np.bincount(self.row_class, minlength=len(ROW_CLASSES))
        over = np.flatnonzero(self.row_class == ROW_OVERRIDDEN)
        empty = np.flatnonzero(self.row_class == ROW_EMPTY)
        excl = np.flatnonzero(self.row_class == ROW_EXCLUDED)
        return {
            "rows": len(self.table) + self.flag_rows,
            "used": int(counts[ROW_USED]) + self.flag_rows,
            "flags": self.flag_rows,
            "overridden": int(counts[ROW_OVERRIDDEN]),
            "empty": int(counts[ROW_EMPTY]),
            "excluded": int(counts[ROW_EXCLUDED]),
            "excluded_by_rule": len(self.ruled_rows()),
            "refused": 0,
            "missing": int(sum(int(m.sum()) for m in self._missing_cells)),
            "missing_policy": self.rubric.missing,
            "overridden_lines": [self._row_line(int(r)) for r in over[:listed]],
            "overridden_rows": [
                {"line": self._row_line(int(r)), "by": self.overridden_by(int(r))}
                for r in over[:listed]
            ],
            "empty_lines": [self._row_line(int(r)) for r in empty[:listed]],
            "excluded_lines": [self._row_line(int(r)) for r in excl[:listed]],
            "excluded_rows": [
                {"line": self._row_line(int(r)), "by": self.excluded_by(int(r))}
                for r in excl[:listed]
            ],
        }

    # -- export ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``kepatuhan score --format json``, built from every score card
        (the reference the streamed writer is tested against)."""
        return {**self.document_header(), "institutions": [c.to_dict() for c in self.cards()]}

    def record_columns(self) -> dict[str, list[Any]]:
        """One row per entity and computed node, as columns (:data:`RECORD_COLUMNS`).

        ``score`` is the node's 0–100 score, ``value`` the same in the node's own unit
        (points where it has points) and ``published`` that value's two-decimal string;
        ``given`` says whether the value was in the data (else computed); ``band`` and
        ``zone`` are filled on the root criterion's rows; ``name`` and ``kind`` (an
        institution's kind, a unit's sector) name the entity; ``origin`` says where the
        value comes from: ``given`` (in the data), ``computed`` (from the node's children or
        the entity's sub-entities), ``not_applicable`` (not given, and not applicable: by a
        ``not_applicable_for`` rule, or because nothing below it applies) or ``missing``
        (needed, absent, and filled in by the rubric's missing policy). Built with array
        operations; the CSV, JSON Lines and Parquet exports, ``to_records`` and
        ``to_dataframe`` read these columns.
        """
        cols: dict[str, list[Any]] = {k: [] for k in RECORD_COLUMNS}
        bands = self.rubric.bands.bands if self.rubric.bands is not None else ()
        levels = np.asarray(self.node_levels)
        for lv in range(3):
            ents = self._entities(lv)
            if not ents:
                continue
            col = self.columns(lv)
            states = self._states[lv]
            nodes, es = np.nonzero((states != State.EMPTY) & (levels[:, None] >= lv))
            ok = has_value(states[nodes, es])
            value = col.node_value[nodes, es]
            rounded = round_scores(value).tolist()
            e_list = es.tolist()
            n_list = nodes.tolist()
            inst = [x.id if lv == 0 else x.institution for x in ents]
            unit = [None if lv == 0 else (x.id if lv == 1 else x.unit) for x in ents]
            prod = [x.id if lv == 2 else None for x in ents]
            names = [x.name for x in ents]
            kinds = [getattr(x, "kind", None) or getattr(x, "sector", None) for x in ents]
            band = col.band.tolist()
            root = self.root
            cols["level"].extend([LEVELS[lv]] * len(e_list))
            cols["institution"].extend(inst[e] for e in e_list)
            cols["unit"].extend(unit[e] for e in e_list)
            cols["product"].extend(prod[e] for e in e_list)
            cols["criterion"].extend(self.node_ids[n] for n in n_list)
            cols["score"].extend(
                v if k else None
                for v, k in zip(self._values[lv][nodes, es].tolist(), ok.tolist(), strict=True)
            )
            cols["value"].extend(
                v if k else None for v, k in zip(value.tolist(), ok.tolist(), strict=True)
            )
            cols["published"].extend(
                f"{r:.{DECIMALS}f}" if k else None
                for r, k in zip(rounded, ok.tolist(), strict=True)
            )
            cols["state"].extend(STATE_NAMES[x] for x in states[nodes, es].tolist())
            given = self._given[lv][nodes, es]
            cols["given"].extend(given.tolist())
            missing_here = self._missing_cells[lv][nodes, es]
            not_applicable = states[nodes, es] == State.NA
            origin = np.where(
                given,
                "given",
                np.where(
                    missing_here,
                    "missing",
                    np.where(not_applicable, "not_applicable", "computed"),
                ),
            )
            cols["origin"].extend(origin.tolist())
            root_band = [
                bands[band[e]] if n == root and band[e] >= 0 and bands else None
                for n, e in zip(n_list, e_list, strict=True)
            ]
            cols["band"].extend(b.id if b else None for b in root_band)
            cols["zone"].extend(b.zone if b else None for b in root_band)
            cols["name"].extend(names[e] for e in e_list)
            cols["kind"].extend(kinds[e] for e in e_list)
        return cols

    def to_records(self) -> list[dict[str, Any]]:
        """One flat row per entity and computed node (see :meth:`record_columns`)."""
        cols = self.record_columns()
        return [dict(zip(cols, row, strict=True)) for row in zip(*cols.values(), strict=True)]

    def metadata(self) -> dict[str, str]:
        """Provenance as flat strings, for file metadata."""
        p = self.provenance
        return {
            "rubric_id": p.rubric_id,
            "rubric_version": p.rubric_version,
            "rubric_digest": p.rubric_digest,
            "input_digest": p.input_digest,
            "kepatuhan_version": p.kepatuhan_version,
        }

    def to_dataframe(self) -> Any:
        """The records as a pandas DataFrame (the ``pandas`` extra); provenance in ``.attrs``."""
        try:
            import pandas as pd
        except ImportError:
            from .errors import KepatuhanError, Problem

            raise KepatuhanError(
                Problem("to_dataframe needs pandas: pip install kepatuhan[pandas]")
            ) from None
        df = pd.DataFrame(self.record_columns())
        df.attrs.update(self.metadata())
        return df

    def write(self, path: str | Path) -> Path:
        """Write the result to ``path``: ``.json`` (the ``score --format json`` document),
        ``.csv`` (one row per entity and computed node, with the rubric id, version and
        digest, the input digest and the kepatuhan version on every row), ``.jsonl`` (the
        same rows as JSON Lines, numbers as numbers) or ``.parquet`` (the same rows, the
        provenance in the file's key-value metadata; ``pandas`` extra)."""
        import csv

        p = Path(path)
        if p.suffix.lower() == ".json":
            from .io.result_json import write_result_json

            with open(p, "w", encoding="utf-8") as f:
                write_result_json(f, self.document_header(), self.iter_institution_json())
            return p
        if p.suffix.lower() == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(self.to_dataframe(), preserve_index=False)
            meta_bytes = {f"kepatuhan.{k}".encode(): v.encode() for k, v in self.metadata().items()}
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta_bytes})
            pq.write_table(table, p)
            return p
        if p.suffix.lower() == ".jsonl":
            from .io.result_json import write_records_jsonl

            with open(p, "w", encoding="utf-8") as f:
                write_records_jsonl(f, self.record_columns(), self.metadata())
            return p
        if p.suffix.lower() != ".csv":
            from .errors import InputFileError, Problem

            raise InputFileError(
                Problem("expected a .csv, .json, .jsonl or .parquet output file", path=str(p))
            )
        meta = self.metadata()
        cols = self.record_columns()
        extra = list(meta.values())
        with open(p, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([*cols, *meta])
            w.writerows(
                ["" if c is None else c for c in (*row, *extra)]
                for row in zip(*cols.values(), strict=True)
            )
        return p

    def strengths(
        self, institution: str, unit: str | None = None, top: int = 3
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The criteria where an entity is furthest above and below its peers.

        Peers are the other entities of the same level (every institution, or every unit)
        that have a value for the criterion; the difference is in points of the 0–100
        criterion score. Returns ``(strengths, weaknesses)``, each ``[(criterion, diff)]``
        with the largest differences first.
        """
        i = self.institution_index(institution)
        level, e = (0, i) if unit is None else (1, self._unit_index(i, unit))
        V, S = self._values[level], self._states[level]
        has = has_value(S)
        diffs: list[tuple[str, float]] = []
        for n, cid in enumerate(self.node_ids):
            if n == self.root or self.node_levels[n] < level or not has[n, e]:
                continue
            peers = has[n].copy()
            peers[e] = False
            if not peers.any():
                continue
            diffs.append((cid, float(V[n, e] - V[n][peers].mean())))
        ups = sorted((d for d in diffs if d[1] > 0), key=lambda d: -d[1])[:top]
        downs = sorted((d for d in diffs if d[1] < 0), key=lambda d: d[1])[:top]
        return ups, downs

    # -- explanation ---------------------------------------------------------------------
    def explain(
        self, institution: str, unit: str | None = None, product: str | None = None
    ) -> ExplainNode:
        """The contribution tree of an entity's overall score, down to the indicators."""
        i = self.institution_index(institution)
        level, e = 0, i
        if unit is not None:
            level, e = 1, self._unit_index(i, unit)
            if product is not None:
                ps = [
                    k
                    for k, p in enumerate(self.table.products)
                    if p.id == product and self.table.product_unit[k] == e
                ]
                if not ps:
                    from .errors import UnknownNameError

                    raise UnknownNameError(f'unit "{unit}" has no product "{product}" in the data')
                level, e = 2, ps[0]
        return self._explain(level, e, self.root, 1.0, 1.0, _identity, False)

    def _explain(
        self,
        level: int,
        e: int,
        n: int,
        share: float,
        eff: float,
        up: Callable[[float], float],
        rescored: bool,
    ) -> ExplainNode:
        """One node of the tree. ``up`` maps this node's 0–100 value to the explained
        overall score (re-scoring every rule on the way up, with the engine's own values and
        weights); ``rescored`` is true below a non-linear rule, where ``up`` gives ``lost``."""
        crit = self.rubric.tree.nodes[n]
        st = int(self._states[level][n, e])
        v = self._score(level, e, n)
        given = bool(self._given[level][n, e])
        children: list[ExplainNode] = []
        entities: list[ExplainNode] = []
        linear = True
        if not given and st in (SCORED, ZERO, NA):
            if self._from_children[level][n, e] and self.rubric.tree.children[n]:
                kids = self.rubric.tree.children[n]
                agg = self.aggregators[n]
                assert agg is not None
                linear = agg.linear
                inc = [k for k in kids if has_value(self._states[level][k, e])]
                vals = [float(self._values[level][k, e]) for k in inc]
                ws = [float(self.weights[k]) for k in inc]
                shares = dict(zip(inc, agg.shares(vals, ws), strict=True)) if inc else {}
                below = rescored or not linear
                pos = {k: j for j, k in enumerate(inc)}  # a dict: no scan per child
                for k in kids:
                    sh = shares.get(k, 0.0)
                    k_up = _rescorer(agg, up, vals, ws, pos[k]) if k in pos else up
                    children.append(self._explain(level, e, k, sh, eff * sh, k_up, below))
            elif self.node_levels[n] > level:
                subs = self.children(level, e)
                # the engine's own weights for this roll-up (the same for every node)
                w = self._sub_weights[level + 1]
                inc = [
                    int(s) for s in subs if has_value(self._states[level + 1][n, s]) and w[s] > 0
                ]
                vals = [float(self._values[level + 1][n, s]) for s in inc]
                lagg = self.level_aggregators[level]
                linear = lagg.linear
                ws = [float(w[s]) for s in inc]
                got = dict(zip(inc, lagg.shares(vals, ws), strict=True)) if inc else {}
                below = rescored or not linear
                where = {s: j for j, s in enumerate(inc)}
                for s in subs:
                    sh = got.get(int(s), 0.0)
                    j = where.get(int(s))
                    s_up = up if j is None else _rescorer(lagg, up, vals, ws, j)
                    entities.append(self._explain(level + 1, int(s), n, sh, eff * sh, s_up, below))
        score = v
        value = None if v is None else self._in_unit(n, v)
        if v is None:
            contribution: float | None = None if rescored else 0.0
            lost = 0.0
        elif rescored:
            # what raising this node alone to its best gains, by re-scoring (not clipped:
            # a monotone rule never gives less, and a rule that does should show it)
            contribution, lost = None, up(100.0) - up(v)
        else:
            contribution, lost = eff * v, eff * (100.0 - v)
        reason = None
        if st == NA and self.na_rule is not None and self.na_rule[level][n, e]:
            reason = not_applicable_reason(self.rubric, self.table, level, e, n)
        elif st == NA and self._missing_cells[level][n, e]:
            reason = MISSING_REASON  # left out by missing = "not_applicable", not by a rule
        return ExplainNode(
            criterion=crit.id,
            label=crit.label.id,
            entity=self.table.entity_label(level, e),
            level=LEVELS[level],
            state="given" if given and st == SCORED else STATE_NAMES[st],
            given=given,
            score=score,
            value=value,
            maximum=float(self.unit_max[n]),
            share=share,
            effective_weight=eff,
            contribution=contribution,
            lost=lost,
            rule=self._rule_name(n, level),
            children=tuple(children),
            entities=tuple(entities),
            entity_index=e,
            linear=linear,
            rescored=rescored,
            reason=reason,
        )

    def rule_at(self, level: int | str, e: int, node: int) -> Aggregator | None:
        """The configured aggregator that computed ``node`` for entity ``e`` of ``level``.

        The criterion's ``rule`` where the entity computed the node from its own children,
        the level's ``combine`` where it was rolled up from sub-entities, None where the
        value was given, is an indicator's, or is absent. Analyses check its
        :attr:`~kepatuhan.aggregators.Aggregator.linear` before any linear shortcut (a
        child's effect as weight × change); under a rule that is not linear they re-score.
        """
        lv = self._level(level)
        if self._given[lv][node, e] or not has_value(self._states[lv][node, e]):
            return None
        if self._from_children[lv][node, e] and self.rubric.tree.children[node]:
            return self.aggregators[node]
        if self.node_levels[node] > lv:
            return self.level_aggregators[lv]
        return None

    def _rule_name(self, n: int, level: int) -> str | None:
        if self.node_levels[n] == level:
            agg = self.aggregators[n]
            return None if agg is None else agg.name
        return self.level_aggregators[level].name if level < 2 else None


def _identity(x: float) -> float:
    return x


def _rescorer(
    agg: Aggregator,
    up: Callable[[float], float],
    values: list[float],
    weights: list[float],
    i: int,
) -> Callable[[float], float]:
    """The explained score as a function of child ``i``'s 0–100 value, the others kept:
    the rule's plain ``reduce_one`` (bit-equal to the engine's ``reduce``) then ``up``."""

    def rescore(x: float) -> float:
        vals = [*values[:i], x, *values[i + 1 :]]
        out = float(agg.reduce_one(vals, weights))
        # an additive node's children past its maximum would be refused; at most 100 %
        return up(min(100.0, max(0.0, out)))

    return rescore


def _read_only(a: NDArray[_A]) -> NDArray[_A]:
    """A view of ``a`` that cannot be written through (a result never changes)."""
    v: NDArray[_A] = a.view()
    v.flags.writeable = False
    return v


def _json_str(text: str) -> str:
    """A JSON string as ``json.dumps(..., ensure_ascii=False)`` writes it (C encoder)."""
    return _encode_basestring(text)


def _json_opt(text: str | None) -> str:
    return "null" if text is None else _json_str(text)
