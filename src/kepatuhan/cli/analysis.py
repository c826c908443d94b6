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
from ..present import lang
from ..rounding import publish
from . import common
from .common import (
    Col,
    Shown,
    _check_result_for_panel,
    _emit,
    _emit_records,
    _render,
    _score,
    _shown,
    _signed,
)

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


def _cell(band: str | None, zone: str | None, published: str | None, shown: Shown) -> str:
    """``60.80 C kuning`` (a band that is its zone is shown once: ``60.80 kuning``), the zone
    in the chosen language, the figure with the chosen separator."""
    if published is None:
        return ""
    parts = (shown.pub(published), band if band != zone else None, shown.zone(zone))
    return " ".join(x for x in parts if x)


if TYPE_CHECKING:
    from ..analysis.compare import Change
    from ..analysis.gap import GapPlan
    from ..analysis.rank import RankRow
    from ..bands import BandScheme
    from ..observations import ObservationTable
    from ..results import Scores
    from ..rubric import Rubric


def _change_sentence(change: Change, a: Rubric, b: Rubric, shown: Shown) -> str:
    """A rubric difference as people read it, in the chosen language and separator
    (:func:`kepatuhan.present.sentences.change_sentence`)."""
    from ..present.sentences import change_sentence

    return change_sentence(change, a, b, shown.lang, decimal_comma=shown.decimal_comma)


def cmd_panel(args: argparse.Namespace) -> int:
    """Line up several results (years, or editions of one year): score, band, zone,
    percentile per series; every method change between consecutive series."""
    from ..analysis.panel import panel

    for path in args.results:
        _check_result_for_panel(path)
    p = panel(args.results, plugins=common._manager())
    changes = [c.to_dict() for c in p.changes]
    shown = _shown(args)
    if args.changes:
        if args.format == "table":  # for people: the sentence and the headers in the language
            lines = [
                (c.from_series, c.to_series, _change_sentence(c.change, *p.rubrics_of(c), shown))
                for c in p.changes
            ]
            header = tuple(shown.word(k) for k in ("change_from", "change_to", "change"))
            _emit("table", lines, header, None)
            return 0
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
        said = _change_sentence(c.change, *p.rubrics_of(c), shown)
        where = f"{c.from_year} -> {c.to_year} ({c.from_series} -> {c.to_series})"
        print(f"{shown.word('method_changed')}: {where}: {said}", file=sys.stderr)
    if args.format == "csv":
        _emit_records("csv", PANEL_COLUMNS, records)
        return 0
    names = common._institution_names(args.results)
    width = len(p.series)
    rows = []
    for k in range(0, len(p.rows), width):
        block = p.rows[k : k + width]
        inst = block[0].institution
        rows.append(
            (
                lang.entity_label(names.get(inst), inst),
                *(_cell(r.band, r.zone, r.published, shown) for r in block),
                inst,
            )
        )
    header = (shown.word("institution"), *(f"{s.year} {s.label}" for s in p.series))
    _emit("table", rows, (*header, shown.word("id")), None)
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
    records: list[dict[str, Any]] = []
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
    shown = _shown(args)
    children = tuple(shown.label(res.rubric, c) for c in sens.children)
    for line in _sensitivity_notes(args, children, sens.warnings, shown):
        print(line, file=sys.stderr)
    if args.format != "table":
        _emit_records(args.format, SENSITIVITY_COLUMNS, records)
        return 0
    names = [lang.entity_name(res.table, 0, i) for i in range(len(sens.institutions))]
    keys = (*(c.name for c in SENSITIVITY_COLUMNS), "id")
    rows = [
        (
            name,
            shown.pub(SENSITIVITY_COLUMNS[1].text(r["score"])),
            *(shown.pub(c.text(r[c.name])) for c in SENSITIVITY_COLUMNS[2:]),
            r["institution"],
        )
        for name, r in zip(names, records, strict=True)
    ]
    _emit("table", rows, tuple(shown.word(k) for k in keys), None)
    return 0


