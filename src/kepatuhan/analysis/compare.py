"""Comparing rubrics: what differs between two of them, and what it does to each entity.

Three pure parts, each over values (never a file):

- :func:`diff_rubrics` — a :class:`RubricDiff` of two rubrics: criteria added or removed
  (a whole subtree is one change naming every criterion in it), criteria that keep their id
  but change weight, points, rule, scale, level, label or place in the tree, the share of the
  score each criterion carries, the bands (edges, labels, zones), the roll-up rules and the
  missing-value policy. Every :class:`Change` says itself as a finished sentence.
- :func:`compare_scores` — one :class:`EntityComparison` per institution (and unit) of
  results scored from the same data: each rubric's score, band, zone and rank, and the change
  from the first rubric (score difference from the unrounded scores, band, zone and rank).
- :class:`Crosswalk` and :func:`apply_crosswalk` — map the criterion ids of an observation
  table from one edition to another, so data collected under one can be scored under
  another. Nothing is dropped: an id the crosswalk does not map keeps its id only if the
  target rubric knows it, and two rows of one entity mapped onto one criterion are refused.

A rubric is identified by its id *and* its digest (:func:`series_labels`): an official
edition and a draft derived from it may share an id, never a digest.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np

from ..applicability import ATTRIBUTE_WORDS, attribute_key
from ..bands import Band
from ..errors import (
    InputFileError,
    KepatuhanError,
    ObservationError,
    Problem,
    id_key,
    suggest,
)
from ..observations import ObservationTable
from ..results import Scores
from ..rounding import publish
from ..rubric import TOTAL, Criterion, Rubric
from .rank import tie_ranks

__all__ = [
    "LEAF_RULE",
    "Change",
    "Crosswalk",
    "CrosswalkUse",
    "EntityComparison",
    "RubricDiff",
    "RubricScores",
    "apply_crosswalk",
    "compare_scores",
    "crosswalk_from_rows",
    "diff_rubrics",
    "points_reread_rows",
    "points_rereads",
    "read_crosswalk",
    "scale_text",
    "series_labels",
    "written",
]

#: How a change says the rule of a criterion that has no children (an indicator).
LEAF_RULE = "none (an indicator)"

#: What a :class:`Change` is about.
SECTIONS = ("criterion", "band", "bands", "levels", "rubric")

# The words a sentence uses for a field of a criterion or a band.
_FIELD_WORDS = {
    "weight": "weight",
    "points": "points",
    "rule": "rule combining its children",
    "scale": "scale",
    "level": "level it is observed at",
    "label": "label",
    "label_en": "English label",
    "parent": "parent",
    "share": "share of the score",
    "na_allowed": "not-applicable permission",
    "not_applicable_for": "rule where it does not apply",
    "min": "lower edge",
    "max": "upper edge",
    "zone": "zone",
    "name": "name",
    "maximum": "maximum",
}


@attrs.frozen
class Change:
    """One difference between two rubrics, as data and as a sentence.

    ``section`` is ``criterion``, ``band``, ``bands`` (the scheme as a whole), ``levels`` (a
    roll-up rule) or ``rubric`` (the missing-value policy, the flags); ``kind`` is ``added``,
    ``removed`` or ``changed``; ``subject`` is the criterion or band id (or the level name);
    ``field`` what changed (``None`` for an addition or a removal); ``before`` and ``after``
    the two values as text (``None`` where there is none). ``ids`` lists every criterion of an
    added or removed subtree, its top first.
    """

    section: str
    kind: str
    subject: str
    field: str | None = None
    before: str | None = None
    after: str | None = None
    ids: tuple[str, ...] = ()

    @property
    def sentence(self) -> str:
        """The change as one finished sentence (capitalised, ending with a full stop)."""
        what = {
            "criterion": f'criterion "{self.subject}"',
            "band": f'band "{self.subject}"',
            "bands": "the band scheme",
            "levels": f"the {self.subject} roll-up",
            "rubric": f"the {self.subject}",
        }[self.section]
        below = len(self.ids) - 1
        tail = (
            ""
            if below <= 0
            else f", with the {below} {'criterion' if below == 1 else 'criteria'} below it"
        )
        if self.kind == "added":
            text = f"{what} is added ({self.after}){tail}."
        elif self.kind == "removed":
            text = f"{what} is removed (it was {self.before}){tail}."
        elif self.section in ("levels", "rubric"):
            verb = "change" if self.subject.endswith("s") else "changes"
            text = f"{what} {verb} from {self.before} to {self.after}."
        else:
            word = _FIELD_WORDS.get(self.field or "", self.field or "value")
            verb = "change" if word.endswith("points") else "changes"
            text = f"{what}: the {word} {verb} from {self.before} to {self.after}."
        return text[0].upper() + text[1:]

    def to_dict(self) -> dict[str, object]:
        """Plain data for JSON, with the sentence."""
        return attrs.asdict(self) | {"ids": list(self.ids), "sentence": self.sentence}


@attrs.frozen
class RubricDiff:
    """Every :class:`Change` from rubric ``a`` to rubric ``b`` (ids and digests kept)."""

    a_id: str
    a_digest: str
    b_id: str
    b_digest: str
    changes: tuple[Change, ...]

    @property
    def same(self) -> bool:
        """Whether the two rubrics are the same content (their digests are equal)."""
        return self.a_digest == self.b_digest

    @property
    def added(self) -> tuple[str, ...]:
        """Every criterion id of ``b`` that ``a`` does not have."""
        return tuple(
            i for c in self.changes if c.section == "criterion" and c.kind == "added" for i in c.ids
        )

    @property
    def removed(self) -> tuple[str, ...]:
        """Every criterion id of ``a`` that ``b`` does not have."""
        return tuple(
            i
            for c in self.changes
            if c.section == "criterion" and c.kind == "removed"
            for i in c.ids
        )

    def sentences(self) -> list[str]:
        """Every change as a finished sentence, in order."""
        return [c.sentence for c in self.changes]


def _num(d: Decimal | None) -> str | None:
    """An exact decimal as written by hand (``21.85``, ``1``), or None."""
    if d is None:
        return None
    return "0" if d == 0 else format(d.normalize(), "f")


def written(d: Decimal | None) -> str | None:
    """An exact decimal as a rubric writes it (``21.85``, ``1``), or None."""
    return _num(d)


def scale_text(c: Criterion) -> str | None:
    """A criterion's scale as a rubric names it (``points (max = 30)``), or None."""
    return _scale_text(c)


