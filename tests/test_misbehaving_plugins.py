"""Plugins that misbehave are reported by name, and never silently change a result."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kepatuhan import (
    ObservationTable,
    PluginError,
    Rubric,
    UnitSelection,
    hookimpl,
    load_rubric,
    score,
)
from kepatuhan.aggregators import Aggregator
from kepatuhan.plugins import PluginManager
from kepatuhan.scales import Percentage
from kepatuhan.testing import fresh_manager

ROWS = [
    dict(institution="i", unit="a", criterion="persepsi", value=80),
    dict(institution="i", unit="a", criterion="aduan", value=60),
    dict(institution="i", unit="b", criterion="total", value=70),
]


@pytest.fixture
def demo(demo_rubric_path: Path) -> Rubric:
    return load_rubric(demo_rubric_path)


def run(demo: Rubric, pm: PluginManager) -> Any:
    return score(demo, ObservationTable.from_records(ROWS), plugins=pm)


def test_a_plugin_raising_in_select_units_is_named(demo: Rubric) -> None:
    class Raises:
        @hookimpl
        def kepatuhan_select_units(self, rubric: Rubric, table: ObservationTable) -> None:
            raise ZeroDivisionError("oops")

    with pytest.raises(
        PluginError, match="'test-plugin-0' raised in kepatuhan_select_units: ZeroDivisionError"
    ):
        run(demo, fresh_manager(Raises()))


def test_a_plugin_returning_the_wrong_type_is_named(demo: Rubric) -> None:
    class Wrong:
        @hookimpl
        def kepatuhan_select_units(self, rubric: Rubric, table: ObservationTable) -> Any:
            return [1.0, 0.0]

    with pytest.raises(PluginError, match="'test-plugin-0': kepatuhan_select_units returned list"):
        run(demo, fresh_manager(Wrong()))


def test_nan_unit_weights_are_refused(demo: Rubric) -> None:
    class NanWeights:
        @hookimpl
        def kepatuhan_select_units(self, rubric: Rubric, table: ObservationTable) -> UnitSelection:
            return UnitSelection(weights=np.array([1.0, np.nan]))

    with pytest.raises(
        PluginError, match="'test-plugin-0': kepatuhan_select_units weights must be 2 finite"
    ):
        run(demo, fresh_manager(NanWeights()))


def test_validate_returning_the_wrong_type_is_named(demo: Rubric) -> None:
    class Wrong:
        @hookimpl
        def kepatuhan_validate(self, rubric: Rubric, table: ObservationTable) -> Any:
            return "all fine"

    with pytest.raises(PluginError, match="'test-plugin-0': kepatuhan_validate must return a list"):
        run(demo, fresh_manager(Wrong()))


class NanMean(Aggregator):
    name = "nan_mean"
    description = "returns NaN"

    def reduce(self, values: Any, weights: Any, segments: Any, n_segments: int) -> Any:
        return np.full(n_segments, np.nan)

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        return float("nan")


class Overflowing(Percentage):
    name = "overflowing"

    def normalise(self, values: Any, ref: Any) -> Any:
        return values * 2.0


class Extras:
    @hookimpl
    def kepatuhan_register_aggregators(self, register: Callable[[Aggregator], None]) -> None:
        register(NanMean())

    @hookimpl
    def kepatuhan_register_scales(self, register: Callable[[Any], None]) -> None:
        register(Overflowing())


def test_an_aggregator_returning_nan_is_named_not_used(demo_rubric_path: Path) -> None:
    text = demo_rubric_path.read_text().replace('rule = "sum"', 'rule = "nan_mean"')
    from kepatuhan import rubric_from_toml

    rubric = rubric_from_toml(text)
    with pytest.raises(
        PluginError, match="aggregator \"nan_mean\" of plugin 'test-plugin-0' returned NaN"
    ):
        score(rubric, ObservationTable.from_records(ROWS[:2]), plugins=fresh_manager(Extras()))


def test_a_scale_leaving_0_100_is_named_not_clipped(demo_rubric_path: Path) -> None:
    text = demo_rubric_path.read_text().replace(
        'id = "persepsi"\nparent = "output"\nlabel = "P"\nscale = "percentage"',
        'id = "persepsi"\nparent = "output"\nlabel = "P"\nscale = "overflowing"',
    )
    from kepatuhan import rubric_from_toml

    rubric = rubric_from_toml(text)
    assert rubric.criterion("persepsi").scale is not None
    assert rubric.criterion("persepsi").scale.name == "overflowing"  # type: ignore[union-attr]
    msg = "scale \"overflowing\" of plugin 'test-plugin-0' returned 160–160, outside 0–100"
    with pytest.raises(PluginError, match=msg):
        score(rubric, ObservationTable.from_records(ROWS[:2]), plugins=fresh_manager(Extras()))


def test_a_slow_plugin_is_reported_by_name(demo: Rubric) -> None:
    class Quiet:
        @hookimpl
        def kepatuhan_validate(self, rubric: Rubric, table: ObservationTable) -> list[Any]:
            return []

    pm = PluginManager(entrypoints=False, env={"KEPATUHAN_SLOW_PLUGIN_SECONDS": "0"})
    pm.register(Quiet(), "quiet")
    res = run(demo, pm)
    assert any(
        "plugin 'quiet' took" in str(w) and "kepatuhan_validate" in str(w) for w in res.warnings
    )
    assert res.card("i").score == pytest.approx(run(demo, fresh_manager()).card("i").score)


class Raising(Aggregator):
    name = "raising_mean"
    description = "raises"

    def reduce(self, values: Any, weights: Any, segments: Any, n_segments: int) -> Any:
        raise ZeroDivisionError("division by zero in a third-party rule")

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        raise ZeroDivisionError("division by zero in a third-party rule")


class RaisingScale(Percentage):
    name = "raising_scale"

    def normalise(self, values: Any, ref: Any) -> Any:
        raise KeyError("missing table")


class Raisers:
    @hookimpl
    def kepatuhan_register_aggregators(self, register: Callable[[Aggregator], None]) -> None:
        register(Raising())

    @hookimpl
    def kepatuhan_register_scales(self, register: Callable[[Any], None]) -> None:
        register(RaisingScale())


def test_an_aggregator_that_raises_is_reported_as_its_plugins_error(
    demo_rubric_path: Path, tmp_path: Path
) -> None:
    text = demo_rubric_path.read_text().replace('rule = "sum"', 'rule = "raising_mean"')
    from kepatuhan import rubric_from_toml

    rubric = rubric_from_toml(text)
    with pytest.raises(
        PluginError,
        match="aggregator \"raising_mean\" of plugin 'test-plugin-0' raised ZeroDivisionError",
    ):
        score(rubric, ObservationTable.from_records(ROWS[:2]), plugins=fresh_manager(Raisers()))


def test_a_scale_that_raises_is_reported_as_its_plugins_error(demo_rubric_path: Path) -> None:
    text = demo_rubric_path.read_text().replace(
        'id = "persepsi"\nparent = "output"\nlabel = "P"\nscale = "percentage"',
        'id = "persepsi"\nparent = "output"\nlabel = "P"\nscale = "raising_scale"',
    )
    assert "raising_scale" in text
    from kepatuhan import rubric_from_toml

    rubric = rubric_from_toml(text)
    with pytest.raises(
        PluginError, match="scale \"raising_scale\" of plugin 'test-plugin-0' raised KeyError"
    ):
        score(rubric, ObservationTable.from_records(ROWS[:2]), plugins=fresh_manager(Raisers()))


# --- broken third-party plugins, installed for real, through the command line -------------

_RUBRIC = """
id = "{rid}"
title = "{rid}"

