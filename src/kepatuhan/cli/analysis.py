"""Commands that analyse results: ``gap``, ``rank``, ``sensitivity``, ``reproduce``,
``panel``, ``compare``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np

from ..errors import KepatuhanError, Problem
from ..io.files import write_atomic
from ..rounding import publish
from . import common
from .common import Col, _check_result_for_panel, _emit, _emit_records, _score, _signed

#: The columns of ``panel`` (CSV and JSON): one row per institution × series; ``score`` is
#: the published two decimals, ``percentile`` the position within the series (0–100).
PANEL_COLUMNS = (
    Col("institution"),
    Col("year"),
    Col("series"),
    Col("edition"),
    Col("digest"),
    Col("score"),
    Col("band"),
    Col("zone"),
    Col("rank"),
    Col("of"),
    Col("percentile", lambda v: "" if v is None else publish(v)),
    Col("state"),
)
#: The columns of ``panel --changes``: one row per method change between consecutive series.
CHANGE_COLUMNS = (
    Col("from"),
    Col("to"),
    Col("from_year", table=False),
    Col("to_year", table=False),
    Col("section", table=False),
    Col("kind", table=False),
    Col("subject", table=False),
    Col("field", table=False),
    Col("before", table=False),
    Col("after", table=False),
    Col("sentence"),
)


def _cell(band: str | None, zone: str | None, published: str | None) -> str:
    """``60.80 C kuning`` (a band that is its zone is shown once: ``60.80 kuning``)."""
    if published is None:
        return ""
    return " ".join(x for x in (published, band, zone if zone != band else None) if x)


if TYPE_CHECKING:
    from ..analysis.gap import GapPlan


def cmd_panel(args: argparse.Namespace) -> int:
    """Line up several results (years, or editions of one year): score, band, zone,
    percentile per series; every method change between consecutive series."""
    from ..analysis.panel import panel

    for path in args.results:
        _check_result_for_panel(path)
    p = panel(args.results, plugins=common._manager())
    changes = [c.to_dict() for c in p.changes]
    if args.changes:
        _emit_records(args.format, CHANGE_COLUMNS, changes)
        return 0
    records = [attrs.asdict(r) | {"score": r.published, "percentile": r.percentile} for r in p.rows]
    if args.format == "json":
        doc = {
            "series": [attrs.asdict(s) for s in p.series],
            "rows": [{c.name: r[c.name] for c in PANEL_COLUMNS} for r in records],
            "changes": changes,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    for c in p.changes:
        print(f"methodology changed: {c.sentence}", file=sys.stderr)
    if args.format == "csv":
        _emit_records("csv", PANEL_COLUMNS, records)
        return 0
    width = len(p.series)
    rows = []
    for k in range(0, len(p.rows), width):
        block = p.rows[k : k + width]
        rows.append((block[0].institution, *(_cell(r.band, r.zone, r.published) for r in block)))
    _emit("table", rows, ("institution", *(f"{s.year} {s.label}" for s in p.series)), None)
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
                "score": float(col.score[i]) if col.has_score[i] else None,
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
    for line in _sensitivity_notes(args, sens.children, sens.warnings):
        print(line, file=sys.stderr)
    _emit_records(args.format, SENSITIVITY_COLUMNS, records)
    return 0


def _sensitivity_notes(
    args: argparse.Namespace, children: tuple[str, ...], warnings: tuple[str, ...]
) -> list[str]:
    """What ``sensitivity`` says on stderr (one place, so the words can be translated)."""
    lines = [
        f"{args.draws} draws ({args.method}, spread {args.spread:g}, seed {args.seed}) of the "
        f"weights of {', '.join(children)}"
        + (
            f"; --weights {args.weights}: each draw's shares (adding up to 1)"
            if args.weights
            else ""
        )
    ]
    return lines + [f"warning: {w}" for w in warnings]


def _share(s: float) -> str:
    """A share of the draws: never ``0%`` for a band some draw reached, never ``100%`` for
    one that some draw missed (``<1%``, ``>99%``)."""
    if 0 < s < 0.01:
        return "<1%"
    if 0.99 < s < 1:
        return ">99%"
    return f"{round(s * 100):.0f}%"


def _shares(bands: Mapping[str, float]) -> str:
    """``C 97%, B 3%``: every band some draw reached, in the scheme's order."""
    return ", ".join(f"{b} {_share(s)}" for b, s in bands.items() if s > 0)


