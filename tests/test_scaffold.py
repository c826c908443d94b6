"""kepatuhan new-rubric: the scaffolded plugin validates and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kepatuhan.cli import main


def test_the_scaffold_passes_its_own_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-rubric", "contoh-2026", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "kepatuhan-contoh-2026"
    rubric = root / "src" / "kepatuhan_contoh_2026" / "rubrics" / "contoh-2026.toml"
    assert main(["validate", "--strict", str(rubric)]) == 0
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout


def test_the_scaffold_refuses_a_bad_name_or_an_existing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-rubric", "Contoh 2026", "--dir", str(tmp_path)]) == 1
    assert "lower-case letters" in capsys.readouterr().err
    assert main(["new-rubric", "contoh", "--dir", str(tmp_path)]) == 0
    assert main(["new-rubric", "contoh", "--dir", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
