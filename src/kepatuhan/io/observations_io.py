"""Reading observation files: the long CSV a spreadsheet exports, and TOML / JSON forms.

CSV columns: ``institution,unit,product,criterion,value`` (required) and optionally
``institution_name, institution_kind, unit_name, unit_sector, product_name, weight, note,
evidence, date, source`` (``weight``: a product's weight, on its rows). An empty
``product`` makes the row about the unit, an empty ``unit`` about the institution. TOML: a
list of ``[[observation]]`` tables with the same keys; JSON: ``{"observations": [...]}`` or
a bare list. Every problem names the file and the line (CSV) or record (TOML/JSON); no row
is ever dropped silently. The rows' problems are gathered over the whole file and raised
together (a refused row leaves no name, sector or weight behind for a later row to clash
with); a problem of the file itself (unreadable, bad header, invalid syntax) stops at once.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import json
import operator
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import (
    InputFileError,
    KepatuhanError,
    ObservationError,
    Problem,
    ProblemLog,
    fmt,
    suggest,
    too_many_digits,
)
from ..observations import ATTRIBUTES, WORD, ObservationTable, TableBuilder, clean_text
from .files import check_file, read_bytes, read_text
from .rubric_toml import parse_toml

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "read_observations", "read_observations_text"]

REQUIRED_COLUMNS = ("institution", "unit", "product", "criterion", "value")
OPTIONAL_COLUMNS = (
    "institution_name",
    "institution_kind",
    "unit_name",
    "unit_sector",
    "product_name",
    "weight",
    "note",
    "evidence",
    "date",
    "source",
)
_ALL = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

# A CSV field may be long (a note), but not unboundedly: the csv module's own limit is
# 128 KiB; 1 MiB keeps a pasted document readable while refusing a runaway file. The limit
# is process-wide in the csv module, so it is set only while kepatuhan reads, then restored.
FIELD_LIMIT = 1 << 20


@contextlib.contextmanager
def _field_limit() -> Iterator[None]:
    old = csv.field_size_limit(FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(old)


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


#: At most this many row problems of one file are kept (the rest are counted): enough to
#: fix a file in one pass, bounded for a file with a million bad rows.
MAX_KEPT = 100

#: The field separators a CSV may use, by the names a caller may give them.
DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t"}


def _delimiter(delimiter: str | None, source: str | None) -> str | None:
    """The separator a caller asked for (``None``: detect it from the header)."""
    if delimiter is None:
        return None
    d = DELIMITERS.get(delimiter)
    if d is None:
        raise InputFileError(
            Problem(
                f"unknown delimiter {delimiter!r}",
                path=source,
                expected='",", ";" or a tab ("\\t" or "tab")',
                found=repr(delimiter),
            )
        )
    return d


def read_observations(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    engine: str = "auto",
    decimal_comma: bool = False,
    delimiter: str | None = None,
) -> ObservationTable:
    """Read an observation file into an :class:`~kepatuhan.ObservationTable`.

    ``format`` ("csv", "toml", "json") defaults to the file's extension. ``engine`` chooses
    the CSV parser: ``"stdlib"`` (the ``csv`` module), ``"arrow"`` (pyarrow, the ``arrow``
    extra) or ``"auto"`` (arrow when installed). Both give bit-identical tables; whenever the
    fast path meets anything unusual it hands the file to the stdlib path, which produces
    the located error. ``decimal_comma`` reads ``85,5`` as 85.5 (and refuses a dot in a
    value); ``delimiter`` is the CSV field separator (``","``, ``";"``, ``"\\t"``/``"tab"``),
    detected from the header line when ``None``. Raises :class:`~kepatuhan.InputFileError`
    for an unreadable file and :class:`~kepatuhan.ObservationError` for bad content, naming
    the file and line: every bad row of the file at once, in file order (the first
    :data:`MAX_KEPT`, then a count of the rest), each row reported by its first problem.
    """
    where = str(path)
    if engine not in ("auto", "arrow", "stdlib"):
        raise InputFileError(
            Problem(f"unknown engine {engine!r}", expected="auto, arrow or stdlib", path=where)
        )
    fmt_ = format or _fmt_of(where)
    sep = _delimiter(delimiter, where)
    if fmt_ == "csv" and engine != "stdlib":
        check_file(path)
        fast = _read_csv_arrow(where, engine == "arrow", decimal_comma, sep)
        if fast is not None:
            return fast
    return read_observations_text(
        read_text(path), fmt_, where, decimal_comma=decimal_comma, delimiter=delimiter
    )


def _first_rows(codes: NDArray[np.int64], m: int) -> NDArray[np.int64]:
    """The first row of each code (in a fancy assignment with repeats the last write wins,
    so writing the rows backwards leaves the first)."""
    first = np.full(m, len(codes), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)
    return first


def _arrow_separator(head: bytes, sep: str | None) -> str | None:
    """The separator of a header that is exactly the five required columns, else None."""
    for d in (sep,) if sep else (",", ";", "\t"):
        if head == d.join(REQUIRED_COLUMNS).encode():
            return d
    return None


def _read_csv_arrow(
    path: str, required: bool, decimal_comma: bool = False, sep: str | None = None
) -> ObservationTable | None:
    """The pyarrow path for a plain five-column CSV; None hands the file to the stdlib path.

    It reads what the stdlib path reads, through the same :class:`TableBuilder` methods
    (each distinct cell once); at the first problem of any kind it steps aside, so the
    located error always comes from the one stdlib reader.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        if required:
            raise InputFileError(
                Problem("engine 'arrow' needs pyarrow: pip install kepatuhan[arrow]", path=path)
            ) from None
        return None
    data = read_bytes(path)  # checked as a regular file, the size limit held while reading
    head = data[: data.find(b"\n") if b"\n" in data else len(data)].rstrip(b"\r")
    d = _arrow_separator(head, sep)
    if d is None:
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
            parse_options=pacsv.ParseOptions(delimiter=d, newlines_in_values=False),
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
    b = TableBuilder(path, decimal_comma=decimal_comma)
    was_enabled = gc.isenabled()
    gc.disable()  # tens of thousands of entity objects: nothing for the collector to free
    try:
        return _arrow_table(b, codes, words, n)
    except (KepatuhanError, ValueError):
        return None  # the stdlib path raises the same error, located
    finally:
        if was_enabled:
            gc.enable()


