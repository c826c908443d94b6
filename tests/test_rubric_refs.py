"""One rubric reference everywhere: what ``score`` accepts, ``verify``, ``panel`` and
``reproduce`` accept too — an installed id, ``id:alternative``, or a rubric file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import kepatuhan
from kepatuhan.cli import main
from kepatuhan.io.rubric_toml import is_rubric_file, resolve_rubric

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ROOT / "plugins" / "kepatuhan-ombudsman" / "src" / "kepatuhan_ombudsman" / "rubrics"
CASES = ROOT / "plugins" / "kepatuhan-ombudsman" / "tests" / "cases"


def test_a_reference_is_a_file_only_with_toml_or_a_separator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert is_rubric_file("x.toml") and is_rubric_file("dir/x") and not is_rubric_file("x")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ombudsman-2023").write_text("not a rubric")
    assert resolve_rubric("ombudsman-2023").id == "ombudsman-2023"
    assert resolve_rubric("ombudsman-2021:unit-mean").alternative_id == "unit-mean"
    assert resolve_rubric("ombudsman-2021:unit-mean").base_id == "ombudsman-2021"


def test_verify_and_panel_accept_a_result_scored_from_a_rubric_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rubric_file = tmp_path / "edisi-2023.toml"
    shutil.copy(EDITIONS / "ombudsman-2023.toml", rubric_file)
    data = tmp_path / "data.csv"
    shutil.copy(CASES / "maluku-tenggara-2023.csv", data)
    r2023 = tmp_path / "r2023.json"
    argv = ["score", str(data), "--rubric", str(rubric_file), "--format", "json"]
    assert main([*argv, "--output", str(r2023)]) == 0
    assert json.loads(r2023.read_text())["rubric"]["ref"] == str(rubric_file)
    assert main(["verify", str(r2023)]) == 0
    assert "reproduces" in capsys.readouterr().out
    r2021 = tmp_path / "r2021.json"
    kampar = CASES / "kampar-2021.csv"
    argv21 = ["score", str(kampar), "--rubric", "ombudsman-2021", "--format", "json"]
    assert main([*argv21, "--output", str(r2021)]) == 0
    capsys.readouterr()
    assert main(["panel", str(r2021), str(r2023), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert "kab-maluku-tenggara" in out and "kab-kampar" in out


def test_reproduce_accepts_a_rubric_file_relative_to_the_cases_file(tmp_path: Path) -> None:
    from kepatuhan.analysis.reproduce import reproduce

    shutil.copy(EDITIONS / "ombudsman-2023.toml", tmp_path / "edisi.toml")
    shutil.copy(CASES / "maluku-tenggara-2023.csv", tmp_path / "data.csv")
    (tmp_path / "cases.toml").write_text(
        '[[case]]\nentity = "kab-maluku-tenggara"\nrubric = "edisi.toml"\ndata = "data.csv"\n'
        'published = "60.80"\nband = "C"\nexpect = "exact"\nsource = "test"\n'
    )
    rows = reproduce(tmp_path / "cases.toml")
    assert [(r.recomputed_published, r.verdict) for r in rows] == [("60.80", "exact")]
    assert (
        kepatuhan.get_rubric("ombudsman-2023").digest
        == resolve_rubric(str(tmp_path / "edisi.toml")).digest
    )
