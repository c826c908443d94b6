"""Rubric, Criterion, levels and scale references: one methodology edition as frozen values.

A rubric is data. It names its aggregators and scales by registered name only (never an
import path), so building or reading one runs no plugin code. Cross-field rules — one
root, no cycles, weights that add up, bands that tile 0–100 — are checked when a
:class:`Rubric` is built, and every problem is reported at once as a :class:`RubricError`
whose key paths look like ``criterion "proses".points``.

Numbers that people write by hand (weights, points, band bounds) are kept as
:class:`decimal.Decimal`, so ``21.85 + 32.37 + 24.24 + 21.54 == 100`` holds exactly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from .bands import BandScheme, check_bands
from .decimals import opt_decimal, to_decimal
from .errors import Problem, RubricError, fmt, id_key, suggest

__all__ = [
    "CONFIDENCES",
    "DERIVE_CHANGES",
    "LEVELS",
    "MISSING_POLICIES",
    "NOT_APPLICABLE_KEYS",
    "WEIGHT_BY",
    "Alternative",
    "Criterion",
    "CriterionTree",
    "DerivedFrom",
    "Flag",
    "Label",
    "LevelRule",
    "Levels",
    "NotApplicableFor",
    "Rubric",
    "RuleRef",
    "ScaleRef",
    "Source",
    "criterion_tree",
    "short_digest",
    "to_decimal",
]

#: The entity levels, coarsest first: an institution has units, a unit has service products.
LEVELS: tuple[str, ...] = ("institution", "unit", "product")
#: What a rubric may do with a leaf that has no observation: count it as zero (observed and
#: failed), treat it as not applicable (excluded, siblings renormalised), or refuse to score.
MISSING_POLICIES: tuple[str, ...] = ("zero", "not_applicable", "error")
#: How the entities of one level weigh when their parent level combines them: ``equal``;
#: ``products`` (institution level: a unit weighs by its number of service products);
#: ``product_weight`` (unit level: a product weighs by its own ``weight`` from the data or
#: the ``kepatuhan_product_weights`` hook).
WEIGHT_BY: tuple[str, ...] = ("equal", "products", "product_weight")
#: How sure the source of a number is: ``stated`` (the public source says it), ``secondary``
#: (a news outlet or third party says it), ``inferred`` (reasoned from stated facts),
#: ``assumed`` (the record is silent: a visible choice).
CONFIDENCES: tuple[str, ...] = ("stated", "secondary", "inferred", "assumed")
#: The most nested a criterion tree may be; deeper trees are refused with a clear error.
MAX_DEPTH = 64
#: The alias every observation file may use for the root criterion.
TOTAL = "total"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
# A rubric id may carry ":alternative" once an alternative is applied.
_RUBRIC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(:[A-Za-z0-9][A-Za-z0-9_.\-]*)?$")

ParamValue = Decimal | str | bool | tuple[Decimal, ...]


@attrs.frozen
class Label:
    """A bilingual label: Bahasa Indonesia (``id``) first, English (``en``) optional."""

    id: str
    en: str | None = None

    def text(self, lang: str = "id") -> str:
        """The label in ``lang`` ("id" or "en"), falling back to Indonesian."""
        return self.en if lang == "en" and self.en else self.id


def _to_label(value: object) -> Label:
    if isinstance(value, Label):
        return value
    if isinstance(value, str):
        return Label(value)
    raise TypeError(f"expected a label (string or {{id, en}}), found {fmt(value)}")


@attrs.frozen
class Source:
    """A document a number comes from; criteria and bands cite it by ``id``."""

    id: str
    title: str
    url: str | None = None
    note: str | None = None


def _sorted_params(
    params: Iterable[tuple[str, ParamValue]] | Mapping[str, ParamValue],
) -> tuple[tuple[str, ParamValue], ...]:
    return tuple(sorted(dict(params).items()))


def _criteria(items: Iterable[Criterion]) -> tuple[Criterion, ...]:
    return tuple(items)


def _sources(items: Iterable[Source]) -> tuple[Source, ...]:
    return tuple(items)


def _alternatives(items: Iterable[Alternative]) -> tuple[Alternative, ...]:
    return tuple(items)


class _Params:
    """What a reference with parameters (a scale's, a rule's) answers about them."""

    params: tuple[tuple[str, ParamValue], ...]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter ``key``, or ``default``."""
        for k, v in self.params:
            if k == key:
                return v
        return default

    def as_dict(self) -> dict[str, ParamValue]:
        """The parameters as a plain dict."""
        return dict(self.params)


@attrs.frozen
class ScaleRef(_Params):
    """A leaf's value scale: a registered scale ``name`` and its parameters.

    ``params`` is a sorted tuple of ``(key, value)`` pairs so the reference stays hashable;
    :meth:`get` reads one. Example: ``ScaleRef("points", (("max", Decimal(3)),))``.
    """

    name: str
    params: tuple[tuple[str, ParamValue], ...] = attrs.field(default=(), converter=_sorted_params)


def _to_scale(value: object) -> ScaleRef | None:
    if value is None or isinstance(value, ScaleRef):
        return value
    if isinstance(value, str):
        return ScaleRef(value)
    raise TypeError(f"expected a scale name or {{name, …}}, found {fmt(value)}")


@attrs.frozen(eq=False)
class RuleRef(_Params):
    """A combination rule: a registered aggregator ``name`` and its parameters.

    The counterpart of :class:`ScaleRef` for ``rule`` (a criterion's children) and
    ``combine`` (a level's entities). A file writes ``rule = "sum"`` for a rule without
    parameters and ``rule = { name = "penalised_mean", penalty = 0.25 }`` for one with;
    ``params`` is a sorted tuple of ``(key, value)`` pairs so the reference stays hashable.
    A reference without parameters has the same canonical form (and digest) as the plain
    name it replaces. ``str()`` gives the name, then the parameters in brackets.
    """

    name: str
    params: tuple[tuple[str, ParamValue], ...] = attrs.field(default=(), converter=_sorted_params)

    def __str__(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{k}={_param_text(v)}' for k, v in self.params)})"

    def __eq__(self, other: object) -> bool:
        # ``rule == "sum"`` was how kepatuhan 0.1 code asked for a rule; with parameters it
        # would be silently False. Comparing with a string is refused, loudly.
        if isinstance(other, str):
            raise TypeError(f"compare the rule's name (rule.name == {other!r}), not the RuleRef")
        if not isinstance(other, RuleRef):
            return NotImplemented
        return (self.name, self.params) == (other.name, other.params)

    def __hash__(self) -> int:
        return hash((self.name, self.params))


def _param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value) if isinstance(value, Decimal) else f'"{value}"'


