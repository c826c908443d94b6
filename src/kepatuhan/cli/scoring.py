"""Commands that score a file and show or write the result: ``score``, ``explain``,
``export``, ``verify``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..bands import BandScheme
from ..errors import (
    Problem,
)
from ..io.files import OutputFileError, write_atomic
from ..present import lang
from ..results import STATE_NAMES, ExplainNode, Scores
from ..rubric import LEVELS
from . import common
from .common import (
    Shown,
    _csv,
    _result_writer,
    _score,
    _shown,
    _signed,
    _table,
    _write_csv,
    _write_to,
)

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
    if args.strict and acc["excluded_by_rule"]:
        lines = [r["line"] for r in acc["excluded_rows"] if r["by"].startswith("criterion")]
        print(
            f"{res.table.source}: {acc['excluded_by_rule']} rows give values for criteria "
            f"that are not applicable by the rubric's not_applicable_for rule (lines "
            f"{lines[:10]}); --strict refuses that",
            file=sys.stderr,
        )
        return 1
    if args.strict and missing:
        for line in missing:
            print(f"{res.table.source}: {line}; --strict refuses that", file=sys.stderr)
        return 1
    emit: Callable[[TextIO], None]
    if args.format == "json":
        emit = _result_writer(res, args)
    else:
        rows = _summary_rows(res, args.units)

        def emit_rows(out: TextIO) -> None:
            if args.format == "csv":
                _write_csv(out, SUMMARY_HEADER, rows)
            else:
                header, shown = _people_rows(rows, _shown(args), res.rubric.bands)
                out.write(_table(shown, header) + "\n")

        emit = emit_rows

    if args.output is None:
        emit(sys.stdout)
        return 0
    write_atomic(args.output, lambda tmp: _write_to(tmp, emit))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


#: The columns of ``score --format csv``: ids first (as in kepatuhan 0.1), then the names and
#: band labels in both languages, so a spreadsheet needs no second lookup.
SUMMARY_HEADER = (
    "level",
    "institution",
    "unit",
    "score",
    "band",
    "zone",
    "state",
    "institution_name",
    "unit_name",
    "band_label",
    "band_label_en",
    "opinion",
)


def _summary_rows(res: Scores, units: bool) -> list[tuple[Any, ...]]:
    """The rows of ``score``'s table and CSV (:data:`SUMMARY_HEADER`), straight from the
    result's columns."""
    bands = res.rubric.bands.bands if res.rubric.bands is not None else ()
    insts = res.table.institutions

    def level_rows(lv: int) -> list[tuple[Any, ...]]:
        col = res.columns(lv)
        parents = range(len(col.ids)) if lv == 0 else col.parent.tolist()
        names = [e.name or "" for e in (insts if lv == 0 else res.table.units)]
        suffixes = res.opinion_suffixes(lv)
        out = []
        for k, (p, pub, b, st) in enumerate(
            zip(parents, col.published, col.band.tolist(), col.state.tolist(), strict=True)
        ):
            band = bands[b] if b >= 0 and bands else None
            out.append(
                (
                    LEVELS[lv],
                    insts[p].id,
                    "" if lv == 0 else col.ids[k],
                    pub,
                    band.id if band else "",
                    (band.zone or "") if band else "",
                    STATE_NAMES[st],
                    insts[p].name or "",
                    "" if lv == 0 else names[k],
                    band.label if band else "",
                    (band.label_en or "") if band else "",
                    " ".join(filter(None, (band.label, suffixes[k]))) if band else "",
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


def _people_rows(
    rows: list[tuple[Any, ...]], shown: Shown, scheme: BandScheme | None
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """``score``'s table for people from its :func:`_summary_rows`: names (the id where an
    entity has none), the opinion (the band's label, then the words of flags that are yes) and
    the zone in the chosen language, figures with the
    chosen decimal separator; the last column is the entity's id, for ``--institution`` and
    ``--unit``. A unit row leaves the institution blank: it follows its institution."""
    w = shown.word
    keys = ("level", "institution", "unit", "score", "band", "opinion", "zone", "state", "id")
    header = tuple(w(k) for k in keys)
    out: list[tuple[str, ...]] = []
    for lv, inst, unit, pub, band_id, zone, st, inst_name, unit_name, _, _, opinion in rows:
        is_unit = lv != LEVELS[0]
        band = None if scheme is None or not band_id else scheme.get(band_id)
        out.append(
            (
                w(lv).lower(),
                "" if is_unit else lang.entity_label(inst_name, inst),
                lang.entity_label(unit_name, unit) if is_unit else "",
                shown.pub(pub),
                str(band_id),
                "" if band is None else lang.opinion_label(band, opinion, shown.lang),
                lang.zone_label(zone, shown.lang),
                lang.state_label(st, shown.lang),
                unit if is_unit else inst,
            )
        )
    return header, out


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


def _node_name(res: Scores, node: ExplainNode) -> str:
    """The name (else id) of the entity an explanation node is about."""
    return lang.entity_name(res.table, LEVELS.index(node.level), node.entity_index)


def _render_explain(
    res: Scores, node: ExplainNode, shown: Shown, depth: int = 0, out: list[str] | None = None
) -> list[str]:
    """The explanation tree as indented lines: criterion labels and entity names in the
    chosen language, figures with the chosen decimal separator."""
    out = [] if out is None else out
    pad = "  " * depth
    if node.score is None:
        val = lang.state_label(node.state, shown.lang)
        if node.reason is not None:
            val += f" ({lang.na_reason(node.reason, shown.lang)})"
    else:
        value = node.score if node.value is None else node.value
        val = (
            shown.num(value)
            + (f"/{shown.pub(f'{node.maximum:g}')}" if node.maximum != 100 else "")
            + f" ({shown.num(node.score)}%)"
        )
    shown_state = node.state == "scored" or node.score is None  # else val says it already
    tag = "" if shown_state else f" [{lang.state_label(node.state, shown.lang)}]"
    label = lang.criterion_label(res.rubric.criterion(node.criterion), shown.lang)
    if node.rescored:
        # below a non-linear rule a weight in the total means nothing; lost is re-scored
        line = (
            f"{shown.word('share')} {_percent(node.share, 1, shown)}, "
            f"{shown.word('lost')} {shown.num(node.lost)} {shown.word('if_raised_alone')}"
        )
    else:
        line = (
            f"{shown.word('share')} {_percent(node.share, 1, shown)}, "
            f"{shown.word('weight_in_total')} {_percent(node.effective_weight, 2, shown)}, "
            f"{shown.word('lost')} {shown.num(node.lost)}"
        )
    if not node.linear and (node.children or node.entities):
        line += f"  [{node.rule}: {shown.word('not_linear')}]"
    out.append(f"{pad}{label} @ {_node_name(res, node)}: {val}{tag}  {line}")
    for c in node.entities:
        _render_explain(res, c, shown, depth + 1, out)
    for c in node.children:
        _render_explain(res, c, shown, depth + 1, out)
    return out


def _percent(x: float, decimals: int, shown: Shown) -> str:
    """A share as a percentage (``14.3%``), with the chosen decimal separator."""
    return shown.pub(f"{x:.{decimals}%}")


def _explain_json(res: Scores, node: ExplainNode) -> dict[str, Any]:
    """``explain --format json``: the tree's own fields, plus ``entity_name`` and the
    criterion's English label (``label_en``, null when the rubric has none) on every node."""
    doc = node.to_dict()
    doc["entity_name"] = _node_name(res, node)
    doc["label_en"] = res.rubric.criterion(node.criterion).label.en
    doc["children"] = [_explain_json(res, c) for c in node.children]
    doc["entities"] = [_explain_json(res, c) for c in node.entities]
    return doc


#: The columns of ``explain --format csv``: those of kepatuhan 0.1, then names and labels.
EXPLAIN_HEADER = (
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
    "rescored",
    "entity_name",
    "label",
    "label_en",
)


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the contribution tree of one institution (or unit, or product)."""
    res = _score(args)
    shown = _shown(args)
    tree = res.explain(args.institution, args.unit, args.product)
    ups, downs = res.strengths(args.institution, args.unit) if args.product is None else ([], [])
    if args.format == "json":
        doc = _explain_json(res, tree)
        doc["strengths"] = [{"criterion": c, "above_peers": d} for c, d in ups]
        doc["weaknesses"] = [{"criterion": c, "below_peers": -d} for c, d in downs]
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    nodes = tree.walk()
    if args.format == "csv":
        rows = []
        for n in nodes:
            crit = res.rubric.criterion(n.criterion)
            rows.append(
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
                    n.rescored,
                    _node_name(res, n),
                    crit.label.id,
                    crit.label.en,
                )
            )
        print(_csv(rows, EXPLAIN_HEADER))
        return 0

    def label(cid: str) -> str:
        return lang.criterion_label(res.rubric.criterion(cid), shown.lang)

    # The value of the root in its own unit is the published-scale score (0–100 or 0–110).
    card_score = (
        lang.state_label("not_applicable", shown.lang)
        if tree.value is None
        else shown.num(tree.value)
    )
    # the heading names the whole path (Kota X / Dinas Y / Layanan Z): ids repeat across units
    level = LEVELS.index(tree.level)
    who = lang.entity_name(res.table, level, tree.entity_index, full=True)
    if level:
        who = f"{lang.entity_name(res.table, 0, res.institution_index(args.institution))} / {who}"
    print(f"{who} {shown.word('under')} {res.rubric.title}: {card_score}")
    print("\n".join(_render_explain(res, tree, shown)))
    if ups or downs:
        print(
            f"{shown.word('strengths')}: "
            + ", ".join(f"{label(c)} {shown.pub(_signed(d))}" for c, d in ups)
        )
        print(
            f"{shown.word('weaknesses')}: "
            + ", ".join(f"{label(c)} {shown.pub(_signed(d))}" for c, d in downs)
        )
    return 0