def _scale_text(c: Criterion) -> str | None:
    if c.scale is None:
        return None
    params = ", ".join(
        f"{k} = {_num(v) if isinstance(v, Decimal) else v}" for k, v in c.scale.params
    )
    return f"{c.scale.name} ({params})" if params else c.scale.name


def _rule_text(r: Rubric, c: Criterion) -> str:
    return LEAF_RULE if r.tree.is_leaf(r.tree.index[c.id]) else str(c.rule)


def _shares(r: Rubric) -> dict[str, Decimal | None]:
    """Each criterion's share of the score (0–1), where the rules above it make it fixed:
    every ancestor combines by ``weighted_mean``/``mean`` (weights) or ``sum`` (points);
    ``None`` below any other rule (``minimum``, ``add``: no fixed share)."""
    t = r.tree
    out: dict[str, Decimal | None] = {}
    for i in reversed(t.order):  # pre-order: a parent before its children
        node = t.nodes[i]
        p = t.parent[i]
        if p < 0:
            out[node.id] = Decimal(1)
            continue
        parent = t.nodes[p]
        up = out[parent.id]
        kids = [t.nodes[k] for k in t.children[p]]
        if up is None or parent.rule.name not in ("weighted_mean", "mean", "sum"):
            out[node.id] = None
            continue
        if parent.rule.name == "mean":
            w, total = Decimal(1), Decimal(len(kids))
        elif parent.rule.name == "sum":
            w = node.points or Decimal(0)
            total = sum((k.points or Decimal(0) for k in kids), Decimal(0))
        else:
            w = node.effective_weight
            total = sum((k.effective_weight for k in kids), Decimal(0))
        out[node.id] = up * w / total if total else None
    return out


