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
