"""The plugin tutorial, followed step by step in a new virtual environment."""

from __future__ import annotations

import site
import subprocess
import sys
from pathlib import Path

import pytest

from kepatuhan.cli import main

ROOT = Path(__file__).resolve().parents[1]


def sh(args: list[str], cwd: Path) -> str:
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, f"{' '.join(args)}\n{out.stdout}\n{out.stderr}"
    return out.stdout


def test_following_the_tutorial_gives_a_listed_plugin_whose_tests_pass(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # The venv sees this interpreter's packages (numpy, pytest …) so that it needs no
    # downloads; kepatuhan and the new plugin are installed into it by the steps below.
    # A .pth file, not --system-site-packages: when this interpreter is itself a venv, the
    # latter would show the base interpreter's packages instead of this one's.
    sh([sys.executable, "-m", "venv", str(venv)], tmp_path)
    bindir = venv / ("Scripts" if sys.platform == "win32" else "bin")
    py = str(bindir / "python")
    target = sh([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path)
    Path(target.strip(), "_parent_site.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8"
    )
    kep = str(bindir / "kepatuhan")
    sh(
        [py, "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)],
        tmp_path,
    )
    sh([kep, "new-rubric", "contoh-2026"], tmp_path)  # step 1
    pkg = tmp_path / "kepatuhan-contoh-2026"
    rubric = pkg / "src" / "kepatuhan_contoh_2026" / "rubrics" / "contoh-2026.toml"
    sh([kep, "validate", "--strict", str(rubric)], tmp_path)  # step 3
    sh([py, "-m", "pip", "install", "-q", "--no-deps", "-e", "."], pkg)  # step 4
    assert "4 passed" in sh([py, "-m", "pytest", "-q", "-p", "no:cacheprovider"], pkg)
    assert "contoh-2026" in sh([kep, "rubrics"], pkg)


def _blocks(section: str, lang: str) -> list[str]:
    """The ``lang`` code blocks of one section of the tutorial, in order."""
    text = (ROOT / "docs" / "tutorial.md").read_text(encoding="utf-8")
    body = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return [b.split("\n", 1)[1] for b in body.split("```")[1::2] if b.startswith(lang + "\n")]


def test_the_derive_section_gives_the_numbers_it_states(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    section = "5. Derive an official edition"
    (toml,) = _blocks(section, "toml")
    csv_text = next(b for b in _blocks(section, "text") if b.startswith("institution,"))
    commands = [line.split() for b in _blocks(section, "bash") for line in b.splitlines()]
    assert commands[0] == ["kepatuhan", "new-rubric", "contoh-2023", "--from", "ombudsman-2023"]
    assert main(commands[0][1:]) == 0
    rubric = tmp_path / "kepatuhan-contoh-2023/src/kepatuhan_contoh_2023/rubrics/contoh-2023.toml"
    rubric.write_text(toml, encoding="utf-8")
    (tmp_path / "unit.csv").write_text(csv_text, encoding="utf-8")
    capsys.readouterr()
    outputs = []
    for cmd in commands[1:]:
        assert main(cmd[1:]) == 0, cmd
        outputs.append(capsys.readouterr().out)
    validate, show, official, variant = outputs
    assert validate.startswith("ok ")
    assert "derived from ombudsman-2023 (sha256:" in show
    assert " 70.14 " in official and " 69.74 " in variant
