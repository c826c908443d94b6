"""Commands that score a file and show or write the result: ``score``, ``explain``,
``export``, ``verify``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..errors import (
    Problem,
)
from ..io.files import OutputFileError, write_atomic
from ..results import STATE_NAMES, ExplainNode, Scores
from ..rounding import publish
from ..rubric import LEVELS
from . import common
from .common import _csv, _result_writer, _score, _signed, _table, _write_csv, _write_to

_POLICY_WORDS = {"zero": "counted as 0", "not_applicable": "treated as not applicable"}


def _missing_lines(res: Scores) -> list[str]:
    """One warning line: how many needed values the policy filled in, the first five named
    (a rubric has one missing-value policy; nothing is built per missing value)."""
    count = res.missing_count()
    if not count:
        return []
    first = res.missing(limit=5)
    shown = ", ".join(str(m) for m in first) + (", …" if count > len(first) else "")
    policy = res.rubric.missing
    return [
        f"{count} needed values were missing and "
        f"{_POLICY_WORDS.get(policy, 'handled as ' + policy)}: {shown}"
    ]


def cmd_score(args: argparse.Namespace) -> int:
    """Score an observation file and print institutions (and units)."""
    res = _score(args)
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    missing = _missing_lines(res)
    if args.format == "table" and not args.strict:
        for line in missing:
            print(f"warning: {line}", file=sys.stderr)
    acc = res.accounting()
    if args.strict and acc["overridden"]:
        print(
            f"{res.table.source}: {acc['overridden']} rows are overridden by nodes given "
            f"above them (lines {acc['overridden_lines'][:10]}); --strict refuses that",
            file=sys.stderr,
        )
        return 1
    if args.strict and missing:
        for line in missing:
            print(f"{res.table.source}: {line}; --strict refuses that", file=sys.stderr)
        return 1
    header = ("level", "institution", "unit", "score", "band", "zone", "state")
    emit: Callable[[TextIO], None]
    if args.format == "json":
        emit = _result_writer(res, args)
    else:
        rows = _summary_rows(res, args.units)

        def emit_rows(out: TextIO) -> None:
            if args.format == "csv":
                _write_csv(out, header, rows)
            else:
                out.write(_table(rows, header) + "\n")

        emit = emit_rows

    if args.output is None:
        emit(sys.stdout)
        return 0
    write_atomic(args.output, lambda tmp: _write_to(tmp, emit))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _summary_rows(res: Scores, units: bool) -> list[tuple[Any, ...]]:
    """The rows of ``score``'s table and CSV, straight from the result's columns."""
    bands = res.rubric.bands.bands if res.rubric.bands is not None else ()

    def level_rows(lv: int) -> list[tuple[Any, ...]]:
        col = res.columns(lv)
        inst_of = (
            col.ids if lv == 0 else [res.table.institutions[i].id for i in col.parent.tolist()]
        )
        unit_of = [""] * len(col.ids) if lv == 0 else list(col.ids)
        out = []
        for inst, unit, pub, b, st in zip(
            inst_of, unit_of, col.published, col.band.tolist(), col.state.tolist(), strict=True
        ):
            band = bands[b] if b >= 0 and bands else None
            out.append(
                (
                    LEVELS[lv],
                    inst,
                    unit,
                    pub,
                    band.id if band else "",
                    (band.zone or "") if band else "",
                    STATE_NAMES[st],
                )
            )
        return out

    inst_rows = level_rows(0)
    if not units:
        return inst_rows
    unit_rows = level_rows(1)
    order, offsets = res.children_index(0)
    rows: list[tuple[Any, ...]] = []
    for i, row in enumerate(inst_rows):
        rows.append(row)
        rows.extend(unit_rows[int(u)] for u in order[offsets[i] : offsets[i + 1]])
    return rows


def cmd_export(args: argparse.Namespace) -> int:
    """Score and write the result to a CSV, JSON, JSON Lines or Parquet file, with
    provenance."""
    if Path(args.output).suffix.lower() not in (".csv", ".json", ".jsonl", ".parquet"):
        raise OutputFileError(
            Problem(
                "expected a .csv, .json, .jsonl or .parquet output file",
                path=args.output,
                found=Path(args.output).suffix or "no extension",
            )
        )
    res = _score(args)
    if args.output.lower().endswith(".json"):
        # The same document as `score --format json`, so `verify` accepts it.
        emit = _result_writer(res, args)
        write_atomic(args.output, lambda tmp: _write_to(tmp, emit))
    else:
        write_atomic(args.output, res.write)
    print(f"wrote {args.output} ({len(res.record_columns()['level'])} rows)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-score what a result file records and compare, bit for bit; exit 1 if it differs."""
    from ..analysis.verify import verify_result_file

    v = verify_result_file(args.result, plugins=common._manager())
    for note in v.notes:
        print(f"note: {note}")
    if v.reproduces:
        print(
            f"reproduces: {v.compared} scores identical to the bit, and the whole document "
            f"({args.result})"
        )
        return 0
    print(f"does not reproduce ({args.result}):")
    for d in v.differences:
        print(f"  {d}")
    return 1


def _render_explain(node: ExplainNode, depth: int = 0, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    pad = "  " * depth
    if node.score is None:
        val = node.state
    else:
        value = node.score if node.value is None else node.value
        val = (
            publish(value)
            + (f"/{node.maximum:g}" if node.maximum != 100 else "")
            + f" ({publish(node.score)}%)"
        )
    who = node.entity.split(" ")[-1].strip('"') if depth and node.entity else node.entity
    tag = "" if node.state == "scored" else f" [{node.state}]"
    out.append(
        f"{pad}{node.criterion} @ {who}: {val}{tag}  share {node.share:.1%}, "
        f"weight in total {node.effective_weight:.2%}, lost {publish(node.lost)}"
    )
    for c in node.entities:
        _render_explain(c, depth + 1, out)
    for c in node.children:
        _render_explain(c, depth + 1, out)
    return out


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the contribution tree of one institution (or unit, or product)."""
    res = _score(args)
    tree = res.explain(args.institution, args.unit, args.product)
    ups, downs = res.strengths(args.institution, args.unit) if args.product is None else ([], [])
    if args.format == "json":
        doc = tree.to_dict()
        doc["strengths"] = [{"criterion": c, "above_peers": d} for c, d in ups]
        doc["weaknesses"] = [{"criterion": c, "below_peers": -d} for c, d in downs]
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    nodes = tree.walk()
    if args.format == "csv":
        print(
            _csv(
                [
                    (
                        n.entity,
                        n.criterion,
                        n.state,
                        n.score,
                        n.value,
                        n.maximum,
                        n.share,
                        n.effective_weight,
                        n.contribution,
                        n.lost,
                    )
                    for n in nodes
                ],
                (
                    "entity",
                    "criterion",
                    "state",
                    "score",
                    "value",
                    "maximum",
                    "share",
                    "effective_weight",
                    "contribution",
                    "lost",
                ),
            )
        )
        return 0
    # The value of the root in its own unit is the published-scale score (0–100 or 0–110).
    card_score = "not applicable" if tree.value is None else publish(tree.value)
    print(f"{tree.entity} under {res.rubric.id}: {card_score}")
    print("\n".join(_render_explain(tree)))
    if ups or downs:
        print("strengths (points above peers): " + ", ".join(f"{c} {_signed(d)}" for c, d in ups))
        print(
            "weaknesses (points below peers): " + ", ".join(f"{c} {_signed(d)}" for c, d in downs)
        )
    return 0