def _arrow_table(
    b: TableBuilder, codes: dict[str, NDArray[np.int64]], words: dict[str, list[str]], n: int
) -> ObservationTable:
    """The table from dictionary-encoded columns: every distinct cell read once by ``b``."""
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
    # Each distinct id cell is cleaned once (a few thousand), not each entity's three.
    inst_ids, unit_ids, prod_ids = (
        [clean_text(w) for w in words[c]] for c in ("institution", "unit", "product")
    )
    entity_code = b.entity_code
    uniq_l, first_l = uniq.tolist(), first.tolist()
    for k in np.argsort(first, kind="stable").tolist():
        i, rest = divmod(uniq_l[k], nu * np_)
        u, p = divmod(rest, np_)
        inst, unit, prod = inst_ids[i], unit_ids[u], prod_ids[p]
        if not inst or (prod and not unit):
            raise ValueError("the stdlib path names the line")
        ent_level[k], ent_index[k] = entity_code(inst, unit, prod, first_l[k] + 2)
    crit_first = _first_rows(codes["criterion"], len(words["criterion"]))
    crit_map = np.empty(len(words["criterion"]), dtype=np.intp)
    for k in np.argsort(crit_first, kind="stable").tolist():
        crit_map[k] = b.row_criterion(words["criterion"][k], int(crit_first[k]) + 2)
    val_map = np.empty(len(words["value"]), dtype=np.float64)
    st_map = np.empty(len(words["value"]), dtype=np.int8)
    word_map = np.empty(len(words["value"]), dtype=np.bool_)
    for k, raw in enumerate(words["value"]):
        val_map[k], st_map[k], word_map[k] = b.row_value(raw, 0)
    vc = codes["value"]
    b.set_columns(
        ent_level[inverse],
        ent_index[inverse],
        crit_map[codes["criterion"]],
        val_map[vc],
        st_map[vc],
        np.arange(2, n + 2, dtype=np.int64),
        word_map[vc],
    )
    return b.build()


class _DuplicateKey(dict[str, Any]):
    """A JSON object that gave ``key`` twice (found after parsing, to name its place)."""

    key = ""


