"""The published record as data: registered by plugins, listed, and reproduced honestly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kepatuhan
from kepatuhan import PublishedRecord, PublishedSource, hookimpl
from kepatuhan.analysis.reproduce import reproduce, reproduce_published
from kepatuhan.cli import main
from kepatuhan.testing import fresh_manager

CASES = Path(__file__).resolve().parent.parent / "plugins" / "kepatuhan-ombudsman" / "tests"
SOURCE = PublishedSource("contoh-2026-01-01", "Contoh", "A test page", "2026-01-01", None)


def test_a_plugin_registers_records_and_they_are_listed_with_their_plugin() -> None:
    class Records:
        @hookimpl
        def kepatuhan_register_records(self, register: object) -> None:
            for year, value in ((2025, "81.20"), (2024, "77.00")):
                register(  # type: ignore[operator]
                    PublishedRecord(
                        year, "ombudsman-2025", "kota-x", "Kota X", "pemkot", SOURCE, value=value
                    )
                )

    pm = fresh_manager(Records())
    got = kepatuhan.published(plugins=pm)
    assert [(r.year, r.value, r.plugin) for r in got] == [
        (2025, "81.20", "test-plugin-0"),
        (2024, "77.00", "test-plugin-0"),
    ]
    assert [r.value for r in kepatuhan.published(year=2024, plugins=pm)] == ["77.00"]


def test_a_record_that_is_not_a_record_is_the_plugins_error() -> None:
    class Wrong:
        @hookimpl
        def kepatuhan_register_records(self, register: object) -> None:
            register({"year": 2025})  # type: ignore[operator]

    pm = fresh_manager(Wrong())
    assert kepatuhan.published(plugins=pm) == []
    assert "expected a PublishedRecord" in pm.broken["test-plugin-0"]


def test_the_editions_ship_at_least_400_records_over_8_years_each_with_a_public_source() -> None:
    records = kepatuhan.published()
    assert len(records) >= 400
    assert len({r.year for r in records}) >= 8
    assert all(r.source.url or r.source.title for r in records)
    assert not any("domain" in (r.source.title + (r.note or "")) for r in records)


def test_kepatuhan_published_lists_them_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["published", "--year", "2023", "--institution", "kab-maluku-tenggara"]
    assert main([*argv, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    totals = [d for d in data if d["unit"] is None and d["criterion"] == "total"]
    assert [d["value"] for d in totals] == ["60.80"]
    assert totals[0]["source_url"].startswith("https://sentralnusantara.com/")
    assert main([*argv, "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("year,edition,institution_id,")
    assert main(argv) == 0
    assert "60.80" in capsys.readouterr().out


def test_reproduce_published_recomputes_from_lower_nodes_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = reproduce_published()
    got = {(r.entity, r.unit, r.published): r for r in rows}
    maluku = got[("kab-maluku-tenggara", None, "60.80")]
    assert maluku.basis == "recomputed" and maluku.inputs == "7 unit rows"
    assert maluku.verdict == "exact" and maluku.reproduced
    # Kampar 2021: the article's plain mean reproduces; the official 99.70 does not
    assert got[("kab-kampar", None, "99.26")].verdict == "exact"
    assert got[("kab-kampar", None, "99.70")].verdict == "different"
    assert got[("kab-maluku-tenggara", "dinas-pendidikan", "52.86")].verdict == "within rounding"
    assert main(["reproduce", "--published"]) == 0
    err = capsys.readouterr().err
    assert "recomputed exactly" in err and "restated" in err


def test_a_figure_given_as_an_input_is_restated_never_a_reproduction(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text(
        "institution,unit,product,criterion,value\nkab-x,,,total,60.80\n", encoding="utf-8"
    )
    (tmp_path / "c.toml").write_text(
        '[[case]]\nentity = "kab-x"\nrubric = "ombudsman-2023"\ndata = "d.csv"\n'
        'published = "60.80"\nexpect = "exact"\n'
    )
    (row,) = reproduce(tmp_path / "c.toml")
    assert row.verdict == "exact" and row.basis == "restated" and not row.reproduced
