"""Panels across years: each entity's trajectory, and what changed between methodologies.

A panel is built from result documents (``kepatuhan score --format json``). Each result is
one *series*, identified by its rubric's id **and digest** — not by its year, so the
official edition and a draft derived from it can be lined up for the same year, and a
result scored from a rubric file is as good as one scored from an installed id.

The panel is a tidy long table (:class:`PanelRow`: one row per institution × series) with
the score, the band, the **zone** (the one category every edition has: merah / kuning /
hijau; 2022–2025 opinions A–E each fall in a zone, 2016–2021 bands are the zones), and the
**percentile** of the score within its series, which compares positions across editions
whose scales differ. Between consecutive series of different rubrics the panel lists every
method change (:func:`kepatuhan.analysis.compare.diff_rubrics`), each a finished sentence,
so a rise from *kuning* to *A* is not read as a like-for-like improvement.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from ..errors import InputFileError, KepatuhanError, Problem, id_key
from ..io.files import read_text
from ..io.rubric_toml import resolve_rubric
from ..plugins import PluginManager, default_manager
from ..rubric import Rubric
from .compare import Change, diff_rubrics, series_labels
from .rank import tie_ranks

__all__ = [
    "MethodChange",
    "Panel",
    "PanelRow",
    "Series",
    "changes",
    "check_result_document",
    "panel",
    "percentiles",
]


@attrs.frozen
class Series:
    """One result of the panel: ``label`` (the rubric id, with a digest prefix when two
    series share an id), ``year``, the rubric's ``id`` and ``digest``, and the result file."""

    label: str
    year: int
    rubric_id: str
    digest: str
    path: str


@attrs.frozen
class PanelRow:
    """One institution in one series: unrounded ``score`` (None if not scored), its
    ``published`` two decimals, ``band``, ``zone``, ``rank`` of ``of`` (``min`` ties, on
    unrounded scores) and ``percentile`` within the series (see :func:`percentiles`).
    ``state`` is the result's state of the score (``scored``, ``not_applicable``, …), or
    ``absent`` when the institution is not in that result."""

    institution: str
    year: int
    series: str
    edition: str
    digest: str
    score: float | None
    published: str | None
    band: str | None
    zone: str | None
    rank: int | None
    of: int
    percentile: float | None
    state: str = "absent"


