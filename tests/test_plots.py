"""Pictures render headless to PNG and SVG files (the plot extra)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kepatuhan.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "maluku-tenggara-2023.csv"
CASES = ROOT / "plugins" / "kepatuhan-ombudsman" / "tests" / "cases"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("distribution", [str(CASES / "final-2024.csv"), "--rubric", "ombudsman-2024"]),
        (
            "waterfall",
            [str(EXAMPLE), "--rubric", "ombudsman-2023", "--institution", "kab-maluku-tenggara"],
        ),
        ("ranks", [str(CASES / "final-2023.csv"), "--rubric", "ombudsman-2023", "--draws", "50"]),
    ],
)
def test_pictures_render_to_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, extra: list[str]
) -> None:
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, *extra, "--output", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000


def test_trajectories_render_to_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = []
    for year in (2022, 2023, 2024):
        assert (
            main(
                [
                    "score",
                    str(CASES / f"final-{year}.csv"),
                    "--rubric",
                    f"ombudsman-{year}",
                    "--format",
                    "json",
                ]
            )
            == 0
        )
        p = tmp_path / f"{year}.json"
        p.write_text(capsys.readouterr().out)
        json.loads(p.read_text())
        results.append(str(p))
    out = tmp_path / "trajectories.svg"
    assert main(["plot", "trajectories", *results, "--output", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml") and "kota-magelang" in out.read_text()


def test_a_wrong_output_type_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "plot",
        "distribution",
        str(EXAMPLE),
        "--rubric",
        "ombudsman-2023",
        "--output",
        str(tmp_path / "x.pdf"),
    ]
    assert main(argv) == 1
    assert "png or .svg" in capsys.readouterr().err