def _share_differs(x: Decimal | None, y: Decimal | None) -> bool:
    """Whether two shares differ beyond decimal arithmetic's last digits (scaling all sibling
    weights by one factor leaves every share as it was, to 28 digits, not always to the bit)."""
    if x is None or y is None:
        return x is not y
    return abs(x - y) > Decimal("1e-20")


def _share_text(s: Decimal | None) -> str:
    return "not fixed (a non-linear rule above it)" if s is None else f"{publish(float(s) * 100)} %"


def _subtree(r: Rubric, cid: str, other: Mapping[str, int]) -> tuple[str, ...]:
    """``cid`` and every criterion below it that ``other`` lacks, in pre-order (the walk stops
    at a criterion ``other`` has: that one moved, and is reported on its own)."""
    t = r.tree
    out: list[str] = []
    stack = [t.index[cid]]
    while stack:
        i = stack.pop()
        out.append(t.nodes[i].id)
        stack.extend(k for k in reversed(t.children[i]) if t.nodes[k].id not in other)
    return tuple(out)


def _describe(c: Criterion) -> str:
    bits = [f'"{c.label.id}"']
    if c.parent is not None:
        bits.append(f'under "{c.parent}"')
    if c.points is not None:
        bits.append(f"points {_num(c.points)}")
    if c.weight is not None:
        bits.append(f"weight {_num(c.weight)}")
    if c.scale is not None:
        bits.append(f"scale {_scale_text(c)}")
    return ", ".join(bits)


def _na_rule_text(c: Criterion) -> str | None:
    """``unit sector kesehatan, pendidikan`` — a criterion's ``not_applicable_for`` as it
    matches (each value by :func:`~kepatuhan.applicability.attribute_key`, sorted), so two
    spellings of one rule are no difference; None without one."""
    rules = c.not_applicable_for.rules() if c.not_applicable_for is not None else ()
    if not rules:
        return None
    return "; ".join(
        f"{ATTRIBUTE_WORDS[name]} " + ", ".join(sorted({attribute_key(v) for v in values}))
        for name, values in rules
    )


def _criterion_changes(a: Rubric, b: Rubric) -> list[Change]:
    ia, ib = a.tree.index, b.tree.index
    out: list[Change] = []
    # removed and added subtrees: one change at the top of each (its parent is kept, or it
    # is a root)
    for r, other, kind in ((a, ib, "removed"), (b, ia, "added")):
        for c in r.criteria:
            if c.id in other or (c.parent is not None and c.parent not in other):
                continue
            text = _describe(c)
            out.append(
                Change(
                    "criterion",
                    kind,
                    c.id,
                    before=text if kind == "removed" else None,
                    after=text if kind == "added" else None,
                    ids=_subtree(r, c.id, other),
                )
            )
    sa, sb = _shares(a), _shares(b)
    for c in a.criteria:
        if c.id not in ib:
            continue
        d = b.tree.nodes[ib[c.id]]
        pairs: list[tuple[str, str | None, str | None]] = [
            ("parent", c.parent, d.parent),
            ("weight", _num(c.weight), _num(d.weight)),
            ("points", _num(c.points), _num(d.points)),
            (
                "rule",
                _rule_text(a, c),
                _rule_text(b, d),
            ),
            ("scale", _scale_text(c), _scale_text(d)),
            ("level", c.level, d.level),
            ("na_allowed", str(c.na_allowed).lower(), str(d.na_allowed).lower()),
            ("not_applicable_for", _na_rule_text(c), _na_rule_text(d)),
            ("label", c.label.id, d.label.id),
            ("label_en", c.label.en, d.label.en),
        ]
        for field, x, y in pairs:
            if x != y:
                quote = field in ("parent", "label", "label_en")
                out.append(
                    Change(
                        "criterion",
                        "changed",
                        c.id,
                        field,
                        "none" if x is None else (f'"{x}"' if quote else x),
                        "none" if y is None else (f'"{y}"' if quote else y),
                    )
                )
        if c.parent is not None and _share_differs(sa[c.id], sb[d.id]):
            out.append(
                Change(
                    "criterion",
                    "changed",
                    c.id,
                    "share",
                    _share_text(sa[c.id]),
                    _share_text(sb[d.id]),
                )
            )
    return out


