"""Commands that analyse results: ``gap``, ``rank``, ``sensitivity``, ``reproduce``,
``panel``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections.abc import Mapping

import attrs
import numpy as np

from ..io.files import write_atomic
from ..rounding import publish
from . import common
from .common import Col, _check_result_for_panel, _emit, _emit_records, _score, _signed


def cmd_panel(args: argparse.Namespace) -> int:
    """Line up several years' results; warn where the methodology changed."""
    from ..analysis.panel import panel

    for path in args.results:
        _check_result_for_panel(path)
    p = panel(args.results, plugins=common._manager())
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
    from ..analysis.sensitivity import sensitivity

    res = _score(args)
    sens = sensitivity(
        res, draws=args.draws, method=args.method, spread=args.spread, seed=args.seed
    )
    bands = res.rubric.bands.bands if res.rubric.bands is not None else ()
    col = res.columns(0)
    records = []
    for i, inst in enumerate(sens.institutions):
        counts = np.bincount(sens.bands[i][sens.bands[i] >= 0], minlength=len(bands))
        records.append(
            {
                "institution": inst,
                "score": col.published[i],
                # every band reached by any draw, with its share of the draws
                "bands": {
                    b.id: int(c) / args.draws for b, c in zip(bands, counts, strict=True) if c
                },
                "rank_p5": float(sens.rank_low[i]),
                "rank_p50": float(sens.rank_median[i]),
                "rank_p95": float(sens.rank_high[i]),
            }
        )
    if args.weights:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["draw", *sens.children])
        for d, row in enumerate(sens.weights):
            w.writerow([d, *(repr(float(v)) for v in row)])
        write_atomic(args.weights, lambda tmp: tmp.write_bytes(buf.getvalue().encode()))
    print(
        f"{args.draws} draws ({args.method}, spread {args.spread:g}, seed {args.seed}) of the "
        f"weights of {', '.join(sens.children)}",
        file=sys.stderr,
    )
    _emit_records(args.format, SENSITIVITY_COLUMNS, records)
    return 0


def _shares(bands: Mapping[str, float]) -> str:
    """``C 97%, B 3%``: every band reached, a share under 0.5 % shown as ``<1%``."""
    return ", ".join(f"{b} {s:.0%}" if s >= 0.005 else f"{b} <1%" for b, s in bands.items())


#: The columns of ``sensitivity``: the same names in the table, the CSV and the JSON.
SENSITIVITY_COLUMNS = (
    Col("institution"),
    Col("score"),
    Col("bands", _shares),
    Col("rank_p5", lambda v: f"{v:g}"),
    Col("rank_p50", lambda v: f"{v:g}"),
    Col("rank_p95", lambda v: f"{v:g}"),
)
#: The columns of ``rank``: ``score`` is the published two-decimal figure (ranks are computed
#: on the unrounded scores, which ``kepatuhan.analysis.rank.rank`` returns in Python).
RANK_COLUMNS = (
    Col("group"),
    Col("rank"),
    Col("of"),
    Col("id"),
    Col("institution"),
    Col("score"),
)


def cmd_gap(args: argparse.Namespace) -> int:
    """The greedy plan of improvements that lifts an institution to its next band."""
    from ..analysis.gap import gap

    res = _score(args)
    plan = gap(res, args.institution, plugins=common._manager())
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


def cmd_rank(args: argparse.Namespace) -> int:
    """Rank institutions (or units) within peer groups on unrounded scores."""
    from ..analysis.rank import rank

    res = _score(args)
    rows = rank(res, by=None if args.by == "none" else args.by, level=args.level, ties=args.ties)
    records = [
        attrs.asdict(r)
        | {"institution": r.institution if args.level == "unit" else "", "score": r.published}
        for r in rows
    ]
    _emit_records(args.format, RANK_COLUMNS, records)
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Recompute published figures from a cases file; exit 1 if one is not as expected."""
    from ..analysis.reproduce import reproduce

    rows = reproduce(args.cases, alternatives=args.alternatives, plugins=common._manager())
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
