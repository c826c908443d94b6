"""Writing a result document as JSON, streamed one institution at a time.

The format (``kepatuhan.result/2``) is plain JSON, compact, with one institution per line so
that a national result can be written with flat memory, read by any JSON parser, and looked
at with line tools (``grep kab-maluku-tenggara result.json``)::

    {"format":"kepatuhan.result/2","rubric":{…},…,"warnings":[…],"institutions":[
    {"id":"kab-a",…,"units":[…]},
    {"id":"kab-b",…}
    ]}

Version 1 (kepatuhan 0.1) was the same document indented by two spaces; ``json.dumps`` with an
indent runs the pure-Python encoder, which made writing the slowest part of scoring a national
round. Nothing but the layout changed: ``json.load`` gives the same document, plus the
``format`` key. ``python -m json.tool result.json`` pretty-prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

__all__ = ["RESULT_FORMAT", "result_json_text", "write_records_jsonl", "write_result_json"]

#: The ``format`` key of a result document written by this module.
RESULT_FORMAT = "kepatuhan.result/2"

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)


def _head(header: Mapping[str, Any]) -> str:
    """The document up to and including ``"institutions":[`` (``format`` first)."""
    head = {"format": RESULT_FORMAT, **{k: v for k, v in header.items() if k != "format"}}
    head.pop("institutions", None)
    text = _ENCODER.encode(head)
    return text[:-1] + ("," if len(head) else "") + '"institutions":['


def write_result_json(
    out: TextIO,
    header: Mapping[str, Any],
    institutions: Iterable[Mapping[str, Any] | str],
    *,
    batch: int = 256,
) -> None:
    """Write a result document to ``out``: the header, then each institution on its own line.

    ``institutions`` may be a generator of dicts (``Scores.iter_institution_dicts()``) or of
    their compact JSON text (``Scores.iter_institution_json()``, the fast path): it is
    consumed once, ``batch`` institutions per write, so memory does not grow with the data.
    """
    out.write(_head(header))
    first = True
    pending: list[str] = []
    for inst in institutions:
        text = inst if isinstance(inst, str) else _ENCODER.encode(inst)
        pending.append(("\n" if first else ",\n") + text)
        first = False
        if len(pending) >= batch:
            out.write("".join(pending))
            pending.clear()
    out.write("".join(pending))
    out.write("\n]}\n")


def result_json_text(doc: Mapping[str, Any]) -> str:
    """A whole document (with its ``institutions`` list) as the same text the writer gives."""
    import io

    buf = io.StringIO()
    write_result_json(buf, doc, doc.get("institutions", []))
    return buf.getvalue()


def write_records_jsonl(
    out: TextIO, columns: Mapping[str, list[Any]], extra: Mapping[str, str], *, batch: int = 4096
) -> None:
    """Write result rows as JSON Lines: one object per row, with ``columns``' names as keys
    (numbers as numbers, ``null`` where there is none) and ``extra`` (the provenance, as on
    every CSV row) on every line."""
    names = list(columns)
    tail = _ENCODER.encode(dict(extra))[1:] if extra else "}"
    sep = "," if extra else ""
    rows = zip(*columns.values(), strict=True)
    pending: list[str] = []
    for row in rows:
        text = _ENCODER.encode(dict(zip(names, row, strict=True)))
        pending.append(text[:-1] + sep + tail + "\n")
        if len(pending) >= batch:
            out.write("".join(pending))
            pending.clear()
    out.write("".join(pending))
