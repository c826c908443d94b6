"""The published record (records/published.csv, sources.toml): well-formed, sourced, and
consistent with the editions — every printed total lands in its printed band, and every
institution whose units are all printed is recomputed from them."""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - the project's tomli dependency below 3.11
    import tomli as tomllib

from kepatuhan_ombudsman.record_summary import _LABELS
from kepatuhan_ombudsman.record_summary import (
    band_words as expected_band,  # the plugin's reading of printed words
)

import kepatuhan
from kepatuhan import ObservationTable, score

RECORDS = files("kepatuhan_ombudsman") / "records"
COLUMNS = [
    "year", "edition", "institution_id", "institution_name", "kind", "province", "bps_code",
    "unit", "product", "criterion", "value", "value_as_printed", "band_as_printed",
    "rank_as_printed", "official", "unit_set", "known_conflict", "source_id", "note",
]  # fmt: skip
KINDS = {
    "pemprov",
    "pemkab",
    "pemkot",
    "kementerian",
    "lembaga",
    "polres",
    "polda",
    "kantah",
    "kanwil",
}
KL_KINDS = {"kementerian", "lembaga", "polres", "polda", "kantah", "kanwil"}
CRITERIA = {"total", "input", "proses", "output", "pengaduan", "kepercayaan_masyarakat"}