def _duplicate_key(data: Any) -> tuple[str, str] | None:
    """The key path and key of the first JSON object with a duplicate key, if any."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, v = stack.pop()
        if isinstance(v, _DuplicateKey):
            return path, v.key
        if isinstance(v, dict):
            stack.extend((f"{path}.{k}" if path else k, x) for k, x in reversed(v.items()))
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", x) for i, x in reversed(list(enumerate(v))))
    return None


def _first_duplicate(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for k, _ in pairs:
        if k in seen:
            return k
        seen.add(k)
    return ""  # pragma: no cover - called only when there is a duplicate


def _load_json(text: str, source: str | None) -> Any:
    """JSON with every key given once (``json`` would keep the last of two silently)."""
    duplicates: list[str] = []

    def obj(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) == len(pairs):
            return d
        dup = _DuplicateKey(d)
        dup.key = _first_duplicate(pairs)
        duplicates.append(dup.key)
        return dup

    try:
        data = json.loads(text, parse_float=float, object_pairs_hook=obj)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            Problem(f"invalid JSON: {exc.msg}", path=source, line=exc.lineno)
        ) from None
    except RecursionError:
        raise InputFileError(Problem("invalid JSON: nested too deeply", path=source)) from None
    except ValueError:  # an integer of more than 4300 digits (Python's conversion limit)
        raise too_many_digits(source, "invalid JSON: a number") from None
    found = _duplicate_key(data) if duplicates else None
    if found is not None:
        where, key = found
        raise ObservationError(
            Problem(
                f"duplicate key {fmt(key)}: a JSON object gives each key once",
                path=source,
                key_path=f"{where}.{key}" if where else key,
            )
        )
    return data


def read_observations_text(
    text: str,
    format: str,
    source: str | None = None,
    *,
    decimal_comma: bool = False,
    delimiter: str | None = None,
) -> ObservationTable:
    """Parse observation text of the given format ("csv", "toml" or "json").

    ``decimal_comma`` and ``delimiter`` are those of :func:`read_observations`;
    ``delimiter`` applies to CSV only.
    """
    sep = _delimiter(delimiter, source)
    if format == "csv":
        return _read_csv(text, source, decimal_comma, sep)
    if sep is not None and format in ("toml", "json"):
        raise InputFileError(
            Problem(
                f"a delimiter is for CSV files; this is a {format.upper()} file",
                path=source,
            )
        )
    if format == "toml":
        return _read_records(parse_toml(text, source), source, decimal_comma)
    if format == "json":
        return _read_records(_load_json(text, source), source, decimal_comma)
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
            hint = suggest(c, _ALL)
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


def _split(line: str, d: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=d), [])
    except csv.Error:
        return []


def _complete(line: str, d: str) -> bool:
    """Whether ``line`` split by ``d`` names every required column."""
    cols = {c.strip().lower() for c in _split(line, d)}
    return all(c in cols for c in REQUIRED_COLUMNS)


def _separator(text: str, sep: str | None, source: str | None) -> str:
    """The field separator: the caller's, or the one that splits the header into the
    required columns (``,``, ``;`` or a tab). Ambiguity is refused, never guessed."""
    end = text.find("\n")
    head = (text if end < 0 else text[:end]).rstrip("\r")  # not split(): no copy of the body
    fits = [d for d in (",", ";", "\t") if _complete(head, d)]
    names = {",": '","', ";": '";"', "\t": "a tab"}
    if sep is not None:
        if not _complete(head, sep) and fits:
            raise ObservationError(
                Problem(
                    f"the header is separated by {names[fits[0]]}, not {names[sep]}: "
                    "give that delimiter, or none to detect it",
                    path=source,
                    line=1,
                    expected=f"columns separated by {names[sep]}",
                    found=head[:80],
                )
            )
        return sep
    if len(fits) > 1:
        raise ObservationError(
            Problem(
                "the header can be split by "
                + " and by ".join(names[d] for d in fits)
                + "; give the delimiter (delimiter=..., --delimiter)",
                path=source,
                line=1,
            )
        )
    if fits:
        return fits[0]
    # No separator gives the required columns: the one giving most fields names the problem.
    return max((",", ";", "\t"), key=lambda d: len(_split(head, d)))


def _read_csv(
    text: str, source: str | None, decimal_comma: bool = False, sep: str | None = None
) -> ObservationTable:
    with _field_limit():
        return _read_csv_rows(text, source, decimal_comma, sep)


def _read_csv_rows(
    text: str, source: str | None, decimal_comma: bool, sep: str | None
) -> ObservationTable:
    if not text or text.isspace():  # not strip(): no copy of a big file
        raise InputFileError(
            Problem(
                "empty file",
                path=source,
                expected="a header line " + ",".join(REQUIRED_COLUMNS),
                found="nothing",
            )
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text, sep, source))
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
    attr_cols = [(cols[k], k) for k, _ in ATTRIBUTES if k in cols]
    cw = cols.get("weight")
    # The cells that give an entity facts (names, kind, sector, weight), read as one key.
    fact_cols = [c for c, _ in attr_cols] + ([cw] if cw is not None else [])
    fact_cells = operator.itemgetter(*fact_cols) if fact_cols else None
    done: dict[tuple[int, int], object] = {}
    b = TableBuilder(source, decimal_comma=decimal_comma)
    row_entity, row_criterion, row_value = b.row_entity, b.row_criterion, b.row_value
    clean, row_facts = b.clean, b.row_facts
    # Every distinct raw cell is read once: a national round has a million rows but only
    # tens of thousands of entities, dozens of criteria and a few hundred distinct values.
    entities: dict[tuple[str, str, str], tuple[int, int]] = {}
    criteria: dict[str, int] = {}
    values: dict[str, tuple[float, int]] = {}
    cells: dict[tuple[str, str], str] = {}
    levels, ents, crits, vals, states, lines = (
        b.level,
        b.entity,
        b.criterion,
        b.value,
        b.state,
        b.line,
    )
    log = ProblemLog(MAX_KEPT)
    was_enabled = gc.isenabled()
    gc.disable()  # a million small lists make the collector walk the heap for nothing
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            # A row with a problem is recorded and skipped whole: its observation, names and
            # weight are not kept (the ids it spells are, as any spelling in the file is).
            try:
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
                    ent = entities[key] = row_entity(*key, line)
                raw_crit = row[cc]
                crit = criteria.get(raw_crit)
                if crit is None:
                    crit = criteria[raw_crit] = row_criterion(raw_crit, line)
                raw = row[cv]
                parsed = values.get(raw)
                if parsed is None:
                    v, st, word = row_value(raw, line)
                    parsed = values[raw] = (v, st + WORD if word else st)
                if fact_cells is not None:
                    got = fact_cells(row)
                    # The cells of an accepted row of this entity, again: nothing new to check.
                    if done.get(ent) != got:
                        facts = []
                        for col, name in attr_cols:
                            cell = row[col]
                            if cell:
                                val = cells.get((name, cell))
                                if val is None:
                                    val = cells[(name, cell)] = clean(name, cell, line)
                                if val:
                                    facts.append((name, val))
                        row_facts(*ent, facts, row[cw] if cw is not None else "", line)
                        done[ent] = got
            except ObservationError as exc:
                log.add(exc)
                continue
            levels.append(ent[0])
            ents.append(ent[1])
            crits.append(crit)
            vals.append(parsed[0])
            states.append(parsed[1])
            lines.append(line)
    except csv.Error as exc:
        # A file-level problem stops the reading; the rows' problems before it come first.
        stop = Problem(f"invalid CSV: {exc}", path=source, line=reader.line_num)
        raise log.error(ObservationError if log else InputFileError, also=stop) from None
    finally:
        if was_enabled:
            gc.enable()
    log.raise_if_any()
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
    "product": ("institution", "unit", "id", "name", "weight"),
}


def _plural_key(data: Mapping[str, Any], name: str, source: str | None) -> str | None:
    """Which of ``name`` / ``name + "s"`` the file uses; both at once is refused (one of the
    two lists would be dropped)."""
    both = [k for k in (name, name + "s") if k in data]
    if len(both) > 1:
        raise ObservationError(
            Problem(
                f'both "{name}" and "{name}s" are given: put every {name} in one list',
                path=source,
                key_path=both[1],
            )
        )
    return both[0] if both else None


def _declared_id(b: TableBuilder, item: Mapping[str, Any], key: str, where: str) -> str:
    """An id of a declaration: text, clean (:func:`~kepatuhan.observations.clean_text`)."""
    v = item[key]
    if not isinstance(v, str):
        raise ObservationError(
            Problem(
                f"expected text, found {fmt(v) if not isinstance(v, bool) else str(v).lower()}",
                path=b.source,
                key_path=f"{where}.{key}",
            )
        )
    return b.clean(key, v, 0, f"{where}.{key}")


def _declarations(
    data: Mapping[str, Any], source: str | None, b: TableBuilder
) -> dict[str, set[tuple[str, ...]]]:
    """Read ``[[institution]]``, ``[[unit]]``, ``[[product]]``: the entities that exist.

    When a level is declared, an observation about an entity of that level that is not
    declared is an error (a typo in an id must not create a new unit silently).
    """
    declared: dict[str, set[tuple[str, ...]]] = {}
    for level, keys in _DECLARED.items():
        key = _plural_key(data, level, source)
        if key is None:
            continue
        items = data[key]
        if not isinstance(items, list):
            raise ObservationError(
                Problem(f"expected a list of [[{level}]] tables", path=source, key_path=key)
            )
        seen: set[tuple[str, ...]] = set()
        id_keys = [k for k in keys if k not in ("name", "kind", "sector", "weight")]
        for j, item in enumerate(items):
            where = f"{key}[{j}]"
            if not isinstance(item, Mapping):
                raise ObservationError(
                    Problem(f"expected a table, found {fmt(item)}", path=source, key_path=where)
                )
            unknown = [k for k in item if k not in keys]
            missing = [k for k in id_keys if not item.get(k)]
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
            ident = tuple(_declared_id(b, item, k, where) for k in id_keys)
            if not ident[-1]:
                raise ObservationError(
                    Problem(
                        f"expected an id, found {fmt(item[id_keys[-1]])}",
                        path=source,
                        key_path=f"{where}.{id_keys[-1]}",
                    )
                )
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
            inst, unit, product = (*ident, "", "")[:3]
            lv, e = b.entity_code(inst, unit, product, where=where)
            for attr in ("name", "kind", "sector"):
                if item.get(attr) is not None:
                    val = _declared_id(b, item, attr, where)
                    b.set_attr(lv, e, f"{level}_{attr}", val, 0, f"{where}.{attr}")
            if "weight" in item:
                b.row_weight(lv, e, item["weight"], 0, f"{where}.weight")
        declared[level] = seen
    return declared


def _record_ids(rec: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The clean ids of a record, or None if one is not clean text (add_record says why)."""
    out = []
    for k in ("institution", "unit", "product"):
        v = rec.get(k)
        if v is None:
            v = ""
        if not isinstance(v, str):
            return None
        try:
            out.append(clean_text(v))
        except ValueError:
            return None
    return out[0], out[1], out[2]


