"""Reading a crosswalk: a CSV file with the columns ``from,to`` mapping criterion ids.

One row per mapped id (``from`` the id in the data, ``to`` the criterion of the rubric it is
scored under); other columns (a ``note``) are allowed and ignored; blank lines are skipped.
Every problem names the file and the line. What the rows mean is checked where they are
used (:class:`kepatuhan.analysis.compare.Crosswalk`).
"""

from __future__ import annotations

import csv
import io
import os

from ..errors import InputFileError, Problem
from .files import read_text

__all__ = ["read_crosswalk_rows"]


def read_crosswalk_rows(path: str | os.PathLike[str]) -> list[tuple[int, str, str]]:
    """The ``(line, from, to)`` rows of a crosswalk CSV (``line`` 1-based in the file)."""
    where = str(path)
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(
            Problem("expected a header from,to, found an empty file", path=where, line=1)
        ) from None
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    if "from" not in names or "to" not in names:
        raise InputFileError(
            Problem(
                "expected the columns from and to",
                path=where,
                line=1,
                expected="from,to",
                found=",".join(header)[:80] or "nothing",
            )
        )
    a, b = names.index("from"), names.index("to")
    out: list[tuple[int, str, str]] = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise InputFileError(
                    Problem(
                        f"expected {len(header)} fields, found {len(row)}",
                        path=where,
                        line=line,
                        expected=f"{len(header)} fields",
                        found=str(len(row)),
                    )
                )
            out.append((line, row[a], row[b]))
    except csv.Error as exc:
        raise InputFileError(
            Problem(f"not a CSV file: {exc}", path=where, line=reader.line_num)
        ) from None
    if not out:
        raise InputFileError(Problem("expected at least one from,to row, found none", path=where))
    return out
