"""Every shared decision has one home: did-you-mean, file prefixes, hook calls, ties, digest.

Each test pins one rule to its single place (issue 15): the did-you-mean helper, the
``with_path`` prefix, how a hook is called (``firstresult`` from its spec, wrappers refused),
a broken plugin set aside, the tie rule shared by ``rank`` and ``sensitivity``, and a
rubric digest computed from values rather than from a file's spelling.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import json
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest

import kepatuhan
from kepatuhan import (
    ObservationTable,
    PluginError,
    Problem,
    Rubric,
    RubricError,
    UnitSelection,
    hookimpl,
    load_rubric,
    rubric_from_toml,
    score,
)
from kepatuhan import errors as errors_module
from kepatuhan import plugins as plugins_module
from kepatuhan.analysis.rank import rank, tie_ranks
from kepatuhan.analysis.sensitivity import sensitivity
from kepatuhan.errors import KepatuhanError, suggest
from kepatuhan.plugins import PluginManager
from kepatuhan.rubric import canonical_rubric
from kepatuhan.testing import fresh_manager

SRC = Path(kepatuhan.__file__).resolve().parent
ROWS = [
    dict(institution="i", unit="a", criterion="persepsi", value=80),
    dict(institution="i", unit="a", criterion="aduan", value=60),
    dict(institution="i", unit="b", criterion="total", value=70),
]


@pytest.fixture
def demo(demo_rubric_path: Path) -> Rubric:
    return load_rubric(demo_rubric_path)


# --- did you mean, and the file prefix --------------------------------------------------


def test_suggest_names_the_closest_known_name_or_nothing() -> None:
    assert suggest("ombudsman-2032", ["ombudsman-2023", "demo"]) == (
        ' (did you mean "ombudsman-2023"?)'
    )
    assert suggest("zzz", ["ombudsman-2023", "demo"]) == ""
    assert suggest("x", []) == ""


def test_no_module_computes_its_own_did_you_mean() -> None:
    """``difflib`` is used by ``errors.suggest`` only, in every module of the package."""
    users = [
        p.relative_to(SRC).as_posix()
        for p in SRC.rglob("*.py")
        if "get_close_matches" in p.read_text(encoding="utf-8")
    ]
    assert users == ["errors.py"]


def test_an_unknown_rubric_key_uses_the_one_suggestion(demo_rubric_path: Path) -> None:
    text = demo_rubric_path.read_text().replace("missing =", "missin =")
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text, "r.toml")
    assert 'unknown key "missin"' + suggest("missin", ["missing"]) in str(e.value)
    assert e.value.path == "r.toml"  # the file, prefixed by with_path


def test_with_path_fills_only_the_problems_without_a_file() -> None:
    err = RubricError([Problem("a"), Problem("b", path="other.toml")])
    fixed = err.with_path("r.toml")
    assert type(fixed) is RubricError
    assert [p.path for p in fixed.problems] == ["r.toml", "other.toml"]
    assert err.with_path(None) is err


def _raised_names() -> set[str]:
    """Names called, or passed to a call (``_raise(ObservationError, …)``), outside errors.py."""
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        if path == SRC / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                for part in (node.func, *node.args):
                    if isinstance(part, ast.Name):
                        used.add(part.id)
    return used


def test_every_exported_error_class_is_raised_somewhere() -> None:
    """An error class nothing raises is dead API: each one is constructed in src/."""
    used = _raised_names()
    classes = [
        name
        for name in errors_module.__all__
        if isinstance(getattr(errors_module, name), type)
        and issubclass(getattr(errors_module, name), KepatuhanError)
    ]
    assert "RubricError" in classes
    for name in classes:
        assert name in used, f"{name} is exported but never raised"


# --- one way to call a hook -------------------------------------------------------------


def test_firstresult_comes_from_the_hookspec(demo: Rubric) -> None:
    called: list[str] = []

    class Answers:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def kepatuhan_select_units(self, rubric: Rubric, table: ObservationTable) -> Any:
            called.append(self.name)
            return UnitSelection()

        @hookimpl
        def kepatuhan_validate(self, rubric: Rubric, table: ObservationTable) -> Any:
            called.append("validate " + self.name)
            return []

    pm = fresh_manager(Answers("one"), Answers("two"))
    table = ObservationTable.from_records(ROWS)
    calls = pm.call_each("kepatuhan_select_units", rubric=demo, table=table)
    assert len(calls) == 1 and len(called) == 1  # firstresult=True in the spec: one answer
    called.clear()
    calls = pm.call_each("kepatuhan_validate", rubric=demo, table=table)
    assert sorted(called) == ["validate one", "validate two"]  # no firstresult: all called
    with pytest.raises(TypeError, match="firstresult is True in its hookspec"):
        pm.call_each("kepatuhan_select_units", firstresult=False, rubric=demo, table=table)
    with pytest.raises(PluginError, match="no hook named 'kepatuhan_nothing'"):
        pm.call_each("kepatuhan_nothing")


class NewStyleWrapper:
    @hookimpl(wrapper=True)
    def kepatuhan_validate(
        self, rubric: Rubric, table: ObservationTable
    ) -> Generator[None, list[Problem], list[Problem]]:
        return (yield)


class OldStyleWrapper:
    @hookimpl(hookwrapper=True)
    def kepatuhan_select_units(self, rubric: Rubric, table: ObservationTable) -> Iterator[None]:
        yield


@pytest.mark.parametrize(
    ("plugin", "hook"),
    [(NewStyleWrapper(), "kepatuhan_validate"), (OldStyleWrapper(), "kepatuhan_select_units")],
)
def test_a_wrapper_is_refused_at_registration_and_scoring_still_works(
    demo: Rubric, plugin: object, hook: str
) -> None:
    pm = PluginManager(entrypoints=False, env={})
    with pytest.raises(PluginError, match=rf"plugin 'wrapping': {hook} is marked as a wrapper"):
        pm.register(plugin, "wrapping")
    assert pm.pm.get_plugin("wrapping") is None
    res = score(demo, ObservationTable.from_records(ROWS), plugins=pm)
    assert res.card("i").score is not None


# --- a broken plugin --------------------------------------------------------------------


def _with_entry_points(
    monkeypatch: pytest.MonkeyPatch, *extra: md.EntryPoint
) -> Callable[..., Any]:
    real = md.entry_points

    def fake(**kw: Any) -> list[md.EntryPoint]:
        return [*real(**kw), *(e for e in extra if e.group == kw.get("group"))]

    monkeypatch.setattr(plugins_module.md, "entry_points", fake)
    return fake


def test_an_entry_point_that_fails_to_import_is_set_aside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kaput = md.EntryPoint("kaput", "kepatuhan_kaput_not_installed:plugin", "kepatuhan")
    _with_entry_points(monkeypatch, kaput)
    pm = PluginManager(env={})
    assert "ModuleNotFoundError" in pm.broken["kaput"]
    assert "kepatuhan_kaput_not_installed" in pm.broken["kaput"]
    # the other plugins work: an edition of the Ombudsman plugin is there and scores
    rubric = pm.registry.rubric("ombudsman-2023")
    assert rubric.id == "ombudsman-2023"
    # an unknown id may be the broken plugin's: the error carries its failure
    with pytest.raises(PluginError, match=r"plugin 'kaput' failed to load: .*ModuleNotFoundError"):
        kepatuhan.get_rubric("kaput-2026", plugins=pm)


def test_a_plugin_raising_after_registering_leaves_nothing_half_in(demo: Rubric) -> None:
    own = attrs.evolve(demo, id="half-2026")

    class Half:
        @hookimpl
        def kepatuhan_register_rubrics(self, register: Callable[[Rubric], None]) -> None:
            register(own)
            raise OSError("disk gone")

        @hookimpl
        def kepatuhan_select_units(self, rubric: Rubric, table: ObservationTable) -> Any:
            raise AssertionError("a broken plugin's hooks are not called")

    pm = fresh_manager(Half())
    assert pm.broken == {
        "test-plugin-0": "plugin 'test-plugin-0' raised in kepatuhan_register_rubrics: "
        "OSError: disk gone"
    }
    assert "half-2026" not in pm.registry.rubrics
    with pytest.raises(PluginError) as e:
        pm.registry.rubric("half-2026")
    assert "comes from plugin 'test-plugin-0', which is broken" in str(e.value)
    assert "OSError: disk gone" in str(e.value)
    # commands on other rubrics go on, and the broken plugin's select_units is not called
    res = score(demo, ObservationTable.from_records(ROWS), plugins=pm)
    assert res.card("i").score is not None


def test_a_rubric_needing_a_broken_plugins_scale_is_set_aside_too(demo: Rubric) -> None:
    """Scales, then rubrics: a plugin whose own rubric fails takes its scale with it."""
    from kepatuhan.scales import Percentage

    class Likert(Percentage):
        name = "likert"

    needs = attrs.evolve(
        demo,
        id="needs-likert",
        criteria=[
            attrs.evolve(c, scale="likert") if c.id == "persepsi" else c for c in demo.criteria
        ],
    )

    class Provider:
        @hookimpl
        def kepatuhan_register_scales(self, register: Callable[[object], None]) -> None:
            register(Likert())

        @hookimpl
        def kepatuhan_register_rubrics(self, register: Callable[[Rubric], None]) -> None:
            raise RuntimeError("rubric file missing")

    class User:
        @hookimpl
        def kepatuhan_register_rubrics(self, register: Callable[[Rubric], None]) -> None:
            register(needs)

    pm = fresh_manager(Provider(), User())
    assert "likert" not in pm.registry.scales
    assert set(pm.broken) == {"test-plugin-0", "test-plugin-1"}
    assert 'unknown scale "likert"' in pm.broken["test-plugin-1"]
    with pytest.raises(PluginError, match='unknown scale "likert"'):
        pm.registry.rubric("needs-likert")


# --- one tie rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ties", "expected"),
    [("min", [3, 1, 1, 4, 5]), ("dense", [2, 1, 1, 3, 4]), ("ordinal", [3, 1, 2, 4, 5])],
)
def test_tie_ranks_follow_the_named_rule(ties: str, expected: list[int]) -> None:
    values = [50.0, 70.0, 70.0, 10.0, 0.0]
    assert tie_ranks(values, ties).tolist() == expected
    # a matrix is one ranking per column, each equal to the ranking of that column alone
    m = np.array([values, values[::-1], [1.0] * 5]).T
    for j in range(m.shape[1]):
        assert tie_ranks(m, ties)[:, j].tolist() == tie_ranks(m[:, j], ties).tolist()


def test_rank_and_sensitivity_give_the_same_ranks_on_the_same_scores(demo: Rubric) -> None:
    rows: list[dict[str, Any]] = []
    # six institutions in two kinds, with two ties (identical observations)
    plan = [("p1", "provinsi", 80), ("p2", "provinsi", 60), ("p3", "provinsi", 80)]
    plan += [("k1", "kota", 40), ("k2", "kota", 40), ("k3", "kota", 90)]
    for inst, kind, v in plan:
        for crit, value in (("persepsi", v), ("aduan", 100 - v / 2), ("kompetensi", 2)):
            rows.append(
                dict(institution=inst, institution_kind=kind, unit="u", criterion=crit, value=value)
            )
    res = score(demo, ObservationTable.from_records(rows))
    ranked = {r.id: r.rank for r in rank(res, by="kind", ties="min")}
    sens = sensitivity(res, draws=3, spread=0.0)
    from_sens = dict(zip(sens.institutions, sens.rank_median.tolist(), strict=True))
    assert ranked == {k: int(from_sens[k]) for k in ranked}
    assert ranked["p1"] == ranked["p3"] == 1 and ranked["p2"] == 3  # competition: 1, 1, 3
    assert ranked["k1"] == ranked["k2"] == 2 and ranked["k3"] == 1


# --- the digest: values, not spelling ---------------------------------------------------

SPELLING_A = """
id = "d"
title = "D"
[[criterion]]
id = "total"
label = "Nilai"
[[criterion]]
id = "a"
parent = "total"
label = "A"
weight = 1
scale = "yes_no"
level = "unit"
[[criterion]]
id = "b"
parent = "total"
label = "B"
weight = 2.5
scale = { name = "points", max = 3 }
level = "unit"
"""

# the same rubric: label and scale tables, numbers written otherwise, defaults written out,
# keys in another order
SPELLING_B = """
title = "D"
id = "d"
version = "1"
missing = "zero"
[[criterion]]
label = { id = "Nilai" }
id = "total"
rule = "weighted_mean"
[[criterion]]
level = "unit"
scale = { name = "yes_no" }
weight = 1.00
label = { id = "A" }
parent = "total"
id = "a"
[[criterion]]
id = "b"
parent = "total"
label = "B"
weight = 2.50
scale = { max = 3.0, name = "points" }
level = "unit"
na_allowed = true
"""


def test_two_spellings_of_one_rubric_have_one_digest() -> None:
    a, b = rubric_from_toml(SPELLING_A), rubric_from_toml(SPELLING_B)
    assert a == b and a.digest == b.digest


def test_the_digest_does_not_depend_on_the_file_format(
    demo: Rubric, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renaming every key of the file format cannot change it: the file code is not used."""
    from kepatuhan.io import rubric_toml

    before = demo.digest
    fresh = attrs.evolve(demo)  # a new instance, digest not computed yet

    def no_file_format(*_: object) -> None:
        raise AssertionError("the digest must not go through the file format")

    monkeypatch.setattr(rubric_toml, "unstructure_rubric", no_file_format)
    monkeypatch.setattr(rubric_toml, "rubric_to_toml", no_file_format)
    monkeypatch.setattr(rubric_toml, "_RENAME", {})
    assert fresh.digest == before
    form = canonical_rubric(demo)["rubric"]
    assert "criteria" in form and "criterion" not in form  # attribute names, not file keys


