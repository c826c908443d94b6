"""The ``kepatuhan`` command: parses arguments, calls the library, prints.

Exit status: 0 on success; 1 on invalid input or a file that cannot be read or written
(one line per problem on stderr, ``file:line-or-key: what was expected, what was found``,
never a traceback), on a result that does not reproduce, and on ``--strict`` refusals; 2 on
a usage error (an option value out of range); 3 on an internal error only (a bug: please
report it; ``KEPATUHAN_DEBUG=1`` shows the traceback).

Outputs (``--output``, ``--weights``) are refused before anything is computed if they name
an input file, a directory or a path in a missing directory, and are written to a temporary
file in the same directory and renamed, so a failure never leaves half a file.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import math
import os
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs
import numpy as np

from .describe import rubric_document, rubric_markdown
from .errors import (
    InputFileError,
    KepatuhanError,
    ObservationError,
    PluginError,
    Problem,
    RubricError,
)
from .io.files import OutputFileError, check_output, read_text, write_atomic, write_text_atomic
from .io.observations_io import read_observations
from .io.rubric_toml import load_rubric, parse_toml, rubric_from_dict
from .observations import ObservationTable
from .plugins import PluginManager, default_manager
from .results import STATE_NAMES, ExplainNode, Scores
from .rounding import publish
from .rubric import LEVELS, Rubric
from .verify import (
    is_rubric_file,
    load_result,
    read_options,
    result_document,
    write_result,
)

__all__ = ["build_parser", "main"]

FORMATS = ("table", "json", "csv")


def _manager() -> PluginManager:
    return default_manager()


def _checked(rubric: Rubric, path: str, pm: PluginManager) -> Rubric:
    """The rubric read from ``path``, after checking its scale and aggregator names."""
    problems = pm.registry.check(rubric)
    if problems:
        raise RubricError(problems).with_path(path)
    return rubric


def _too_long_number(exc: ValueError, path: str) -> InputFileError | None:
    """A located error for Python's limit on digits in an integer (JSON/TOML readers)."""
    if "integer string conversion" not in str(exc):
        return None
    return InputFileError(
        Problem(
            "a number with more than 4300 digits; expected a score or a weight",
            path=path,
            expected="a number of at most 4300 digits",
            found="a longer number",
        )
    )


def _resolve_rubric(ref: str, pm: PluginManager) -> Rubric:
    """An installed rubric id, or a rubric TOML file (named ``*.toml`` or with a ``/``).

    A file in the working directory named like a rubric id does not shadow the rubric.
    """
    if not is_rubric_file(ref):
        return pm.registry.rubric(ref)
    try:
        return _checked(load_rubric(ref), ref, pm)
    except ValueError as exc:
        located = _too_long_number(exc, ref)
        if located is None:
            raise
        raise located from None


def _unicode_check(table: ObservationTable, path: str) -> None:
    """Refuse a name that is not valid Unicode (a JSON ``\\udc80`` escape, a lone surrogate):
    it can be neither hashed into the input digest nor printed."""
    names: list[str | None] = list(table.criterion_ids)
    for ents in (table.institutions, table.units, table.products):
        for e in ents:
            names.extend((e.id, e.name, getattr(e, "kind", None), getattr(e, "sector", None)))
    for name in names:
        if name is None:
            continue
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = f"\\u{ord(name[exc.start]):04x}"
            raise ObservationError(
                Problem(
                    f"the name {name!a} has a lone surrogate {code} "
                    "(an escape that is no character)",
                    path=path,
                    expected="Unicode text",
                    found=code,
                )
            ) from None


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """How observation files are read (``--decimal-comma``, ``--delimiter``)."""
    return read_options(
        bool(getattr(args, "decimal_comma", False)), getattr(args, "delimiter", None)
    )


def _read_table(args: argparse.Namespace, path: str) -> ObservationTable:
    """Read an observation file with the command's reading options."""
    try:
        opts = _options(args)
        table = read_observations(
            path, decimal_comma=opts["decimal_comma"], delimiter=opts["delimiter"]
        )
    except ValueError as exc:
        located = _too_long_number(exc, path)
        if located is None:
            raise
        raise located from None
    _unicode_check(table, path)
    return table


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[("" if c is None else str(c)) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _csv(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if c is None else c for c in r] for r in rows])
    return buf.getvalue().rstrip("\n")