def _to_rule(value: object) -> RuleRef:
    if isinstance(value, RuleRef):
        return value
    if isinstance(value, str):
        return RuleRef(value)
    raise TypeError(f"expected a rule name or {{name, …}}, found {fmt(value)}")


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    if isinstance(items, str):
        raise TypeError(f"expected a list of strings, found {fmt(items)}")
    return tuple(items)


@attrs.frozen
class NotApplicableFor:
    """Where a criterion does not apply: entities whose attribute is one of the values.

    ``unit_sector`` matches a unit by its sector (and the unit's products); and
    ``institution_kind`` an institution by its kind (and its units and products). Values
    are compared ignoring letter case. A criterion that does not apply to an entity is
    *not applicable* there, with its whole subtree: the siblings renormalise, as for
    ``na``. An entity without the attribute in the data is not matched (the criterion
    applies; ``score`` warns). TOML: ``not_applicable_for = { unit_sector = ["kesehatan"] }``.
    """

    unit_sector: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    institution_kind: tuple[str, ...] = attrs.field(default=(), converter=_strings)

    def rules(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The non-empty rules as ``(attribute, values)``, in field order."""
        return tuple(
            (f.name, getattr(self, f.name))
            for f in attrs.fields(type(self))
            if getattr(self, f.name)
        )


def _to_na_rule(value: object) -> NotApplicableFor | None:
    if value is None or isinstance(value, NotApplicableFor):
        return value
    if isinstance(value, Mapping):
        return NotApplicableFor(**value)
    raise TypeError(f"expected a NotApplicableFor or a mapping, found {fmt(value)}")


#: The entity attributes a ``not_applicable_for`` rule may name, and the level of the
#: entity that carries each (1 unit, 0 institution).
NOT_APPLICABLE_KEYS: dict[str, int] = {"unit_sector": 1, "institution_kind": 0}


@attrs.frozen
class Criterion:
    """A node of the criterion tree; a node with no children is an indicator (leaf).

    ``weight`` is the node's weight among its siblings (any positive number; only ratios
    matter). ``points`` is its maximum in points, used when the parent's ``rule`` is
    ``"sum"`` (the 2022–2024 dimensions: points out of 21.85, 32.37, …); a value given
    directly for a node with ``points`` is read in points. ``rule`` names the aggregator
    that combines the children (a :class:`RuleRef`; a plain name is converted). A leaf has
    a ``scale`` and the ``level`` it is observed at.
    ``source`` and ``confidence`` say where the node's numbers come from.
    ``not_applicable_for`` says for which units or institutions the node (with its
    subtree) does not apply (:class:`NotApplicableFor`).
    """

    id: str
    label: Label = attrs.field(converter=_to_label)
    parent: str | None = None
    weight: Decimal | None = attrs.field(default=None, converter=opt_decimal)
    points: Decimal | None = attrs.field(default=None, converter=opt_decimal)
    rule: RuleRef = attrs.field(default=RuleRef("weighted_mean"), converter=_to_rule)
    scale: ScaleRef | None = attrs.field(default=None, converter=_to_scale)
    level: str | None = None
    na_allowed: bool = True
    source: str | None = None
    confidence: str | None = None
    note: str | None = None
    # Last, and None by default: the canonical digest leaves out None, so a rubric that does
    # not use the rule keeps its digest.
    not_applicable_for: NotApplicableFor | None = attrs.field(default=None, converter=_to_na_rule)

    @property
    def effective_weight(self) -> Decimal:
        """The weight used among siblings: ``weight``, else ``points``, else 1."""
        if self.weight is not None:
            return self.weight
        if self.points is not None:
            return self.points
        return Decimal(1)


@attrs.frozen
class LevelRule:
    """How one level combines the entities of the level below it.

    ``combine`` names an aggregator: the default ``"weighted_mean"`` with equal weights is
    the plain mean, and also honours unit weights from plugins; ``"mean"`` ignores all
    weights. ``weight_by`` is ``"equal"`` or ``"products"`` (each unit weighs by its number
    of service products in the data, which makes the combination the mean over all
    products when every product is scored). ``combine`` is a :class:`RuleRef` (a plain name
    is converted), so a level may use a rule with parameters too.


    weights. ``weight_by`` is ``"equal"``; or, for the institution level, ``"products"``
    (each unit weighs by its number of service products in the data, which makes the
    combination the mean over all products when every product is scored); or, for the unit
    level, ``"product_weight"`` (each product weighs by its own weight: the ``weight``
    column of its rows, or the ``kepatuhan_product_weights`` hook; a product without one
    is an error).
    """

    combine: RuleRef = attrs.field(default=RuleRef("weighted_mean"), converter=_to_rule)
    weight_by: str = "equal"
    source: str | None = None
    confidence: str | None = None
    note: str | None = None


@attrs.frozen
class Levels:
    """The roll-up rules: how an institution combines its units, a unit its products."""

    institution: LevelRule = LevelRule()
    unit: LevelRule = LevelRule()

    def rule(self, level: str) -> LevelRule:
        """The rule of ``level`` ("institution" or "unit")."""
        if level == "institution":
            return self.institution
        if level == "unit":
            return self.unit
        raise ValueError(f"level {level!r} combines nothing below it")


@attrs.frozen
class Flag:
    """A yes/no fact recorded beside the score, never part of it (``[[flag]]``).

    Observed like an indicator (criterion = the flag's ``id``, value ``ya``/``tidak``) at
    its ``level``. When it is yes, ``suffix`` is appended to the entity's opinion — the
    2025 *Tanpa Maladministrasi* qualifier, which depends on following up Ombudsman
    products and does not change the number.
    """

    id: str
    label: Label = attrs.field(converter=_to_label)
    level: str = "institution"
    suffix: str | None = None
    source: str | None = None
    confidence: str | None = None
    note: str | None = None


def _flags(items: Iterable[Flag]) -> tuple[Flag, ...]:
    return tuple(items)


@attrs.frozen
class Alternative:
    """A named variant of a rubric's roll-up, for rules the public record leaves open.

    Selected as ``"<rubric id>:<alternative id>"`` (e.g. ``ombudsman-2021:unit-mean``);
    it replaces the rubric's ``levels``, ``missing`` policy, ``bands`` and/or the root's
    maximum ``points`` (the 0–110 scale of 2016–2019 ministries) and keeps the rest.
    """

    id: str
    title: str
    levels: Levels | None = None
    missing: str | None = None
    bands: BandScheme | None = None
    points: Decimal | None = attrs.field(default=None, converter=opt_decimal)
    source: str | None = None
    confidence: str | None = None
    note: str | None = None


@attrs.frozen
class DerivedFrom:
    """The rubric a derived rubric was made from (``extends`` in TOML, :meth:`Rubric.derive`).

    Its ``id`` and ``digest`` at the time of deriving: part of the derived rubric's own
    digest, shown by ``kepatuhan show`` and recorded in every result's provenance, so a
    result says both which variant made it and which official edition that variant changed.
    When the parent was itself derived, ``parent`` is the parent's own ``derived_from``, and
    so on: the whole line back to the edition is kept in the rubric, so a plugin can tell
    the edition a derivation of a derivation comes from even when the rubrics between were
    files that no plugin installs (:attr:`lineage`).
    """

    id: str
    digest: str
    parent: DerivedFrom | None = None

    @property
    def lineage(self) -> tuple[DerivedFrom, ...]:
        """This parent, then its parent, … back to the first rubric that was not derived."""
        out: list[DerivedFrom] = []
        at: DerivedFrom | None = self
        while at is not None:
            out.append(at)
            at = at.parent
        return tuple(out)


class _Memo:
    """Slots for what a :class:`Rubric` derives from its fields, computed once per instance.

    Not attrs fields, so they take no part in ``==``, ``hash``, ``repr``, ``evolve`` or the
    file format; a frozen rubric fills them with ``object.__setattr__``. A copy made by
    ``pickle`` or ``copy`` arrives without them and fills them again on first use.
    """

    __slots__ = ("_memo_digest", "_memo_tree")
    _memo_digest: str
    _memo_tree: CriterionTree


# cache_hash: the engine's compile cache and other dicts key by rubric; without it every
# lookup hashed all criteria (O(n) per call, quadratic over a loop of criteria).
@attrs.frozen(cache_hash=True)
class Rubric(_Memo):
    """One methodology edition: criterion tree, levels, bands and missing-data policy.

    Built from a TOML file by :func:`kepatuhan.load_rubric` or in Python; construction
    validates everything that can be checked without plugins and raises one
    :class:`~kepatuhan.RubricError` listing every problem. Immutable and hashable;
    :attr:`digest` identifies its content. The indexed :attr:`tree` is built once, when the
    rubric is, and kept on the instance (linear in the number of criteria).
    """

    id: str
    title: str
    criteria: tuple[Criterion, ...] = attrs.field(converter=_criteria)
    version: str = "1"
    year: int | None = None
    description: str | None = None
    levels: Levels = Levels()
    bands: BandScheme | None = None
    missing: str = "zero"
    sources: tuple[Source, ...] = attrs.field(default=(), converter=_sources)
    alternatives: tuple[Alternative, ...] = attrs.field(default=(), converter=_alternatives)
    flags: tuple[Flag, ...] = attrs.field(default=(), converter=_flags)
    derived_from: DerivedFrom | None = None

    def __attrs_post_init__(self) -> None:
        problems, tree = _check(self)
        if problems or tree is None:
            raise RubricError(problems)
        object.__setattr__(self, "_memo_tree", tree)

    @property
    def base_id(self) -> str:
        """The edition's id without an alternative (``ombudsman-2021`` for
        ``ombudsman-2021:unit-mean``): plugins ask this, never split ids themselves."""
        return self.id.partition(":")[0]

    @property
    def alternative_id(self) -> str | None:
        """The alternative this rubric is (``unit-mean``), or None for the edition itself."""
        return self.id.partition(":")[2] or None

    @property
    def digest(self) -> str:
        """SHA-256 of the rubric's canonical content (stable across runs and machines).

        Computed from :func:`canonical_rubric`, the values themselves, so the spelling of
        a file (key names, number formats, defaults written out or left implicit) does not
        change it; see docs/rubric-format.md for what it covers. Computed once per rubric.
        """
        try:
            return self._memo_digest
        except AttributeError:
            digest = rubric_digest(self)
            object.__setattr__(self, "_memo_digest", digest)
            return digest

    @property
    def tree(self) -> CriterionTree:
        """The criterion tree, indexed (built once per rubric instance, never re-hashed)."""
        try:
            return self._memo_tree
        except AttributeError:  # a pickled or copied rubric: valid already, just index it
            tree = _build_tree(self.criteria)
            object.__setattr__(self, "_memo_tree", tree)
            return tree

    @property
    def root(self) -> Criterion:
        """The root criterion (the entity's overall score)."""
        return self.tree.root

    def criterion(self, cid: str) -> Criterion:
        """The criterion ``cid`` (``"total"`` is the root); RubricError if unknown."""
        return self.tree.node(cid)

    def with_alternative(self, alt_id: str) -> Rubric:
        """The rubric under its named alternative ``alt_id`` (id becomes ``id:alt_id``)."""
        for alt in self.alternatives:
            if alt.id == alt_id:
                root = self.tree.root.id
                criteria = tuple(
                    attrs.evolve(c, points=alt.points)
                    if c.id == root and alt.points is not None
                    else c
                    for c in self.criteria
                )
                return attrs.evolve(
                    self,
                    id=f"{self.id}:{alt.id}",
                    title=f"{self.title} — {alt.title}",
                    criteria=criteria,
                    levels=alt.levels if alt.levels is not None else self.levels,
                    missing=alt.missing if alt.missing is not None else self.missing,
                    bands=alt.bands if alt.bands is not None else self.bands,
                    alternatives=(),
                )
        known = ", ".join(a.id for a in self.alternatives) or "none"
        raise RubricError(
            Problem(
                f'rubric "{self.id}" has no alternative "{alt_id}"; its alternatives: {known}',
                key_path="alternative",
            )
        )

    def source(self, sid: str) -> Source | None:
        """The source with id ``sid``, if the rubric lists one."""
        for s in self.sources:
            if s.id == sid:
                return s
        return None

    def derive(
        self,
        id: str,
        *,
        title: str | None = None,
        version: str = "1",
        points: Mapping[str, object] | None = None,
        weights: Mapping[str, object] | None = None,
        remove: Iterable[str] = (),
        criteria: Iterable[Criterion] = (),
        **changes: Any,
    ) -> Rubric:
        """A new rubric made from this one, inheriting everything it does not change.

        ``points`` and ``weights`` map criterion ids to new values (only that field of the
        criterion changes: its label, scale, source … are kept); ``criteria`` are whole
        criteria that replace the one of the same id or, with a new id, are added after the
        inherited ones; ``remove`` drops criteria with everything below them. ``changes``
        replace other fields (``bands``, ``levels``, ``flags``, ``alternatives``,
        ``missing``, ``year``, ``description``), except ``sources``, which are added to the
        inherited ones (a source with an inherited id replaces it). The title defaults to
        ``"ID (derived from PARENT)"``; the version is the derived rubric's own (``"1"``
        unless given, never the parent's). The result records this rubric's id and digest
        in :attr:`derived_from`, has its own digest, and is validated as a whole: a
        ``sum`` whose children no longer add up is a :class:`~kepatuhan.RubricError`
        naming this rubric and the siblings to change, and by how much. Reading a TOML
        file with ``extends = "…"`` calls this.
        """
        return _derive(
            self,
            id,
            title=title,
            version=version,
            points=dict(points or {}),
            weights=dict(weights or {}),
            remove=tuple(remove),
            criteria=tuple(criteria),
            changes=changes,
        )


#: The fields :meth:`Rubric.derive` takes as ``changes`` (the others have their own argument).
DERIVE_CHANGES: tuple[str, ...] = (
    "year",
    "description",
    "missing",
    "levels",
    "bands",
    "flags",
    "alternatives",
    "sources",
)


def _derive(
    parent: Rubric,
    rubric_id: str,
    *,
    title: str | None,
    version: str,
    points: dict[str, object],
    weights: dict[str, object],
    remove: tuple[str, ...],
    criteria: tuple[Criterion, ...],
    changes: Mapping[str, Any],
) -> Rubric:
    """:meth:`Rubric.derive`: check what is asked, build the new criteria, validate the whole."""
    unknown = sorted(set(changes) - set(DERIVE_CHANGES))
    if unknown:
        raise TypeError(
            f"derive() got unexpected field(s) {', '.join(unknown)}; "
            f"it changes {', '.join(DERIVE_CHANGES)}"
        )
    tree = parent.tree
    known = tree.index
    of = f'rubric "{parent.id}"'
    problems: list[Problem] = []

    def unknown_id(cid: object, key: str) -> None:
        problems.append(
            Problem(
                f"{fmt(cid)} is not a criterion of {of}{suggest(str(cid), list(known))}",
                key_path=key,
                expected=f"a criterion id of {of}",
                found=fmt(cid),
            )
        )

    gone: set[str] = set()
    for cid in remove:
        if not isinstance(cid, str) or cid not in known:
            unknown_id(cid, "remove")
        elif known[cid] == tree.root_index:
            problems.append(
                Problem(
                    f'cannot remove the root criterion "{cid}" of {of}',
                    key_path="remove",
                    expected="a criterion below the root",
                    found=fmt(cid),
                )
            )
        else:  # the criterion and its whole subtree
            stack = [known[cid]]
            while stack:
                i = stack.pop()
                gone.add(tree.nodes[i].id)
                stack.extend(tree.children[i])
    given: dict[str, Criterion] = {}
    for c in criteria:
        if not isinstance(c, Criterion):
            raise TypeError(f"derive(criteria=…) takes Criterion values, found {fmt(c)}")
        key = f'criterion "{c.id}"'
        if c.id in given:
            problems.append(Problem(f'criterion "{c.id}" is given twice', key_path=key))
        if c.id in gone:
            problems.append(Problem(f'criterion "{c.id}" is both removed and given', key_path=key))
        given[c.id] = c
    new_values: dict[str, dict[str, Any]] = {}
    for field, asked in (("points", points), ("weight", weights)):
        for cid, value in asked.items():
            key = f'criterion "{cid}".{field}'
            if cid in gone:
                problems.append(Problem(f'criterion "{cid}" is removed', key_path=key))
            elif cid not in known and cid not in given:
                unknown_id(cid, key)
                continue
            try:
                number = to_decimal(value)
            except (TypeError, ValueError):
                problems.append(
                    Problem(
                        f"expected a number > 0, found {fmt(value)}",
                        key_path=key,
                        expected="a number > 0",
                        found=fmt(value),
                    )
                )
                continue
            new_values.setdefault(cid, {})[field] = number
    if problems:
        raise RubricError(problems)
    out: list[Criterion] = []
    for c in (*parent.criteria, *(g for g in given.values() if g.id not in known)):
        if c.id in gone:
            continue
        c = given.get(c.id, c)
        if c.id in new_values:
            c = attrs.evolve(c, **new_values[c.id])
        out.append(c)
    fields = dict(changes)
    if "sources" in fields:  # added to the inherited sources; the same id replaces one
        added = {s.id: s for s in fields["sources"]}
        fields["sources"] = (
            *(added.pop(s.id, s) for s in parent.sources),
            *added.values(),
        )
    crits = tuple(out)
    try:
        return attrs.evolve(
            parent,
            id=rubric_id,
            title=title if title is not None else f"{rubric_id} (derived from {parent.id})",
            version=version,
            criteria=crits,
            derived_from=DerivedFrom(parent.id, parent.digest, parent.derived_from),
            **fields,
        )
    except RubricError as exc:
        changed = set(given) | set(new_values)
        hinted = _derived_sum_hints(parent, crits, changed)
        raise RubricError([hinted.get(p, p) for p in exc.problems]) from None


def _derived_sum_hints(
    parent: Rubric, crits: tuple[Criterion, ...], changed: set[str]
) -> dict[Problem, Problem]:
    """For each ``sum`` whose children miss their total, the plain problem and the same
    problem naming the parent rubric and the children to change (those the derivation left
    as inherited, else all), and by how much."""
    kids: dict[str, list[Criterion]] = {}
    for c in crits:
        if c.parent is not None:
            kids.setdefault(c.parent, []).append(c)
    out: dict[Problem, Problem] = {}
    for c in crits:
        if c.rule.name != "sum" or c.id not in kids:
            continue
        gap = _points_gap(c, kids[c.id])
        if gap is None:
            continue
        total, target = gap
        fixed = [k for k in kids[c.id] if k.id not in changed] or kids[c.id]
        names = [f'"{k.id}" ({k.points})' for k in fixed]
        which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        diff = target - total
        hint = (
            f'; derived from rubric "{parent.id}": '
            f"{'raise' if diff > 0 else 'lower'} the points of {which} by {abs(diff)}"
            + (" in all" if len(names) > 1 else "")
        )
        for plain in _sum_problems(c, kids[c.id]):
            out[plain] = attrs.evolve(plain, message=plain.message + hint)
    return out


@attrs.frozen(eq=False)
class CriterionTree:
    """Index over a rubric's criteria: order, children, depth, computed levels."""

    nodes: tuple[Criterion, ...]
    index: Mapping[str, int]
    parent: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    order: tuple[int, ...]
    """Post-order: every node after all of its children."""
    level: tuple[int, ...]
    """Per node, the finest level at which it is computed from its children (0..2)."""

    @property
    def root(self) -> Criterion:
        """The root criterion."""
        return self.nodes[self.order[-1]]

    @property
    def root_index(self) -> int:
        """Index of the root criterion."""
        return self.order[-1]

    def node(self, cid: str) -> Criterion:
        """The criterion ``cid`` (``"total"`` is the root)."""
        if cid == TOTAL and TOTAL not in self.index:
            return self.root
        try:
            return self.nodes[self.index[cid]]
        except KeyError:
            raise RubricError(
                Problem(
                    f'unknown criterion "{cid}"',
                    expected="a criterion id of the rubric",
                    found=fmt(cid),
                )
            ) from None

    def is_leaf(self, i: int) -> bool:
        """Whether node ``i`` has no children."""
        return not self.children[i]

    def leaves(self) -> Iterator[int]:
        """Indices of the leaves, in post-order."""
        return (i for i in self.order if not self.children[i])

    def preorder(self) -> list[int]:
        """Indices from the root down, each node before its children, siblings in file order."""
        out: list[int] = []
        stack = [self.root_index]
        while stack:
            i = stack.pop()
            out.append(i)
            stack.extend(reversed(self.children[i]))
        return out

    def path(self, i: int) -> tuple[int, ...]:
        """Indices from the root down to node ``i``."""
        out = [i]
        while self.parent[out[-1]] >= 0:
            out.append(self.parent[out[-1]])
        return tuple(reversed(out))


def _key(c: Criterion) -> str:
    return f'criterion "{c.id}"'


def _tree_problems(criteria: tuple[Criterion, ...]) -> tuple[list[Problem], int | None]:
    """Check ids, parents and acyclicity; return problems and the root index."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(criteria):
        if not isinstance(c.id, str) or not _ID.match(c.id):
            problems.append(
                Problem(
                    "expected an id of letters, digits, '_', '-', '.', found " + fmt(c.id),
                    key_path=f"criterion[{i}].id",
                )
            )
        if c.id in seen:
            problems.append(
                Problem(
                    f'duplicate criterion id "{c.id}" (also criterion[{seen[c.id]}])',
                    key_path=f"criterion[{i}].id",
                    expected="unique ids",
                    found=fmt(c.id),
                )
            )
        else:
            seen[c.id] = i
    # "y" and "Y": the data reader refuses the second spelling of one criterion, so both
    # could never be given; in a derived file, an override spelt "Y" would add a criterion
    folded: dict[str, str] = {}
    for c in criteria:
        if not isinstance(c.id, str):
            continue
        first = folded.setdefault(id_key(c.id), c.id)
        if first != c.id:
            problems.append(
                Problem(
                    f'criterion "{c.id}" looks like the same criterion as "{first}": ids that '
                    "differ only in letter case are refused (data could not give both); write "
                    f'one spelling ("{first}" to override an inherited criterion)',
                    key_path=f"{_key(c)}.id",
                    expected=f'an id other than "{first}" in another letter case',
                    found=fmt(c.id),
                )
            )
    roots = [c for c in criteria if c.parent is None]
    if not criteria:
        problems.append(
            Problem("expected at least one [[criterion]], found none", key_path="criterion")
        )
        return problems, None
    if len(roots) != 1:
        problems.append(
            Problem(
                "expected exactly one root criterion (one without parent), found "
                + (", ".join(f'"{r.id}"' for r in roots) if roots else "none"),
                key_path="criterion",
            )
        )
    for c in criteria:
        if c.parent is not None and c.parent not in seen:
            problems.append(
                Problem(
                    f'parent "{c.parent}" is not a criterion of this rubric (orphan)',
                    key_path=f"{_key(c)}.parent",
                    expected="the id of another criterion",
                    found=fmt(c.parent),
                )
            )
        if c.id == TOTAL and c.parent is not None:
            problems.append(
                Problem(
                    '"total" is reserved for the root criterion',
                    key_path=f"{_key(c)}.id",
                )
            )
    if problems:
        return problems, None
    # Walk each node up to the root; a walk that revisits a node is a cycle.
    depth: dict[str, int] = {}
    for c in criteria:
        chain: list[str] = []
        on_chain: set[str] = set()  # a set beside the list: the cycle test stays O(1)
        cur: str | None = c.id
        while cur is not None and cur not in depth:
            if cur in on_chain:
                cycle = [*chain[chain.index(cur) :], cur]
                problems.append(
                    Problem(
                        "criterion cycle: " + " -> ".join(f'"{x}"' for x in cycle),
                        key_path=f'criterion "{cur}".parent',
                    )
                )
                return problems, None
            chain.append(cur)
            on_chain.add(cur)
            cur = criteria[seen[cur]].parent
        base = -1 if cur is None else depth[cur]
        for k, name in enumerate(reversed(chain)):
            depth[name] = base + 1 + k
    deepest = max(depth.values())
    if deepest > MAX_DEPTH:
        worst = max(depth, key=lambda k: depth[k])
        problems.append(
            Problem(
                f"criterion tree too deep: expected at most {MAX_DEPTH} levels, found {deepest}",
                key_path=f'criterion "{worst}"',
            )
        )
        return problems, None
    return problems, seen[roots[0].id]


def criterion_tree(criteria: Sequence[Criterion]) -> CriterionTree | None:
    """The indexed tree of ``criteria``, or ``None`` when their ids or parents do not make
    one tree (duplicates, orphans, a cycle, no single root). For checks of a rubric that
    failed its other rules: the names of its scales and rules can still be checked."""
    crits = tuple(criteria)
    problems, root = _tree_problems(crits)
    return None if problems or root is None else _build_tree(crits)


def _build_tree(criteria: tuple[Criterion, ...]) -> CriterionTree:
    index = {c.id: i for i, c in enumerate(criteria)}
    parent = tuple(-1 if c.parent is None else index[c.parent] for c in criteria)
    kids: list[list[int]] = [[] for _ in criteria]
    for i, p in enumerate(parent):
        if p >= 0:
            kids[p].append(i)
    root = parent.index(-1)
    order: list[int] = []
    stack: list[tuple[int, bool]] = [(root, False)]
    while stack:  # iterative post-order, so deep trees cannot exhaust the C stack
        i, done = stack.pop()
        if done:
            order.append(i)
        else:
            stack.append((i, True))
            stack.extend((k, False) for k in reversed(kids[i]))
    level = [0] * len(criteria)
    for i in order:
        if kids[i]:
            level[i] = min(level[k] for k in kids[i])
        else:
            lv = criteria[i].level
            level[i] = LEVELS.index(lv) if lv in LEVELS else 0
    return CriterionTree(
        nodes=criteria,
        index=index,
        parent=parent,
        children=tuple(tuple(k) for k in kids),
        order=tuple(order),
        level=tuple(level),
    )


def _node_problems(criteria: tuple[Criterion, ...], tree: CriterionTree) -> list[Problem]:
    problems: list[Problem] = []
    for i, c in enumerate(criteria):
        key = _key(c)
        leaf = tree.is_leaf(i)
        if c.weight is not None and c.points is not None:
            problems.extend(_points_and_weight(c, i, tree))
        for field in ("weight", "points"):
            v = getattr(c, field)
            if v is not None and not v > 0:
                problems.append(
                    Problem(
                        f"expected a number > 0, found {v}",
                        key_path=f"{key}.{field}",
                        expected="a number > 0",
                        found=str(v),
                    )
                )
        if c.confidence is not None and c.confidence not in CONFIDENCES:
            problems.append(
                Problem(
                    f"expected one of {', '.join(CONFIDENCES)}, found {fmt(c.confidence)}",
                    key_path=f"{key}.confidence",
                )
            )
        if leaf:
            if c.scale is None:
                problems.append(
                    Problem(
                        "an indicator (a criterion without children) needs a scale, found none",
                        key_path=f"{key}.scale",
                        expected="a scale name",
                        found="nothing",
                    )
                )
            if c.level not in LEVELS:
                problems.append(
                    Problem(
                        f"expected the level it is observed at ({', '.join(LEVELS)}), "
                        f"found {fmt(c.level) if c.level is not None else 'nothing'}",
                        key_path=f"{key}.level",
                    )
                )
        else:
            if c.scale is not None:
                problems.append(
                    Problem(
                        "only indicators (criteria without children) have a scale; "
                        "this criterion has children",
                        key_path=f"{key}.scale",
                    )
                )
            if c.level is not None:
                problems.append(
                    Problem(
                        "only indicators have a level; a parent's level follows its children",
                        key_path=f"{key}.level",
                    )
                )
            if c.rule.name == "sum":
                problems.extend(_sum_problems(c, [tree.nodes[k] for k in tree.children[i]]))
    return problems


def _points_gap(c: Criterion, kids: list[Criterion]) -> tuple[Decimal, Decimal] | None:
    """``(total, target)`` when the points of a ``sum`` node's children (all given) miss the
    node's points (100 for the root); None when they add up or cannot be added."""
    if any(k.points is None for k in kids):
        return None
    total = sum((k.points for k in kids if k.points is not None), Decimal(0))
    target = c.points if c.points is not None else (Decimal(100) if c.parent is None else None)
    if target is None or total == target:
        return None
    return total, target


def _points_and_weight(c: Criterion, i: int, tree: CriterionTree) -> list[Problem]:
    """Points and a weight on one criterion: an error wherever one of them would be unused.

    Under a ``sum`` parent the points weigh the node, so a weight is ignored; a leaf's
    maximum comes from its scale, so beside a weight its points mean nothing; the root has
    no siblings to be weighed against. Only an internal node under a weighted parent uses
    both: the weight among its siblings, the points as its own maximum (of a value given
    for it directly, or of an additive rule's children).
    """
    p = tree.parent[i]
    if p >= 0 and tree.nodes[p].rule.name == "sum":
        unused = 'the weight: under a "sum" parent a criterion weighs by its points'
    elif tree.is_leaf(i):
        unused = "the points: an indicator's maximum comes from its scale, its weight weighs it"
    elif p < 0:
        unused = "the weight: the root has no siblings to be weighed against"
    else:
        return []
    return [
        Problem(
            f'criterion "{c.id}" has both points and weight, and would not use {unused}; '
            "give one of them",
            key_path=_key(c),
            expected="points or weight, not both",
            found=f"points = {c.points}, weight = {c.weight}",
        )
    ]


def _sum_problems(c: Criterion, kids: list[Criterion]) -> list[Problem]:
    """Children of a ``sum`` node are points that must add up to the node's maximum."""
    missing = [k.id for k in kids if k.points is None]
    if missing:
        return [
            Problem(
                'rule "sum" adds points: every child needs points, found none on '
                + ", ".join(f'"{m}"' for m in missing),
                key_path=f"{_key(c)}.rule",
            )
        ]
    gap = _points_gap(c, kids)
    if gap is None:
        return []
    total, target = gap
    return [
        Problem(
            f"children's points add up to {total}, expected {target} (checked exactly, in decimal)",
            key_path=f"{_key(c)}.points" if c.points is not None else f"{_key(c)}.rule",
            expected=str(target),
            found=str(total),
        )
    ]


def _not_applicable_problems(tree: CriterionTree) -> list[Problem]:
    """A ``not_applicable_for`` rule names at least one value of a known attribute, in
    text, and can match: a ``unit_sector`` rule needs something below it scored per unit
    or product (an institution has no sector)."""
    problems: list[Problem] = []
    finest = list(tree.level)
    for i in tree.order:  # children first: the finest level scored anywhere below a node
        for k in tree.children[i]:
            finest[i] = max(finest[i], finest[k])
    for i, c in enumerate(tree.nodes):
        rule = c.not_applicable_for
        if rule is None:
            continue
        key = f"{_key(c)}.not_applicable_for"
        if not rule.rules():
            problems.append(
                Problem(
                    "expected at least one of " + ", ".join(NOT_APPLICABLE_KEYS) + ", found none",
                    key_path=key,
                    expected='e.g. { unit_sector = ["kesehatan"] }',
                    found="{}",
                )
            )
        for name, values in rule.rules():
            for j, v in enumerate(values):
                if not isinstance(v, str) or not v.strip():
                    problems.append(
                        Problem(
                            f"expected a non-empty text, found {fmt(v)}",
                            key_path=f"{key}.{name}[{j}]",
                            expected="a sector or kind, as the data writes it",
                            found=fmt(v),
                        )
                    )
            if NOT_APPLICABLE_KEYS[name] > finest[i]:
                problems.append(
                    Problem(
                        f'criterion "{c.id}" is scored per {LEVELS[finest[i]]} only; a '
                        f"{name} rule can never match it (an institution has no sector)",
                        key_path=f"{key}.{name}",
                        expected="a criterion scored per unit or product",
                        found=f"a criterion scored per {LEVELS[finest[i]]}",
                    )
                )
    return problems


def citations(rubric: Rubric) -> list[tuple[str, str]]:
    """Every ``source`` a rubric cites, as ``(key path, source id)``: criteria, roll-up
    rules, bands, flags and alternatives. A value starting ``http`` is a URL cited directly."""
    out: list[tuple[str, str | None]] = [
        (f'criterion "{c.id}".source', c.source) for c in rubric.criteria
    ]
    out += [(f"levels.{n}.source", rubric.levels.rule(n).source) for n in ("institution", "unit")]
    if rubric.bands is not None:
        out += [(f'bands.band "{b.id}".source', b.source) for b in rubric.bands.bands]
    out += [(f'flag "{f.id}".source', getattr(f, "source", None)) for f in rubric.flags]
    for a in rubric.alternatives:
        key = f'alternative "{a.id}"'
        out.append((f"{key}.source", a.source))
        if a.levels is not None:
            out += [
                (f"{key}.levels.{n}.source", a.levels.rule(n).source)
                for n in ("institution", "unit")
            ]
        if a.bands is not None:
            out += [(f'{key}.bands.band "{b.id}".source', b.source) for b in a.bands.bands]
    return [(k, str(v)) for k, v in out if v]


def _citation_problems(rubric: Rubric, listed: set[str]) -> list[Problem]:
    """A cited source id must be a ``[[source]]`` of the rubric (a URL may be cited as is)."""
    return [
        Problem(
            f'source "{sid}" is cited but not defined in [[source]]',
            key_path=key,
            expected="the id of a [[source]]",
            found=fmt(sid),
        )
        for key, sid in citations(rubric)
        if sid not in listed and not sid.startswith(("http://", "https://"))
    ]


def check_rubric(rubric: Rubric) -> list[Problem]:
    """Every structural problem of ``rubric`` (empty when valid); plugins are not consulted."""
    return _check(rubric)[0]


def _check(rubric: Rubric) -> tuple[list[Problem], CriterionTree | None]:
    """The problems of ``rubric`` and, when its tree is sound, the tree (built once here).

    Every step is linear in the number of criteria, sources, flags and bands: lookups go
    through dicts and sets, never a scan of all criteria per criterion.
    """
    problems: list[Problem] = []
    if not isinstance(rubric.id, str) or not _RUBRIC_ID.match(rubric.id):
        problems.append(
            Problem(
                "expected a rubric id of letters, digits, '_', '-', '.', found " + fmt(rubric.id),
                key_path="id",
            )
        )
    if rubric.missing not in MISSING_POLICIES:
        problems.append(
            Problem(
                f"expected one of {', '.join(MISSING_POLICIES)}, found {fmt(rubric.missing)}",
                key_path="missing",
            )
        )
    for name in ("institution", "unit"):
        rule = rubric.levels.rule(name)
        if rule.weight_by not in WEIGHT_BY:
            problems.append(
                Problem(
                    f"expected one of {', '.join(WEIGHT_BY)}, found {fmt(rule.weight_by)}",
                    key_path=f"levels.{name}.weight_by",
                )
            )
    if rubric.levels.unit.weight_by == "products":
        problems.append(
            Problem(
                'a unit combines its products; "products" weighting is for the institution '
                'level (weigh products by their own weight with "product_weight")',
                key_path="levels.unit.weight_by",
            )
        )
    if rubric.levels.institution.weight_by == "product_weight":
        problems.append(
            Problem(
                'an institution combines units; "product_weight" is for the unit level '
                '([levels.unit] weight_by = "product_weight")',
                key_path="levels.institution.weight_by",
            )
        )
    counts = Counter(s.id for s in rubric.sources)
    for sid in sorted(x for x, k in counts.items() if k > 1):
        problems.append(Problem(f'duplicate source id "{sid}"', key_path="source"))
    problems.extend(_citation_problems(rubric, set(counts)))
    tree_problems, root = _tree_problems(rubric.criteria)
    problems.extend(tree_problems)
    tree = None if root is None else _build_tree(rubric.criteria)
    if tree is not None:
        problems.extend(_node_problems(rubric.criteria, tree))
        problems.extend(_not_applicable_problems(tree))
    if rubric.bands is not None:
        problems.extend(check_bands(rubric.bands))
        if root is not None:
            top = rubric.criteria[root].points or Decimal(100)
            if rubric.bands.maximum != top:
                problems.append(
                    Problem(
                        f"bands.maximum is {rubric.bands.maximum}, but scores run to {top} "
                        "(the root's points, 100 by default)",
                        key_path="bands.maximum",
                        expected=str(top),
                        found=str(rubric.bands.maximum),
                    )
                )
    crit_ids = {c.id for c in rubric.criteria} | {TOTAL}
    seen_flags: set[str] = set()
    for f in rubric.flags:
        key = f'flag "{f.id}"'
        if f.id in crit_ids or f.id in seen_flags:
            problems.append(
                Problem(f'flag id "{f.id}" is already used by a criterion or flag', key_path=key)
            )
        seen_flags.add(f.id)
        if f.level not in LEVELS:
            problems.append(
                Problem(
                    f"expected one of {', '.join(LEVELS)}, found {fmt(f.level)}",
                    key_path=f"{key}.level",
                )
            )
    for alt in rubric.alternatives:
        if alt.bands is not None:
            problems.extend(check_bands(alt.bands, key=f'alternative "{alt.id}".bands'))
    return problems, tree


#: Names the canonical form below; a change to the form changes this tag (and every digest).
DIGEST_FORM = "kepatuhan-rubric/1"


def _canonical_number(d: Decimal) -> str:
    """An exact decimal string: ``1``, ``1.0`` and ``1.00`` give ``"1"``, ``-0`` gives ``"0"``."""
    return "0" if d == 0 else format(d.normalize(), "f")


def _canonical_param(value: ParamValue) -> list[Any]:
    """A scale parameter tagged with its kind, so ``max = 3`` and ``max = "3"`` differ."""
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, Decimal):
        return ["number", _canonical_number(value)]
    if isinstance(value, tuple):
        return ["numbers", [_canonical_number(v) for v in value]]
    return ["text", value]