def _sensitivity_notes(
    args: argparse.Namespace,
    children: tuple[str, ...],
    warnings: tuple[str, ...],
    shown: Shown | None = None,
) -> list[str]:
    """What ``sensitivity`` says on stderr, in the chosen language (``children``: the
    perturbed criteria as shown, by label)."""
    shown = shown or Shown()
    line = shown.word(
        "sensitivity_head",
        draws=args.draws,
        method=args.method,
        spread=shown.pub(f"{args.spread:g}"),
        seed=args.seed,
        children=", ".join(children),
    )
    if args.weights:
        line += shown.word("sensitivity_weights", path=args.weights)
    # warnings stay English, as every command's (docs/cli.md)
    return [line] + [f"warning: {w}" for w in warnings]


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


def _gap_text(
    plan: GapPlan, name: str, res: Scores, shown: Shown
) -> tuple[str, list[tuple[str, ...]], str | None]:
    """What ``gap`` says to people: the headline, one row per step (entities by name, the
    full ``Unit / Product`` for a product, criteria by label), and why a plan falls short;
    in the chosen language, figures with the chosen separator."""
    scheme = res.rubric.bands
    band = shown.band(scheme, plan.band.id) if plan.band else "?"
    fields = {"name": name, "score": shown.num(plan.score), "band": band}
    if plan.target is None:
        return shown.word("gap_top", **fields), [], None
    head = shown.word(
        "gap_head",
        **fields,
        target=shown.band(scheme, plan.target.id),
        edge=shown.pub(str(plan.target.min)),
        threshold=shown.pub(f"{plan.threshold:g}"),
        steps=lang.counted(len(plan.steps), "improvement", shown.lang),
        method=shown.word(plan.method),
        achieved=shown.num(plan.achieved),
    )
    names = lang.names_by_entity_label(res, res.institution_index(plan.institution))
    enough = f" ({shown.word('just_enough')})"
    rows: list[tuple[str, ...]] = [
        (
            names.get(s.entity, s.entity),
            shown.label(res.rubric, s.criterion),
            lang.state_label(s.state, shown.lang),
            "" if s.value is None else shown.pub(f"{s.value:g}"),
            shown.pub(_up(s.to)) + ("" if s.full else enough),
            shown.pub(f"+{_up(s.amount)}"),
            shown.pub(_signed(s.points)),
            shown.num(s.cumulative),
        )
        for s in plan.steps
    ]
    why = None
    if not plan.reached:
        said = plan.reason if plan.why is None else shown.reason(plan.why, res.rubric)
        why = shown.word("gap_short", reason=said)
    return head, rows, why


#: The columns of ``gap``'s CSV: a step raises ``criterion`` of ``entity`` from ``now`` to
#: ``to`` (raw values, shown rounded up), by ``raise``, gaining ``points`` on the
#: institution's score, which is then ``score``; then the entity's full name and the
#: criterion's labels. Ids, dot decimals and state names, the same under every ``--lang``
#: (the table shows names, labels and the language's words).
GAP_HEADER = (
    "entity",
    "criterion",
    "state",
    "now",
    "to",
    "raise",
    "points",
    "score",
    "entity_name",
    "label",
    "label_en",
)
#: The catalogue keys of the table's headers (:func:`kepatuhan.present.lang.word`).
GAP_WORDS = ("entity", "criterion", "state", "now", "to", "raise", "points", "score")


def _gap_csv_rows(plan: GapPlan, res: Scores) -> list[tuple[str, ...]]:
    """``gap --format csv``: one row per step, the entity's own id (a product's is the
    last of its path), then its full name and the criterion's labels in both languages."""
    names = lang.names_by_entity_label(res, res.institution_index(plan.institution))
    return [
        (
            s.entity.split(" ")[-1].strip('"'),
            s.criterion,
            s.state,
            "" if s.value is None else f"{s.value:g}",
            _up(s.to),
            f"+{_up(s.amount)}",
            _signed(s.points),
            publish(s.cumulative),
            names.get(s.entity, s.entity),
            lang.criterion_label(res.rubric.criterion(s.criterion), "id"),
            lang.criterion_label(res.rubric.criterion(s.criterion), "en"),
        )
        for s in plan.steps
    ]