def _band_text(b: Band) -> str:
    top = f"–{publish(float(b.max))}" if b.max is not None else " and up"
    zone = f", zone {b.zone}" if b.zone else ""
    return f'"{b.label}", from {publish(float(b.min))}{top}{zone}'


def _band_changes(a: Rubric, b: Rubric) -> list[Change]:
    if a.bands is None and b.bands is None:
        return []
    if a.bands is None or b.bands is None:

        def scheme(r: Rubric) -> str:
            if r.bands is None:
                return "no bands"
            return " / ".join(f"{x.id} from {publish(float(x.min))}" for x in r.bands.bands)

        return [Change("bands", "changed", "scheme", "bands", scheme(a), scheme(b))]
    out: list[Change] = []
    for field in ("name", "maximum"):
        x, y = getattr(a.bands, field), getattr(b.bands, field)
        if x != y:
            tx = _num(x) if isinstance(x, Decimal) else x
            ty = _num(y) if isinstance(y, Decimal) else y
            out.append(Change("bands", "changed", "scheme", field, tx or "none", ty or "none"))
    ka = {x.id: x for x in a.bands.bands}
    kb = {x.id: x for x in b.bands.bands}
    for x in a.bands.bands:
        if x.id not in kb:
            out.append(Change("band", "removed", x.id, before=_band_text(x)))
    for y in b.bands.bands:
        if y.id not in ka:
            out.append(Change("band", "added", y.id, after=_band_text(y)))
    for x in a.bands.bands:
        y = kb.get(x.id)
        if y is None:
            continue
        # the upper edge is the next band's edge when not written: compare what is in force
        pairs = [
            ("min", publish(float(x.min)), publish(float(y.min))),
            ("max", _upper(a, x), _upper(b, y)),
            ("label", f'"{x.label}"', f'"{y.label}"'),
            ("label_en", _quoted(x.label_en), _quoted(y.label_en)),
            ("zone", x.zone, y.zone),
        ]
        for field, p, q in pairs:
            if p != q:
                out.append(Change("band", "changed", x.id, field, p or "none", q or "none"))
    return out


def _quoted(text: str | None) -> str | None:
    return None if text is None else f'"{text}"'


def _upper(r: Rubric, band: Band) -> str:
    """A band's published upper edge: its ``max``, else just below the next band's ``min``,
    else the scheme's maximum."""
    assert r.bands is not None
    bands = r.bands.bands
    k = bands.index(band)
    if band.max is not None:
        return publish(float(band.max))
    if k + 1 < len(bands):
        return publish(float(bands[k + 1].min - r.bands.resolution))
    return publish(float(r.bands.maximum))


def _level_changes(a: Rubric, b: Rubric) -> list[Change]:
    out: list[Change] = []
    for level in ("institution", "unit"):
        ra, rb = a.levels.rule(level), b.levels.rule(level)
        if (ra.combine, ra.weight_by) != (rb.combine, rb.weight_by):
            out.append(
                Change(
                    "levels",
                    "changed",
                    level,
                    "combine",
                    f"{ra.combine} weighted {ra.weight_by}",
                    f"{rb.combine} weighted {rb.weight_by}",
                )
            )
    if a.missing != b.missing:
        out.append(
            Change("rubric", "changed", "missing-value policy", "missing", a.missing, b.missing)
        )
    fa, fb = {f.id for f in a.flags}, {f.id for f in b.flags}
    if fa != fb:
        out.append(
            Change(
                "rubric",
                "changed",
                "flags",
                "flags",
                ", ".join(sorted(fa)) or "none",
                ", ".join(sorted(fb)) or "none",
            )
        )
    return out