def _rows() -> list[dict[str, str]]:
    with (RECORDS / "published.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _sources() -> dict[str, dict[str, Any]]:
    doc = tomllib.loads((RECORDS / "sources.toml").read_text(encoding="utf-8"))
    return {s["id"]: s for s in doc["source"]}


ROWS = _rows()
SOURCES = _sources()


def test_the_record_parses_and_every_cell_is_of_its_kind() -> None:
    assert len(ROWS) >= 400
    for n, r in enumerate(ROWS, start=2):
        where = f"published.csv line {n}"
        assert 2014 <= int(r["year"]) <= 2025 and r["year"] != "2020", where
        assert r["kind"] in KINDS, where
        assert r["criterion"] in CRITERIA, where
        assert r["official"] in ("yes", "no"), where
        assert r["unit_set"] in ("", "all", "partial"), where
        # unit_set describes a unit's total; dimension rows are parts of that unit
        assert (r["unit_set"] != "") == (r["unit"] != "" and r["criterion"] == "total"), where
        assert re.fullmatch(r"(\d{2})?", r["bps_code"]), where
        assert (r["bps_code"] == "") or r["province"], where
        if r["value"]:
            assert re.fullmatch(r"\d+(\.\d+)?", r["value"]), where
        # a row without a value still records something printed: a band, a rank or a text
        assert r["value"] or r["band_as_printed"] or r["rank_as_printed"] or r["value_as_printed"]
        if r["value_as_printed"] and r["value"]:
            assert r["value_as_printed"].replace(",", ".") == r["value"], where


def test_every_source_id_exists_and_every_source_is_complete() -> None:
    for key in ("publisher", "title", "date", "url", "supports"):
        assert all(s.get(key) for s in SOURCES.values()), key
    assert all(s["url"].startswith(("http://", "https://")) for s in SOURCES.values())
    pattern = re.compile(r"^[a-z0-9-]+-(\d{4}-\d{2}(-\d{2})?|nd-[a-z0-9-]+|\d{4}-[a-z0-9-]+)$")
    assert [i for i in SOURCES if not pattern.match(i)] == []
    assert not any("dom" in i.split("-")[0] for i in SOURCES)
    assert {r["source_id"] for r in ROWS} - set(SOURCES) == set()


def test_rows_are_unique() -> None:
    keys = [
        (r["year"], r["institution_id"], r["unit"], r["product"], r["criterion"], r["source_id"])
        for r in ROWS
    ]
    assert len(keys) == len(set(keys))


def test_years_and_editions_are_valid() -> None:
    registered = set(kepatuhan.rubrics())
    for r in ROWS:
        year, ed = int(r["year"]), r["edition"]
        if year < 2016:  # G1 (2014) and G2 (2015) have no edition in this plugin
            assert ed == ""
            continue
        base, _, alt = ed.partition(":")
        assert base == f"ombudsman-{year}" and base in registered, r
        kepatuhan.get_rubric(ed)  # the alternative exists too
        # 2016–2019: the 0–110 variant exactly for ministries, agencies and vertical units
        assert (alt == "kl") == (year <= 2019 and r["kind"] in KL_KINDS), r


def landing(row: dict[str, str]) -> tuple[bool, str]:
    """Score the row's figure alone under its edition; does it land in its printed band?"""
    table = ObservationTable.from_records(
        [
            dict(
                institution=row["institution_id"],
                institution_kind=row["kind"],
                criterion="total",
                value=float(row["value"]),
            )
        ]
    )
    band = score(row["edition"], table).card(row["institution_id"]).band
    assert band is not None
    zone, cats = expected_band(row["band_as_printed"])
    assert zone or cats, f"band words not understood: {row['band_as_printed']!r}"
    ok = zone in (None, band.zone)
    names = {band.id.lower(), (band.label or "").lower()}
    ok = ok and all(names & _LABELS[c] for c in cats)
    return ok, f"{band.id} {band.zone}"


BANDED = [
    r
    for r in ROWS
    if r["value"] and r["band_as_printed"] and r["edition"] and r["criterion"] == "total"
]


@pytest.mark.parametrize(
    "row",
    BANDED,
    ids=[
        f"{r['year']}-{r['institution_id']}-{r['unit'] or r['product'] or 'total'}" for r in BANDED
    ],
)
def test_each_printed_figure_lands_in_its_printed_band(row: dict[str, str]) -> None:
    ok, got = landing(row)
    # A figure that does not land must say why in known_conflict; one that does must not.
    assert ok != bool(row["known_conflict"]), (row["value"], row["band_as_printed"], got)


def test_band_summary_and_the_known_conflicts() -> None:
    outcome = [landing(r)[0] for r in BANDED]
    conflicts = sorted(
        (r["year"], r["institution_id"], r["unit"] or r["product"], r["value"])
        for r, ok in zip(BANDED, outcome, strict=True)
        if not ok
    )
    print(f"{sum(outcome)} of {len(BANDED)} printed figures land in their printed band")
    assert conflicts == [
        ("2017", "polres-tanah-datar", "SIM A/C baru", "95.50"),
        ("2025", "kota-ambon", "Dinas Sosial", "75.16"),
    ]


def _recompute() -> dict[tuple[str, str, str], tuple[str, float, str, str]]:
    """Institution-years whose units are all printed: (edition, recomputed total, rule, zone)."""
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for r in ROWS:
        if r["unit_set"] == "all" and r["criterion"] == "total":
            groups[(r["year"], r["institution_id"], r["official"])].append(r)
    out = {}
    for key, units in groups.items():
        edition = units[0]["edition"]
        # 2021 weighs units by their products, whose counts are not printed: plain mean.
        rule = f"{edition}:unit-mean" if edition == "ombudsman-2021" else edition
        table = ObservationTable.from_records(
            [
                dict(institution=key[1], unit=f"u{i}", criterion="total", value=float(u["value"]))
                for i, u in enumerate(units)
            ]
        )
        card = score(rule, table).card(key[1])
        assert card.published is not None and card.band is not None
        out[key] = (edition, float(card.published), rule, card.band.zone)
    return out


# Published minus recomputed, and why, for every complete unit set.
EXPECTED_RECOMPUTATION = {
    ("2021", "kab-kampar", "kompaspos-2022-02-15"): (0.00, "exact: the article's own plain mean"),
    ("2021", "kab-kampar", "riauterbit-nd-kampar-2021"): (
        0.44,
        "official 99.70; the article's OPD figures give 99.26 (plain) or 99.32 (by products)",
    ),
    ("2021", "kota-magelang", "pemkot-magelang-2022-10-24"): (
        6.06,
        "2021 weighs units by their products; the counts per OPD are not printed",
    ),
    ("2022", "kota-magelang", "pemkot-magelang-2022-10-24"): (0.00, "exact (pre-evaluation)"),
    ("2023", "kab-maluku-tenggara", "sentralnusantara-2024-02-27"): (0.00, "exact"),
}
NO_PRINTED_TOTAL = {("2022", "kota-tual"), ("2024", "kota-jayapura")}


def test_every_complete_unit_set_is_recomputed_and_compared_with_its_printed_total() -> None:
    found: dict[tuple[str, str, str], float] = {}
    without: set[tuple[str, str]] = set()
    for (year, inst, official), (_, total, _, zone) in _recompute().items():
        printed = [
            r
            for r in ROWS
            if (r["year"], r["institution_id"], r["official"]) == (year, inst, official)
            and not r["unit"]
            and r["criterion"] == "total"
        ]
        with_value = [r for r in printed if r["value"]]
        if not with_value:
            without.add((year, inst))
            # the recomputed total must still land in any zone that is printed
            for r in printed:
                z, _ = expected_band(r["band_as_printed"])
                assert z in (None, zone), (year, inst, total, r["band_as_printed"])
        for r in with_value:
            found[(year, inst, r["source_id"])] = round(float(r["value"]) - total, 2)
    print({k: (v, EXPECTED_RECOMPUTATION[k][1]) for k, v in found.items()})
    assert found == {k: v[0] for k, v in EXPECTED_RECOMPUTATION.items()}
    assert without == NO_PRINTED_TOTAL


def test_the_recomputed_totals_of_units_without_a_printed_total() -> None:
    got = {
        (k[0], k[1]): (v[1], v[3])
        for k, v in _recompute().items()
        if (k[0], k[1]) in NO_PRINTED_TOTAL
    }
    # Tual 2022: printed 'from zona merah to zona kuning', rank 95 of 98; Jayapura 2024: none.
    assert got == {
        ("2022", "kota-tual"): (54.84, "kuning"),
        ("2024", "kota-jayapura"): (88.63, "hijau"),
    }


def test_unit_totals_from_their_printed_dimension_points() -> None:
    dims: dict[tuple[str, str, str], dict[str, float]] = defaultdict(dict)
    for r in ROWS:
        if r["unit"] and r["criterion"] in ("input", "proses", "output", "pengaduan"):
            dims[(r["year"], r["institution_id"], r["unit"])][r["criterion"]] = float(r["value"])
    gaps = {}
    for (year, inst, unit), parts in dims.items():
        edition = f"ombudsman-{year}"
        table = ObservationTable.from_records(
            [dict(institution=inst, unit="u", criterion=c, value=v) for c, v in parts.items()]
        )
        unit_card = score(edition, table).card(inst).children[0]
        printed = next(
            float(r["value"])
            for r in ROWS
            if (r["year"], r["institution_id"], r["unit"], r["criterion"])
            == (year, inst, unit, "total")
        )
        assert unit_card.published is not None
        gaps[unit] = round(printed - float(unit_card.published), 2)
    # Watdek exact; Dinas Pendidikan within rounding (its four printed points are rounded).
    assert gaps == {"Puskesmas Watdek": 0.0, "Dinas Pendidikan": 0.01}


def test_docs_editions_page_shows_the_current_record_summary() -> None:
    """docs/editions.md carries the per-edition reproduction table of the shipped record."""
    from kepatuhan_ombudsman.record_summary import summary_markdown

    page = (Path(__file__).resolve().parents[3] / "docs" / "editions.md").read_text("utf-8")
    start = page.index("<!-- record-summary -->\n") + len("<!-- record-summary -->\n")
    end = page.index("<!-- /record-summary -->")
    assert page[start:end] == summary_markdown()