[[criterion]]
id = "total"
label = "Nilai"
rule = "sum"

[[criterion]]
id = "a"
label = "A"
parent = "total"
points = 100
scale = "{scale}"
level = "unit"
"""

#: Four distributions on one folder of sys.path, each broken its own way.
_BROKEN = {
    # fails to import
    "kaput": "import kepatuhan_no_such_module_anywhere\n",
    # registers a rubric, then its hook raises
    "raiser": (
        "from kepatuhan import hookimpl, rubric_from_toml\n"
        f"TEXT = {_RUBRIC.replace('{rid}', 'raiser-2026').replace('{scale}', 'yes_no')!r}\n"
        "@hookimpl\n"
        "def kepatuhan_register_rubrics(register):\n"
        "    register(rubric_from_toml(TEXT))\n"
        "    raise RuntimeError('rubric file missing')\n"
    ),
    # registers a rubric that names a scale nobody provides
    "invalid": (
        "from kepatuhan import hookimpl, rubric_from_toml\n"
        f"TEXT = {_RUBRIC.replace('{rid}', 'invalid-2026').replace('{scale}', 'likert')!r}\n"
        "@hookimpl\n"
        "def kepatuhan_register_rubrics(register):\n"
        "    register(rubric_from_toml(TEXT))\n"
    ),
    # a misspelt hook name ("rubric" for "rubrics")
    "typo": (
        "from kepatuhan import hookimpl\n"
        "@hookimpl\n"
        "def kepatuhan_register_rubric(register):\n"
        "    pass\n"
    ),
}


def _install_broken_plugins(where: Path) -> None:
    for name, code in _BROKEN.items():
        (where / f"kepatuhan_{name}.py").write_text(code, encoding="utf-8")
        info = where / f"kepatuhan_{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: kepatuhan-{name}\nVersion: 1.0\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(
            f"[kepatuhan]\n{name} = kepatuhan_{name}\n", encoding="utf-8"
        )


def _cli(where: Path, *argv: str, **env: str) -> Any:
    import os
    import subprocess
    import sys

    full = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KEPATUHAN_")},
        "PYTHONPATH": str(where),
        **env,
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from kepatuhan.cli import main; sys.exit(main())",
            *argv,
        ],
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )


def test_broken_plugins_are_listed_and_other_rubrics_still_work(tmp_path: Path) -> None:
    import json

    _install_broken_plugins(tmp_path)
    run = _cli(tmp_path, "plugins", "--format", "json")
    assert run.returncode == 0, run.stderr
    rows = {d["name"]: d for d in json.loads(run.stdout)}
    assert rows["ombudsman"]["version"] != "BROKEN"
    assert "ombudsman-2023" in rows["ombudsman"]["rubrics"]
    for name in _BROKEN:
        assert rows[name]["version"] == "BROKEN"
        assert rows[name]["distribution"] == f"kepatuhan-{name}"
        assert "\n" not in rows[name]["error"]
        assert rows[name]["error"].startswith(f"plugin '{name}'")
    assert "(kepatuhan-kaput 1.0) failed to load" in rows["kaput"]["error"]
    assert "ModuleNotFoundError" in rows["kaput"]["error"]
    assert "RuntimeError: rubric file missing" in rows["raiser"]["error"]
    assert rows["raiser"]["rubrics"] == ["raiser-2026"]  # what it offered before it failed
    assert 'unknown scale "likert"' in rows["invalid"]["error"]
    assert "kepatuhan_register_rubric" in rows["typo"]["error"]
    # the table form: one line per plugin
    table = _cli(tmp_path, "plugins")
    assert table.returncode == 0
    assert sum("BROKEN" in line for line in table.stdout.splitlines()) == len(_BROKEN)
    # rubrics lists the working ones, and says on stderr that some plugins are broken
    listed = _cli(tmp_path, "rubrics", "--format", "json")
    assert listed.returncode == 0
    assert "ombudsman-2023" in {d["id"] for d in json.loads(listed.stdout)}
    assert listed.stderr.strip() == (
        "note: 4 broken plugin(s) not listed: invalid, kaput, raiser, typo "
        "(kepatuhan plugins shows why)"
    )
    # a command on another plugin's rubric works as if nothing were broken
    example = Path(__file__).resolve().parent.parent / "examples" / "maluku-tenggara-2023.csv"
    scored = _cli(tmp_path, "score", str(example), "--rubric", "ombudsman-2023")
    assert scored.returncode == 0, scored.stderr
    assert "60.80" in scored.stdout


@pytest.mark.parametrize(
    ("rubric_id", "says"),
    [
        ("raiser-2026", "comes from plugin 'raiser', which is broken"),
        ("invalid-2026", 'unknown scale "likert"'),
        # an id nobody registered: any broken plugin may be its provider, each is named
        ("kaput-2026", "plugin 'kaput' (kepatuhan-kaput 1.0) failed to load"),
    ],
)
def test_a_command_on_a_broken_plugins_rubric_fails_with_its_error(
    tmp_path: Path, rubric_id: str, says: str
) -> None:
    _install_broken_plugins(tmp_path)
    run = _cli(tmp_path, "show", rubric_id)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, lines
    assert says in lines[0]
    assert "Traceback" not in run.stderr


def test_the_environment_switches_still_steer_loading(tmp_path: Path) -> None:
    import json

    _install_broken_plugins(tmp_path)
    off = _cli(tmp_path, "plugins", "--format", "json", KEPATUHAN_DISABLE_PLUGINS="kaput,typo")
    names = {d["name"] for d in json.loads(off.stdout)}
    assert "kaput" not in names and "typo" not in names and "raiser" in names
    only = _cli(tmp_path, "plugins", "--format", "json", KEPATUHAN_LOAD_PLUGINS="ombudsman")
    assert {d["name"] for d in json.loads(only.stdout)} == {"kepatuhan.builtin", "ombudsman"}