def diff_rubrics(a: Rubric, b: Rubric) -> RubricDiff:
    """Every difference from rubric ``a`` to rubric ``b`` that changes how a score is made
    or read: criteria (matched by id, with their ``not_applicable_for`` rules), bands
    (matched by id), roll-up rules, the missing policy and flags. Titles, sources, notes,
    versions and alternatives are not compared; two rubrics with the same digest have no
    changes."""
    changes: list[Change] = []
    if a.digest != b.digest:
        changes = [*_criterion_changes(a, b), *_band_changes(a, b), *_level_changes(a, b)]
    return RubricDiff(a.id, a.digest, b.id, b.digest, tuple(changes))


def series_labels(rubrics: Sequence[Rubric]) -> list[str]:
    """A short name for each rubric: its id, with the first eight hex digits of its digest
    when another rubric of the list has the same id (``ombudsman-2023@1a2b3c4d``).

    Raises :class:`KepatuhanError` when the same rubric (same digest) is listed twice.
    """
    seen: dict[str, int] = {}
    for k, r in enumerate(rubrics):
        if r.digest in seen:
            raise KepatuhanError(
                Problem(
                    f'rubric "{r.id}" is given twice (number {seen[r.digest] + 1} and '
                    f"{k + 1} have the same digest {r.digest[:15]}…): each rubric once",
                )
            )
        seen[r.digest] = k
    ids = [r.id for r in rubrics]
    return [
        r.id if ids.count(r.id) == 1 else f"{r.id}@{r.digest.removeprefix('sha256:')[:8]}"
        for r in rubrics
    ]


def _node_or_none(r: Rubric, cid: str) -> Criterion | None:
    """The criterion ``cid`` of ``r`` (``total`` is the root), or None."""
    if cid == TOTAL and TOTAL not in r.tree.index:
        return r.root
    k = r.tree.index.get(cid)
    return None if k is None else r.tree.nodes[k]


def points_reread_rows(
    table: ObservationTable, a: Rubric, b: Rubric
) -> list[tuple[int, str, str | None, str | None]]:
    """The criteria ``table`` gives values of whose points differ between rubrics ``a``
    and ``b``, as ``(rows, criterion id, points under a, points under b)`` (points as the
    rubric writes them, None for a 0–100 criterion): a value given for a node with points is
    read in points, so the same number means another share of the node under ``b`` (it is
    not rescaled)."""
    counts = np.bincount(table.criterion, minlength=len(table.criterion_ids)).tolist()
    out = []
    for cid, n in zip(table.criterion_ids, counts, strict=True):
        ca, cb = _node_or_none(a, cid), _node_or_none(b, cid)
        if not n or ca is None or cb is None or ca.points == cb.points:
            continue
        out.append((int(n), cid, _num(ca.points), _num(cb.points)))
    return out


def points_rereads(table: ObservationTable, a: Rubric, b: Rubric) -> list[str]:
    """:func:`points_reread_rows` as English sentences (those of ``compare``'s JSON)."""

    def unit(p: str | None) -> str:
        return "0–100" if p is None else f"points out of {p}"

    return [
        f'{n} rows give criterion "{cid}" directly: read as {unit(pa)} under the first '
        f"rubric and as {unit(pb)} under this one (the same numbers, not rescaled)."
        for n, cid, pa, pb in points_reread_rows(table, a, b)
    ]


# -- entities ------------------------------------------------------------------------------
@attrs.frozen
class RubricScores:
    """One entity under one rubric: the score (unrounded, None if not scored), its
    published two decimals, band, zone, rank among the scored entities of the level
    (``min`` ties, on unrounded scores) of ``of``, and how many needed values the missing
    policy filled in for it and its sub-entities."""

    rubric: str
    score: float | None
    published: str | None
    band: str | None
    zone: str | None
    rank: int | None
    of: int
    missing: int


