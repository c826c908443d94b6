"""``kepatuhan panel`` and :mod:`kepatuhan.analysis.panel`: series by rubric id + digest,
the tidy rows with zone and percentile, and the method changes as sentences."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kepatuhan.analysis.panel import panel, percentiles
from kepatuhan.cli import main
from kepatuhan.errors import KepatuhanError

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ROOT / "plugins" / "kepatuhan-ombudsman" / "src" / "kepatuhan_ombudsman" / "rubrics"
CASES = ROOT / "plugins" / "kepatuhan-ombudsman" / "tests" / "cases"

# Three institutions of one unit each, given as unit totals (points out of 100 under 2023):
# 70.00 (C), 60.00 (C) and 60.00 (C) — two tied.
DATA = """institution,unit,product,criterion,value
kab-a,u1,,total,70
kab-b,u1,,total,60
kab-c,u1,,total,60
"""


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


def scored(tmp: Path, data: str, rubric: str, name: str) -> str:
    out = tmp / name
    assert main(["score", data, "--rubric", rubric, "--format", "json", "--output", str(out)]) == 0
    return str(out)


@pytest.fixture
def results(tmp_path: Path) -> dict[str, str]:
    data = tmp_path / "d.csv"
    data.write_text(DATA)
    draft = tmp_path / "draft.toml"
    # the draft moves the C/B edge from 78 to 65: kab-a's 70.00 becomes B
    text = (EDITIONS / "ombudsman-2023.toml").read_text()
    draft.write_text(
        text.replace("max = 77.99", "max = 64.99").replace("min = 78.00", "min = 65.00")
    )
    kampar = tmp_path / "kampar.csv"
    shutil.copy(CASES / "kampar-2021.csv", kampar)
    return {
        "r23": scored(tmp_path, str(data), "ombudsman-2023", "r23.json"),
        "draft": scored(tmp_path, str(data), str(draft), "draft.json"),
        "r21": scored(tmp_path, str(kampar), "ombudsman-2021", "r21.json"),
        "draft_toml": str(draft),
    }


def test_percentiles_are_the_share_of_the_others_scored_at_most_as_high() -> None:
    # 70 is above both others: 100; the two 60s share rank 2 of 3: 100 × (3 − 2) / 2 = 50
    assert percentiles([70.0, 60.0, 60.0]) == [100.0, 50.0, 50.0]
    # four distinct: 100, 66.67, 33.33, 0
    assert percentiles([1.0, 4.0, 3.0, 2.0]) == pytest.approx([0.0, 100.0, 200 / 3, 100 / 3])
    assert percentiles([5.0]) == [None] and percentiles([]) == []


@given(st.lists(st.floats(0, 100), min_size=2, max_size=30))
def test_a_higher_score_never_has_a_lower_percentile(scores: list[float]) -> None:
    pct = percentiles(scores)
    for a, pa in zip(scores, pct, strict=True):
        assert pa is not None and 0 <= pa <= 100
        for b, pb in zip(scores, pct, strict=True):
            if a > b:
                assert pa is not None and pb is not None and pa > pb
            if a == b:
                assert pa == pb


def test_two_results_of_one_year_are_two_series_told_apart_by_digest(
    results: dict[str, str],
) -> None:
    p = panel([results["draft"], results["r23"], results["r21"]])
    assert p.years == (2021, 2023, 2023)
    assert p.rubrics == ("ombudsman-2021", "ombudsman-2023", "ombudsman-2023")
    labels = [s.label for s in p.series]
    assert labels[0] == "ombudsman-2021"
    assert labels[1].startswith("ombudsman-2023@") and labels[2].startswith("ombudsman-2023@")
    assert labels[1] != labels[2]
    # as given within a year: the draft was listed first
    assert p.series[1].path == results["draft"]
    by = {(r.institution, r.series): r for r in p.rows}
    assert len(p.rows) == 4 * 3  # four institutions × three series, absent ones included
    a_draft, a_official = by[("kab-a", labels[1])], by[("kab-a", labels[2])]
    assert (a_draft.published, a_draft.band, a_draft.zone) == ("70.00", "B", "hijau")
    assert (a_official.published, a_official.band, a_official.zone) == ("70.00", "C", "kuning")
    assert [by[(i, labels[2])].percentile for i in ("kab-a", "kab-b", "kab-c")] == [100, 50, 50]
    assert [by[(i, labels[2])].rank for i in ("kab-a", "kab-b", "kab-c")] == [1, 2, 2]
    kampar = by[("kab-kampar", "ombudsman-2021")]
    assert kampar.zone == kampar.band == "hijau" and kampar.percentile is None  # alone
    assert by[("kab-kampar", labels[1])].score is None
    assert by[("kab-kampar", labels[1])].state == "absent" and a_draft.state == "scored"
    with pytest.raises(KepatuhanError, match="two series of one year"):
        p.trajectories  # noqa: B018


def test_the_method_changes_between_the_official_edition_and_the_draft_are_sentences(
    results: dict[str, str],
) -> None:
    p = panel([results["r23"], results["draft"]])
    got = {(c.change.subject, c.change.field): (c.change.before, c.change.after) for c in p.changes}
    assert got == {("C", "max"): ("77.99", "64.99"), ("B", "min"): ("78.00", "65.00")}
    for c in p.changes:
        text = c.change.sentence
        assert text[0].isupper() and text.endswith(".")
    assert p.warnings[0].startswith("2023 -> 2023 (ombudsman-2023@")
    same_year_free = panel([results["r21"], results["r23"]])
    assert set(same_year_free.trajectories) == {"kab-a", "kab-b", "kab-c", "kab-kampar"}


def test_the_same_rubric_twice_and_a_changed_rubric_file_are_refused(
    results: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(KepatuhanError, match="both scored under"):
        panel([results["r23"], results["r23"]])
    draft = Path(results["draft_toml"])
    draft.write_text(
        draft.read_text()
        .replace("min = 65.00", "min = 66.00")
        .replace("max = 64.99", "max = 65.99")
    )
    with pytest.raises(KepatuhanError) as exc:
        panel([results["draft"]])
    prob = exc.value.problems[0]
    assert prob.path == results["draft"] and prob.key_path == "rubric.digest"


def test_cli_panel_gives_a_tidy_long_csv_and_json_and_a_changes_table(
    results: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    files = [results["r21"], results["r23"], results["draft"]]
    code, out, err = run(["panel", *files, "--format", "csv"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 12
    assert list(rows[0]) == [
        "institution",
        "year",
        "series",
        "edition",
        "digest",
        "score",
        "band",
        "zone",
        "rank",
        "of",
        "percentile",
        "state",
    ]
    b = [r for r in rows if r["institution"] == "kab-b" and r["score"]]
    assert [(r["year"], r["score"], r["band"], r["zone"], r["percentile"]) for r in b] == [
        ("2023", "60.00", "C", "kuning", "50.00"),
        ("2023", "60.00", "C", "kuning", "50.00"),
    ]
    assert "metodologi berubah: 2021 -> 2023" in err  # Bahasa Indonesia by default
    code, out, _ = run(["panel", *files, "--format", "json"], capsys)
    doc = json.loads(out)
    assert [s["year"] for s in doc["series"]] == [2021, 2023, 2023]
    assert len(doc["rows"]) == 12 and doc["changes"][0]["sentence"].endswith(".")
    code, out, _ = run(["panel", *files, "--changes", "--format", "csv"], capsys)
    changes = list(csv.DictReader(io.StringIO(out)))
    assert {"from", "to", "section", "subject", "field", "before", "after", "sentence"} <= set(
        changes[0]
    )
    last = changes[-1]
    assert last["from_year"] == last["to_year"] == "2023" and last["subject"] == "B"
    code, out, _ = run(["panel", *files], capsys)
    # the entity's id is the table's last column (its name, where it has one, the first)
    line = next(x for x in out.splitlines() if x.endswith(" kab-a"))
    assert "70.00 C kuning" in line and "70.00 B hijau" in line
    kampar = next(x for x in out.splitlines() if x.endswith(" kab-kampar"))
    assert "hijau" in kampar and "hijau hijau" not in kampar  # a band that is its zone: once


def test_the_library_panel_refuses_a_malformed_result_naming_the_key(
    results: dict[str, str], tmp_path: Path
) -> None:
    doc = json.loads(Path(results["r23"]).read_text())
    del doc["institutions"][1]["id"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(KepatuhanError) as exc:
        panel([results["r21"], str(bad)])
    prob = exc.value.problems[0]
    assert (prob.path, prob.key_path) == (str(bad), "institutions[1].id")
