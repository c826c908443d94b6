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
import weakref
from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from .errors import ObservationError, Problem, fmt

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
    "parse_value",
]

#: Observation states (the ``state`` column).
VALUE, NOT_APPLICABLE, MISSING = 0, 1, 2

_YES = {"ya", "yes", "y", "true", "benar"}
_NO = {"tidak", "no", "n", "false", "t"}
_NA = {"na", "n/a", "n.a.", "tidak berlaku", "not applicable"}


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
    """A service product (produk layanan) of a unit."""

    id: str
    unit: str
    institution: str
    name: str | None = None


@attrs.frozen
class Observation:
    """One value of one criterion for one entity.

    ``unit=None`` makes it about the institution, ``product=None`` about the unit.
    ``value`` is a number, ``"ya"``/``"tidak"`` (yes/no), ``"na"`` (not applicable) or
    ``None`` (missing). Optional ``evidence``/``date``/``note`` travel with it.
    """

    institution: str
    criterion: str
    value: float | str | None
    unit: str | None = None
    product: str | None = None
    note: str | None = None
    evidence: str | None = None
    date: str | None = None


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


def parse_value(token: str) -> tuple[float, int]:
    """Parse a cell of the ``value`` column into ``(number, state)``.

    Numbers use a dot; ``ya``/``yes`` is 1 and ``tidak``/``no`` is 0; ``na`` is not
    applicable; an empty cell is missing. Raises ``ValueError`` with a hint otherwise
    (a decimal comma, ``88,01``, is refused: in a CSV it is ambiguous).
    """
    t = token.strip()
    if not t:
        return 0.0, MISSING
    low = t.lower()
    if low in _NA:
        return 0.0, NOT_APPLICABLE
    if low in _YES:
        return 1.0, VALUE
    if low in _NO:
        return 0.0, VALUE
    try:
        v = float(t)
    except ValueError:
        if "," in t and t.replace(",", "", 1).replace(".", "", 1).lstrip("+-").isdigit():
            raise ValueError(
                f"expected a number with a decimal point, found {fmt(token)} "
                f"(write {t.replace('.', '').replace(',', '.')})"
            ) from None
        raise ValueError(
            f"expected a number, ya/tidak, na, or an empty cell, found {fmt(token)}"
        ) from None
    if not np.isfinite(v):
        raise ValueError(f"expected a finite number, found {fmt(token)}")
    return v, VALUE


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

    def __len__(self) -> int:
        return int(self.value.shape[0])

    @property
    def digest(self) -> str:
        """SHA-256 over the entities and columns (row order included); computed once."""
        got = _DIGESTS.get(self)
        if got is None:
            got = _DIGESTS[self] = self._digest()
        return got

    def _digest(self) -> str:
        h = hashlib.sha256()
        # Field by field with separators: as exact as repr() and ten times faster.
        for ents in (self.institutions, self.units, self.products):
            for field in attrs.fields(type(ents[0])) if ents else ():
                h.update("\x1f".join(map(str, map(attrgetter(field.name), ents))).encode())
                h.update(b"\x1e")
        h.update("\x1f".join(self.criterion_ids).encode())
        for col in (self.level, self.entity, self.criterion, self.value, self.state):
            h.update(np.ascontiguousarray(col).tobytes())
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
        )

    @classmethod
    def from_records(
        cls, records: Iterable[Observation | Mapping[str, Any]], source: str | None = None
    ) -> ObservationTable:
        """A table from :class:`Observation` objects or dicts with the CSV's column names."""
        b = TableBuilder(source)
        for n, r in enumerate(records, start=1):
            rec = attrs.asdict(r) if isinstance(r, Observation) else dict(r)
            b.add_record(rec, n)
        return b.build()


