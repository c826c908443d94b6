"""Reading a published record: a CSV of figures and a TOML list of their public sources.

The CSV has one row per printed figure (columns in :data:`RECORD_COLUMNS`); ``source_id``
names a ``[[source]]`` of the TOML file (``id``, ``publisher``, ``title``, ``date``, ``url``,
``supports``). Every problem names the file and the line or key, like every other reader.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ..errors import ObservationError, Problem
from ..records import PublishedRecord, PublishedSource
from .files import read_text
from .rubric_toml import parse_toml

__all__ = ["RECORD_COLUMNS", "read_records"]

#: The columns of a published-record CSV (``source_id`` is required; the rest may be empty).
RECORD_COLUMNS = (
    "year",
    "edition",
    "institution_id",
    "institution_name",
    "kind",
    "province",
    "bps_code",
    "unit",
    "product",
    "criterion",
    "value",
    "value_as_printed",
    "band_as_printed",
    "rank_as_printed",
    "official",
    "unit_set",
    "known_conflict",
    "source_id",
    "note",
)


def _sources(path: Any) -> dict[str, PublishedSource]:
    where = str(path)
    data = parse_toml(read_text(path), where)
    out: dict[str, PublishedSource] = {}
    for i, item in enumerate(data.get("source", [])):
        key = f"source[{i}]"
        if not isinstance(item, dict) or not item.get("id") or not item.get("title"):
            raise ObservationError(
                Problem("a source needs an id and a title", path=where, key_path=key)
            )
        if item["id"] in out:
            raise ObservationError(
                Problem(f'source id "{item["id"]}" appears twice', path=where, key_path=key)
            )
        out[item["id"]] = PublishedSource(
            id=str(item["id"]),
            publisher=str(item.get("publisher") or ""),
            title=str(item["title"]),
            date=None if item.get("date") is None else str(item["date"]),
            url=item.get("url"),
            supports=item.get("supports"),
        )
    return out


def _text(row: dict[str, str], key: str) -> str | None:
    v = (row.get(key) or "").strip()
    return v or None


def read_records(csv_path: Any, sources_path: Any) -> tuple[PublishedRecord, ...]:
    """The records of a published-record CSV, each with its source from the TOML file.

    Both are paths (or package-data ``Traversable`` objects, as a plugin has them)."""
    where = str(csv_path)
    sources = _sources(sources_path)
    reader = csv.DictReader(io.StringIO(read_text(csv_path), newline=""))
    missing = [
        c for c in ("year", "institution_id", "source_id") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise ObservationError(Problem(f"missing column {', '.join(missing)}", path=where, line=1))
    out = []
    for row in reader:
        line = reader.line_num

        def bad(message: str, line: int = line) -> ObservationError:
            return ObservationError(Problem(message, path=where, line=line))

        try:
            year = int(row["year"])
        except (TypeError, ValueError):
            raise bad(f'column "year": expected a year, found {row["year"]!r}') from None
        sid = _text(row, "source_id")
        if sid is None or sid not in sources:
            raise bad(f'column "source_id": {sid!r} is not a [[source]] of {sources_path}')
        inst = _text(row, "institution_id")
        if inst is None:
            raise bad('column "institution_id": expected an id, found an empty cell')
        value = _text(row, "value")
        if value is not None:
            try:
                float(value)
            except ValueError:
                raise bad(f'column "value": expected a number, found {value!r}') from None
        fields: dict[str, Any] = {k: _text(row, k) for k in RECORD_COLUMNS}
        out.append(
            PublishedRecord(
                year=year,
                edition=fields["edition"],
                institution_id=inst,
                institution_name=fields["institution_name"] or inst,
                kind=fields["kind"],
                source=sources[sid],
                province=fields["province"],
                bps_code=fields["bps_code"],
                unit=fields["unit"],
                product=fields["product"],
                criterion=fields["criterion"] or "total",
                value=value,
                value_as_printed=fields["value_as_printed"],
                band_as_printed=fields["band_as_printed"],
                rank_as_printed=fields["rank_as_printed"],
                official=(fields["official"] or "yes").lower() != "no",
                unit_set=fields["unit_set"],
                known_conflict=fields["known_conflict"],
                note=fields["note"],
            )
        )
    return tuple(out)
