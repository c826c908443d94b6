"""How many published figures each edition reproduces: exactly, within rounding, band only,
not at all — the table of ``docs/editions.md``, computed from the shipped record."""

from __future__ import annotations

import re
from collections import Counter

import kepatuhan
from kepatuhan import ObservationTable, PublishedRecord
from kepatuhan.analysis.reproduce import reproduce_published

__all__ = ["band_words", "lands_in_band", "summary", "summary_markdown"]

# What printed words mean, as categories (A–E); any one identifies the band.
_WORDS = [
    ("kualitas tertinggi", "A"),
    ("kualitas terendah", "E"),
    ("kualitas tinggi", "B"),
    ("kualitas sedang", "C"),
    ("kualitas rendah", "D"),
    ("sangat baik", "A"),
    ("cukup", "C"),
    ("kurang", "D"),
]
_LABELS = {
    "A": {"a", "kualitas tertinggi", "sangat baik"},
    "B": {"b", "kualitas tinggi", "baik"},
    "C": {"c", "kualitas sedang", "cukup"},
    "D": {"d", "kualitas rendah", "kurang"},
    "E": {"e", "kualitas terendah", "sangat kurang"},
}


def band_words(text: str) -> tuple[str | None, set[str]]:
    """The zone and the categories (A–E) that a printed band text names."""
    low = text.lower()
    zone = next((z for z in ("hijau", "kuning", "merah") if z in low), None)
    if zone is None and "kualitas" not in low:  # G3/G4 predicates without a colour
        for word, z in (("tinggi", "hijau"), ("sedang", "kuning"), ("rendah", "merah")):
            if re.search(rf"\b{word}\b", low):
                zone = z
    cats = set(re.findall(r"(?<![A-Za-z])([A-E])(?![A-Za-z])", text))
    rest = low
    for word, cat in _WORDS:
        if word in rest:
            cats.add(cat)
            rest = rest.replace(word, "")
    if re.search(r"(?<!sangat )\bbaik\b", rest):
        cats.add("B")
    return zone, cats


def lands_in_band(record: PublishedRecord) -> bool | None:
    """Whether a printed total, scored alone under its edition, lands in its printed band
    (None when the record has no value, no band words or no edition)."""
    if not (record.value and record.band_as_printed and record.edition):
        return None
    zone, cats = band_words(record.band_as_printed)
    if not (zone or cats):
        return None
    row = dict(
        institution=record.institution_id,
        institution_kind=record.kind or "",
        criterion="total",
        value=float(record.value),
    )
    band = (
        kepatuhan.score(record.edition, ObservationTable.from_records([row]))
        .card(record.institution_id)
        .band
    )
    if band is None:
        return None
    names = {band.id.lower(), (band.label or "").lower()}
    return zone in (None, band.zone) and all(names & _LABELS[c] for c in cats)


def summary() -> dict[str, Counter[str]]:
    """Per edition: figures recomputed exactly, within rounding, different; printed totals
    that only land in their band (a total cannot be recomputed without its parts); and
    totals that do not land in their printed band."""
    out: dict[str, Counter[str]] = {}
    recomputed = set()
    for r in reproduce_published():
        edition = r.rubric.partition(":")[0]
        out.setdefault(edition, Counter())[r.verdict] += 1
        recomputed.add((edition, r.entity, r.unit, r.published))
    for rec in kepatuhan.published():
        if not rec.edition or rec.criterion != "total" or not rec.value:
            continue
        edition = rec.edition.partition(":")[0]
        c = out.setdefault(edition, Counter())
        c["figures"] += 1
        key = (edition, rec.institution_id, None if rec.unit is None else rec.unit, rec.value)
        if key in recomputed:
            continue
        landed = lands_in_band(rec)
        c["band only" if landed else "not at all" if landed is False else "no band printed"] += 1
    return out


def summary_markdown() -> str:
    """The table of docs/editions.md."""
    lines = [
        "| edition | printed totals | recomputed exactly | within rounding | recomputed, "
        "different | band only | not in its printed band | no band printed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for edition, c in sorted(summary().items()):
        lines.append(
            f"| `{edition}` | {c['figures']} | {c['exact']} | {c['within rounding']} | "
            f"{c['different']} | {c['band only']} | {c['not at all']} | {c['no band printed']} |"
        )
    return "\n".join(lines) + "\n"