def _canonical(value: Any) -> Any:
    """The canonical form of one value of a rubric (see :func:`canonical_rubric`)."""
    if isinstance(value, ScaleRef):
        return {"name": value.name, "params": {k: _canonical_param(v) for k, v in value.params}}
    if isinstance(value, RuleRef):
        # A rule without parameters stays the plain name it always was: rubrics written
        # before rule parameters existed keep their digests.
        if not value.params:
            return value.name
        return {"name": value.name, "params": {k: _canonical_param(v) for k, v in value.params}}
    if attrs.has(type(value)):
        # Python attribute names, not file keys; None means "not given" and is left out,
        # so a new optional field never changes the digest of a rubric that does not use it.
        return {
            f.name: _canonical(getattr(value, f.name))
            for f in attrs.fields(type(value))
            if getattr(value, f.name) is not None
        }
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, Decimal):
        return _canonical_number(value)
    if isinstance(value, tuple):
        return [_canonical(v) for v in value]
    raise TypeError(f"no canonical form for {type(value).__name__}")  # a new field type


def canonical_rubric(rubric: Rubric) -> dict[str, Any]:
    """The rubric's content as plain JSON data, independent of how a file spelled it.

    Every field of every value (criteria in file order, levels, bands, missing policy,
    flags, alternatives, sources, labels and notes) under its Python attribute name;
    numbers as exact decimal strings; scale parameters sorted, each tagged with its kind;
    fields that are ``None`` left out. Two rubrics are equal exactly when their canonical
    forms are.
    """
    return {"form": DIGEST_FORM, "rubric": _canonical(rubric)}


#: Hex digits a listing shows of a digest: enough to tell rubrics apart by eye.
SHORT_DIGEST = 12


def short_digest(digest: str) -> str:
    """A digest as listings show it: the first :data:`SHORT_DIGEST` hex digits, without the
    ``sha256:`` prefix (``kepatuhan rubrics``, the report card's provenance)."""
    return digest.split(":")[-1][:SHORT_DIGEST]


def rubric_digest(rubric: Rubric) -> str:
    """The ``sha256:…`` digest of :func:`canonical_rubric` as compact, key-sorted JSON.

    Linear in the size of the rubric; :attr:`Rubric.digest` computes it once per rubric.
    """
    payload = json.dumps(canonical_rubric(rubric), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()