def cmd_gap(args: argparse.Namespace) -> int:
    """The smallest plan of improvements that lifts an institution to its next band."""
    from ..analysis.gap import gap

    res = _score(args)
    plan = gap(res, args.institution, plugins=common._manager())
    if args.format == "json":
        # numbers as numbers: the band edges are Decimals in the rubric
        doc = attrs.asdict(plan, filter=lambda a, _: a.name != "why")  # reason: the English
        print(json.dumps(doc, indent=2, ensure_ascii=False, default=_number))
        return 0
    shown = _shown(args)
    inst = res.table.institutions[res.institution_index(args.institution)]
    name = f"{inst.name} ({inst.id})" if inst.name else inst.id
    head, rows, why = _gap_text(plan, name, res, shown)
    if args.format == "csv":
        # the CSV is a machine format: the headline and the reason go to stderr
        print(head, file=sys.stderr)
        if why:
            print(why, file=sys.stderr)
        _emit("csv", _gap_csv_rows(plan, res), GAP_HEADER, None)
        return 0
    print(head)
    if rows:
        _emit("table", rows, tuple(shown.word(k) for k in GAP_WORDS), None)
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
    shown = _shown(args)
    if args.format == "table":
        print(_render("table", *_rank_table(res, rows, args, shown)))
    else:
        _emit_records(args.format, RANK_COLUMNS, records)
    print(_rank_basis(args.on, args.ties, shown), file=sys.stderr)
    return 0


def _rank_table(
    res: Scores, rows: Sequence[RankRow], args: argparse.Namespace, shown: Shown
) -> tuple[list[tuple[str, ...]], tuple[str, ...], None]:
    """``rank``'s table for people: entities by name (the institution's too, for units; a
    group that is an institution by its name), figures with the chosen separator, the
    basis in the language; the last column is the entity's id, for ``--institution``."""
    cards = res.cards()
    inst_names = {c.id: lang.entity_label(c.name, c.id) for c in cards}
    unit_names = {(c.id, u.id): lang.entity_label(u.name, u.id) for c in cards for u in c.children}
    units = args.level == "unit"
    keys = ("group", "rank", "of", "unit" if units else "institution")
    header = tuple(shown.word(k) for k in (*keys, *(("institution",) if units else ())))
    header += tuple(shown.word(k) for k in ("score", "on", "id"))
    on = shown.word("score").lower() if args.on == "score" else shown.word("published")
    out = []
    for r in rows:
        group = inst_names.get(r.group, r.group) if args.by == "institution" else r.group
        name = unit_names[r.institution, r.id] if units else inst_names[r.id]
        out.append(
            (
                group,
                str(r.rank),
                str(r.of),
                name,
                *((inst_names[r.institution],) if units else ()),
                shown.pub(r.published),
                on,
                r.id,
            )
        )
    return out, header, None


