"""kepatuhan new-rubric: the scaffolded plugin validates and passes its own tests, and those
tests follow the designer's edits of the rubric (they derive their expectations from it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kepatuhan.cli import main

NAME = "contoh-2026"
PACKAGE = "kepatuhan_contoh_2026"


def _scaffold(tmp_path: Path) -> tuple[Path, Path]:
    """The package folder and its rubric file."""
    assert main(["new-rubric", NAME, "--dir", str(tmp_path)]) == 0
    root = tmp_path / f"kepatuhan-{NAME}"
    return root, root / "src" / PACKAGE / "rubrics" / f"{NAME}.toml"


def _run_generated_tests(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_scaffold_passes_its_own_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, rubric = _scaffold(tmp_path)
    assert main(["validate", "--strict", str(rubric)]) == 0
    run = _run_generated_tests(root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


def test_the_generated_tests_repeat_no_number_of_the_rubric(tmp_path: Path) -> None:
    root, _ = _scaffold(tmp_path)
    text = (root / "tests" / f"test_{PACKAGE}.py").read_text(encoding="utf-8")
    for literal in ("layanan", "pengaduan", "60", "40", "78", "88"):
        assert literal not in text, literal


def test_the_generated_tests_still_pass_after_the_rubric_is_edited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, rubric = _scaffold(tmp_path)
    # other weights, a new criterion observed per product, another scale, another band edge
    _edit(rubric, "points = 60\n", "points = 50\n")
    _edit(rubric, "points = 40\n", "points = 30\n")
    _edit(
        rubric,
        'scale = { name = "ordinal", points = [0, 1, 2, 3] }',
        'scale = { name = "points", max = 5 }',
    )
    _edit(rubric, "max = 77.99\n", "max = 69.99\n")
    _edit(rubric, "min = 78\n", "min = 70\n")
    with rubric.open("a", encoding="utf-8") as f:
        f.write(
            "\n[[criterion]]\n"
            'id = "informasi"\n'
            'label = "Informasi produk"\n'
            'parent = "total"\n'
            "points = 20\n"
            'scale = "yes_no"\n'
            'level = "product"\n'
            'source = "method"\n'
            'confidence = "assumed"\n'
        )
    assert main(["validate", "--strict", str(rubric)]) == 0
    run = _run_generated_tests(root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "4 passed" in run.stdout


def test_the_generated_tests_fail_when_the_lowest_value_is_worth_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid rubric that breaks "all worst scores zero": the generated test says so."""
    root, rubric = _scaffold(tmp_path)
    _edit(rubric, "points = [0, 1, 2, 3]", "points = [1, 2, 3]")
    assert main(["validate", "--strict", str(rubric)]) == 0
    run = _run_generated_tests(root)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 3 passed" in run.stdout
    assert "test_every_indicator_at_its_worst_scores_zero" in run.stdout
    # ordinal [1, 2, 3] at its lowest is 1/3 of pengaduan's 40 points
    assert "gives 13.33" in run.stdout


def test_the_generated_tests_fail_when_the_points_do_not_add_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root, rubric = _scaffold(tmp_path)
    _edit(rubric, "points = 60\n", "points = 61\n")
    run = _run_generated_tests(root)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "points add up to 101, expected 100" in run.stdout


def test_the_scaffold_refuses_a_bad_name_or_an_existing_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-rubric", "Contoh 2026", "--dir", str(tmp_path)]) == 1
    assert "lower-case letters" in capsys.readouterr().err
    assert main(["new-rubric", "contoh", "--dir", str(tmp_path)]) == 0
    assert main(["new-rubric", "contoh", "--dir", str(tmp_path)]) == 1
    assert "already exists" in capsys.readouterr().err
