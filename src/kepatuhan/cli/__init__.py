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
import os
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import KepatuhanError, ObservationError, PluginError, Problem
from ..plugins import PluginManager
from . import common
from .analysis import (
    cmd_compare,
    cmd_gap,
    cmd_panel,
    cmd_published,
    cmd_rank,
    cmd_reproduce,
    cmd_sensitivity,
)
from .common import (
    FORMATS,
    _data_options,
    _draws,
    _Parser,
    _people_options,
    _print_error,
    _scored_options,
    _seed,
    _spread,
    _top,
)
from .present import cmd_describe, cmd_plot, cmd_report
from .rubrics import cmd_new_rubric, cmd_plugins, cmd_rubrics, cmd_show, cmd_validate
from .scoring import _summary_rows, cmd_explain, cmd_export, cmd_score, cmd_verify

__all__ = ["_summary_rows", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (the CLI reference in the docs is generated from it)."""
    from .. import __version__

    p = _Parser(
        prog="kepatuhan", description="Compliance scores of Ombudsman RI's Penilaian Kepatuhan."
    )
    p.add_argument("--version", action="version", version=f"kepatuhan {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    data = [_data_options()]  # every command that reads an observation file
    scored = [*data, _scored_options()]  # ... and scores it: DATA --rubric REF
    people = [_people_options()]  # every command whose output people read: --lang …

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
    sp = sub.add_parser(
        "score", help="score an observation file (CSV, TOML or JSON)", parents=[*scored, *people]
    )
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
        "explain",
        help="explain one entity's score down to the indicators",
        parents=[*scored, *people],
    )
    sp.add_argument("--institution", required=True, help="institution id")
    sp.add_argument("--unit", help="explain this unit of the institution instead")
    sp.add_argument("--product", help="explain this product of the unit instead")
    fmt(sp)
    sp.set_defaults(func=cmd_explain)
    sp = sub.add_parser(
        "plot",
        help="pictures: distribution, waterfall, ranks, trajectories",
        parents=[*data, *people],
    )
    sp.add_argument("kind", choices=("distribution", "waterfall", "ranks", "trajectories"))
    sp.add_argument("inputs", nargs="+", help="DATA (or RESULT.json files for trajectories)")
    sp.add_argument("--rubric", help="rubric id or rubric TOML file")
    sp.add_argument(
        "--institution",
        action="append",
        help="waterfall: the institution; trajectories: draw these (repeat the option; "
        "default: the ten seen in the most years)",
    )
    sp.add_argument("--draws", type=_draws, default=1000, help="ranks: weight draws")
    sp.add_argument("--method", choices=("uniform", "dirichlet"), default="uniform", help="ranks")
    sp.add_argument(
        "--spread",
        type=_spread,
        default=0.10,
        help="ranks, uniform: each weight × (1 ± spread), 0 <= spread < 1",
    )
    sp.add_argument("--seed", type=_seed, default=0, help="ranks")
    sp.add_argument(
        "--top",
        type=_top,
        help="ranks: the best this many of each kind (default 15); waterfall: this many bars "
        "before 'other' (default 12)",
    )
    sp.add_argument(
        "--by",
        choices=("entity", "criterion"),
        default="entity",
        help="waterfall: a bar per unit/product and indicator (default), or per indicator "
        "summed over them",
    )
    sp.add_argument("--output", required=True, help="FILE.png or FILE.svg")
    sp.set_defaults(func=cmd_plot)
    sp = sub.add_parser(
        "describe",
        help="coverage of a data file per criterion and level, and the dimensions' correlations",
        parents=[*scored, *people],
    )
    fmt(sp)
    sp.set_defaults(func=cmd_describe)
    sp = sub.add_parser(
        "report", help="an institution's report card, one HTML page", parents=[*scored, *people]
    )
    sp.add_argument("--institution", required=True, help="institution id")
    sp.add_argument("--output", required=True, help="the HTML file to write")
    sp.set_defaults(func=cmd_report)
    sp = sub.add_parser(
        "panel",
        help="line up results across years (or editions): score, band, zone, percentile",
        parents=people,
    )
    sp.add_argument("results", nargs="+", help="JSON results of kepatuhan score, one per rubric")
    sp.add_argument(
        "--changes",
        action="store_true",
        help="list the method changes between consecutive results instead (one row each)",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_panel)
    sp = sub.add_parser(
        "compare",
        help="score one file under several rubrics: what differs, and each entity's change",
        parents=[*data, *people],
    )
    sp.add_argument("data", help="observation file (CSV, TOML or JSON)")
    sp.add_argument(
        "--rubric",
        action="append",
        required=True,
        help="a rubric id or TOML file; give two or more, the first is the baseline",
    )
    sp.add_argument("--units", action="store_true", help="also compare every unit")
    sp.add_argument(
        "--crosswalk",
        help="a CSV file with columns from,to mapping the data's criterion ids (those of the "
        "first rubric) to the ids of the other rubrics",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_compare)
    sp = sub.add_parser(
        "sensitivity",
        help="how bands and ranks move when the weights move",
        parents=[*scored, *people],
    )
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
        "gap",
        help="the improvements that lift an institution to its next band",
        parents=[*scored, *people],
    )
    sp.add_argument("--institution", required=True, help="institution id")
    fmt(sp)
    sp.set_defaults(func=cmd_gap)
    sp = sub.add_parser(
        "export",
        help="score and write every node of every entity to CSV/JSON/JSON Lines/Parquet",
        parents=scored,
    )
    sp.add_argument(
        "--output",
        required=True,
        help="FILE.csv, FILE.jsonl or FILE.parquet (rows), FILE.json (the score document)",
    )
    sp.set_defaults(func=cmd_export)
    sp = sub.add_parser(
        "rank", help="rank institutions or units within peer groups", parents=[*scored, *people]
    )
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
        help="tie rule (default: min, i.e. 1, 2, 2, 4)",
    )
    sp.add_argument(
        "--on",
        choices=("score", "published"),
        default="score",
        help="rank the unrounded scores (default) or the published two-decimal figures",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_rank)
    sp = sub.add_parser("reproduce", help="recompute published figures listed in a cases file")
    sp.add_argument("cases", nargs="?", help="a TOML ([[case]]) or CSV cases file")
    sp.add_argument(
        "--published",
        action="store_true",
        help="recompute every reproducible figure of the published record the plugins ship",
    )
    sp.add_argument("--year", type=int, help="with --published: only this year")
    sp.add_argument(
        "--alternatives",
        action="store_true",
        help="also recompute under every named alternative of each rubric",
    )
    fmt(sp)
    sp.set_defaults(func=cmd_reproduce)
    sp = sub.add_parser(
        "published", help="the published figures the plugins ship, each with its public source"
    )
    sp.add_argument("--year", type=int, help="only this year")
    sp.add_argument("--institution", help="only this institution id")
    sp.add_argument("--edition", help="only this edition (rubric id)")
    fmt(sp)
    sp.set_defaults(func=cmd_published)
    sp = sub.add_parser("new-rubric", help="scaffold a rubric plugin package (kepatuhan-NAME)")
    sp.add_argument("name", help="the rubric id and package suffix, e.g. contoh-2026")
    sp.add_argument("--dir", default=".", help="where to create the package (default: here)")
    sp.add_argument(
        "--from",
        dest="from_rubric",
        metavar="RUBRIC-ID",
        help="derive from this installed rubric: the TOML says extends = RUBRIC-ID",
    )
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


def _module_of(obj: object) -> str:
    return obj.__name__ if isinstance(obj, types.ModuleType) else type(obj).__module__


def _plugin_modules(pm: PluginManager) -> dict[str, str]:
    """``{module: plugin name}`` for every third-party plugin and what it registered."""
    from ..plugins import BUILTIN

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
        modules = _plugin_modules(common._manager())
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