def _render(fmt: str, rows: Sequence[Sequence[Any]], header: Sequence[str], data: Any) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if fmt == "csv":
        return _csv(rows, header)
    return _table(rows, header)


def _emit(fmt: str, rows: Sequence[Sequence[Any]], header: Sequence[str], data: Any) -> None:
    print(_render(fmt, rows, header, data))


def _signed(x: float) -> str:
    """A published figure with its sign (``+1.25``, ``-0.40``)."""
    text = publish(x)
    return text if text.startswith("-") else "+" + text


# -- files ---------------------------------------------------------------------------------
def _inputs(args: argparse.Namespace) -> list[str]:
    """Every file the command reads (an output must not be one of them)."""
    out: list[str] = []
    for key in ("data", "cases", "result"):
        if isinstance(getattr(args, key, None), str):
            out.append(getattr(args, key))
    for key in ("inputs", "results", "paths"):
        out.extend(getattr(args, key, None) or [])
    ref = getattr(args, "rubric", None)
    if isinstance(ref, str) and is_rubric_file(ref):
        out.append(ref)
    return out


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse every output path of the command before anything is computed or written."""
    outs = [getattr(args, k, None) for k in ("output", "weights")]
    inputs = _inputs(args)
    for out in outs:
        if out is not None:
            check_output(out, inputs)


def _write_text(path: str, text: str) -> None:
    write_text_atomic(path, text if text.endswith("\n") else text + "\n")


# -- commands ------------------------------------------------------------------------------
def cmd_rubrics(args: argparse.Namespace) -> int:
    """List installed rubrics."""
    reg = _manager().registry
    items = [reg.rubrics[k] for k in sorted(reg.rubrics)]
    rows = [(r.value.id, r.value.year, r.value.version, r.plugin, r.value.title) for r in items]
    data = [
        {
            "id": r.value.id,
            "year": r.value.year,
            "version": r.value.version,
            "title": r.value.title,
            "plugin": r.plugin,
            "digest": r.value.digest,
        }
        for r in items
    ]
    _emit(args.format, rows, ("id", "year", "version", "plugin", "title"), data)
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List plugins with versions and what they provide; broken plugins with their error."""
    pm = _manager()
    infos = pm.plugins()
    broken = pm.broken
    rows = [
        (
            p.name,
            p.version,
            p.distribution,
            ", ".join(p.rubrics),
            ", ".join(p.scales),
            ", ".join(p.aggregators),
        )
        for p in infos
        if p.name not in broken
    ] + [(name, "BROKEN", "", error, "", "") for name, error in sorted(broken.items())]
    data = [
        {
            "name": p.name,
            "version": p.version,
            "distribution": p.distribution,
            "hooks": list(p.hooks),
            "rubrics": list(p.rubrics),
            "scales": list(p.scales),
            "aggregators": list(p.aggregators),
        }
        for p in infos
        if p.name not in broken
    ] + [{"name": name, "broken": error} for name, error in sorted(broken.items())]
    _emit(
        args.format,
        rows,
        ("plugin", "version", "distribution", "rubrics", "scales", "aggregators"),
        data,
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print a rubric: tree with weights, levels, scales and sources; bands."""
    rubric = _resolve_rubric(args.rubric, _manager())
    doc = rubric_document(rubric)
    tree = rubric.tree
    rows: list[tuple[str, ...]] = []
    for i in tree.preorder():
        c = tree.nodes[i]
        depth = len(tree.path(i)) - 1
        w = (
            f"{c.points} pts"
            if c.points is not None
            else (str(c.weight) if c.weight is not None else "")
        )
        scale = (
            ""
            if c.scale is None
            else c.scale.name
            + "".join(f" {k}={list(v) if isinstance(v, tuple) else v}" for k, v in c.scale.params)
        )
        rows.append(
            (
                "  " * depth + c.id,
                c.label.id,
                w,
                doc["criteria"][len(rows)]["level"],
                c.rule if not tree.is_leaf(i) else scale,
                c.confidence or "",
                c.source or "",
            )
        )
    if args.format == "markdown":
        print(rubric_markdown(rubric), end="")
        return 0
    if args.format != "table":
        _emit(
            args.format,
            rows,
            ("criterion", "label", "weight", "level", "rule/scale", "confidence", "source"),
            doc,
        )
        return 0
    print(f"{rubric.id} — {rubric.title} (version {rubric.version}, {rubric.digest[:19]}…)")
    lv = rubric.levels
    print(
        f"levels: institution = {lv.institution.combine} of units ({lv.institution.weight_by}); "
        f"unit = {lv.unit.combine} of products; missing = {rubric.missing}"
    )
    print()
    print(
        _table(
            rows, ("criterion", "label", "weight", "level", "rule/scale", "confidence", "source")
        )
    )
    if rubric.bands is not None:
        print()
        print(
            _table(
                [
                    (
                        b.id,
                        b.label,
                        b.zone or "",
                        str(b.min),
                        "" if b.max is None else str(b.max),
                        b.confidence or "",
                        b.source or "",
                    )
                    for b in rubric.bands.bands
                ],
                ("band", "label", "zone", "min", "max", "confidence", "source"),
            )
        )
    if rubric.sources:
        print()
        for s in rubric.sources:
            print(f"[{s.id}] {s.title}" + (f" <{s.url}>" if s.url else ""))
    return 0


def _score(args: argparse.Namespace) -> Scores:
    from .engine import score

    _check_outputs(args)
    pm = _manager()
    rubric = _resolve_rubric(args.rubric, pm)
    table = _read_table(args, args.data)
    return score(rubric, table, plugins=pm)


def _document(res: Scores, args: argparse.Namespace) -> dict[str, Any]:
    """The result document, with what ``kepatuhan verify`` needs to score it again."""
    return result_document(res, rubric_ref=args.rubric, data_path=args.data, options=_options(args))


_POLICY_WORDS = {"zero": "counted as 0", "not_applicable": "treated as not applicable"}


def _missing_lines(res: Scores) -> list[str]:
    """One warning per missing-value policy: how many needed values, the first five."""
    missing = res.missing()
    lines = []
    for policy in sorted({m.policy for m in missing}):
        these = [m for m in missing if m.policy == policy]
        shown = ", ".join(str(m) for m in these[:5]) + (", …" if len(these) > 5 else "")
        lines.append(
            f"{len(these)} needed values were missing and "
            f"{_POLICY_WORDS.get(policy, 'handled as ' + policy)}: {shown}"
        )
    return lines


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
        emit = functools.partial(
            write_result,
            scores=res,
            rubric_ref=args.rubric,
            data_path=args.data,
            options=_options(args),
        )
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


def _write_to(path: Path, emit: Callable[[TextIO], None]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        emit(f)


def _write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(["" if c is None else c for c in r] for r in rows)


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


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw a picture to PNG or SVG: distribution, waterfall, ranks or trajectories."""
    from . import plots

    if not args.output.lower().endswith((".png", ".svg")):
        raise KepatuhanError(
            Problem("expected an output file ending in .png or .svg", path=args.output)
        )
    _check_outputs(args)
    if args.kind == "trajectories":
        from .panel import panel

        for path in args.inputs:
            _check_result_for_panel(path)
        fig = plots.trajectories(panel(args.inputs, plugins=_manager()))
    else:
        if len(args.inputs) != 1 or not args.rubric:
            raise KepatuhanError(Problem(f"plot {args.kind} takes one DATA file and --rubric"))
        args.data = args.inputs[0]
        res = _score(args)
        if args.kind == "distribution":
            fig = plots.distribution(res)
        elif args.kind == "waterfall":
            if not args.institution:
                raise KepatuhanError(Problem("plot waterfall needs --institution"))
            fig = plots.waterfall(res, args.institution)
        else:
            from .sensitivity import sensitivity

            fig = plots.rank_intervals(sensitivity(res, draws=args.draws, seed=args.seed))
    write_atomic(args.output, lambda tmp: fig.savefig(tmp, dpi=120))
    print(f"wrote {args.output}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write an institution's report card as one self-contained HTML page."""
    from .report import report_card

    res = _score(args)
    page = report_card(res, args.institution, lang=args.lang, plugins=_manager())
    write_text_atomic(args.output, page)
    print(f"wrote {args.output}")
    return 0


def cmd_panel(args: argparse.Namespace) -> int:
    """Line up several years' results; warn where the methodology changed."""
    from .panel import panel

    for path in args.results:
        _check_result_for_panel(path)
    p = panel(args.results, plugins=_manager())
    for w in p.warnings:
        print(f"methodology changed: {w}", file=sys.stderr)
    rows = []
    for ident in sorted(p.trajectories):
        t = p.trajectories[ident]
        cells = [f"{t[y][1]} {t[y][2] or ''}".strip() if y in t else "" for y in p.years]
        rows.append((ident, *cells))
    data = {
        "years": list(p.years),
        "rubrics": list(p.rubrics),
        "warnings": list(p.warnings),
        "trajectories": {
            k: {str(y): list(v) for y, v in t.items()} for k, t in p.trajectories.items()
        },
    }
    _emit(args.format, rows, ("entity", *map(str, p.years)), data)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Perturb the root's child weights; each institution's bands and rank interval."""
    from .sensitivity import sensitivity

    res = _score(args)
    sens = sensitivity(
        res, draws=args.draws, method=args.method, spread=args.spread, seed=args.seed
    )
    bands = res.rubric.bands.bands if res.rubric.bands is not None else ()
    cards = res.cards()
    rows = []
    for i, inst in enumerate(sens.institutions):
        counts = np.bincount(sens.bands[i][sens.bands[i] >= 0], minlength=len(bands))
        shares = ", ".join(
            f"{b.id} {c / args.draws:.0%}" for b, c in zip(bands, counts, strict=True) if c
        )
        rows.append(
            (
                inst,
                cards[i].published,
                shares,
                f"{sens.rank_low[i]:g}",
                f"{sens.rank_median[i]:g}",
                f"{sens.rank_high[i]:g}",
            )
        )
    if args.weights:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["draw", *sens.children])
        for d, row in enumerate(sens.weights):
            w.writerow([d, *(repr(float(v)) for v in row)])
        write_atomic(args.weights, lambda tmp: tmp.write_bytes(buf.getvalue().encode()))
    data = [
        dict(
            zip(
                ("institution", "score", "bands", "rank_p5", "rank_p50", "rank_p95"), r, strict=True
            )
        )
        for r in rows
    ]
    print(
        f"{args.draws} draws ({args.method}, spread {args.spread:g}, seed {args.seed}) of the "
        f"weights of {', '.join(sens.children)}",
        file=sys.stderr,
    )
    _emit(
        args.format,
        rows,
        ("institution", "score", "bands over draws", "rank p5", "rank p50", "rank p95"),
        data,
    )
    return 0


def cmd_gap(args: argparse.Namespace) -> int:
    """The greedy plan of improvements that lifts an institution to its next band."""
    from .gap import gap

    res = _score(args)
    plan = gap(res, args.institution, plugins=_manager())
    rows = [
        (
            s.entity,
            s.criterion,
            s.state,
            "" if s.value is None else publish(s.value),
            f"{s.best:g}",
            _signed(s.points),
            publish(s.cumulative),
        )
        for s in plan.steps
    ]
    if args.format == "json":
        print(json.dumps(attrs.asdict(plan), indent=2, ensure_ascii=False, default=str))
        return 0
    if plan.target is None:
        print(f"{args.institution}: {publish(plan.score)} is already in the top band")
        return 0
    head = (
        f"{args.institution}: {publish(plan.score)} ({plan.band.id if plan.band else '?'}) -> "
        f"{plan.target.id} from {plan.target.min}: {len(plan.steps)} improvements, "
        f"estimated {publish(plan.estimated)}, recomputed {publish(plan.achieved)}"
        + ("" if plan.reached else " (the next band cannot be reached)")
    )
    print(head)
    _emit(args.format, rows, ("entity", "criterion", "state", "now", "best", "gain", "score"), None)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Score and write the result to a CSV or JSON file, with provenance."""
    if Path(args.output).suffix.lower() not in (".csv", ".json", ".parquet"):
        raise OutputFileError(
            Problem(
                "expected a .csv, .json or .parquet output file",
                path=args.output,
                found=Path(args.output).suffix or "no extension",
            )
        )
    res = _score(args)
    if args.output.lower().endswith(".json"):
        # The same document as `score --format json`, so `verify` accepts it.
        emit = functools.partial(
            write_result,
            scores=res,
            rubric_ref=args.rubric,
            data_path=args.data,
            options=_options(args),
        )
        write_atomic(args.output, lambda tmp: _write_to(tmp, emit))
    else:
        write_atomic(args.output, res.write)
    print(f"wrote {args.output} ({len(res.record_columns()['level'])} rows)")
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    """Rank institutions (or units) within peer groups on unrounded scores."""
    from .rank import rank

    res = _score(args)
    rows = rank(res, by=None if args.by == "none" else args.by, level=args.level, ties=args.ties)
    table = [
        (r.group, r.rank, r.of, r.id, r.institution if args.level == "unit" else "", r.published)
        for r in rows
    ]
    _emit(
        args.format,
        table,
        ("group", "rank", "of", "id", "institution", "score"),
        [attrs.asdict(r) for r in rows],
    )
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Recompute published figures from a cases file; exit 1 if one is not as expected."""
    from .reproduce import reproduce

    rows = reproduce(args.cases, alternatives=args.alternatives, plugins=_manager())
    table = [
        (
            r.entity + (f" / {r.unit}" if r.unit else ""),
            r.rubric,
            r.published,
            r.recomputed_published or "",
            "" if r.difference is None else _signed(r.difference),
            "" if r.band_match is None else ("yes" if r.band_match else "no"),
            r.verdict,
            r.expect,
            "" if r.as_expected else "NOT AS EXPECTED",
        )
        for r in rows
    ]
    header = (
        "entity",
        "rubric",
        "published",
        "recomputed",
        "difference",
        "band match",
        "verdict",
        "expect",
        "",
    )
    data = [attrs.asdict(r) | {"as_expected": r.as_expected} for r in rows]
    _emit(args.format, table, header, data)
    return 0 if all(r.as_expected for r in rows) else 1


def cmd_new_rubric(args: argparse.Namespace) -> int:
    """Scaffold a rubric plugin package that passes its own tests."""
    from .scaffold import new_rubric_package

    root = new_rubric_package(args.name, args.dir)
    print(f"created {root}")
    print(f'next: cd {root} && python -m pip install -e ".[test]" && python -m pytest')
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Re-score what a result file records and compare, bit for bit; exit 1 if it differs."""
    from .verify import verify_result_file

    v = verify_result_file(args.result, plugins=_manager())
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


def _check_result_for_panel(path: str) -> None:
    """Refuse a result file the panel cannot line up, with the key that is wrong."""
    doc = load_result(path)

    def bad(key: str, expected: str) -> InputFileError:
        return InputFileError(
            Problem(
                f"not a kepatuhan result: expected {expected}",
                path=path,
                key_path=key,
                expected=expected,
            )
        )

    rub = doc.get("rubric")
    if not isinstance(rub, dict) or not isinstance(rub.get("ref") or rub.get("id"), str):
        raise bad("rubric.ref", "a rubric id")
    insts = doc.get("institutions", [])
    if not isinstance(insts, list):
        raise bad("institutions", "a list")
    for i, inst in enumerate(insts):
        at = f"institutions[{i}]"
        if not isinstance(inst, dict) or not isinstance(inst.get("id"), str):
            raise bad(f"{at}.id", "an object with a string id")
        sc = inst.get("score")
        if sc is not None and (
            isinstance(sc, bool) or not isinstance(sc, (int, float)) or not math.isfinite(sc)
        ):
            raise bad(f"{at}.score", "a finite number or null")
        if not isinstance(inst.get("published"), (str, type(None))):
            raise bad(f"{at}.published", "a string or null")
        band = inst.get("band")
        if band is not None and not (
            isinstance(band, dict) and isinstance(band.get("id"), (str, type(None)))
        ):
            raise bad(f"{at}.band", "an object with an id, or null")


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


def _validate_one(args: argparse.Namespace, path: str, pm: PluginManager) -> list[Problem]:
    """Raise on errors; return lint findings (rubric files only)."""
    from .lint import lint_rubric

    p = Path(path)
    rubric_ref = args.rubric
    if p.suffix.lower() == ".toml":
        try:
            data = parse_toml(read_text(path), path)
        except ValueError as exc:
            located = _too_long_number(exc, path)
            if located is None:
                raise
            raise located from None
        if not {"observation", "observations", "institution", "unit", "product"} & set(data):
            rubric = _checked(rubric_from_dict(data, path), path, pm)
            return [attrs.evolve(f, path=path) for f in lint_rubric(rubric)]
    table = _read_table(args, path)
    if rubric_ref is not None:
        from .engine import score

        score(_resolve_rubric(rubric_ref, pm), table, plugins=pm)
    return []


def cmd_validate(args: argparse.Namespace) -> int:
    """Check rubric and observation files, and lint rubrics; exit 1 on any error.

    Lint findings (a number without a source) are printed as ``lint:`` lines; with
    ``--strict`` they fail the check too.
    """
    pm = _manager()
    bad = 0
    for path in args.paths:
        try:
            findings = _validate_one(args, path, pm)
        except KepatuhanError as exc:
            bad += 1
            _print_error(exc, path)
            continue
        for f in findings:
            print(f"lint: {f}", file=sys.stderr)
        if findings and args.strict:
            bad += 1
        else:
            print(f"ok {path}" + (f" ({len(findings)} lint findings)" if findings else ""))
    return 1 if bad else 0


# -- plumbing ------------------------------------------------------------------------------
#: The most weight draws (an institutions × draws matrix is held in memory).
MAX_DRAWS = 1_000_000


def _draws(text: str) -> int:
    """``--draws``: a whole number from 1 to :data:`MAX_DRAWS`."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text[:40]!r}") from None
    if not 1 <= n <= MAX_DRAWS:
        raise argparse.ArgumentTypeError(f"expected 1 to {MAX_DRAWS} draws, found {n}")
    return n


def _seed(text: str) -> int:
    """``--seed``: a whole number from 0 to 2**64 - 1 (numpy's seeds are non-negative)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text[:40]!r}") from None
    if not 0 <= n < 2**64:
        raise argparse.ArgumentTypeError(f"expected a seed from 0 to 2**64 - 1, found {n}")
    return n


def _spread(text: str) -> float:
    """``--spread``: a finite number from 0 up to (not including) 1, so weights stay > 0."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text[:40]!r}") from None
    if not (math.isfinite(x) and 0 <= x < 1):
        raise argparse.ArgumentTypeError(
            f"expected a number from 0 to below 1 (each weight × (1 ± spread)), found {text[:40]}"
        )
    return x


def _delimiter(text: str) -> str:
    """``--delimiter``: one character (``tab`` or ``\\t`` for a tab), not a quote or newline."""
    ch = "\t" if text in ("tab", "\\t") else text
    if len(ch) != 1 or ch in '"\r\n' or ch.isalnum():
        raise argparse.ArgumentTypeError(
            f"expected one character such as ; or , or tab, found {text[:40]!r}"
        )
    return ch


def _data_options() -> _Parser:
    """The options of every command that reads an observation file (a parent parser)."""
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("reading observation files")
    group.add_argument(
        "--decimal-comma",
        action="store_true",
        help="values are written 85,5 (an Indonesian spreadsheet); fields are then usually "
        "separated by ;",
    )
    group.add_argument(
        "--delimiter",
        type=_delimiter,
        help="the CSV field separator (default: , or sniffed); one character, or tab",
    )
    return parent


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (the CLI reference in the docs is generated from it)."""
    from . import __version__

    p = _Parser(
        prog="kepatuhan", description="Compliance scores of Ombudsman RI's Penilaian Kepatuhan."
    )
    p.add_argument("--version", action="version", version=f"kepatuhan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    data = [_data_options()]  # every command that reads an observation file

    def fmt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--format", choices=FORMATS, default="table", help="output format (default: table)"
        )

    sp = sub.add_parser("rubrics", help="list installed rubrics")
    fmt(sp)
    sp.set_defaults(func=cmd_rubrics)
    sp = sub.add_parser("plugins", help="list installed plugins and what each provides")
    fmt(sp)
    sp.set_defaults(func=cmd_plugins)
    sp = sub.add_parser("show", help="print a rubric: criterion tree, weights, bands, sources")
    sp.add_argument("rubric", help="an installed rubric id, or a rubric TOML file")
    sp.add_argument(
        "--format",
        choices=(*FORMATS, "markdown"),
        default="table",
        help="output format (default: table; markdown is the docs page of an edition)",
    )
    sp.set_defaults(func=cmd_show)
    sp = sub.add_parser("score", help="score an observation file (CSV, TOML or JSON)", parents=data)
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument(
        "--units", action="store_true", help="also list every unit (table and csv formats)"
    )
    sp.add_argument(
        "--strict",
        action="store_true",
        help="fail if any row is overridden by a node given above it, or any needed value "
        "is missing",
    )
    sp.add_argument(
        "--output",
        help="write the output (in the chosen --format) to this file instead of printing it",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_score)
    sp = sub.add_parser(
        "explain", help="explain one entity's score down to the indicators", parents=data
    )
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument("--institution", required=True, help="institution id")
    sp.add_argument("--unit", help="explain this unit of the institution instead")
    sp.add_argument("--product", help="explain this product of the unit instead")
    fmt(sp)
    sp.set_defaults(func=cmd_explain)
    sp = sub.add_parser(
        "plot", help="pictures: distribution, waterfall, ranks, trajectories", parents=data
    )
    sp.add_argument("kind", choices=("distribution", "waterfall", "ranks", "trajectories"))
    sp.add_argument("inputs", nargs="+", help="DATA (or RESULT.json files for trajectories)")
    sp.add_argument("--rubric", help="rubric id or rubric TOML file")
    sp.add_argument("--institution", help="for waterfall")
    sp.add_argument("--draws", type=_draws, default=1000, help="for ranks")
    sp.add_argument("--seed", type=_seed, default=0, help="for ranks")
    sp.add_argument("--output", required=True, help="FILE.png or FILE.svg")
    sp.set_defaults(func=cmd_plot)
    sp = sub.add_parser("report", help="an institution's report card, one HTML page", parents=data)
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument("--institution", required=True, help="institution id")
    sp.add_argument("--output", required=True, help="the HTML file to write")
    sp.add_argument(
        "--lang", choices=("id", "en"), default="id", help="Bahasa Indonesia (default) or English"
    )
    sp.set_defaults(func=cmd_report)
    sp = sub.add_parser("panel", help="trajectories across years from several results")
    sp.add_argument("results", nargs="+", help="JSON results of kepatuhan score, one per year")
    fmt(sp)
    sp.set_defaults(func=cmd_panel)
    sp = sub.add_parser(
        "sensitivity", help="how bands and ranks move when the weights move", parents=data
    )
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument("--draws", type=_draws, default=1000, help="weight draws (1 to 1000000)")
    sp.add_argument("--method", choices=("uniform", "dirichlet"), default="uniform")
    sp.add_argument(
        "--spread",
        type=_spread,
        default=0.10,
        help="uniform: each weight × (1 ± spread), 0 <= spread < 1",
    )
    sp.add_argument("--seed", type=_seed, default=0)
    sp.add_argument("--weights", help="write the sampled weights (one row per draw) to this CSV")
    fmt(sp)
    sp.set_defaults(func=cmd_sensitivity)
    sp = sub.add_parser(
        "gap", help="the improvements that lift an institution to its next band", parents=data
    )
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument("--institution", required=True, help="institution id")
    fmt(sp)
    sp.set_defaults(func=cmd_gap)
    sp = sub.add_parser(
        "export", help="score and write every node of every entity to CSV/JSON", parents=data
    )
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument("--output", required=True, help="FILE.csv or FILE.json")
    sp.set_defaults(func=cmd_export)
    sp = sub.add_parser("rank", help="rank institutions or units within peer groups", parents=data)
    sp.add_argument("data", help="observation file")
    sp.add_argument("--rubric", required=True, help="rubric id or rubric TOML file")
    sp.add_argument(
        "--by",
        choices=("kind", "sector", "institution", "none"),
        default="kind",
        help="peer groups (default: institution kind)",
    )
    sp.add_argument("--level", choices=("institution", "unit"), default="institution")
    sp.add_argument(
        "--ties",
        choices=("min", "dense", "ordinal"),
        default="min",
        help="tie rule on unrounded scores (default: min, i.e. 1, 2, 2, 4)",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_rank)
    sp = sub.add_parser("reproduce", help="recompute published figures listed in a cases file")
    sp.add_argument("cases", help="a TOML ([[case]]) or CSV cases file")
    sp.add_argument(
        "--alternatives",
        action="store_true",
        help="also recompute under every named alternative of each rubric",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_reproduce)
    sp = sub.add_parser("new-rubric", help="scaffold a rubric plugin package (kepatuhan-NAME)")
    sp.add_argument("name", help="the rubric id and package suffix, e.g. contoh-2026")
    sp.add_argument("--dir", default=".", help="where to create the package (default: here)")
    sp.set_defaults(func=cmd_new_rubric)
    sp = sub.add_parser("verify", help="check that a score --format json result still reproduces")
    sp.add_argument(
        "result",
        help="a JSON file written by kepatuhan score --format json or kepatuhan export",
    )
    sp.set_defaults(func=cmd_verify)
    sp = sub.add_parser("validate", help="check rubric and observation files", parents=data)
    sp.add_argument("paths", nargs="+", help="rubric TOML or observation files")
    sp.add_argument("--rubric", help="also check observation files against this rubric")
    sp.add_argument("--strict", action="store_true", help="fail on lint findings too")
    sp.set_defaults(func=cmd_validate)
    return p


def _print_error(exc: KepatuhanError, default_path: str | None = None) -> None:
    for prob in exc.problems:
        if prob.path is None and default_path is not None:
            prob = Problem(prob.message, path=default_path, line=prob.line, key_path=prob.key_path)
        print(str(prob), file=sys.stderr)


def _module_of(obj: object) -> str:
    return obj.__name__ if isinstance(obj, types.ModuleType) else type(obj).__module__


def _plugin_modules(pm: PluginManager) -> dict[str, str]:
    """``{module: plugin name}`` for every third-party plugin and what it registered."""
    from .plugins import BUILTIN

    out: dict[str, str] = {}
    for name, plugin in pm.pm.list_name_plugin():
        if plugin is not None and name != BUILTIN:
            out[_module_of(plugin)] = name
    reg = pm.registry
    tables: Iterable[dict[str, Any]] = (reg.scales, reg.aggregators)
    for table in tables:
        for entry in table.values():
            if entry.plugin != BUILTIN:
                out[_module_of(entry.value)] = entry.plugin
    return {m: n for m, n in out.items() if m.split(".")[0] != "kepatuhan"}


def _plugin_of(exc: BaseException) -> str | None:
    """The third-party plugin whose code raised ``exc`` (innermost frame), if any."""
    try:
        modules = _plugin_modules(_manager())
    except Exception:  # the manager itself is broken: nothing to attribute
        return None
    found = None
    tb = exc.__traceback__
    while tb is not None:
        mod = str(tb.tb_frame.f_globals.get("__name__", ""))
        for prefix, name in modules.items():
            if mod == prefix or mod.startswith(prefix + "."):
                found = name
        tb = tb.tb_next
    return found


def _run(args: argparse.Namespace, func: Callable[[argparse.Namespace], int]) -> int:
    """Run a command, turning every expected failure into exit 1 with one located line."""
    try:
        return int(func(args))
    except KepatuhanError as exc:
        _print_error(
            exc, getattr(args, "data", None) if isinstance(exc, ObservationError) else None
        )
        return 1
    except BrokenPipeError:  # `kepatuhan … | head`
        return 0
    except OSError as exc:  # the environment, not a bug: a file vanished, a disk filled up
        where = exc.filename if exc.filename is not None else None
        print(
            Problem(f"cannot read or write: {exc.strerror or exc}", path=where and str(where)),
            file=sys.stderr,
        )
        return 1
    except Exception as exc:
        plugin = _plugin_of(exc)
        if plugin is None:
            raise
        print(
            PluginError(f"plugin {plugin!r} raised: {type(exc).__name__}: {exc}"),
            file=sys.stderr,
        )
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, args.func)
    except Exception as exc:
        if os.environ.get("KEPATUHAN_DEBUG"):
            raise
        print(
            f"kepatuhan: internal error: {type(exc).__name__}: {exc} "
            "(a bug; please report it; KEPATUHAN_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