@attrs.frozen
class MethodChange:
    """One difference of method between two consecutive series of the panel."""

    from_series: str
    to_series: str
    from_year: int
    to_year: int
    change: Change

    @property
    def sentence(self) -> str:
        """``2021 -> 2022 (ombudsman-2021 -> ombudsman-2022): Band "A" is added (…).``"""
        return (
            f"{self.from_year} -> {self.to_year} ({self.from_series} -> {self.to_series}): "
            f"{self.change.sentence}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the series, the change's fields and its sentence."""
        return {
            "from": self.from_series,
            "to": self.to_series,
            "from_year": self.from_year,
            "to_year": self.to_year,
            **self.change.to_dict(),
        }


@attrs.frozen
class Panel:
    """``series`` in order (by year, then as given), the tidy ``rows`` (institutions in id
    order, each through the series), and the method ``changes`` between series."""

    series: tuple[Series, ...]
    rows: tuple[PanelRow, ...]
    changes: tuple[MethodChange, ...]
    #: The rubric of each series, in the order of ``series`` (for saying a change for
    #: people: :meth:`rubrics_of`).
    editions: tuple[Rubric, ...] = attrs.field(default=(), eq=False, repr=False)

    def rubrics_of(self, change: MethodChange) -> tuple[Rubric, Rubric]:
        """The two rubrics ``change`` is between (``KeyError`` for a change of another
        panel: a bug in the caller)."""
        by_label = {s.label: r for s, r in zip(self.series, self.editions, strict=True)}
        return by_label[change.from_series], by_label[change.to_series]

    @property
    def years(self) -> tuple[int, ...]:
        """The year of each series (a year repeats when two series share it)."""
        return tuple(s.year for s in self.series)

    @property
    def rubrics(self) -> tuple[str, ...]:
        """The rubric id of each series."""
        return tuple(s.rubric_id for s in self.series)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every method change as one line (:attr:`MethodChange.sentence`)."""
        return tuple(c.sentence for c in self.changes)

    @property
    def trajectories(self) -> dict[str, dict[int, tuple[float | None, str | None, str | None]]]:
        """Per institution, per year, ``(score, published, band)``: only for a panel with one
        series per year (else :class:`KepatuhanError`; read :attr:`rows`)."""
        years = self.years
        if len(set(years)) != len(years):
            raise KepatuhanError(
                Problem(
                    f"two series of one year ({', '.join(s.label for s in self.series)}): "
                    "a trajectory by year is ambiguous; read the panel's rows"
                )
            )
        out: dict[str, dict[int, tuple[float | None, str | None, str | None]]] = {}
        for r in self.rows:
            if r.score is not None or r.published is not None:
                out.setdefault(r.institution, {})[r.year] = (r.score, r.published, r.band)
            else:
                out.setdefault(r.institution, {})
        return out


def percentiles(scores: Sequence[float]) -> list[float | None]:
    """The percentile of each score within ``scores``: 100 × (n − rank) / (n − 1), with the
    rank from :func:`~kepatuhan.analysis.rank.tie_ranks` (``min`` ties, unrounded) — the
    percent of the *other* entities it scores at least as high as. The top is 100, the bottom
    0 (when alone there); a lone score has no percentile (None)."""
    n = len(scores)
    if n < 2:
        return [None] * n
    ranks = tie_ranks(np.asarray(scores, dtype=np.float64), "min")
    return [100.0 * (n - int(r)) / (n - 1) for r in ranks.tolist()]


def changes(a: Rubric, b: Rubric) -> list[str]:
    """What differs between two editions that matters when comparing their scores, one
    sentence each (:func:`kepatuhan.analysis.compare.diff_rubrics`)."""
    return diff_rubrics(a, b).sentences()


def check_result_document(doc: Any, path: str | None) -> None:
    """Refuse a result document the panel cannot line up (:class:`InputFileError` naming the
    key that is wrong): ``rubric.ref`` or ``id``, and each institution's id, score,
    published string and band."""
    if not isinstance(doc, dict):
        raise InputFileError(Problem("not a kepatuhan result: expected a JSON object", path=path))

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


def _load(path: str | Path, pm: PluginManager) -> tuple[Rubric, dict[str, Any]]:
    where = str(path)
    try:
        doc = json.loads(read_text(path))
        ref = doc["rubric"].get("ref") or doc["rubric"]["id"]
        insts = doc.get("institutions", [])
    except (ValueError, KeyError, TypeError, AttributeError):  # JSONDecodeError is one
        raise InputFileError(
            Problem("not a kepatuhan result (kepatuhan score --format json)", path=where)
        ) from None
    if not isinstance(ref, str) or not isinstance(insts, list):
        raise InputFileError(
            Problem("not a kepatuhan result (kepatuhan score --format json)", path=where)
        )
    check_result_document(doc, where)
    rubric = resolve_rubric(ref, pm, base=Path(path).resolve().parent)
    if rubric.year is None:
        raise InputFileError(
            Problem(f'rubric "{rubric.id}" has no year', path=where, key_path="rubric.ref")
        )
    recorded = doc["rubric"].get("digest")
    if isinstance(recorded, str) and recorded != rubric.digest:
        raise InputFileError(
            Problem(
                f'the rubric "{ref}" is not the one this result was scored with: its digest '
                "changed (score the data again)",
                path=where,
                key_path="rubric.digest",
                expected=rubric.digest,
                found=recorded,
            )
        )
    return rubric, doc


def panel(results: Sequence[str | Path], *, plugins: PluginManager | None = None) -> Panel:
    """A panel from result files (any order; one per rubric).

    Series are ordered by year, then as given. Two results of one rubric (the same digest)
    are refused, naming both files: score their data together. A result whose recorded
    rubric digest differs from the rubric its reference names now is refused too.
    """
    pm = plugins or default_manager()
    loaded = [(str(p), *_load(p, pm)) for p in results]
    by_digest: dict[str, str] = {}
    for path, rubric, _ in loaded:
        if rubric.digest in by_digest:
            raise InputFileError(
                Problem(
                    f'{by_digest[rubric.digest]} and {path} were both scored under "{rubric.id}" '
                    f"({rubric.digest[:15]}…): a panel takes one result per rubric (score "
                    "their data together)",
                    path=path,
                )
            )
        by_digest[rubric.digest] = path
    order = sorted(range(len(loaded)), key=lambda k: (loaded[k][1].year or 0, k))
    loaded = [loaded[k] for k in order]
    labels = series_labels([r for _, r, _ in loaded])
    series = tuple(
        Series(label, r.year or 0, r.id, r.digest, path)
        for label, (path, r, _) in zip(labels, loaded, strict=True)
    )
    cells: dict[str, list[PanelRow | None]] = {}
    spelt: dict[str, tuple[str, str]] = {}  # id_key -> (the first spelling, its file)
    for k, (s, (_, rubric, doc)) in enumerate(zip(series, loaded, strict=True)):
        for row in _series_rows(s, rubric, doc):
            first, where = spelt.setdefault(id_key(row.institution), (row.institution, s.path))
            if first != row.institution:
                # one regency as "kab-x" one year and "Kab-X" the next: split, each would
                # lose a year and be ranked as a stranger; refused, as within one file
                raise InputFileError(
                    Problem(
                        f'institution "{row.institution}" looks like the same institution as '
                        f'"{first}" of {where}: ids that differ only in letter case are '
                        "refused; write one spelling in every year's data",
                        path=s.path,
                        expected=f'"{first}"',
                        found=f'"{row.institution}"',
                    )
                )
            cells.setdefault(row.institution, [None] * len(series))[k] = row
    rows: list[PanelRow] = []
    for inst in sorted(cells):
        for s, got in zip(series, cells[inst], strict=True):
            rows.append(
                got
                if got is not None
                else PanelRow(
                    inst,
                    s.year,
                    s.label,
                    s.rubric_id,
                    s.digest,
                    None,
                    None,
                    None,
                    None,
                    None,
                    0,
                    None,
                )
            )
    method: list[MethodChange] = []
    for (s0, (_, r0, _)), (s1, (_, r1, _)) in pairwise(zip(series, loaded, strict=True)):
        for c in diff_rubrics(r0, r1).changes:
            method.append(MethodChange(s0.label, s1.label, s0.year, s1.year, c))
    return Panel(series, tuple(rows), tuple(method), tuple(r for _, r, _ in loaded))


def _series_rows(s: Series, rubric: Rubric, doc: dict[str, Any]) -> list[PanelRow]:
    """The rows of one series, with ranks and percentiles among its scored institutions."""
    insts = doc.get("institutions", [])
    seen: set[str] = set()
    scored: list[tuple[int, float]] = []
    for i, inst in enumerate(insts):
        ident = inst.get("id")
        if ident in seen:
            raise InputFileError(
                Problem(
                    f'institution "{ident}" is listed twice',
                    path=s.path,
                    key_path=f"institutions[{i}].id",
                )
            )
        seen.add(ident)
        score = inst.get("score")
        if score is not None:
            scored.append((i, float(score)))
    ranks = tie_ranks([v for _, v in scored], "min").tolist() if scored else []
    pct = percentiles([v for _, v in scored])
    rank_of = {i: (int(r), p) for (i, _), r, p in zip(scored, ranks, pct, strict=True)}
    out = []
    for i, inst in enumerate(insts):
        band_id = (inst.get("band") or {}).get("id")
        band = rubric.bands.get(band_id) if rubric.bands is not None and band_id else None
        r, p = rank_of.get(i, (None, None))
        score = inst.get("score")
        out.append(
            PanelRow(
                institution=inst["id"],
                year=s.year,
                series=s.label,
                edition=s.rubric_id,
                digest=s.digest,
                score=None if score is None else float(score),
                published=inst.get("published"),
                band=band_id,
                zone=band.zone if band is not None else None,
                rank=r,
                of=len(scored),
                percentile=p,
                state=str(inst.get("state") or ("scored" if score is not None else "not scored")),
            )
        )
    return out
