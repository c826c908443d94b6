"""The plugin manager: registration, duplicates naming both plugins, env switches, bad plugins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kepatuhan import DuplicateNameError, PluginError, PluginManager, Rubric, hookimpl, load_rubric
from kepatuhan.aggregators import WeightedMean
from kepatuhan.testing import fresh_manager


def test_builtins_are_registered_like_any_plugin() -> None:
    pm = fresh_manager()
    info = {p.name: p for p in pm.plugins()}
    assert set(info["kepatuhan.builtin"].scales) == {"yes_no", "points", "percentage", "ordinal"}
    assert "weighted_mean" in info["kepatuhan.builtin"].aggregators


def test_a_duplicate_aggregator_name_names_both_plugins() -> None:
    class Again:
        @hookimpl
        def kepatuhan_register_aggregators(self, register: Callable[[object], None]) -> None:
            register(WeightedMean())

    pm = fresh_manager(Again())
    with pytest.raises(DuplicateNameError) as e:
        _ = pm.registry
    assert 'aggregator "weighted_mean" is registered twice' in str(e.value)
    assert "'kepatuhan.builtin'" in str(e.value) and "'test-plugin-0'" in str(e.value)


def test_a_duplicate_rubric_id_names_both_plugins(demo_rubric_path: Path) -> None:
    rubric = load_rubric(demo_rubric_path)

    class P:
        @hookimpl
        def kepatuhan_register_rubrics(self, register: Callable[[Rubric], None]) -> None:
            register(rubric)

    pm = fresh_manager(P(), P())
    with pytest.raises(DuplicateNameError, match='rubric "demo" is registered twice'):
        _ = pm.registry


def test_a_misspelt_hook_fails_loudly() -> None:
    class Typo:
        @hookimpl
        def kepatuhan_register_rubric(self, register: object) -> None:  # missing "s"
            pass

    with pytest.raises(PluginError, match="kepatuhan_register_rubric"):
        fresh_manager(Typo())


def test_a_plugin_that_raises_is_named_and_set_aside() -> None:
    class Broken:
        @hookimpl
        def kepatuhan_register_scales(self, register: object) -> None:
            raise RuntimeError("boom")

    pm = fresh_manager(Broken())
    assert "yes_no" in pm.registry.scales  # the other plugins still work
    assert pm.broken == {
        "test-plugin-0": "plugin 'test-plugin-0' raised in kepatuhan_register_scales: "
        "RuntimeError: boom"
    }
    with pytest.raises(PluginError, match="RuntimeError: boom"):
        pm.registry.rubric("anything")


def test_a_plugin_that_registers_the_wrong_type_is_named() -> None:
    class Wrong:
        @hookimpl
        def kepatuhan_register_rubrics(self, register: Callable[[object], None]) -> None:
            register("ombudsman-2099")

    pm = fresh_manager(Wrong())
    assert "registered 'ombudsman-2099', expected a Rubric" in pm.broken["test-plugin-0"]
    with pytest.raises(PluginError, match="'test-plugin-0' registered 'ombudsman-2099'"):
        pm.registry.rubric("ombudsman-2099")


def test_env_load_plugins_empty_loads_none() -> None:
    pm = PluginManager(env={"KEPATUHAN_LOAD_PLUGINS": ""})
    assert [p.name for p in pm.plugins()] == ["kepatuhan.builtin"]


def test_env_disable_plugins_switches_one_off() -> None:
    pm = PluginManager(env={"KEPATUHAN_DISABLE_PLUGINS": "ombudsman"})
    assert "ombudsman" not in [p.name for p in pm.plugins()]
    assert "ombudsman-2023" not in pm.registry.rubrics


def test_unknown_scale_in_a_rubric_is_reported_at_registration(demo_rubric_path: Path) -> None:
    text = demo_rubric_path.read_text().replace('scale = "yes_no"', 'scale = "ya_tidak"')
    from kepatuhan import rubric_from_toml

    rubric = rubric_from_toml(text)
    problems = fresh_manager().registry.check(rubric)
    assert any(
        'unknown scale "ya_tidak"' in p.message and p.key_path == 'criterion "sarpras".scale'
        for p in problems
    )


def test_env_load_plugins_names_the_ones_to_load() -> None:
    pm = PluginManager(env={"KEPATUHAN_LOAD_PLUGINS": "ombudsman"})
    assert "ombudsman-2023" in pm.registry.rubrics


def test_env_trace_plugins_prints_hook_calls(
    demo_rubric_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kepatuhan import ObservationTable, score

    pm = PluginManager(env={"KEPATUHAN_TRACE_PLUGINS": "1", "KEPATUHAN_LOAD_PLUGINS": ""})
    rubric = load_rubric(demo_rubric_path)
    table = ObservationTable.from_records(
        [dict(institution="i", unit="u", criterion="total", value=50)]
    )
    score(rubric, table, plugins=pm)
    assert "kepatuhan_select_units" in capsys.readouterr().err