class TableBuilder:
    """Accumulates rows into columns, factorising ids on the fly (readers use it).

    ``add`` takes one observation; entity attributes (names, kind, sector) are merged,
    and a conflict (the same unit with two sectors) is an :class:`ObservationError`.
    """

    def __init__(self, source: str | None = None, line_kind: str = "line") -> None:
        self.source = source
        self.line_kind = line_kind
        self._inst: dict[str, int] = {}
        self._unit: dict[tuple[str, str], int] = {}
        self._prod: dict[tuple[str, str, str], int] = {}
        self._unit_inst: list[int] = []
        self._prod_unit: list[int] = []
        self._crit: dict[str, int] = {}
        self._attrs: list[dict[int, dict[str, str]]] = [{}, {}, {}]
        self._attr_line: dict[tuple[int, int, str], int] = {}
        self.level: list[int] = []
        self.entity: list[int] = []
        self.criterion: list[int] = []
        self.value: list[float] = []
        self.state: list[int] = []
        self.line: list[int] = []
        self._columns: tuple[NDArray[Any], ...] | None = None

    def entity_code(self, institution: str, unit: str = "", product: str = "") -> tuple[int, int]:
        """``(level, index)`` of an entity, creating it (and its parents) if new."""
        inst = self._inst.setdefault(institution, len(self._inst))
        if not unit:
            return 0, inst
        ukey = (institution, unit)
        u = self._unit.get(ukey)
        if u is None:
            u = self._unit[ukey] = len(self._unit)
            self._unit_inst.append(inst)
        if not product:
            return 1, u
        pkey = (institution, unit, product)
        p = self._prod.get(pkey)
        if p is None:
            p = self._prod[pkey] = len(self._prod)
            self._prod_unit.append(u)
        return 2, p

    def _problem(
        self, line: int, message: str, expected: str | None = None, found: str | None = None
    ) -> Problem:
        return _located(self.source, self.line_kind, line, message, expected, found)

    def set_attr(self, level: int, index: int, key: str, value: str, line: int) -> None:
        """Record an entity attribute (name, kind, sector); conflicting values raise."""
        if not value:
            return
        d = self._attrs[level].setdefault(index, {})
        old = d.get(key)
        if old is None:
            d[key] = value
            self._attr_line[(level, index, key)] = line
        elif old != value:
            first = self._attr_line[(level, index, key)]
            raise ObservationError(
                self._problem(
                    line,
                    f'column "{key}": this entity was given {fmt(old)} '
                    f"({'record' if self.line_kind == 'record' else 'line'} {first}), "
                    f"found {fmt(value)}",
                    expected=fmt(old),
                    found=fmt(value),
                )
            )

    def set_columns(
        self,
        level: NDArray[np.int8],
        entity: NDArray[np.intp],
        criterion: NDArray[np.intp],
        value: NDArray[np.float64],
        state: NDArray[np.int8],
        line: NDArray[np.int64],
    ) -> None:
        """Give all rows at once as columns (a vectorised reader); replaces rows added so far."""
        self._columns = (level, entity, criterion, value, state, line)

    def criterion_code(self, criterion: str) -> int:
        """The code of a criterion id, creating it if new."""
        return self._crit.setdefault(criterion, len(self._crit))

    def add(
        self,
        institution: str,
        unit: str,
        product: str,
        criterion: str,
        value: float,
        state: int,
        line: int,
    ) -> tuple[int, int]:
        """Append one observation; returns the entity's ``(level, index)``."""
        lv, ent = self.entity_code(institution, unit, product)
        self.level.append(lv)
        self.entity.append(ent)
        self.criterion.append(self._crit.setdefault(criterion, len(self._crit)))
        self.value.append(value)
        self.state.append(state)
        self.line.append(line)
        return lv, ent

    def add_record(self, rec: Mapping[str, Any], line: int) -> None:
        """Append a record with the CSV's column names (values as in the CSV or typed)."""

        def text(key: str) -> str:
            v = rec.get(key)
            return "" if v is None else str(v).strip()

        inst, unit, product, crit = (
            text("institution"),
            text("unit"),
            text("product"),
            text("criterion"),
        )

        def bad(message: str) -> ObservationError:
            return ObservationError(self._problem(line, message))

        if not inst:
            raise bad('column "institution": expected an id, found an empty cell')
        if product and not unit:
            raise bad(
                f'a product row needs its unit: column "unit" is empty for product "{product}"'
            )
        if not crit:
            raise bad('column "criterion": expected a criterion id, found an empty cell')
        raw = rec.get("value")
        if raw is None or isinstance(raw, str):
            try:
                v, st = parse_value(raw or "")
            except ValueError as exc:
                raise bad(f'column "value": {exc}') from None
        elif isinstance(raw, bool):
            v, st = (1.0 if raw else 0.0), VALUE
        elif isinstance(raw, (int, float)):
            v, st = float(raw), VALUE
            if not np.isfinite(v):
                raise bad(f'column "value": expected a finite number, found {raw!r}')
        else:
            raise bad(f'column "value": expected a number or text, found {raw!r}')
        lv, ent = self.add(inst, unit, product, crit, v, st, line)
        for key, level in (
            ("institution_name", 0),
            ("institution_kind", 0),
            ("unit_name", 1),
            ("unit_sector", 1),
            ("product_name", 2),
        ):
            val = text(key)
            if val:
                idx = ent if level == lv else self._ancestor(lv, ent, level)
                self.set_attr(level, idx, key, val, line)

    def _ancestor(self, level: int, index: int, target: int) -> int:
        while level > target:
            index = self._prod_unit[index] if level == 2 else self._unit_inst[index]
            level -= 1
        return index

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
        products = tuple(
            ServiceProduct(
                prod_keys[k][2], prod_keys[k][1], prod_keys[k][0], a2.get(k, {}).get("product_name")
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
        )
        lv_c, ent_c, crit_c, val_c, st_c, line_c = cols
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
            state=np.asarray(st_c, dtype=np.int8),
            line=np.asarray(line_c, dtype=np.int64),
            source=self.source,
            line_kind=self.line_kind,
        )


#: Digests of tables already hashed (a table is immutable; the cache dies with it).
_DIGESTS: weakref.WeakKeyDictionary[ObservationTable, str] = weakref.WeakKeyDictionary()


def _inverse(order: list[int]) -> NDArray[np.intp]:
    """For a list of old codes in new order, the array old code -> new code."""
    inv = np.empty(len(order), dtype=np.intp)
    inv[np.asarray(order, dtype=np.intp)] = np.arange(len(order), dtype=np.intp)
    return inv
