"""The command line: exit codes, JSON documents, messages without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kepatuhan.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "maluku-tenggara-2023.csv"


def test_score_json_has_the_documented_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(EXAMPLE), "--rubric", "ombudsman-2023", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["rubric"]) >= {"id", "version", "digest"}
    inst = doc["institutions"][0]
    assert inst["published"] == "60.80" and inst["band"] == {
        "id": "C",
        "label": "Kualitas Sedang",
        "zone": "kuning",
    }
    assert {u["id"] for u in inst["units"]} >= {"puskesmas-watdek", "dinas-pendidikan"}
    assert doc["accounting"]["rows"] == 13 and doc["accounting"]["used"] == 13


def test_show_json_lists_every_criterion_with_parent_and_weight(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["show", "ombudsman-2023", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_id = {c["id"]: c for c in doc["criteria"]}
    assert by_id["proses"]["points"] == 32.37 and by_id["proses"]["parent"] == "total"
    assert by_id["standar_pelayanan"]["scale"]["name"] == "percentage"
    assert [b["id"] for b in doc["bands"]] == ["E", "D", "C", "B", "A"]


def test_explain_prints_the_contribution_tree(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "explain",
                str(EXAMPLE),
                "--rubric",
                "ombudsman-2023",
                "--institution",
                "kab-maluku-tenggara",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # the criterion's label and the unit's name, as the rubric and the data write them
    assert "Dimensi Input @ Puskesmas Watdek: 8.72/21.85" in out


def test_bad_input_exits_1_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("institution,unit,product,criterion,value\ni,u,,input,99\n")
    assert main(["score", str(bad), "--rubric", "ombudsman-2023"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:2:" in err and "from 0 to 21.85" in err and "Traceback" not in err


def test_unknown_rubric_exits_1_and_lists_known(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(EXAMPLE), "--rubric", "ombudsman-2032"]) == 1
    assert "known: " in capsys.readouterr().err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as e:
        main(["--nope"])
    assert e.value.code == 2


def test_validate_reports_each_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('id = "x"\n[[criterion]\n')
    assert main(["validate", str(EXAMPLE), str(broken)]) == 1
    cap = capsys.readouterr()
    assert f"ok {EXAMPLE}" in cap.out and "broken.toml:2" in cap.err


@pytest.mark.parametrize("cmd", [["rubrics"], ["plugins"]])
@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_listings_take_every_format(
    cmd: list[str], fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*cmd, "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert isinstance(json.loads(out), list)
    assert "ombudsman" in out


def test_validate_lints_numbers_without_a_source(capsys: pytest.CaptureFixture[str]) -> None:
    demo = Path(__file__).resolve().parent / "data" / "demo-rubric.toml"
    assert main(["validate", str(demo)]) == 0
    cap = capsys.readouterr()
    assert 'criterion "input".source: criterion "input": its points has no source' in cap.err
    assert "lint findings" in cap.out
    assert main(["validate", "--strict", str(demo)]) == 1


def test_the_official_editions_pass_the_strict_lint(capsys: pytest.CaptureFixture[str]) -> None:
    rubrics = Path(__file__).resolve().parents[1] / "plugins" / "kepatuhan-ombudsman" / "src"
    files = sorted(str(p) for p in rubrics.rglob("ombudsman-*.toml"))
    assert len(files) == 9
    assert main(["validate", "--strict", *files]) == 0, capsys.readouterr().err


def test_export_writes_csv_and_json_with_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    out = tmp_path / "r.csv"
    assert main(["export", str(EXAMPLE), "--rubric", "ombudsman-2023", "--output", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    watdek = {
        r["criterion"]: r for r in rows if r["unit"] == "puskesmas-watdek" and r["level"] == "unit"
    }
    assert float(watdek["input"]["value"]) == pytest.approx(8.72)
    assert {r["rubric_id"] for r in rows} == {"ombudsman-2023"}
    assert all(r["rubric_digest"].startswith("sha256:") and r["kepatuhan_version"] for r in rows)
    js = tmp_path / "r.json"
    assert main(["export", str(EXAMPLE), "--rubric", "ombudsman-2023", "--output", str(js)]) == 0
    assert json.loads(js.read_text())["institutions"][0]["published"] == "60.80"
    assert (
        main(
            [
                "export",
                str(EXAMPLE),
                "--rubric",
                "ombudsman-2023",
                "--output",
                str(tmp_path / "r.xlsx"),
            ]
        )
        == 1
    )


def test_gap_lifts_maluku_tenggara_from_c_to_b(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "gap",
                str(EXAMPLE),
                "--rubric",
                "ombudsman-2023",
                "--institution",
                "kab-maluku-tenggara",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # C is 54.00-77.99 (Kualitas Sedang), B from 78.00 (Kualitas Tinggi)
    head = "60.80 (C — Kualitas Sedang) -> B — Kualitas Tinggi mulai 78.00 (tercapai pada 77.995"
    assert head in out
    assert "3 perbaikan (bentuk tertutup), dihitung ulang 78.00" in out
    # the steps name the units as the data does (unit_name), not by id
    lines = [ln for ln in out.splitlines() if ln.startswith(("Puskesmas Kolser", "DPMPTSP"))]
    # two unit totals raised in full (+44.91 of Kolser's 100 is 1/7 of it: +6.42)
    assert len(lines) == 2 and "+44.91" in lines[0] and "+6.42" in lines[0]
    # the third only as far as needed: 62.06 -> 97.365 (+35.305 x 1/7 = +5.04)
    (last,) = [ln for ln in out.splitlines() if ln.startswith("Dinas Sosial")]
    assert "97.365 (secukupnya)" in last and "+35.305" in last and "+5.04" in last


def test_sensitivity_reports_bands_and_rank_intervals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tmp_path / "w.csv"
    argv = [
        "sensitivity",
        str(EXAMPLE),
        "--rubric",
        "ombudsman-2023",
        "--draws",
        "300",
        "--spread",
        "0.1",
        "--weights",
        str(weights),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "kab-maluku-tenggara" in out and "C 100%" in out
    lines = weights.read_text().splitlines()
    assert lines[0] == "draw,input,proses,output,pengaduan" and len(lines) == 301


def test_explain_names_strengths_and_weaknesses_against_peers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = [
        "explain",
        str(EXAMPLE),
        "--rubric",
        "ombudsman-2023",
        "--institution",
        "kab-maluku-tenggara",
        "--unit",
        "puskesmas-watdek",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "keunggulan (poin di atas rekan): Dimensi Input +13.23, Dimensi Pengaduan +5.34" in out
    assert "kelemahan (poin di bawah rekan): Dimensi Proses -17.49, Dimensi Output -5.69" in out
    assert main([*argv, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["weaknesses"][0]["criterion"] == "proses"


@pytest.mark.parametrize(
    ("lang", "words"),
    [("id", "Langkah menuju kategori berikutnya"), ("en", "Steps to the next category")],
)
def test_report_card_is_one_self_contained_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str, words: str
) -> None:
    out = tmp_path / "rapor.html"
    argv = [
        "report",
        str(EXAMPLE),
        "--rubric",
        "ombudsman-2023",
        "--institution",
        "kab-maluku-tenggara",
        "--output",
        str(out),
        "--lang",
        lang,
    ]
    assert main(argv) == 0
    page = out.read_text()
    assert "60.80" in page and words in page and "Kabupaten Maluku Tenggara" in page
    # the gap steps name the unit (Puskesmas Kolser is not yet in the next band); provenance
    assert "<td>Puskesmas Kolser</td>" in page and "sha256:" in page
    assert "<script" not in page and "<link" not in page and "src=" not in page


def test_export_to_parquet_and_dataframe_keep_the_provenance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow.parquet as pq

    import kepatuhan

    out = tmp_path / "r.parquet"
    assert main(["export", str(EXAMPLE), "--rubric", "ombudsman-2023", "--output", str(out)]) == 0
    table = pq.read_table(out)
    meta = table.schema.metadata
    assert meta[b"kepatuhan.rubric_id"] == b"ombudsman-2023"
    assert meta[b"kepatuhan.rubric_digest"].startswith(b"sha256:")
    df = kepatuhan.score("ombudsman-2023", kepatuhan.read_observations(EXAMPLE)).to_dataframe()
    assert df.attrs["rubric_id"] == "ombudsman-2023" and len(df) == table.num_rows
    inst = df[(df.level == "institution") & (df.criterion == "total")]
    assert round(float(inst.score.iloc[0]), 2) == 60.80


@pytest.mark.parametrize(
    ("command", "extra"),
    [("sensitivity", ["--draws", "50"]), ("rank", []), ("rubrics", None), ("plugins", None)],
)
def test_one_column_spec_feeds_the_table_the_csv_and_the_json(
    command: str, extra: list[str] | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The names heading the table and the CSV are the JSON keys, in the same order."""
    import csv as csv_module
    import io as io_module

    argv = [command] if extra is None else [command, str(EXAMPLE), "--rubric", "ombudsman-2023"]
    argv += extra or []
    assert main([*argv, "--format", "csv"]) == 0
    header = next(csv_module.reader(io_module.StringIO(capsys.readouterr().out)))
    assert main([*argv, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data and all(list(d) == header for d in data if "broken" not in d)
    if extra is None:  # a command people read names its columns in their language
        assert main([*argv, "--format", "table"]) == 0
        assert capsys.readouterr().out.split("\n")[0].split() == header