#: The columns of ``sensitivity``: the same names in the table, the CSV and the JSON (where
#: ``score`` is the unrounded number, shown published in the table and the CSV, and
#: ``bands`` the shares of the draws, as numbers).
SENSITIVITY_COLUMNS = (
    Col("institution"),
    Col("score", lambda v: "" if v is None else publish(v)),
    Col("bands", _shares),
    Col("rank_p5", lambda v: f"{v:g}"),
    Col("rank_p50", lambda v: f"{v:g}"),
    Col("rank_p95", lambda v: f"{v:g}"),
)
#: The columns of ``rank``: ``score`` is the published two-decimal figure; ``on`` says what
#: the ranks compare (``score``: the unrounded scores, which ``kepatuhan.analysis.rank.rank``
#: returns in Python; ``published``: the printed figures).
RANK_COLUMNS = (
    Col("group"),
    Col("rank"),
    Col("of"),
    Col("id"),
    Col("institution"),
    Col("score"),
    Col("on"),
)


def _number(x: object) -> object:
    """JSON for a value ``json`` does not know: a Decimal as a number, else its text."""
    return float(x) if isinstance(x, Decimal) else str(x)


def _up(x: float, decimals: int = 4) -> str:
    """A raw value shown rounded *up* to ``decimals`` (never below what the plan needs)."""
    text = f"{math.ceil(round(x * 10**decimals, 6)) / 10**decimals:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _gap_text(plan: GapPlan, name: str) -> tuple[str, list[tuple[str, ...]], str | None]:
    """What ``gap`` says to people: the headline, one row per step, and why a plan falls
    short (one place, so the words can be translated)."""
    band = plan.band.id if plan.band else "?"
    if plan.target is None:
        return f"{name}: {publish(plan.score)} ({band}) is already in the top band", [], None
    head = (
        f"{name}: {publish(plan.score)} ({band}) -> {plan.target.id} from {plan.target.min} "
        f"(reached at {plan.threshold:g} unrounded, which publishes as {plan.target.min}): "
        f"{len(plan.steps)} improvements ({plan.method}), recomputed {publish(plan.achieved)}"
    )
    rows: list[tuple[str, ...]] = [
        (
            s.entity.split(" ")[-1].strip('"'),
            s.criterion,
            s.state,
            "" if s.value is None else f"{s.value:g}",
            _up(s.to) + ("" if s.full else " (just enough)"),
            f"+{_up(s.amount)}",
            _signed(s.points),
            publish(s.cumulative),
        )
        for s in plan.steps
    ]
    why = None if plan.reached else f"the next band cannot be reached: {plan.reason}"
    return head, rows, why


#: The columns of ``gap``'s table and CSV: a step raises ``criterion`` of ``entity`` from
#: ``now`` to ``to`` (raw values, shown rounded up), by ``raise``, gaining ``points`` on the
#: institution's score, which is then ``score``.
GAP_HEADER = ("entity", "criterion", "state", "now", "to", "raise", "points", "score")


def cmd_gap(args: argparse.Namespace) -> int:
    """The smallest plan of improvements that lifts an institution to its next band."""
    from ..analysis.gap import gap

    res = _score(args)
    plan = gap(res, args.institution, plugins=common._manager())
    if args.format == "json":
        # numbers as numbers: the band edges are Decimals in the rubric
        print(json.dumps(attrs.asdict(plan), indent=2, ensure_ascii=False, default=_number))
        return 0
    inst = res.table.institutions[res.institution_index(args.institution)]
    name = f"{inst.name} ({inst.id})" if inst.name else inst.id
    head, rows, why = _gap_text(plan, name)
    print(head)
    if rows:
        _emit(args.format, rows, GAP_HEADER, None)
    if why:
        print(why)
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    """Rank institutions (or units) within peer groups, on unrounded or published scores."""
    from ..analysis.rank import rank

    res = _score(args)
    rows = rank(
        res,
        by=None if args.by == "none" else args.by,
        level=args.level,
        ties=args.ties,
        on=args.on,
    )
    records = [
        attrs.asdict(r)
        | {"institution": r.institution if args.level == "unit" else "", "score": r.published}
        for r in rows
    ]
    _emit_records(args.format, RANK_COLUMNS, records)
    print(_rank_basis(args.on, args.ties), file=sys.stderr)
    return 0


