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
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputFileError, KepatuhanError, ObservationError, Problem, fmt
from ..observations import ObservationTable, TableBuilder, parse_value
from .files import read_text
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
    path: str | os.PathLike[str], *, format: str | None = None
) -> ObservationTable:
    """Read an observation file into an :class:`~kepatuhan.ObservationTable`.

    ``format`` ("csv", "toml", "json") defaults to the file's extension. Raises
    :class:`~kepatuhan.InputFileError` for an unreadable file and
    :class:`~kepatuhan.ObservationError` for bad content, naming the file and line.
    """
    where = str(path)
    fmt_ = format or _fmt_of(where)
    return read_observations_text(read_text(path), fmt_, where)


def read_observations_text(text: str, format: str, source: str | None = None) -> ObservationTable:
    """Parse observation text of the given format ("csv", "toml" or "json")."""
    if format == "csv":
        return _read_csv(text, source)
    if format == "toml":
        return _read_records(parse_toml(text, source), source, "TOML")
    if format == "json":
        try:
            data = json.loads(text, parse_float=float)
        except json.JSONDecodeError as exc:
            raise InputFileError(
                Problem(f"invalid JSON: {exc.msg}", path=source, line=exc.lineno)
            ) from None
        except RecursionError:
            raise InputFileError(Problem("invalid JSON: nested too deeply", path=source)) from None
        return _read_records(data, source, "JSON")
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
    reader = csv.reader(text.splitlines())
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
    add, entity_code, set_attr = b.add, b.entity_code, b.set_attr
    was_enabled = gc.isenabled()
    gc.disable()  # a million small lists make the collector walk the heap for nothing
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line holds no observation
            if len(row) != width:
                raise ObservationError(
                    Problem(
                        f"expected {width} fields, found {len(row)}",
                        path=source,
                        line=line,
                        expected=f"{width} fields",
                        found=f"{len(row)} fields",
                    )
                )
            inst, unit, product, crit = (
                row[ci].strip(),
                row[cu].strip(),
                row[cp].strip(),
                row[cc].strip(),
            )
            if not inst or not crit or (product and not unit):
                cells = (inst, unit, product, crit, row[cv])
                b.add_record(dict(zip(REQUIRED_COLUMNS, cells, strict=True)), line)
                continue  # unreachable: add_record raises the precise error
            try:
                v, st = parse_value(row[cv])
            except ValueError as exc:
                raise ObservationError(
                    Problem(f'column "value": {exc}', path=source, line=line)
                ) from None
            lv, ent = add(inst, unit, product, crit, v, st, line)
            for col, key, alv in attr_cols:
                val = row[col].strip()
                if val:
                    if alv == lv:
                        set_attr(alv, ent, key, val, line)
                    elif alv < lv:
                        lv2, ent2 = entity_code(inst, unit if alv >= 1 else "", "")
                        set_attr(lv2, ent2, key, val, line)
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


def _read_records(data: Any, source: str | None, kind: str) -> ObservationTable:
    if isinstance(data, Mapping):
        key = "observation" if "observation" in data else "observations"
        extra = set(data) - {"observation", "observations"}
        if extra:
            raise ObservationError(
                Problem(
                    f"unknown key {', '.join(sorted(extra))}; an observation file holds "
                    "[[observation]] records",
                    path=source,
                )
            )
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
    b = TableBuilder(source, line_kind="record")
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