@attrs.frozen
class EntityComparison:
    """One institution (``unit`` None) or unit under every rubric, in the rubrics' order.

    The changes are from the first rubric: :meth:`score_change` from the unrounded scores,
    :meth:`band_change`, :meth:`zone_change`, :meth:`rank_change` (this rank minus the first:
    negative is higher up)."""

    institution: str
    unit: str | None
    name: str | None
    results: tuple[RubricScores, ...]

    def score_change(self, k: int) -> float | None:
        """Score under rubric ``k`` minus the score under the first (unrounded)."""
        a, b = self.results[0].score, self.results[k].score
        return None if a is None or b is None else b - a

    def rank_change(self, k: int) -> int | None:
        """Rank under rubric ``k`` minus the rank under the first."""
        a, b = self.results[0].rank, self.results[k].rank
        return None if a is None or b is None else b - a

    def band_change(self, k: int) -> str | None:
        """``"C -> B"`` when the band under rubric ``k`` differs from the first's, else None."""
        a, b = self.results[0].band, self.results[k].band
        return None if a == b else f"{a or 'none'} -> {b or 'none'}"

    def zone_change(self, k: int) -> str | None:
        """``"kuning -> hijau"`` when the zone differs from the first's, else None."""
        a, b = self.results[0].zone, self.results[k].zone
        return None if a == b else f"{a or 'none'} -> {b or 'none'}"


def _missing_per_entity(res: Scores, lv: int) -> list[int]:
    """Needed values filled in by the missing policy, per entity of level ``lv``, counting
    those of its sub-entities."""
    t = res.table
    counts = [res.missing_at(k).sum(axis=0).astype(np.int64) for k in range(3)]
    per_unit = counts[1] + np.bincount(
        t.product_unit, weights=counts[2], minlength=len(t.units)
    ).astype(np.int64)
    if lv == 1:
        return [int(x) for x in per_unit.tolist()]
    per_inst = counts[0] + np.bincount(
        t.unit_institution, weights=per_unit, minlength=len(t.institutions)
    ).astype(np.int64)
    return [int(x) for x in per_inst.tolist()]


def compare_scores(
    results: Sequence[Scores], *, labels: Sequence[str] | None = None, units: bool = False
) -> list[EntityComparison]:
    """Line up results of the same entities under several rubrics: one
    :class:`EntityComparison` per institution (and per unit when ``units``), institutions in
    id order, each followed by its units. An entity that one result lacks is absent there
    (score None). Ranks are within each result and level, on unrounded scores, ties ``min``
    (:func:`kepatuhan.analysis.rank.tie_ranks`)."""
    labels = list(labels) if labels is not None else series_labels([r.rubric for r in results])
    per: list[dict[tuple[str, str | None], RubricScores]] = []
    names: dict[tuple[str, str | None], str | None] = {}
    for label, res in zip(labels, results, strict=True):
        got: dict[tuple[str, str | None], RubricScores] = {}
        bands = res.rubric.bands.bands if res.rubric.bands is not None else ()
        for lv in (0, 1) if units else (0,):
            col = res.columns(lv)
            has = col.has_score
            ranks = np.zeros(len(col.ids), dtype=np.int64)
            if has.any():
                ranks[has] = tie_ranks(col.score[has], "min")
            n = int(has.sum())
            miss = _missing_per_entity(res, lv)
            ents: Sequence[Any] = res.table.institutions if lv == 0 else res.table.units
            for e, ident in enumerate(col.ids):
                key: tuple[str, str | None] = (
                    (ident, None) if lv == 0 else (ents[e].institution, ident)
                )
                names.setdefault(key, getattr(ents[e], "name", None))
                b = int(col.band[e])
                band = bands[b] if b >= 0 and bands else None
                ok = bool(has[e])
                got[key] = RubricScores(
                    rubric=label,
                    score=float(col.score[e]) if ok else None,
                    published=col.published[e],
                    band=band.id if band else None,
                    zone=band.zone if band else None,
                    rank=int(ranks[e]) if ok else None,
                    of=n,
                    missing=int(miss[e]),
                )
        per.append(got)
    keys = sorted({k for got in per for k in got}, key=lambda k: (k[0], k[1] is not None, k[1]))
    out = []
    for key in keys:
        row = tuple(
            got.get(key, RubricScores(label, None, None, None, None, None, 0, 0))
            for label, got in zip(labels, per, strict=True)
        )
        out.append(EntityComparison(key[0], key[1], names.get(key), row))
    return out


