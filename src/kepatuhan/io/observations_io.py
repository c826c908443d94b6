"""Reading observation files: the long CSV a spreadsheet exports, and TOML / JSON forms.

CSV columns: ``institution,unit,product,criterion,value`` (required) and optionally
``institution_name, institution_kind, unit_name, unit_sector, product_name, note,
evidence, date, source``. An empty ``product`` makes the row about the unit, an empty
``unit`` about the institution. TOML: a list of ``[[observation]]`` tables with the same
keys; JSON: ``{"observations": [...]}`` or a bare list. Every problem names the file and
the line (CSV) or record (TOML/JSON); no row is ever dropped silently.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InputFileError, KepatuhanError, ObservationError, Problem, fmt
from ..observations import ObservationTable, TableBuilder, parse_value
from .files import check_file, read_text
from .rubric_toml import parse_toml

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "read_observations", "read_observations_text"]

REQUIRED_COLUMNS = ("institution", "unit", "product", "criterion", "value")
OPTIONAL_COLUMNS = (
    "institution_name",
    "institution_kind",
    "unit_name",
    "unit_sector",
    "product_name",
    "note",
    "evidence",
    "date",
    "source",
)
_ALL = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_ATTRS = (
    ("institution_name", 0),
    ("institution_kind", 0),
    ("unit_name", 1),
    ("unit_sector", 1),
    ("product_name", 2),
)

# A CSV field may be long (a note), but not unboundedly: the csv module's own limit is
# 128 KiB; 1 MiB keeps a pasted document readable while refusing a runaway file.
csv.field_size_limit(1 << 20)


def _fmt_of(path: str) -> str:
    ext = Path(path).suffix.lower()
    if ext in (".csv", ".txt", ".tsv"):
        return "csv"
    if ext == ".toml":
        return "toml"
    if ext == ".json":
        return "json"
    raise InputFileError(
        Problem(
            f"unknown observation file type {ext or '(no extension)'}",
            path=path,
            expected=".csv, .toml or .json",
            found=ext or "no extension",
        )
    )


def read_observations(
    path: str | os.PathLike[str], *, format: str | None = None, engine: str = "auto"
) -> ObservationTable:
    """Read an observation file into an :class:`~kepatuhan.ObservationTable`.

    ``format`` ("csv", "toml", "json") defaults to the file's extension. ``engine`` chooses
    the CSV parser: ``"stdlib"`` (the ``csv`` module), ``"arrow"`` (pyarrow, the ``arrow``
    extra) or ``"auto"`` (arrow when installed). Both give bit-identical tables; whenever the
    fast path meets anything unusual it hands the file to the stdlib path, which produces
    the located error. Raises :class:`~kepatuhan.InputFileError` for an unreadable file and
    :class:`~kepatuhan.ObservationError` for bad content, naming the file and line.
    """
    where = str(path)
    if engine not in ("auto", "arrow", "stdlib"):
        raise InputFileError(
            Problem(f"unknown engine {engine!r}", expected="auto, arrow or stdlib", path=where)
        )
    fmt_ = format or _fmt_of(where)
    if fmt_ == "csv" and engine != "stdlib":
        check_file(path)
        fast = _read_csv_arrow(where, required=engine == "arrow")
        if fast is not None:
            return fast
    return read_observations_text(read_text(path), fmt_, where)


def _first_rows(codes: NDArray[np.int64], m: int) -> NDArray[np.int64]:
    """The first row of each code (in a fancy assignment with repeats the last write wins,
    so writing the rows backwards leaves the first)."""
    first = np.full(m, len(codes), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first


def _read_csv_arrow(path: str, required: bool) -> ObservationTable | None:
    """The pyarrow path for a plain five-column CSV; None hands the file to the stdlib path."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        if required:
            raise InputFileError(
                Problem("engine 'arrow' needs pyarrow: pip install kepatuhan[arrow]", path=path)
            ) from None
        return None
    with open(path, "rb") as f:
        data = f.read()
    head = data[: data.find(b"\n") if b"\n" in data else len(data)].rstrip(b"\r")
    if head != ",".join(REQUIRED_COLUMNS).encode():
        return None  # other columns, a BOM, another order: the stdlib path handles them
    # One row per line: no quoted newlines and no blank lines, or the line numbers would lie.
    body_lines = data.count(b"\n") - (1 if data.endswith(b"\n") else 0)
    try:
        t = pacsv.read_csv(
            pa.py_buffer(data),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(REQUIRED_COLUMNS, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=False),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    n = t.num_rows
    if n == 0 or n != body_lines:
        return None
    enc = {c: t[c].combine_chunks().dictionary_encode() for c in REQUIRED_COLUMNS}
    codes = {
        c: enc[c].indices.to_numpy(zero_copy_only=False).astype(np.int64) for c in REQUIRED_COLUMNS
    }
    words: dict[str, list[str]] = {c: enc[c].dictionary.to_pylist() for c in REQUIRED_COLUMNS}
    b = TableBuilder(path)
    # Entities: one integer key per (institution, unit, product), compacted in O(n); each
    # distinct triple is then checked and coded once, in Python, as the stdlib path does.
    nu, np_ = len(words["unit"]), len(words["product"])
    key = (codes["institution"] * nu + codes["unit"]) * np_ + codes["product"]
    space = len(words["institution"]) * nu * np_
    if space > 8 * n + 1_000_000:
        uniq, inverse = np.unique(key, return_inverse=True)
    else:
        present = np.zeros(space, dtype=bool)
        present[key] = True
        uniq = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[key]
    # Entities are coded in order of first appearance, as the stdlib path codes them.
    first = _first_rows(inverse, len(uniq))
    ent_level = np.empty(len(uniq), dtype=np.int8)
    ent_index = np.empty(len(uniq), dtype=np.intp)
    for k in np.argsort(first, kind="stable").tolist():
        i, rest = divmod(int(uniq[k]), nu * np_)
        u, p = divmod(rest, np_)
        inst, unit, prod = (
            words["institution"][i].strip(),
            words["unit"][u].strip(),
            words["product"][p].strip(),
        )
        if not inst or (prod and not unit):
            return None  # the stdlib path names the line
        ent_level[k], ent_index[k] = b.entity_code(inst, unit, prod)
    crit_first = _first_rows(codes["criterion"], len(words["criterion"]))
    crit_map = np.empty(len(words["criterion"]), dtype=np.intp)
    for k in np.argsort(crit_first, kind="stable").tolist():
        name = words["criterion"][k].strip()
        if not name:
            return None
        crit_map[k] = b.criterion_code(name)
    val_map = np.empty(len(words["value"]), dtype=np.float64)
    st_map = np.empty(len(words["value"]), dtype=np.int8)
    for k, raw in enumerate(words["value"]):
        try:
            val_map[k], st_map[k] = parse_value(raw)
        except ValueError:
            return None
    b.set_columns(
        ent_level[inverse],
        ent_index[inverse],
        crit_map[codes["criterion"]],
        val_map[codes["value"]],
        st_map[codes["value"]],
        np.arange(2, n + 2, dtype=np.int64),
    )
    return b.build()


def read_observations_text(text: str, format: str, source: str | None = None) -> ObservationTable:
    """Parse observation text of the given format ("csv", "toml" or "json")."""
    if format == "csv":
        return _read_csv(text, source)
    if format == "toml":
        return _read_records(parse_toml(text, source), source)
    if format == "json":
        try:
            data = json.loads(text, parse_float=float)
        except json.JSONDecodeError as exc:
            raise InputFileError(
                Problem(f"invalid JSON: {exc.msg}", path=source, line=exc.lineno)
            ) from None
        except RecursionError:
            raise InputFileError(Problem("invalid JSON: nested too deeply", path=source)) from None
        return _read_records(data, source)
    raise InputFileError(
        Problem(f"unknown format {format!r}", path=source, expected="csv, toml or json")
    )


def _header(row: list[str], source: str | None) -> dict[str, int]:
    cols = [c.strip().lower() for c in row]
    problems = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cols):
        if c in seen:
            problems.append(Problem(f'column "{c}" appears twice', path=source, line=1))
        elif c not in _ALL:
            close = difflib.get_close_matches(c, _ALL, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            problems.append(
                Problem(
                    f"unknown column {fmt(c)}{hint}; known columns: {', '.join(_ALL)}",
                    path=source,
                    line=1,
                    expected="a known column",
                    found=fmt(c),
                )
            )
        seen[c] = i
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        problems.append(
            Problem(
                "missing column"
                + ("s " if len(missing) > 1 else " ")
                + ", ".join(f'"{m}"' for m in missing),
                path=source,
                line=1,
                expected="columns " + ",".join(REQUIRED_COLUMNS),
                found=",".join(cols),
            )
        )
    if problems:
        raise ObservationError(problems)
    return seen


def _read_csv(text: str, source: str | None) -> ObservationTable:
    if not text.strip():
        raise InputFileError(
            Problem(
                "empty file",
                path=source,
                expected="a header line " + ",".join(REQUIRED_COLUMNS),
                found="nothing",
            )
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        head = next(reader)
    except csv.Error as exc:
        raise InputFileError(Problem(f"invalid CSV: {exc}", path=source, line=1)) from None
    if len(head) > len(_ALL) * 4:
        raise ObservationError(
            Problem(
                f"{len(head)} columns in the header; expected at most {len(_ALL)}",
                path=source,
                line=1,
            )
        )
    cols = _header(head, source)
    width = len(head)
    ci, cu, cp, cc, cv = (cols[c] for c in REQUIRED_COLUMNS)
    attr_cols = [(cols[k], k, lv) for k, lv in _ATTRS if k in cols]
    b = TableBuilder(source)
    entity_code, set_attr = b.entity_code, b.set_attr
    # Every distinct raw cell is parsed once: a national round has a million rows but only
    # tens of thousands of entities, dozens of criteria and a few hundred distinct values.
    entities: dict[tuple[str, str, str], tuple[int, int]] = {}
    criteria: dict[str, int] = {}
    values: dict[str, tuple[float, int]] = {}
    levels, ents, crits, vals, states, lines = (
        b.level,
        b.entity,
        b.criterion,
        b.value,
        b.state,
        b.line,
    )
    was_enabled = gc.isenabled()
    gc.disable()  # a million small lists make the collector walk the heap for nothing
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if len(row) != width:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line holds no observation
                raise ObservationError(
                    Problem(
                        f"expected {width} fields, found {len(row)}",
                        path=source,
                        line=line,
                        expected=f"{width} fields",
                        found=f"{len(row)} fields",
                    )
                )
            key = (row[ci], row[cu], row[cp])
            ent = entities.get(key)
            if ent is None:
                inst, unit, product = key[0].strip(), key[1].strip(), key[2].strip()
                if not inst or (product and not unit):
                    cells = (inst, unit, product, row[cc], row[cv])
                    b.add_record(dict(zip(REQUIRED_COLUMNS, cells, strict=True)), line)
                ent = entities[key] = entity_code(inst, unit, product)
            raw_crit = row[cc]
            crit = criteria.get(raw_crit)
            if crit is None:
                name = raw_crit.strip()
                if not name:
                    b.add_record(dict(institution=key[0], criterion="", value=row[cv]), line)
                crit = criteria[raw_crit] = b.criterion_code(name)
            raw = row[cv]
            parsed = values.get(raw)
            if parsed is None:
                try:
                    parsed = values[raw] = parse_value(raw)
                except ValueError as exc:
                    raise ObservationError(
                        Problem(f'column "value": {exc}', path=source, line=line)
                    ) from None
            levels.append(ent[0])
            ents.append(ent[1])
            crits.append(crit)
            vals.append(parsed[0])
            states.append(parsed[1])
            lines.append(line)
            if attr_cols:
                lv, e = ent
                for col, name, alv in attr_cols:
                    val = row[col].strip()
                    if val:
                        if alv == lv:
                            set_attr(alv, e, name, val, line)
                        elif alv < lv:
                            lv2, e2 = entity_code(
                                key[0].strip(), key[1].strip() if alv >= 1 else "", ""
                            )
                            set_attr(lv2, e2, name, val, line)
    except csv.Error as exc:
        raise InputFileError(
            Problem(f"invalid CSV: {exc}", path=source, line=reader.line_num)
        ) from None
    finally:
        if was_enabled:
            gc.enable()
    table = b.build()
    if len(table) == 0:
        raise ObservationError(
            Problem("no observations: the file has a header but no rows", path=source, line=line)
        )
    return table


#: Entity declarations a TOML/JSON observation file may hold, and their keys.
_DECLARED = {
    "institution": ("id", "name", "kind"),
    "unit": ("institution", "id", "name", "sector"),
    "product": ("institution", "unit", "id", "name"),
}


def _declarations(
    data: Mapping[str, Any], source: str | None, b: TableBuilder
) -> dict[str, set[tuple[str, ...]]]:
    """Read ``[[institution]]``, ``[[unit]]``, ``[[product]]``: the entities that exist.

    When a level is declared, an observation about an entity of that level that is not
    declared is an error (a typo in an id must not create a new unit silently).
    """
    declared: dict[str, set[tuple[str, ...]]] = {}
    for level, keys in _DECLARED.items():
        items = data.get(level, data.get(level + "s"))
        if items is None:
            continue
        key = level if level in data else level + "s"
        if not isinstance(items, list):
            raise ObservationError(
                Problem(f"expected a list of [[{level}]] tables", path=source, key_path=key)
            )
        seen: set[tuple[str, ...]] = set()
        for j, item in enumerate(items):
            where = f"{key}[{j}]"
            if not isinstance(item, Mapping):
                raise ObservationError(
                    Problem(f"expected a table, found {fmt(item)}", path=source, key_path=where)
                )
            unknown = [k for k in item if k not in keys]
            missing = [k for k in keys if k not in ("name", "kind", "sector") and not item.get(k)]
            if unknown or missing:
                bad = unknown[0] if unknown else missing[0]
                raise ObservationError(
                    Problem(
                        (
                            f"unknown key {fmt(bad)}"
                            if unknown
                            else f"required key {fmt(bad)} missing"
                        )
                        + f"; a {level} has keys {', '.join(keys)}",
                        path=source,
                        key_path=f"{where}.{bad}",
                    )
                )
            ident = tuple(str(item[k]).strip() for k in keys if k not in ("name", "kind", "sector"))
            parent = ident[:-1]
            parent_level = {"unit": "institution", "product": "unit"}.get(level)
            if parent_level in declared and parent not in declared[parent_level]:
                raise ObservationError(
                    Problem(
                        f"{level} {fmt(ident[-1])} is under {parent_level} "
                        f"{fmt(parent[-1])}, which is not declared in [[{parent_level}]]",
                        path=source,
                        key_path=f"{where}.{parent_level}",
                    )
                )
            seen.add(ident)
            lv, e = b.entity_code(*ident, *([""] * (3 - len(ident))))
            for attr in ("name", "kind", "sector"):
                if item.get(attr):
                    b.set_attr(lv, e, f"{level}_{attr}", str(item[attr]).strip(), j + 1)
        declared[level] = seen
    return declared


def _check_declared(
    rec: Mapping[str, Any], i: int, declared: dict[str, set[tuple[str, ...]]], source: str | None
) -> None:
    ids = tuple(str(rec.get(k) or "").strip() for k in ("institution", "unit", "product"))
    for depth, level in enumerate(("institution", "unit", "product")):
        ident = ids[: depth + 1]
        if not ident[-1] or level not in declared or ident in declared[level]:
            continue
        raise ObservationError(
            Problem(
                f"unknown {level} {fmt(ident[-1])}"
                + (f" of {' / '.join(ident[:-1])}" if depth else "")
                + f": it is not declared in [[{level}]]",
                path=source,
                key_path=f"observation[{i}].{level}",
                expected=f"a declared {level}",
                found=fmt(ident[-1]),
            )
        )


def _read_records(data: Any, source: str | None) -> ObservationTable:
    b = TableBuilder(source, line_kind="record")
    declared: dict[str, set[tuple[str, ...]]] = {}
    if isinstance(data, Mapping):
        key = "observation" if "observation" in data else "observations"
        allowed = {"observation", "observations"} | {k + s for k in _DECLARED for s in ("", "s")}
        extra = set(data) - allowed
        if extra:
            raise ObservationError(
                Problem(
                    f"unknown key {', '.join(sorted(extra))}; an observation file holds "
                    "[[observation]] records and optional [[institution]], [[unit]], "
                    "[[product]] declarations",
                    path=source,
                )
            )
        declared = _declarations(data, source, b)
        records = data.get(key)
    else:
        records = data
    if not isinstance(records, list) or not records:
        raise ObservationError(
            Problem(
                f"expected a non-empty list of observation records, found {type(records).__name__}",
                path=source,
                key_path="observation",
            )
        )
    for i, rec in enumerate(records):
        if not isinstance(rec, Mapping):
            raise ObservationError(
                Problem(
                    f"expected a table of columns, found {fmt(rec)}",
                    path=source,
                    key_path=f"observation[{i}]",
                )
            )
        unknown = [k for k in rec if k not in _ALL]
        if unknown:
            k = unknown[0]
            close = difflib.get_close_matches(k, _ALL, n=1)
            raise ObservationError(
                Problem(
                    f"unknown key {fmt(k)}" + (f' (did you mean "{close[0]}"?)' if close else ""),
                    path=source,
                    key_path=f"observation[{i}].{k}",
                )
            )
        _check_declared(rec, i, declared, source)
        clean = {k: (float(v) if type(v).__name__ == "Decimal" else v) for k, v in rec.items()}
        try:
            b.add_record(clean, i + 1)
        except KepatuhanError:
            raise
        except (TypeError, ValueError) as exc:  # pragma: no cover - add_record checks types
            raise ObservationError(
                Problem(str(exc), path=source, key_path=f"observation[{i}]")
            ) from None
    return b.build()
