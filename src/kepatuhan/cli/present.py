"""Commands that draw or lay out results for people: ``plot``, ``report``, ``describe``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import (
    KepatuhanError,
    Problem,
)
from ..io.files import write_atomic, write_text_atomic
from ..present import lang
from . import common
from .common import (
    Col,
    Shown,
    _check_outputs,
    _check_result_for_panel,
    _csv,
    _institution_names,
    _render,
    _score,
    _shown,
)


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw a picture to PNG or SVG: distribution, waterfall, ranks or trajectories."""
    from ..present import plots

    if not args.output.lower().endswith((".png", ".svg")):
        raise KepatuhanError(
            Problem("expected an output file ending in .png or .svg", path=args.output)
        )
    _check_outputs(args)
    chosen: list[str] = args.institution or []
    if args.kind == "trajectories":
        from ..analysis.panel import panel

        for path in args.inputs:
            _check_result_for_panel(path)
        p = panel(args.inputs, plugins=common._manager())
        unknown = [i for i in chosen if i not in p.trajectories]
        if unknown:
            raise KepatuhanError(
                Problem(f"no institution {', '.join(map(repr, unknown))} in the results")
            )
        fig = plots.trajectories(
            p, chosen or None, names=_institution_names(args.inputs), lang=args.lang
        )
    else:
        if len(args.inputs) != 1 or not args.rubric:
            raise KepatuhanError(Problem(f"plot {args.kind} takes one DATA file and --rubric"))
        res = _score(args, args.inputs[0])
        if args.kind == "distribution":
            fig = plots.distribution(res, lang=args.lang, decimal_comma=args.print_decimal_comma)
        elif args.kind == "waterfall":
            if len(chosen) != 1:
                raise KepatuhanError(Problem("plot waterfall needs one --institution"))
            fig = plots.waterfall(
                res,
                chosen[0],
                top=args.top or 12,
                by=args.by,
                lang=args.lang,
                decimal_comma=args.print_decimal_comma,
            )
        else:
            from ..analysis.sensitivity import sensitivity

            sens = sensitivity(
                res, draws=args.draws, method=args.method, spread=args.spread, seed=args.seed
            )
            fig = plots.rank_intervals(
                sens,
                res,
                top=args.top or 15,
                method=args.method,
                spread=args.spread,
                lang=args.lang,
            )
    write_atomic(args.output, lambda tmp: fig.savefig(tmp, dpi=120))
    print(f"wrote {args.output}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write an institution's report card as one self-contained HTML page."""
    from ..present.report import report_card

    res = _score(args)
    shown = _shown(args)
    page = report_card(
        res,
        args.institution,
        lang=shown.lang,
        decimal_comma=shown.decimal_comma,
        plugins=common._manager(),
    )
    write_text_atomic(args.output, page)
    print(f"wrote {args.output}")
    return 0


#: The columns of ``describe``'s coverage table (the same names in table, CSV and JSON).
COVERAGE_COLUMNS = (
    Col("level"),
    Col("criterion"),
    Col("entities"),
    Col("given"),
    Col("computed"),
    Col("missing"),
    Col("not_applicable"),
    Col("not_computed"),
)
#: The columns of ``describe``'s correlations (one row per pair of the root's children).
CORRELATION_COLUMNS = (
    Col("a"),
    Col("b"),
    Col("n"),
    Col("r", lambda v: "undefined" if v is None else f"{v:.3f}"),
    Col("reason"),
)


def _matrix(dims: tuple[str, ...], pairs: list[dict[str, Any]], shown: Shown) -> str:
    """The correlations as a matrix table: ``r (n)`` per pair, ``undefined (n)`` where none
    (``r`` with the chosen decimal separator)."""
    cell: dict[tuple[str, str], str] = {}
    for c in pairs:
        text = shown.word("undefined") if c["r"] is None else shown.pub(f"{c['r']:.3f}")
        cell[c["a"], c["b"]] = cell[c["b"], c["a"]] = f"{text} (n={c['n']})"
    rows = [[a, *("1" if a == b else cell[a, b] for b in dims)] for a in dims]
    return _render("table", rows, ("", *dims), None)


def cmd_describe(args: argparse.Namespace) -> int:
    """Coverage of a data file per criterion and level, and the dimensions' correlations."""
    from ..analysis.coverage import describe_data

    res = _score(args)
    described = describe_data(res)
    pairs_data = described.correlations
    desc = described.to_dict()
    cov = desc["coverage"]
    pairs = desc["correlations"]
    if args.format == "json":
        print(json.dumps(desc, indent=2, ensure_ascii=False))
        return 0

    def rows(cols: tuple[Col, ...], records: list[dict[str, Any]]) -> list[list[str]]:
        return [[c.text(r[c.name]) for c in cols] for r in records]

    if args.format == "csv":
        # two tables, a blank line between them: the coverage, then the correlations
        print(_csv(rows(COVERAGE_COLUMNS, cov), [c.name for c in COVERAGE_COLUMNS]))
        print()
        # r in full (empty where undefined: the reason says why), not the table's 3 decimals
        cols = tuple(
            Col("r", lambda v: "" if v is None else repr(v)) if c.name == "r" else c
            for c in CORRELATION_COLUMNS
        )
        print(_csv(rows(cols, pairs), [c.name for c in cols]))
        return 0
    r = desc["rows"]
    shown = _shown(args)
    entities = ", ".join(lang.counted(n, lv, shown.lang) for lv, n in desc["entities"].items() if n)
    missing = shown.word("describe_missing", n=r["missing"], policy=desc["missing_policy"])
    print(f"{shown.word('describe_rows', rubric=desc['rubric'], **r)}; {entities}; {missing}")
    print()
    rubric = res.rubric

    def label(cid: str) -> str:
        return shown.label(rubric, cid)

    # for people: level words, criterion labels (the id last, as the data names it)
    people = [
        [shown.word(r["level"]).lower(), label(r["criterion"]), *row[2:], r["criterion"]]
        for r, row in zip(cov, rows(COVERAGE_COLUMNS, cov), strict=True)
    ]
    keys = ("level", "criterion", "entities", "given", "computed", "missing")
    header = [shown.word(k) for k in (*keys, "not_applicable", "not_computed", "id")]
    print(_render("table", people, [h[:1].upper() + h[1:] for h in header], None))
    if desc["dimensions"]:
        print()
        dims = tuple(desc["dimensions"])
        levels = shown.word(desc["correlation_level"] + "_many")
        print(shown.word("describe_pearson", dims=", ".join(map(label, dims)), levels=levels))
        named = [c | {"a": label(c["a"]), "b": label(c["b"])} for c in pairs]
        print(_matrix(tuple(label(d) for d in dims), named, shown))
        whys = {(c.a, c.b): c.why for c in pairs_data}
        for c, raw in zip(named, pairs, strict=True):
            if c["r"] is None:
                why = whys.get((raw["a"], raw["b"]))
                said = c["reason"] if why is None else shown.reason(why, rubric)
                print(f"{c['a']} / {c['b']}: {shown.word('undefined')}: {said}")
    return 0