# -- crosswalk -----------------------------------------------------------------------------
@attrs.frozen
class Crosswalk:
    """A map of criterion ids from one edition to another (``from`` → ``to``).

    ``pairs`` are ``(from, to, line)``, ``line`` the 1-based line of the CSV file ``source``.
    Each ``from`` appears once (one id cannot become two); several ``from`` may share one
    ``to`` (criteria merged), as long as no entity has a value for two of them.
    """

    pairs: tuple[tuple[str, str, int], ...]
    source: str | None = None

    def __attrs_post_init__(self) -> None:
        first: dict[str, int] = {}
        problems = []
        for a, b, line in self.pairs:
            for name, value in (("from", a), ("to", b)):
                if not value.strip():
                    problems.append(
                        Problem(
                            f'column "{name}": expected a criterion id, found an empty cell',
                            path=self.source,
                            line=line,
                        )
                    )
            if a in first:
                problems.append(
                    Problem(
                        f'"{a}" is mapped twice (first on line {first[a]}): a crosswalk maps '
                        "each id to one criterion",
                        path=self.source,
                        line=line,
                        expected="each from id once",
                        found=f'"{a}" again',
                    )
                )
            first.setdefault(a, line)
        if problems:
            raise InputFileError(problems)

    def mapping(self) -> dict[str, tuple[str, int]]:
        """``{from: (to, line)}``."""
        return {a: (b, line) for a, b, line in self.pairs}


@attrs.frozen
class CrosswalkUse:
    """How a crosswalk was applied to a table for one rubric: ``mapped`` rows got a new
    criterion id, ``kept`` rows kept theirs (the rubric knows them), of ``rows``."""

    rows: int
    mapped: int
    kept: int

    def summary(self, source: str | None) -> str:
        """``crosswalk.csv: 12 of 14 rows mapped, 2 kept their criterion id``."""
        where = f"{source}: " if source else ""
        return (
            f"{where}{self.mapped} of {self.rows} rows mapped, {self.kept} kept their "
            "criterion id (known to the rubric)"
        )


def _named(crosswalk: Crosswalk) -> str:
    """`` FILE`` for a crosswalk read from a file, else nothing (for messages)."""
    return f" {crosswalk.source}" if crosswalk.source else ""