def _rank_basis(on: str, ties: str, shown: Shown | None = None) -> str:
    """What ``rank`` compared, said beside its table, in the chosen language."""
    shown = shown or Shown()
    return shown.word("rank_on_score" if on == "score" else "rank_on_published", ties=ties)


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
#: figure, where it stands (the institution by id and by name) and its source.
PUBLISHED_COLUMNS = (
    Col("year"),
    Col("edition"),
    Col("institution_id"),
    Col("institution_name"),
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
        points_reread_rows,
        points_rereads,
        read_crosswalk,
        series_labels,
    )
    from ..engine import score
    from ..present.sentences import quoted
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
    shown = _shown(args)
    for k, (ref, rubric, label) in enumerate(zip(args.rubric, rubrics, labels, strict=True)):
        scored_table, use = table, None
        if walk is not None and k > 0:  # the data is in the first rubric's ids
            scored_table, use = apply_crosswalk(table, walk, rubric)
            where = f"{walk.source}: " if walk.source else ""
            said = shown.word("crosswalk_use", rows=use.rows, mapped=use.mapped, kept=use.kept)
            notes.append(f"{label}: {where}{said}")
        res = score(rubric, scored_table, plugins=pm)
        results.append(res)
        rereads = [] if k == 0 else points_rereads(scored_table, rubrics[0], rubric)
        for n, cid, pa, pb in (
            [] if k == 0 else points_reread_rows(scored_table, rubrics[0], rubric)
        ):

            def unit(p: str | None) -> str:
                return "0–100" if p is None else shown.word("points_out_of", points=shown.pub(p))

            said = shown.word(
                "points_reread",
                n=n,
                criterion=quoted(shown.label(rubric, cid), shown.lang),
                before=unit(pa),
                after=unit(pb),
            )
            notes.append(f"{shown.word('note')}: {label}: {said}")
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
    compared = compare_scores(results, labels=labels, units=args.units)
    records = _compare_records(compared)
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
        shown.word("compare_rubric", k=k + 1, label=label, digest=r.digest[:15], ref=ref)
        for k, (label, r, ref) in enumerate(zip(labels, rubrics, args.rubric, strict=True))
    ]
    for k, d in enumerate(diffs):
        what = [_change_sentence(c, rubrics[0], rubrics[k + 1], shown) for c in d.changes] or [
            shown.word("compare_no_difference")
        ]
        many = lang.counted(len(d.changes), "difference", shown.lang)
        head.append(f"{labels[0]} -> {labels[k + 1]}: {many}")
        head.extend(f"  - {s}" for s in what)
    out = sys.stdout if args.format == "table" else sys.stderr
    print("\n".join(head), file=out)
    for note in notes:
        print(note, file=sys.stderr)
    if args.format == "table":
        print()
    if args.format == "table":
        schemes = {label: r.bands for label, r in zip(labels, rubrics, strict=True)}
        _emit("table", *_compare_table(compared, table, schemes, args.units, shown))
        return 0
    cols = [c for c in COMPARE_COLUMNS if args.units or c.name != "unit"]
    _emit_records(args.format, cols, records)
    return 0


def _compare_table(
    rows: Sequence[Any],
    table: ObservationTable,
    schemes: Mapping[str, BandScheme | None],
    units: bool,
    shown: Shown,
) -> tuple[list[tuple[str, ...]], tuple[str, ...], None]:
    """``compare``'s table for people: one row per entity and rubric, the institution and
    unit by name, each band as its rubric labels it (``C — Kualitas Sedang``), zones in the
    chosen language, figures with the chosen separator; the last column is the entity's id
    (the unit's, on a unit row). The CSV and JSON keep ids only (:data:`COMPARE_COLUMNS`)."""
    inst_names = {i.id: lang.entity_label(i.name, i.id) for i in table.institutions}
    unit_names = {
        (table.institutions[int(table.unit_institution[k])].id, u.id): lang.entity_label(
            u.name, u.id
        )
        for k, u in enumerate(table.units)
    }

    def zone_change(a: str | None, b: str | None) -> str:
        return "" if a == b else f"{shown.zone(a) or '-'} -> {shown.zone(b) or '-'}"

    out: list[tuple[str, ...]] = []
    for row in rows:
        for k, r in enumerate(row.results):
            first = k == 0
            change = None if first else row.score_change(k)
            unit = (unit_names.get((row.institution, row.unit), row.unit or ""),) if units else ()
            out.append(
                (
                    inst_names.get(row.institution, row.institution),
                    *unit,
                    r.rubric,
                    shown.pub(r.published),
                    shown.band(schemes[r.rubric], r.band),
                    shown.zone(r.zone),
                    "" if r.rank is None else str(r.rank),
                    "" if change is None else shown.pub(_signed(change)),
                    "" if first else row.band_change(k) or "",
                    "" if first else zone_change(row.results[0].zone, r.zone),
                    "" if first or row.rank_change(k) is None else f"{row.rank_change(k):+d}",
                    str(r.missing),
                    row.unit or row.institution,
                )
            )
    keys = ("institution", *(("unit",) if units else ()), "rubric", "score", "band", "zone")
    keys += ("rank", "score_change", "band_change", "zone_change", "rank_change")
    keys += ("missing_values", "id")
    header = tuple(shown.word(k).capitalize() if k == "rubric" else shown.word(k) for k in keys)
    return out, header, None