def _change(r: Rubric, cid: str, **kw: Any) -> Rubric:
    return attrs.evolve(
        r, criteria=[attrs.evolve(c, **kw) if c.id == cid else c for c in r.criteria]
    )


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: _change(r, "b", weight=2.51),
        lambda r: _change(r, "total", rule="mean"),
        lambda r: _change(r, "a", scale="percentage"),
        lambda r: _change(r, "b", scale=kepatuhan.ScaleRef("points", (("max", 4),))),
        lambda r: _change(r, "b", scale=kepatuhan.ScaleRef("points", (("max", "3"),))),
        lambda r: _change(r, "a", level="product"),
        lambda r: _change(r, "a", na_allowed=False),
        lambda r: _change(r, "a", label="A2"),
        lambda r: attrs.evolve(r, missing="not_applicable"),
        lambda r: attrs.evolve(r, version="2"),
    ],
)
def test_any_change_of_a_value_changes_the_digest(mutate: Callable[[Rubric], Rubric]) -> None:
    base = rubric_from_toml(SPELLING_A)
    changed = mutate(base)
    assert changed != base and changed.digest != base.digest


def test_rubric_py_imports_no_file_format() -> None:
    """A value type does not import a file format: no ``io`` import in rubric.py."""
    tree = ast.parse((SRC / "rubric.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert not (node.module or "").startswith("io"), node.module
            assert "io" not in (node.module or "").split("."), node.module
        if isinstance(node, ast.Import):
            assert all(".io" not in a.name for a in node.names)


def test_kepatuhan_plugins_lists_a_broken_plugin_and_other_commands_still_work(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kepatuhan import cli

    kaput = md.EntryPoint("kaput", "kepatuhan_kaput_not_installed:plugin", "kepatuhan")
    _with_entry_points(monkeypatch, kaput)
    monkeypatch.setattr(cli.common, "_manager", lambda: PluginManager(env={}))
    assert cli.main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "kaput" in out and "BROKEN" in out and "ModuleNotFoundError" in out
    assert "ombudsman" in out
    assert cli.main(["plugins", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(d["name"] == "kaput" and "ModuleNotFoundError" in d["error"] for d in data)
    example = Path(__file__).resolve().parent.parent / "examples" / "maluku-tenggara-2023.csv"
    assert cli.main(["score", str(example), "--rubric", "ombudsman-2023"]) == 0
    assert "60.80" in capsys.readouterr().out


def test_reading_leaves_the_csv_modules_field_limit_as_it_found_it(tmp_path: Path) -> None:
    """The csv module's field limit is process-wide: kepatuhan raises it only while reading."""
    import csv

    before = csv.field_size_limit()
    p = tmp_path / "d.csv"
    p.write_text(
        "institution,unit,product,criterion,value,note\nkab-x,u,,input,1," + "n" * 200_000 + "\n"
    )
    table = kepatuhan.read_observations(p, engine="stdlib")
    assert len(table) == 1
    assert csv.field_size_limit() == before


def test_min_ranks_are_one_plus_the_values_strictly_above() -> None:
    """The fast ``min`` path against its definition, with many ties, column by column."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 6, size=(40, 9)).astype(np.float64) / 4
    got = tie_ranks(x, "min")
    want = 1 + (x[None, :, :] > x[:, None, :]).sum(axis=1)
    assert np.array_equal(got, want)
    assert np.array_equal(tie_ranks(x[:, 0], "min"), want[:, 0])
