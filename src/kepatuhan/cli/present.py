"""Commands that draw or lay out results for people: ``plot``, ``report``."""

from __future__ import annotations

import argparse

from ..errors import (
    KepatuhanError,
    Problem,
)
from ..io.files import write_atomic, write_text_atomic
from . import common
from .common import _check_outputs, _check_result_for_panel, _score, _shown


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw a picture to PNG or SVG: distribution, waterfall, ranks or trajectories."""
    from ..present import plots

    if not args.output.lower().endswith((".png", ".svg")):
        raise KepatuhanError(
            Problem("expected an output file ending in .png or .svg", path=args.output)
        )
    _check_outputs(args)
    if args.kind == "trajectories":
        from ..analysis.panel import panel

        for path in args.inputs:
            _check_result_for_panel(path)
        fig = plots.trajectories(panel(args.inputs, plugins=common._manager()))
    else:
        if len(args.inputs) != 1 or not args.rubric:
            raise KepatuhanError(Problem(f"plot {args.kind} takes one DATA file and --rubric"))
        res = _score(args, args.inputs[0])
        if args.kind == "distribution":
            fig = plots.distribution(res)
        elif args.kind == "waterfall":
            if not args.institution:
                raise KepatuhanError(Problem("plot waterfall needs --institution"))
            fig = plots.waterfall(res, args.institution)
        else:
            from ..analysis.sensitivity import sensitivity

            fig = plots.rank_intervals(sensitivity(res, draws=args.draws, seed=args.seed))
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