def apply_crosswalk(
    table: ObservationTable, crosswalk: Crosswalk, rubric: Rubric
) -> tuple[ObservationTable, CrosswalkUse]:
    """``table`` with its criterion ids mapped by ``crosswalk`` for scoring under ``rubric``.

    Every ``to`` must be a criterion of ``rubric`` (else a located error in the crosswalk
    file); a row whose id the crosswalk does not map keeps it only if ``rubric`` knows it
    (else a located error at the row); two rows of one entity that land on one criterion
    (a many-to-one map with both given) are refused at the second row — combine them
    before mapping; a ``from`` spelt in another letter case than the data's id is refused at
    its line. Rows are never dropped.
    """
    known = set(rubric.tree.index) | {TOTAL}
    flag_ids = {f.id for f in rubric.flags}
    mapping = crosswalk.mapping()
    problems = [
        Problem(
            f'column "to": "{to}" is not a criterion of rubric "{rubric.id}"'
            + suggest(to, sorted(known)),
            path=crosswalk.source,
            line=line,
            expected=f'a criterion id of "{rubric.id}"',
            found=f'"{to}"',
        )
        for _, (to, line) in mapping.items()
        if to not in known and to not in flag_ids
    ]
    present = np.bincount(table.criterion, minlength=len(table.criterion_ids)) > 0
    # a `from` spelt in another letter case than the data's id ("A" for "a") would be left
    # unused while the row keeps its id: not the mapping the file asks for
    in_data = {id_key(c): c for c, p in zip(table.criterion_ids, present, strict=True) if p}
    for a, (_, line) in mapping.items():
        spelt = in_data.get(id_key(a))
        if spelt is not None and spelt != a and spelt not in mapping:
            problems.append(
                Problem(
                    f'column "from": "{a}" looks like the data\'s criterion "{spelt}": ids '
                    "that differ only in letter case are refused; write one spelling",
                    path=crosswalk.source,
                    line=line,
                    expected=f'"{spelt}"',
                    found=f'"{a}"',
                )
            )
    if problems:
        raise InputFileError(problems)
    new_ids: list[str] = []
    code_of: dict[str, int] = {}
    remap = np.empty(len(table.criterion_ids), dtype=np.intp)
    is_mapped = np.zeros(len(table.criterion_ids), dtype=bool)
    bad: list[Problem] = []
    for k, cid in enumerate(table.criterion_ids):
        target = mapping.get(cid)
        if target is not None:
            name = target[0]
            is_mapped[k] = True
        else:
            name = cid
            if present[k] and cid not in known and cid not in flag_ids:
                row = int(np.argmax(table.criterion == k))
                bad.append(
                    table.problem(
                        row,
                        f'criterion "{cid}" is not in the crosswalk{_named(crosswalk)} and '
                        f'not a criterion of rubric "{rubric.id}"' + suggest(cid, sorted(mapping)),
                        expected="an id in the crosswalk's from column, or of the rubric",
                        found=f'"{cid}"',
                    )
                )
        remap[k] = code_of.setdefault(name, len(new_ids))
        if remap[k] == len(new_ids):
            new_ids.append(name)
    if bad:
        raise ObservationError(bad)
    codes = remap[table.criterion]
    mapped_rows = is_mapped[table.criterion]
    _refuse_merged_twice(table, codes, new_ids, crosswalk)
    out = attrs.evolve(table, criterion_ids=tuple(new_ids), criterion=codes)
    n = len(table)
    m = int(mapped_rows.sum())
    return out, CrosswalkUse(rows=n, mapped=m, kept=n - m)


def _refuse_merged_twice(
    table: ObservationTable, codes: np.ndarray, ids: Sequence[str], crosswalk: Crosswalk
) -> None:
    """Two rows of one entity under one criterion after mapping, when they were two ids
    before: a many-to-one map with both given (a plain duplicate is the engine's to report)."""
    sizes = (len(table.institutions), len(table.units), len(table.products))
    offset = np.array([0, sizes[0], sizes[0] + sizes[1]], dtype=np.int64)
    key = (offset[table.level] + table.entity.astype(np.int64)) * max(len(ids), 1) + codes
    order = np.argsort(key, kind="stable")
    sk = key[order]
    same = np.flatnonzero(sk[1:] == sk[:-1])
    problems = []
    for d in same:
        first, again = int(order[d]), int(order[d + 1])
        was = table.criterion_ids[int(table.criterion[first])]
        now = table.criterion_ids[int(table.criterion[again])]
        if was == now:
            continue
        lv, ent = int(table.level[again]), int(table.entity[again])
        line = int(table.line[first]) or first + 1
        problems.append(
            table.problem(
                again,
                f'{table.entity_label(lv, ent)}: "{now}" and "{was}" (line {line}) both map '
                f'to criterion "{ids[int(codes[again])]}" in the crosswalk{_named(crosswalk)}: '
                "combine them into one value before mapping",
                expected="at most one value per entity for the ids mapped to one criterion",
                found="two",
            )
        )
    if problems:
        raise ObservationError(problems[:20])


def crosswalk_from_rows(rows: Iterable[tuple[int, str, str]], source: str | None) -> Crosswalk:
    """A :class:`Crosswalk` from ``(line, from, to)`` rows (what the CSV reader yields)."""
    return Crosswalk(tuple((a.strip(), b.strip(), line) for line, a, b in rows), source)


def read_crosswalk(path: str | os.PathLike[str]) -> Crosswalk:
    """The crosswalk in a ``from,to`` CSV file (read by :mod:`kepatuhan.io.crosswalk_io`)."""
    from ..io.crosswalk_io import read_crosswalk_rows

    return crosswalk_from_rows(read_crosswalk_rows(path), str(path))
