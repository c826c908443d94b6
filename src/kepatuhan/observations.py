"""Who is assessed (institutions, units, products) and what was observed, as numpy columns.

An :class:`ObservationTable` holds one row per observation: the entity it is about (an
institution, one of its units, or one of a unit's service products), the criterion (any
node of a rubric, or ``total``), and the value with its state — a number, *not
applicable* or *missing* (three different things, see ``docs/concepts.md``). String ids
are factorised once into integer codes as rows arrive, so scoring never touches a Python
object per observation. Each row remembers the line of the file it came from, so any
later error can point at it.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
import weakref
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from .errors import ObservationError, Problem, ProblemLog, fmt, id_key

__all__ = [
    "MISSING",
    "NOT_APPLICABLE",
    "VALUE",
    "Institution",
    "Observation",
    "ObservationTable",
    "ServiceProduct",
    "TableBuilder",
    "Unit",
    "UnitSelection",
    "clean_text",
    "parse_cell",
    "parse_value",
]

#: Observation states (the ``state`` column).
VALUE, NOT_APPLICABLE, MISSING = 0, 1, 2
#: Added to a state in :attr:`TableBuilder.state` when the value was a yes/no word.
WORD = 4

# The only yes/no words: Indonesian and English, any letter case. Shorter or other forms
# are refused (``T`` is "true" to one reader and "tidak" to another).
_YES = frozenset({"ya", "yes"})
_NO = frozenset({"tidak", "no"})
_NA = frozenset({"na", "n/a", "n.a.", "tidak berlaku", "not applicable"})
#: Spellings a spreadsheet may hold for yes/no that are refused with a hint.
_NOT_YES_NO = frozenset(
    {"y", "n", "t", "f", "true", "false", "benar", "salah", "betul", "iya", "tdk", "ok", "x"}
    | {"v", "ada", "tidak ada", "\u2713", "\u2714", "\u221a", "\u2717", "\u2718"}
)
#: Cells that mean "nothing" in some spreadsheet: refused, as missing and not applicable differ.
_DASHES = frozenset({"-", "--", "\u2013", "\u2014", "?", "."})
# A number is ASCII digits, an optional leading minus and one decimal separator followed by
# digits: nothing else (no plus, exponent, underscore, percent, grouping, inf or nan).
_NUMBER = {False: re.compile(r"-?[0-9]+(?:\.[0-9]+)?"), True: re.compile(r"-?[0-9]+(?:,[0-9]+)?")}
_LOOSE = re.compile(r"[+-]?[0-9]*[.,]?[0-9]*")
_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_GROUPED = re.compile(r"-?[0-9]{1,3}(?:[.,\u00a0 '][0-9]{3})+(?:[.,][0-9]+)?")

#: Characters refused in ids and attributes by Unicode category: controls (Cc), invisible
#: format characters (Cf: zero-width, bidi controls, soft hyphen, a BOM inside), lone
#: surrogates (Cs) and line/paragraph separators; spaces other than U+0020 (Zs) too.
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Zs"})
_BIDI = frozenset([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])


@attrs.frozen
class Institution:
    """An assessed institution: a ministry, agency, province, regency or city.

    ``kind`` is free text such as ``kabupaten``, ``kota``, ``provinsi``, ``kementerian``,
    ``lembaga`` (a rubric may use it, e.g. to choose a scale).
    """

    id: str
    name: str | None = None
    kind: str | None = None


@attrs.frozen
class Unit:
    """A sampled service unit (OPD, Puskesmas, Polres …) of an institution.

    ``sector`` is free text (``kesehatan``, ``pendidikan``, ``sosial`` …); rubrics can
    select or weight units by it (the 2024 SPM focus).
    """

    id: str
    institution: str
    name: str | None = None
    sector: str | None = None


@attrs.frozen
class ServiceProduct:
    """A service product (produk layanan) of a unit.

    ``weight`` is the product's weight in its unit's score when the rubric says
    ``[levels.unit] weight_by = "product_weight"`` (the ``weight`` column of its rows):
    a number > 0, or None when the data gives none.
    """

    id: str
    unit: str
    institution: str
    name: str | None = None
    weight: float | None = None


@attrs.frozen
class Observation:
    """One value of one criterion for one entity.

    ``unit=None`` makes it about the institution, ``product=None`` about the unit.
    ``value`` is a number, ``"ya"``/``"tidak"`` (yes/no), ``"na"`` (not applicable) or
    ``None`` (missing). Optional ``evidence``/``date``/``note`` travel with it; ``weight``
    (product rows only) is the product's weight (``weight_by = "product_weight"``).
    """

    institution: str
    criterion: str
    value: float | str | None
    unit: str | None = None
    product: str | None = None
    note: str | None = None
    evidence: str | None = None
    date: str | None = None
    weight: float | str | None = None


@attrs.frozen
class UnitSelection:
    """Which units count for an institution's score, and how much (``kepatuhan_select_units``).

    ``weights`` has one entry per unit of the table (0 = excluded from the institution's
    score, 1 = counts normally). ``views`` are extra named unit weightings reported beside
    the score (the 2024 SPM-focus score). ``warnings`` are shown to the user.
    """

    weights: NDArray[np.float64] | None = None
    views: Mapping[str, NDArray[np.float64]] = attrs.field(factory=dict)
    warnings: tuple[Problem, ...] = ()
    source: str | None = None


def _located(
    source: str | None,
    line_kind: str,
    line: int,
    message: str,
    expected: str | None = None,
    found: str | None = None,
) -> Problem:
    """A problem at a CSV line (``file:line``) or a TOML/JSON record (``observation[i]``)."""
    if line_kind == "record":
        return Problem(
            message,
            path=source,
            key_path=f"observation[{line - 1}]",
            expected=expected,
            found=found,
        )
    if source is None:
        return Problem(message, key_path=f"row {line}", expected=expected, found=found)
    return Problem(message, path=source, line=line, expected=expected, found=found)


def parse_cell(token: str, *, decimal_comma: bool = False) -> tuple[float, int, bool]:
    """Parse a cell of the ``value`` column into ``(number, state, is_word)``.

    A number is ASCII digits with an optional leading minus and one decimal separator (a
    dot, or a comma when ``decimal_comma``), like ``85`` or ``-2.5``; ``ya``/``yes`` is 1 and
    ``tidak``/``no`` is 0 (``is_word`` is true for these four, in any letter case); ``na``
    is not applicable; an empty cell is missing. Surrounding spaces are ignored. Anything
    else raises ``ValueError`` with a hint (``85%``, ``1e3``, ``+5``, ``1_5``, ``T``,
    ``true``, ``inf``, ``88,01`` without ``decimal_comma`` …): never a silent number.
    """
    t = token.strip()
    if not t:
        return 0.0, MISSING, False
    low = t.lower()
    if low in _NA:
        return 0.0, NOT_APPLICABLE, False
    if low in _YES:
        return 1.0, VALUE, True
    if low in _NO:
        return 0.0, VALUE, True
    if _NUMBER[decimal_comma].fullmatch(t):
        if _THOUSANDS[decimal_comma].fullmatch(t):
            raise ValueError(_ambiguous(t, decimal_comma))
        v = float(t.replace(",", ".") if decimal_comma else t)
        if not math.isfinite(v):
            raise ValueError(f"expected a finite number, found {_show(t)} (too large)")
        return v + 0.0, VALUE, False  # + 0.0: "-0" is the same observation as "0"
    raise ValueError(_refusal(t, low, decimal_comma))


#: 1–3 digits, the separator, exactly three digits: the shape of a thousands group
#: (``1.000`` is one thousand in Indonesian, ``1,000`` in English).
_THOUSANDS = {
    False: re.compile(r"-?[1-9][0-9]{0,2}\.[0-9]{3}"),
    True: re.compile(r"-?[1-9][0-9]{0,2},[0-9]{3}"),
}


def _ambiguous(t: str, decimal_comma: bool) -> str:
    sep = "," if decimal_comma else "."
    whole, frac = t.split(sep)
    return (
        f"{_show(t)} is ambiguous: {sep!r} before exactly three digits also separates "
        f"thousands ({whole}{frac}); write {t}0 for the number (a fourth decimal makes it "
        f"plain), or {whole}{frac} if you meant thousands"
    )


def parse_value(token: str) -> tuple[float, int]:
    """Parse a cell of the ``value`` column into ``(number, state)``: :func:`parse_cell`
    with a decimal point, without the ``is_word`` flag."""
    v, st, _ = parse_cell(token)
    return v, st


def _refusal(t: str, low: str, decimal_comma: bool) -> str:
    """Why a value cell is refused, with a hint at what to write instead."""
    sep, other = (",", ".") if decimal_comma else (".", ",")
    number = _NUMBER[decimal_comma]
    found = _show(t)
    if low in _NOT_YES_NO:
        why = f"; {found} could mean true or tidak" if low == "t" else ""
        return f"expected ya or tidak for a yes/no answer, found {found} (write ya or tidak{why})"
    if low.lstrip("+-") in ("inf", "infinity", "nan"):
        return f"expected a finite number, found {found}"
    if t in _DASHES:
        return (
            f"expected a number, ya/tidak, na, or an empty cell, found {found} "
            "(write na for not applicable, or leave the cell empty for a missing value)"
        )
    if t.endswith("%") and number.fullmatch(t[:-1].strip()):
        return (
            f"expected a number without a percent sign, found {found} "
            f"(write {t[:-1].strip()}; the criterion's scale says what the number means)"
        )
    if _SCIENTIFIC.fullmatch(t.replace(",", ".") if decimal_comma else t):
        return f"expected a plain number, found {found} in scientific notation{_plain(t, sep)}"
    if t.startswith("+") and number.fullmatch(t[1:]):
        return f"expected a number without a plus sign, found {found} (write {t[1:]})"
    if other in t and number.fullmatch(t.replace(other, sep, 1)) and t.count(sep) == 0:
        # Three digits after the separator may be a thousands group: say both readings.
        grouped = len(t) - t.index(other) == 4
        alt = f", or {t.replace(other, '')} if it separates thousands" if grouped else ""
        if decimal_comma:
            return (
                f"expected a number with a decimal comma (decimal_comma is on), found {found} "
                f"(write {t.replace('.', ',')}{alt})"
            )
        return (
            f"expected a number with a decimal point, found {found}: read a file with "
            "decimal commas with decimal_comma=True (--decimal-comma), or "
            f"write {t.replace(',', '.')}{alt}"
        )
    if _GROUPED.fullmatch(t) or (sep in t and other in t):
        return (
            f"expected a number without thousands separators, found {found} "
            f"(write the digits only, with {sep!r} before the decimals)"
        )
    if _LOOSE.fullmatch(t) and any(c.isdigit() for c in t):
        body = t.lstrip("+-")
        sign = "-" if t.startswith("-") else ""
        if body.startswith(sep) and number.fullmatch(f"0{body}"):
            return f"expected a number, found {found} (write {sign}0{body})"
        if body.endswith(sep) and number.fullmatch(body[:-1]):
            return f"expected a number, found {found} (write {sign}{body[:-1]})"
    if any(c.isdigit() and not c.isascii() for c in t) or "\u2212" in t:
        return f"expected a number written with the digits 0-9 and '-', found {found}"
    if any(c.isdigit() for c in t) and ("_" in t or " " in t):
        return f"expected a number of digits only (no spaces or underscores), found {found}"
    return f"expected a number, ya/tidak, na, or an empty cell, found {found}"


def _show(t: str) -> str:
    """A found cell for a message: quoted, cut after 40 characters (a pasted paragraph)."""
    return fmt(t if len(t) <= 40 else t[:40] + "…")


def _plain(t: str, sep: str) -> str:
    """`` (write 1000)`` for ``1e3``; nothing when the plain form would be absurdly long."""
    try:
        d = Decimal(t.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the caller matched the pattern
        return ""
    if abs(d.adjusted()) > 20:
        return ""
    plain = format(d.normalize(), "f")
    return f" (write {plain.replace('.', sep)})"


def clean_text(text: str) -> str:
    """An id or attribute as stored: trimmed and NFC-normalised (one encoding of "é").

    Raises ``ValueError`` naming the first control character, invisible character (a
    zero-width space, a byte-order mark inside), bidirectional control, or space other than
    U+0020 in it: two ids that print the same must be the same id.
    """
    t = text.strip()
    if t.isascii():
        if t.isprintable():
            return t
    else:
        t = unicodedata.normalize("NFC", t)
    for i, c in enumerate(t):
        cat = unicodedata.category(c)
        if cat in _BAD_CATEGORIES and c != " ":
            raise ValueError(_bad_char(t, i, c, cat))
    return t


def _bad_char(t: str, i: int, c: str, cat: str) -> str:
    code = ord(c)
    if code in _BIDI:
        kind = "a bidirectional control character"
    elif cat == "Cc":
        kind = "a control character"
    elif cat == "Zs":
        kind = "a space other than a plain space"
    elif cat == "Cs":
        kind = "a lone surrogate"
    else:
        kind = "an invisible character"
    name = unicodedata.name(c, "") if cat != "Cs" else ""
    shown = "".join(
        f"\\u{ord(x):04x}" if unicodedata.category(x) in _BAD_CATEGORIES and x != " " else x
        for x in t
    )
    return (
        f'"{shown}" holds {kind} U+{code:04X}{" " + name if name else ""} at character '
        f"{i + 1}; retype it without that character"
    )


def _as_bool(a: Any) -> NDArray[np.bool_]:
    return np.asarray(a, dtype=np.bool_)


def _no_words(table: Any) -> NDArray[np.bool_]:
    """The default ``word`` column: no value was a yes/no word."""
    return np.zeros(len(table.value), dtype=np.bool_)


@attrs.frozen(eq=False)
class ObservationTable:
    """Observations as numpy columns, with the entities they are about.

    Columns (one entry per row): ``level`` (0 institution, 1 unit, 2 product),
    ``entity`` (index into ``institutions``/``units``/``products``), ``criterion``
    (index into ``criterion_ids``), ``value`` (float64), ``state`` (VALUE,
    NOT_APPLICABLE, MISSING) and ``line`` (1-based line in ``source``, 0 if none).
    ``unit_institution[u]`` and ``product_unit[p]`` link the entity levels.
    Build one with :class:`TableBuilder`, :meth:`from_records` or
    :func:`kepatuhan.read_observations`.
    """

    institutions: tuple[Institution, ...]
    units: tuple[Unit, ...]
    products: tuple[ServiceProduct, ...]
    unit_institution: NDArray[np.intp]
    product_unit: NDArray[np.intp]
    criterion_ids: tuple[str, ...]
    level: NDArray[np.int8]
    entity: NDArray[np.intp]
    criterion: NDArray[np.intp]
    value: NDArray[np.float64]
    state: NDArray[np.int8]
    line: NDArray[np.int64]
    source: str | None = None
    line_kind: str = "line"
    """``"line"`` (CSV: ``line`` is a line of the file) or ``"record"`` (TOML/JSON:
    ``line`` is the 1-based index of the ``observation`` record)."""
    word: NDArray[np.bool_] = attrs.field(
        default=attrs.Factory(_no_words, takes_self=True),
        converter=_as_bool,
    )
    """True where the value was written as a yes/no word (``ya``/``tidak``/``yes``/``no``),
    so a rubric can refuse a word on a numeric criterion; all false by default."""

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @property
    def digest(self) -> str:
        """SHA-256 of the observations as a set: the same rows in another order (or with the
        criteria first seen in another order) give the same digest; any changed value,
        state, yes/no spelling, id or entity attribute gives another. Computed once."""
        got = _DIGESTS.get(self)
        if got is None:
            got = _DIGESTS[self] = self._digest()
        return got

    @property
    def product_weights(self) -> NDArray[np.float64]:
        """Each product's ``weight`` as an array in the order of :attr:`products` (NaN where
        the data gives none); computed once per table, read-only."""
        got = _PRODUCT_WEIGHTS.get(self)
        if got is None:
            raw = list(map(attrgetter("weight"), self.products))
            got = np.array([np.nan if w is None else w for w in raw], dtype=np.float64)
            got.flags.writeable = False
            _PRODUCT_WEIGHTS[self] = got
        return got

    def _digest(self) -> str:
        h = hashlib.sha256()
        # Field by field with separators: as exact as repr() and ten times faster.
        for ents in (self.institutions, self.units, self.products):
            for field in attrs.fields(type(ents[0])) if ents else ():
                got = list(map(attrgetter(field.name), ents))
                if field.name == "weight" and not any(w is not None for w in got):
                    continue  # no product weights: the digest of tables before they existed
                h.update("\x1f".join(map(str, got)).encode())
                h.update(b"\x1e")
        # Criteria by id, not by code: the code is the order of first appearance in the file.
        by_id = sorted(range(len(self.criterion_ids)), key=self.criterion_ids.__getitem__)
        h.update("\x1f".join(self.criterion_ids[i] for i in by_id).encode())
        h.update(b"\x1e")
        crit = (_inverse(by_id)[self.criterion] if by_id else self.criterion).astype(np.int64)
        value = self.value.astype(np.float64) + 0.0  # -0.0 and 0.0 sort together: one bit pattern
        flags = (self.state.astype(np.int8) * 2 + self.word).astype(np.int8)
        entity = self.entity.astype(np.int64)
        level = self.level.astype(np.int64)
        n_crit = max(len(by_id), 1)
        cols: tuple[NDArray[Any], ...]
        if int(entity.max(initial=0)) < (1 << 62) // (3 * n_crit):
            # One int64 key for (entity, level, criterion): fewer sort keys, fewer gathers.
            cols = ((entity * 3 + level) * n_crit + crit, value, flags)
        else:  # pragma: no cover - beyond 10**15 entities
            cols = (level, entity, crit, value, flags)
        order = np.argsort(cols[0])
        first = cols[0][order]
        if len(cols) > 3 or np.any(first[1:] == first[:-1]):
            order = np.lexsort(cols[::-1])  # rows of one entity and criterion: by value too
        for col in cols:
            h.update(np.ascontiguousarray(col[order]).tobytes())
        return "sha256:" + h.hexdigest()

    def problem(
        self, row: int, message: str, expected: str | None = None, found: str | None = None
    ) -> Problem:
        """A :class:`Problem` located at row ``row`` (its file line or record)."""
        line = int(self.line[row]) or row + 1
        return _located(self.source, self.line_kind, line, message, expected, found)

    def entity_label(self, level: int, index: int) -> str:
        """``institution "x" unit "y" product "z"`` for an entity, for messages."""
        if level == 0:
            return f'institution "{self.institutions[index].id}"'
        if level == 1:
            u = self.units[index]
            return f'institution "{u.institution}" unit "{u.id}"'
        p = self.products[index]
        return f'institution "{p.institution}" unit "{p.unit}" product "{p.id}"'

    def take(self, rows: NDArray[np.bool_]) -> ObservationTable:
        """The same entities with only the rows where ``rows`` is true."""
        return attrs.evolve(
            self,
            level=self.level[rows],
            entity=self.entity[rows],
            criterion=self.criterion[rows],
            value=self.value[rows],
            state=self.state[rows],
            line=self.line[rows],
            word=self.word[rows],
        )

    def for_institutions(self, institutions: Iterable[int]) -> ObservationTable:
        """Only these institutions (indices), their units, products and rows, re-indexed.

        Entities keep their canonical order, so an institution scores to the same bits
        alone as among all the others (its sums add the same numbers in the same order);
        the analyses of one institution (``gap``) re-score only it.
        """
        keep_i = np.zeros(len(self.institutions), dtype=bool)
        keep_i[np.asarray(list(institutions), dtype=np.intp)] = True
        keep_u = keep_i[self.unit_institution]
        keep_p = keep_u[self.product_unit]
        new_i = np.cumsum(keep_i) - 1
        new_u = np.cumsum(keep_u) - 1
        new_p = np.cumsum(keep_p) - 1
        keep_row = np.select(
            [self.level == 0, self.level == 1],
            [_at(keep_i, self.entity), _at(keep_u, self.entity)],
            _at(keep_p, self.entity),
        )
        ent = self.entity[keep_row]
        lv = self.level[keep_row]
        ent = np.select(
            [lv == 0, lv == 1], [_at(new_i, ent), _at(new_u, ent)], _at(new_p, ent)
        ).astype(np.intp)
        return attrs.evolve(
            self,
            institutions=tuple(x for x, k in zip(self.institutions, keep_i, strict=True) if k),
            units=tuple(x for x, k in zip(self.units, keep_u, strict=True) if k),
            products=tuple(x for x, k in zip(self.products, keep_p, strict=True) if k),
            unit_institution=new_i[self.unit_institution[keep_u]].astype(np.intp),
            product_unit=new_u[self.product_unit[keep_p]].astype(np.intp),
            level=lv,
            entity=ent,
            criterion=self.criterion[keep_row],
            value=self.value[keep_row],
            state=self.state[keep_row],
            line=self.line[keep_row],
            word=self.word[keep_row],
        )

    @classmethod
    def from_records(
        cls, records: Iterable[Observation | Mapping[str, Any]], source: str | None = None
    ) -> ObservationTable:
        """A table from :class:`Observation` objects or dicts with the CSV's column names."""
        b = TableBuilder(source)
        log = ProblemLog()  # every bad record is reported, in order, not only the first
        for n, r in enumerate(records, start=1):
            rec = attrs.asdict(r) if isinstance(r, Observation) else dict(r)
            try:
                b.add_record(rec, n)
            except ObservationError as exc:
                log.add(exc)
        log.raise_if_any()
        return b.build()


