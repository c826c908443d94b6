"""Determinism and provenance: another process, shuffled rows, the same bits; verify."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kepatuhan.cli import main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "maluku-tenggara-2023.csv"
KEP = [sys.executable, "-c", "import sys; from kepatuhan.cli import main; sys.exit(main())"]


def score_in_new_process(path: Path) -> dict[str, object]:
    out = subprocess.run(
        [*KEP, "score", str(path), "--rubric", "ombudsman-2023", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    doc: dict[str, object] = json.loads(out.stdout)
    return doc


def test_another_process_and_shuffled_rows_give_identical_bits(tmp_path: Path) -> None:
    lines = EXAMPLE.read_text().splitlines()
    head, body = lines[0], lines[1:]
    # attributes sit on the first row of each entity; keep them, shuffle the order of rows
    random.Random(3).shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join([head, *body]) + "\n")
    a, b = score_in_new_process(EXAMPLE), score_in_new_process(shuffled)
    assert a["institutions"] == b["institutions"]  # floats through repr: bit for bit
    assert a["rubric"] == b["rubric"]


def test_a_result_carries_its_provenance(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", str(EXAMPLE), "--rubric", "ombudsman-2023", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (
        doc["rubric"]["digest"].startswith("sha256:") and doc["rubric"]["ref"] == "ombudsman-2023"
    )
    assert doc["input"]["digest"].startswith("sha256:") and doc["input"]["path"] == str(EXAMPLE)
    assert doc["kepatuhan_version"] and doc["plugins"]["ombudsman"]


def test_verify_says_whether_a_result_still_reproduces(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.csv"
    shutil.copy(EXAMPLE, data)
    assert main(["score", str(data), "--rubric", "ombudsman-2023", "--format", "json"]) == 0
    result = tmp_path / "result.json"
    result.write_text(capsys.readouterr().out)
    assert main(["verify", str(result)]) == 0
    assert "reproduces: 8 scores identical to the bit" in capsys.readouterr().out
    data.write_text(data.read_text().replace("74.82", "74.83"))
    assert main(["verify", str(result)]) == 1
    out = capsys.readouterr().out
    assert "input.digest: recorded" in out
    assert "institutions[0].units[0].score: recorded 74.82, now 74.83" in out


def test_verify_refuses_a_file_that_is_not_a_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = tmp_path / "other.json"
    p.write_text('{"hello": 1}')
    assert main(["verify", str(p)]) == 1
    assert "not a kepatuhan result" in capsys.readouterr().err