def _rank_basis(on: str, ties: str) -> str:
    """What ``rank`` compared, said above its table (one place, so it can be translated)."""
    what = (
        "the unrounded scores (equal only to the last bit; --on published ranks the "
        "printed figures)"
        if on == "score"
        else "the published two-decimal figures (equal as printed is tied)"
    )
    return f"ranked on {what}; ties: {ties}"


#: The columns of ``reproduce``: the published figure, what kepatuhan computes from what,
#: and the verdict (``basis`` says whether the figure was recomputed or restated).
REPRODUCE_COLUMNS = (
    Col("entity"),
    Col("unit"),
    Col("rubric"),
    Col("published"),
    Col("recomputed_published"),
    Col("difference", lambda d: "" if d is None else _signed(d)),
    Col("band_match", lambda b: "" if b is None else ("yes" if b else "no")),
    Col("basis"),
    Col("inputs"),
    Col("verdict"),
    Col("expect"),
    Col("as_expected", lambda ok: "" if ok else "NOT AS EXPECTED"),
    Col("source", table=False),
    Col("recomputed", table=False),
)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Recompute published figures (a cases file, or the shipped record with --published);
    exit 1 if one is not as expected. A figure that was itself an input is *restated*, and
    never counts as a reproduction."""
    from ..analysis.reproduce import reproduce, reproduce_published

    if (args.cases is None) == (not args.published):
        raise KepatuhanError(Problem("give a cases file or --published (one of the two)"))
    pm = common._manager()
    rows = (
        reproduce_published(year=args.year, plugins=pm)
        if args.published
        else reproduce(args.cases, alternatives=args.alternatives, plugins=pm)
    )
    records = [
        attrs.asdict(r) | {"as_expected": r.as_expected, "band_match": r.band_match} for r in rows
    ]
    _emit_records(args.format, REPRODUCE_COLUMNS, records)
    judged = [r for r in rows if r.verdict != "not scored"]
    restated = sum(r.basis == "restated" for r in judged)
    counts = {
        v: sum(r.verdict == v and r.basis == "recomputed" for r in judged)
        for v in ("exact", "within rounding", "different")
    }
    print(
        f"{len(rows)} figures: {counts['exact']} recomputed exactly, "
        f"{counts['within rounding']} within rounding, {counts['different']} different, "
        f"{restated} restated (the figure itself was an input: not a reproduction)",
        file=sys.stderr,
    )
    return 0 if all(r.as_expected for r in rows) else 1


#: The columns of ``published``: every field of a record (CSV, JSON); the table shows the
#: figure, where it stands and its source.
PUBLISHED_COLUMNS = (
    Col("year"),
    Col("edition"),
    Col("institution_id"),
    Col("institution_name", table=False),
    Col("kind", table=False),
    Col("province", table=False),
    Col("bps_code", table=False),
    Col("unit"),
    Col("product", table=False),
    Col("criterion"),
    Col("value"),
    Col("value_as_printed", table=False),
    Col("band_as_printed"),
    Col("rank_as_printed", table=False),
    Col("official", table=False),
    Col("unit_set", table=False),
    Col("known_conflict", table=False),
    Col("note", table=False),
    Col("plugin", table=False),
    Col("source_id"),
    Col("source_publisher", table=False),
    Col("source_title", table=False),
    Col("source_date", table=False),
    Col("source_url", table=False),
    Col("source_supports", table=False),
)


def cmd_published(args: argparse.Namespace) -> int:
    """List the published figures the installed plugins ship, with their sources."""
    from .. import published

    records = published(
        year=args.year,
        institution=args.institution,
        edition=args.edition,
        plugins=common._manager(),
    )
    _emit_records(args.format, PUBLISHED_COLUMNS, [r.to_dict() for r in records])
    if args.format == "table":
        print(f"{len(records)} published figures", file=sys.stderr)
    return 0


def _opt_signed(x: float | None) -> str:
    return "" if x is None else _signed(x)


#: The columns of ``compare``: one row per entity and rubric (the first rubric's rows carry no
#: change); ``score`` and ``score_change`` are published two decimals (the change computed
#: from the unrounded scores), ``rank_change`` is this rank minus the first's (negative: up).
COMPARE_COLUMNS = (
    Col("level", table=False),
    Col("institution"),
    Col("unit"),
    Col("rubric"),
    Col("score"),
    Col("band"),
    Col("zone"),
    Col("rank"),
    Col("of", table=False),
    Col("score_change"),
    Col("band_change"),
    Col("zone_change"),
    Col("rank_change", lambda v: "" if v is None else f"{v:+d}"),
    Col("missing"),
)


def _compare_records(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The long records of ``compare``: one per entity and rubric."""
    records = []
    for row in rows:
        for k, r in enumerate(row.results):
            first = k == 0
            records.append(
                {
                    "level": "institution" if row.unit is None else "unit",
                    "institution": row.institution,
                    "unit": row.unit or "",
                    "rubric": r.rubric,
                    "score": r.published,
                    "band": r.band,
                    "zone": r.zone,
                    "rank": r.rank,
                    "of": r.of,
                    "score_change": None if first else _opt_signed(row.score_change(k)) or None,
                    "band_change": None if first else row.band_change(k),
                    "zone_change": None if first else row.zone_change(k),
                    "rank_change": None if first else row.rank_change(k),
                    "missing": r.missing,
                }
            )
    return records