#: Entity attribute columns and the level (0 institution, 1 unit, 2 product) they describe.
ATTRIBUTES = (
    ("institution_name", 0),
    ("institution_kind", 0),
    ("unit_name", 1),
    ("unit_sector", 1),
    ("product_name", 2),
)
_ATTRIBUTE_LEVEL = dict(ATTRIBUTES)
_LEVEL_NAMES = ("institution", "unit", "product")


def _typed(v: object) -> str:
    """A typed TOML/JSON value for a message, in the file's spelling (``true``, ``5``)."""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    shown = str(v) if isinstance(v, Decimal) else fmt(v)
    return shown if len(shown) <= 40 else shown[:40] + "…"


class TableBuilder:
    """Accumulates rows into columns, factorising ids on the fly (readers use it).

    Every reader goes through the same ``row_*`` methods, so a cell means the same thing,
    and is refused with the same message, in a CSV (either engine), a TOML or a JSON file.
    ``add`` takes one observation; entity attributes (names, kind, sector) are merged,
    and a conflict (the same unit with two sectors) is an :class:`ObservationError`.
    A row's facts are recorded all or nothing (:meth:`row_facts`), so a reader that records
    a row's error and goes on finds no trace of the refused row's names or weight.
    ``decimal_comma`` makes ``85,5`` the number 85.5 (and refuses a dot).
    """

    def __init__(
        self, source: str | None = None, line_kind: str = "line", *, decimal_comma: bool = False
    ) -> None:
        self.source = source
        self.line_kind = line_kind
        self.decimal_comma = decimal_comma
        self._inst: dict[str, int] = {}
        self._unit: dict[tuple[str, str], int] = {}
        self._prod: dict[tuple[str, str, str], int] = {}
        self._unit_inst: list[int] = []
        self._prod_unit: list[int] = []
        self._crit: dict[str, int] = {}
        self._attrs: list[dict[int, dict[str, str]]] = [{}, {}, {}]
        self._attr_line: dict[tuple[int, int, str], tuple[int, str | None]] = {}
        # product code -> (weight, line, key path) of the first place that gave it
        self._weights: dict[int, tuple[float, int, str | None]] = {}
        # (kind, parent ids…, case-folded id) -> (id, line, key path) of its first spelling
        self._folded: dict[tuple[str | int, str], tuple[str, int, str | None]] = {}
        self.level: list[int] = []
        self.entity: list[int] = []
        self.criterion: list[int] = []
        self.value: list[float] = []
        # state + WORD where the value was a yes/no word: one list, split in build()
        self.state: list[int] = []
        self.line: list[int] = []
        self._columns: tuple[NDArray[Any], ...] | None = None

    # -- places and problems ---------------------------------------------------------------
    def place(self, line: int, where: str | None = None) -> str:
        """How a message names a row: ``line 3`` (CSV), ``observation[2]``, or a key path."""
        if where:
            return where
        return f"observation[{line - 1}]" if self.line_kind == "record" else f"line {line}"

    def _problem(
        self,
        line: int,
        message: str,
        expected: str | None = None,
        found: str | None = None,
        where: str | None = None,
    ) -> Problem:
        if where:
            return Problem(
                message, path=self.source, key_path=where, expected=expected, found=found
            )
        return _located(self.source, self.line_kind, line, message, expected, found)

    def _bad(self, line: int, message: str, where: str | None = None) -> ObservationError:
        return ObservationError(self._problem(line, message, where=where))

    # -- codes ---------------------------------------------------------------------------
    def _same_as(
        self, kind: str, parent: str | int, ident: str, line: int, where: str | None
    ) -> None:
        """Refuse a new id equal to an earlier one but for letter case (``Kab-X``, ``kab-x``):
        a spreadsheet's autocorrect must not split one unit into two. ``parent`` is the
        kind (institution, criterion) or the code of the parent entity."""
        first = self._folded.setdefault((parent, id_key(ident)), (ident, line, where))
        if first[0] != ident:
            raise ObservationError(
                self._problem(
                    line,
                    f"{kind} {fmt(ident)} looks like the same {kind} as {fmt(first[0])} "
                    f"({self.place(first[1], first[2])}): ids that differ only in letter "
                    "case are refused; write one spelling",
                    expected=fmt(first[0]),
                    found=fmt(ident),
                    where=where,
                )
            )

    def entity_code(
        self,
        institution: str,
        unit: str = "",
        product: str = "",
        line: int = 0,
        where: str | None = None,
    ) -> tuple[int, int]:
        """``(level, index)`` of an entity, creating it (and its parents) if new.

        Ids must be clean (:func:`clean_text`); a new id equal to a known one of the same
        parent but for letter case raises :class:`ObservationError` at ``line``/``where``.
        """
        inst = self._inst.get(institution)
        if inst is None:
            self._same_as("institution", "institution", institution, line, where)
            inst = self._inst[institution] = len(self._inst)
        if not unit:
            return 0, inst
        ukey = (institution, unit)
        u = self._unit.get(ukey)
        if u is None:
            self._same_as("unit", inst, unit, line, where)
            u = self._unit[ukey] = len(self._unit)
            self._unit_inst.append(inst)
        if not product:
            return 1, u
        pkey = (institution, unit, product)
        p = self._prod.get(pkey)
        if p is None:
            self._same_as("product", ~u, product, line, where)  # ~u: not a unit code
            p = self._prod[pkey] = len(self._prod)
            self._prod_unit.append(u)
        return 2, p

    def criterion_code(self, criterion: str, line: int = 0) -> int:
        """The code of a (clean) criterion id, creating it if new; ``Input`` after
        ``input`` raises :class:`ObservationError`."""
        c = self._crit.get(criterion)
        if c is None:
            self._same_as("criterion", "criterion", criterion, line, None)
            c = self._crit[criterion] = len(self._crit)
        return c

    def ancestor(self, level: int, index: int, target: int) -> int:
        """The index of the entity's ancestor at level ``target`` (<= ``level``)."""
        while level > target:
            index = self._prod_unit[index] if level == 2 else self._unit_inst[index]
            level -= 1
        return index

    # -- cells: the one place each kind of cell is read -----------------------------------
    def clean(self, column: str, raw: str, line: int, where: str | None = None) -> str:
        """An id or attribute cell as stored (:func:`clean_text`), or a located error."""
        try:
            return clean_text(raw)
        except ValueError as exc:
            raise self._bad(line, f'column "{column}": {exc}', where) from None

    def row_entity(self, institution: str, unit: str, product: str, line: int) -> tuple[int, int]:
        """The ``(level, index)`` of a row's entity from its raw id cells, checked."""
        inst = self.clean("institution", institution, line)
        unit = self.clean("unit", unit, line)
        product = self.clean("product", product, line)
        if not inst:
            raise self._bad(line, 'column "institution": expected an id, found an empty cell')
        if product and not unit:
            raise self._bad(
                line,
                f'a product row needs its unit: column "unit" is empty for product "{product}"',
            )
        return self.entity_code(inst, unit, product, line)

    def row_criterion(self, raw: str, line: int) -> int:
        """The code of a row's criterion from its raw cell, checked."""
        name = self.clean("criterion", raw, line)
        if not name:
            raise self._bad(
                line, 'column "criterion": expected a criterion id, found an empty cell'
            )
        return self.criterion_code(name, line)

    def row_value(self, raw: str, line: int) -> tuple[float, int, bool]:
        """``(number, state, is_word)`` of a value cell (:func:`parse_cell`), or a located error."""
        try:
            return parse_cell(raw, decimal_comma=self.decimal_comma)
        except ValueError as exc:
            raise self._bad(line, f'column "value": {exc}') from None

    def typed_value(self, raw: object, line: int) -> tuple[float, int, bool]:
        """A TOML/JSON/Python ``value``: text as in a CSV, a number, or ``None`` (missing).

        A boolean is refused: ``true`` is not a number, and a yes/no answer is spelled.
        """
        if raw is None:
            return 0.0, MISSING, False
        if isinstance(raw, str):
            return self.row_value(raw, line)
        if isinstance(raw, (bool, np.bool_)):
            raise self._bad(
                line,
                f'column "value": expected a number or text, found {_typed(raw)}: a boolean '
                'is not a number (write "ya" or "tidak", or a number)',
            )
        if isinstance(raw, (int, float, Decimal, np.integer, np.floating)):
            try:
                v = float(raw)
            except OverflowError:
                v = math.inf
            if not math.isfinite(v):
                raise self._bad(
                    line, f'column "value": expected a finite number, found {_typed(raw)}'
                )
            return v + 0.0, VALUE, False
        raise self._bad(line, f'column "value": expected a number or text, found {_typed(raw)}')

    def attribute(
        self, level: int, index: int, column: str, value: str, line: int, where: str | None = None
    ) -> None:
        """Give a clean attribute cell of a row about entity ``(level, index)`` to the entity
        it describes (the row's own, or an ancestor); a deeper level's attribute is refused."""
        self.row_facts(level, index, [(column, value)], None, line, where)

    def set_attr(
        self, level: int, index: int, key: str, value: str, line: int, where: str | None = None
    ) -> None:
        """Record an entity attribute (name, kind, sector); conflicting values raise."""
        if not value:
            return
        clash = self._attr_clash(level, index, key, value, line, where)
        if clash is not None:
            raise clash
        self._attrs[level].setdefault(index, {}).setdefault(key, value)
        self._attr_line.setdefault((level, index, key), (line, where))

    def _attr_clash(
        self, level: int, index: int, key: str, value: str, line: int, where: str | None
    ) -> ObservationError | None:
        """The error for giving the entity another ``key`` than before, or None."""
        old = self._attrs[level].get(index, {}).get(key)
        if old is None or old == value:
            return None
        return self._attr_conflict(level, index, key, old, value, line, where)

    def _attr_conflict(
        self, level: int, index: int, key: str, old: str, value: str, line: int, where: str | None
    ) -> ObservationError:
        first = self._attr_line[(level, index, key)]
        return ObservationError(
            self._problem(
                line,
                f'column "{key}": this entity was given {fmt(old)} '
                f"({self.place(*first)}), found {fmt(value)}",
                expected=fmt(old),
                found=fmt(value),
                where=where,
            )
        )

    def row_facts(
        self,
        level: int,
        index: int,
        attributes: Iterable[tuple[str, str]],
        weight: object,
        line: int,
        where: str | None = None,
    ) -> None:
        """Give a row's clean attribute cells and its ``weight`` cell to the entities they
        describe, all or nothing: every check (a deeper level's attribute, a bad weight, a
        value that clashes with an earlier row's) runs before anything is recorded, so a
        refused row leaves no fact behind for a later row to be compared with."""
        pending = None
        for column, value in attributes:
            target = _ATTRIBUTE_LEVEL[column]
            if target > level:
                raise self._bad(
                    line,
                    f'column "{column}": this row is about '
                    f"{('an institution', 'a unit')[level]}; a {_LEVEL_NAMES[target]} "
                    f"attribute belongs on a row about the {_LEVEL_NAMES[target]}",
                    where,
                )
            ent = index if target == level else self.ancestor(level, index, target)
            known = self._attrs[target].get(ent)
            old = known.get(column) if known else None
            if old is None:
                pending = [] if pending is None else pending
                pending.append((target, ent, column, value))
            elif old != value:
                raise self._attr_conflict(target, ent, column, old, value, line, where)
            # else the common case of a long file, the same name again: nothing to do
        w = (
            None
            if weight is None or weight == ""
            else self.weight_value(level, weight, line, where)
        )
        if w is not None:
            clash = self._weight_clash(index, w, line, where)
            if clash is not None:
                raise clash
            self._weights.setdefault(index, (w, line, where))
        for target, ent, column, value in pending or ():
            self._attrs[target].setdefault(ent, {})[column] = value
            self._attr_line[(target, ent, column)] = (line, where)

    def row_weight(
        self, level: int, index: int, raw: object, line: int, where: str | None = None
    ) -> None:
        """Read a ``weight`` cell of a row about entity ``(level, index)``
        (:meth:`weight_value`) and record it; a different weight for the product raises."""
        w = self.weight_value(level, raw, line, where)
        if w is not None:
            self.set_weight(index, w, line, where)

    def weight_value(
        self, level: int, raw: object, line: int, where: str | None = None
    ) -> float | None:
        """The number of a ``weight`` cell of a row about an entity of ``level``: text as in a
        CSV (``2``, ``0.5``, ``2,5`` with ``decimal_comma``), a number from TOML/JSON, or
        None for empty/None (no weight on this row). The weight of a product: a finite
        number > 0, given on the product's own rows; anything else is a located error."""
        col = 'column "weight"'
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, (bool, np.bool_)):
            raise self._bad(line, f"{col}: expected a number > 0, found {_typed(raw)}", where)
        if isinstance(raw, str):
            try:
                v, st, word = parse_cell(raw, decimal_comma=self.decimal_comma)
            except ValueError as exc:
                raise self._bad(line, f"{col}: {exc}", where) from None
            if st != VALUE or word:
                raise self._bad(
                    line, f"{col}: expected a number > 0, found {_show(raw.strip())}", where
                )
        elif isinstance(raw, (int, float, Decimal, np.integer, np.floating)):
            try:
                v = float(raw)
            except OverflowError:
                v = math.inf
        else:
            raise self._bad(line, f"{col}: expected a number > 0, found {_typed(raw)}", where)
        if not (math.isfinite(v) and v > 0):
            shown = raw.strip() if isinstance(raw, str) else _typed(raw)
            raise ObservationError(
                self._problem(
                    line,
                    f"{col}: expected a number > 0 (a product's weight), found {shown}",
                    expected="a number > 0",
                    found=str(shown),
                    where=where,
                )
            )
        if level != 2:
            raise self._bad(
                line,
                f"{col}: a weight is a service product's; this row is about "
                f"{('an institution', 'a unit')[level]} (give the weight on the product's rows)",
                where,
            )
        return v

    def set_weight(self, product: int, weight: float, line: int, where: str | None = None) -> None:
        """Record product ``product``'s weight; a different weight for it raises."""
        clash = self._weight_clash(product, weight, line, where)
        if clash is not None:
            raise clash
        self._weights.setdefault(product, (weight, line, where))

    def _weight_clash(
        self, product: int, weight: float, line: int, where: str | None
    ) -> ObservationError | None:
        """The error for giving the product another weight than before, or None."""
        old = self._weights.get(product)
        if old is None or old[0] == weight:
            return None
        return ObservationError(
            self._problem(
                line,
                f'column "weight": this product was given the weight {old[0]:g} '
                f"({self.place(old[1], old[2])}), found {weight:g}",
                expected=f"{old[0]:g}",
                found=f"{weight:g}",
                where=where,
            )
        )

    # -- rows ----------------------------------------------------------------------------
    def set_columns(
        self,
        level: NDArray[np.int8],
        entity: NDArray[np.intp],
        criterion: NDArray[np.intp],
        value: NDArray[np.float64],
        state: NDArray[np.int8],
        line: NDArray[np.int64],
        word: NDArray[np.bool_] | None = None,
    ) -> None:
        """Give all rows at once as columns (a vectorised reader); replaces rows added so far."""
        if word is None:
            word = np.zeros(len(value), dtype=np.bool_)
        self._columns = (level, entity, criterion, value, state, line, word)

    def add(
        self,
        institution: str,
        unit: str,
        product: str,
        criterion: str,
        value: float,
        state: int,
        line: int,
        word: bool = False,
    ) -> tuple[int, int]:
        """Append one observation with clean ids; returns the entity's ``(level, index)``."""
        lv, ent = self.entity_code(institution, unit, product, line)
        self.append(lv, ent, self.criterion_code(criterion, line), value, state, line, word)
        return lv, ent

    def append(
        self,
        level: int,
        entity: int,
        criterion: int,
        value: float,
        state: int,
        line: int,
        word: bool,
    ) -> None:
        """Append one observation by codes."""
        self.level.append(level)
        self.entity.append(entity)
        self.criterion.append(criterion)
        self.value.append(value)
        self.state.append(state + WORD if word else state)
        self.line.append(line)

    def add_record(self, rec: Mapping[str, Any], line: int) -> tuple[int, int]:
        """Append a record with the CSV's column names (values as in the CSV or typed).

        Ids and attributes must be text (or absent/None); returns the entity's
        ``(level, index)``.
        """

        def text(key: str) -> str:
            v = rec.get(key)
            if v is None:
                return ""
            if not isinstance(v, str):
                raise self._bad(line, f'column "{key}": expected text, found {_typed(v)}')
            return v

        inst, unit, product, crit = (
            text(k) for k in ("institution", "unit", "product", "criterion")
        )
        lv, ent = self.row_entity(inst, unit, product, line)
        code = self.row_criterion(crit, line)
        v, st, w = self.typed_value(rec.get("value"), line)
        facts = []
        for key, _ in ATTRIBUTES:
            raw = text(key)
            val = self.clean(key, raw, line) if raw else ""
            if val:
                facts.append((key, val))
        # The observation is appended only once every cell of the record is good.
        self.row_facts(lv, ent, facts, rec.get("weight"), line)
        self.append(lv, ent, code, v, st, line, w)
        return lv, ent

    def build(self) -> ObservationTable:
        """The finished, immutable table.

        Entities are put in a canonical order (sorted by id within their parent), so the
        order in which rows arrived cannot change a single bit of any score: segmented
        sums always add the same numbers in the same order.
        """
        a0, a1, a2 = self._attrs
        inst_keys = list(self._inst)
        unit_keys = list(self._unit)
        prod_keys = list(self._prod)
        inst_old = sorted(range(len(inst_keys)), key=inst_keys.__getitem__)
        unit_old = sorted(range(len(unit_keys)), key=unit_keys.__getitem__)
        prod_old = sorted(range(len(prod_keys)), key=prod_keys.__getitem__)
        inst_new = _inverse(inst_old)
        unit_new = _inverse(unit_old)
        prod_new = _inverse(prod_old)
        institutions = tuple(
            Institution(
                inst_keys[k],
                a0.get(k, {}).get("institution_name"),
                a0.get(k, {}).get("institution_kind"),
            )
            for k in inst_old
        )
        units = tuple(
            Unit(
                unit_keys[k][1],
                unit_keys[k][0],
                a1.get(k, {}).get("unit_name"),
                a1.get(k, {}).get("unit_sector"),
            )
            for k in unit_old
        )
        weights = self._weights
        products = tuple(
            ServiceProduct(
                prod_keys[k][2],
                prod_keys[k][1],
                prod_keys[k][0],
                a2.get(k, {}).get("product_name"),
                weights[k][0] if k in weights else None,
            )
            for k in prod_old
        )
        unit_inst = np.asarray(self._unit_inst, dtype=np.intp)
        prod_unit = np.asarray(self._prod_unit, dtype=np.intp)
        cols: tuple[Any, ...] = self._columns or (
            self.level,
            self.entity,
            self.criterion,
            self.value,
            self.state,
            self.line,
            None,
        )
        lv_c, ent_c, crit_c, val_c, st_c, line_c, word_c = cols
        state = np.asarray(st_c, dtype=np.int8)
        if word_c is None:
            word_c = state >= WORD
            state = state & (WORD - 1)
        level = np.asarray(lv_c, dtype=np.int8)
        entity = np.array(ent_c, dtype=np.intp)
        for lv, new in ((0, inst_new), (1, unit_new), (2, prod_new)):
            m = level == lv
            if new.size:
                entity[m] = new[entity[m]]
        return ObservationTable(
            institutions=institutions,
            units=units,
            products=products,
            unit_institution=inst_new[unit_inst[unit_old]]
            if unit_old
            else np.zeros(0, dtype=np.intp),
            product_unit=unit_new[prod_unit[prod_old]] if prod_old else np.zeros(0, dtype=np.intp),
            criterion_ids=tuple(self._crit),
            level=level,
            entity=entity,
            criterion=np.asarray(crit_c, dtype=np.intp),
            value=np.asarray(val_c, dtype=np.float64),
            state=state,
            line=np.asarray(line_c, dtype=np.int64),
            source=self.source,
            line_kind=self.line_kind,
            word=np.asarray(word_c, dtype=np.bool_),
        )


#: Digests of tables already hashed (a table is immutable; the cache dies with it).
_DIGESTS: weakref.WeakKeyDictionary[ObservationTable, str] = weakref.WeakKeyDictionary()
_PRODUCT_WEIGHTS: weakref.WeakKeyDictionary[ObservationTable, NDArray[np.float64]] = (
    weakref.WeakKeyDictionary()
)


def _inverse(order: list[int]) -> NDArray[np.intp]:
    """For a list of old codes in new order, the array old code -> new code."""
    inv = np.empty(len(order), dtype=np.intp)
    inv[np.asarray(order, dtype=np.intp)] = np.arange(len(order), dtype=np.intp)
    return inv


def _at(arr: NDArray[Any], idx: NDArray[np.intp]) -> NDArray[Any]:
    """``arr[idx]`` where ``idx`` may run past an empty or shorter ``arr`` (rows of another
    level, masked out by the caller)."""
    if len(arr) == 0:
        return np.zeros(len(idx), dtype=arr.dtype)
    out: NDArray[Any] = arr[np.minimum(idx, len(arr) - 1)]
    return out