def _check_declared(
    rec: Mapping[str, Any], i: int, declared: dict[str, set[tuple[str, ...]]], source: str | None
) -> None:
    ids = _record_ids(rec)
    if ids is None:
        return
    for depth, level in enumerate(("institution", "unit", "product")):
        ident = ids[: depth + 1]
        if not ident[-1] or level not in declared or ident in declared[level]:
            continue
        # An id declared in another letter case is the likeliest meaning: name it.
        same = [
            d[-1]
            for d in declared[level]
            if [x.casefold() for x in d] == [x.casefold() for x in ident]
        ]
        hint = f' (did you mean "{min(same)}"?)' if same else ""
        raise ObservationError(
            Problem(
                f"unknown {level} {fmt(ident[-1])}"
                + (f" of {' / '.join(ident[:-1])}" if depth else "")
                + f": it is not declared in [[{level}]]{hint}",
                path=source,
                key_path=f"observation[{i}].{level}",
                expected=f"a declared {level}",
                found=fmt(ident[-1]),
            )
        )


def _read_records(data: Any, source: str | None, decimal_comma: bool = False) -> ObservationTable:
    b = TableBuilder(source, line_kind="record", decimal_comma=decimal_comma)
    declared: dict[str, set[tuple[str, ...]]] = {}
    if isinstance(data, Mapping):
        allowed = {"observation", "observations"} | {k + s for k in _DECLARED for s in ("", "s")}
        extra = [k for k in data if k not in allowed]
        if extra:
            raise ObservationError(
                Problem(
                    f"unknown key {fmt(extra[0])}"
                    + suggest(str(extra[0]), sorted(allowed))
                    + "; an observation file holds [[observation]] records and optional "
                    "[[institution]], [[unit]], [[product]] declarations",
                    path=source,
                    key_path=str(extra[0]),
                )
            )
        key = _plural_key(data, "observation", source)
        declared = _declarations(data, source, b)
        records = data.get(key) if key else None
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
    # Each record with a problem is recorded and skipped whole; the declarations above are
    # read first and stop at their first problem (records are checked against them).
    log = ProblemLog(MAX_KEPT)
    for i, rec in enumerate(records):
        try:
            _check_record(rec, i, declared, source)
            b.add_record(rec, i + 1)
        except ObservationError as exc:
            log.add(exc)
    log.raise_if_any()
    return b.build()


def _check_record(
    rec: Any, i: int, declared: dict[str, set[tuple[str, ...]]], source: str | None
) -> None:
    """Refuse a record that is not a table, has an unknown key or an undeclared entity."""
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
        raise ObservationError(
            Problem(
                f"unknown key {fmt(k)}" + suggest(k, _ALL),
                path=source,
                key_path=f"observation[{i}].{k}",
            )
        )
    _check_declared(rec, i, declared, source)