def cmd_compare(args: argparse.Namespace) -> int:
    """Score one observation file under several rubrics: what differs between the rubrics,
    then each entity's score, band, zone and rank under each, and the change from the first."""
    from ..analysis.compare import (
        apply_crosswalk,
        compare_scores,
        diff_rubrics,
        points_rereads,
        read_crosswalk,
        series_labels,
    )
    from ..engine import score
    from .scoring import _missing_lines

    if len(args.rubric) < 2:
        raise KepatuhanError(
            Problem(
                f"expected at least two --rubric to compare, found {len(args.rubric)}",
                expected="--rubric A --rubric B",
                found=" ".join(args.rubric),
            )
        )
    pm = common._manager()
    rubrics = [common._resolve_rubric(ref, pm) for ref in args.rubric]
    labels = series_labels(rubrics)
    table = common._read_table(args, args.data)
    walk = read_crosswalk(args.crosswalk) if args.crosswalk else None
    results = []
    notes: list[str] = []
    info = []
    for k, (ref, rubric, label) in enumerate(zip(args.rubric, rubrics, labels, strict=True)):
        scored_table, use = table, None
        if walk is not None and k > 0:  # the data is in the first rubric's ids
            scored_table, use = apply_crosswalk(table, walk, rubric)
            notes.append(f"{label}: {use.summary(walk.source)}")
        res = score(rubric, scored_table, plugins=pm)
        results.append(res)
        rereads = [] if k == 0 else points_rereads(scored_table, rubrics[0], rubric)
        notes.extend(f"note: {label}: {line}" for line in rereads)
        notes.extend(f"warning: {label}: {w}" for w in res.warnings)
        notes.extend(f"warning: {label}: {line}" for line in _missing_lines(res))
        info.append(
            {
                "label": label,
                "id": rubric.id,
                "digest": rubric.digest,
                "ref": ref,
                "crosswalk": None if use is None else attrs.asdict(use),
                "missing": res.missing_count(),
                "missing_first": [m.to_dict() for m in res.missing(limit=20)],
                "points_rereads": rereads,
            }
        )
    diffs = [diff_rubrics(rubrics[0], r) for r in rubrics[1:]]
    records = _compare_records(compare_scores(results, labels=labels, units=args.units))
    if args.format == "json":
        doc = {
            "rubrics": info,
            "differences": [
                {
                    "from": labels[0],
                    "to": labels[k + 1],
                    "changes": [c.to_dict() for c in d.changes],
                }
                for k, d in enumerate(diffs)
            ],
            "entities": [{c.name: r[c.name] for c in COMPARE_COLUMNS} for r in records],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return 0
    head = [
        f"rubric {k + 1}: {label} ({r.digest[:15]}…, from {ref})"
        for k, (label, r, ref) in enumerate(zip(labels, rubrics, args.rubric, strict=True))
    ]
    for k, d in enumerate(diffs):
        what = d.sentences()
        if not what:
            what = [
                "No difference in how scores are made or banded (titles, sources or notes only)."
            ]
        head.append(f"{labels[0]} -> {labels[k + 1]}: {len(d.changes)} differences")
        head.extend(f"  - {s}" for s in what)
    out = sys.stdout if args.format == "table" else sys.stderr
    print("\n".join(head), file=out)
    for note in notes:
        print(note, file=sys.stderr)
    if args.format == "table":
        print()
    cols = [c for c in COMPARE_COLUMNS if args.units or c.name != "unit"]
    _emit_records(args.format, cols, records)
    return 0
