"""Deriving a rubric instead of copying it: ``extends`` in TOML, ``Rubric.derive``, the
registration hook that derives from another plugin's edition, and ``new-rubric --from``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from kepatuhan_ombudsman import plugin as ombudsman

from kepatuhan import (
    DerivedFrom,
    ObservationTable,
    PluginError,
    Rubric,
    RubricError,
    dump_rubric,
    get_rubric,
    hookimpl,
    load_rubric,
    rubric_from_toml,
    rubric_to_toml,
    score,
)
from kepatuhan.cli import main
from kepatuhan.rubric import canonical_rubric
from kepatuhan.testing import fresh_manager, rubrics

# The 2023 tree (plugins/kepatuhan-ombudsman/.../ombudsman-2023.toml): root "total" = sum
# of four dimensions with points input 21.85, proses 32.37, output 24.24, pengaduan 21.54;
# its five leaves, in file order, are percentages: kompetensi_pelaksana and
# sarana_prasarana (input, equal weight, per unit), standar_pelayanan (proses, per
# product), persepsi_maladministrasi (output) and pengelolaan_pengaduan (pengaduan).
LEAVES = {
    "kompetensi_pelaksana": 70,
    "sarana_prasarana": 70,
    "standar_pelayanan": 80,
    "persepsi_maladministrasi": 75,
    "pengelolaan_pengaduan": 50,
}

#: The published 2023 case of Kab. Maluku Tenggara (60.80), for the commands that score.
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "maluku-tenggara-2023.csv"
VARIANT = """
extends = "ombudsman-2023"
id = "contoh-2023"

[[criterion]]
id = "input"
points = 25.85

[[criterion]]
id = "proses"
points = 28.37
"""


def _table(**extra: float) -> ObservationTable:
    """One unit with the five leaf values (and ``extra`` unit-level ones); a leaf whose
    value in ``extra`` is negative is left out."""
    leaves = {**LEAVES, **extra}
    rows = [
        {"institution": "kab-x", "unit": "dinas", "criterion": c, "value": v}
        for c, v in leaves.items()
        if c != "standar_pelayanan" and v >= 0
    ]
    rows.append(
        {
            "institution": "kab-x",
            "unit": "dinas",
            "product": "izin",
            "criterion": "standar_pelayanan",
            "value": LEAVES["standar_pelayanan"],
        }
    )
    return ObservationTable.from_records(rows)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_extending_2023_with_new_dimension_points_gives_the_hand_computed_score(
    tmp_path: Path,
) -> None:
    # By hand. 2023: input = mean(70, 70) % of 21.85 = 15.295; proses = 80 % of 32.37 =
    # 25.896; output = 75 % of 24.24 = 18.18; pengaduan = 50 % of 21.54 = 10.77;
    # total = 70.141 -> 70.14. Derived (input 25.85, proses 28.37; 25.85 + 28.37 + 24.24 +
    # 21.54 = 100): 18.095 + 22.696 + 18.18 + 10.77 = 69.741 -> 69.74.
    parent = get_rubric("ombudsman-2023")
    derived = load_rubric(_write(tmp_path / "contoh.toml", VARIANT))
    table = _table()
    official = score(parent, table).card("kab-x")
    variant = score(derived, table).card("kab-x")
    assert official.published == "70.14"
    assert official.score == pytest.approx(70.141, abs=1e-9)
    assert variant.published == "69.74"
    assert variant.score == pytest.approx(69.741, abs=1e-9)


def test_an_override_replaces_only_the_fields_it_gives(tmp_path: Path) -> None:
    parent = get_rubric("ombudsman-2023")
    derived = load_rubric(_write(tmp_path / "contoh.toml", VARIANT))
    for cid in ("input", "proses"):
        old, new = parent.criterion(cid), derived.criterion(cid)
        assert attrs.evolve(old, points=new.points) == new  # label, source, … inherited
    assert derived.criterion("input").points == Decimal("25.85")
    assert [c.id for c in derived.criteria] == [c.id for c in parent.criteria]
    for c in parent.criteria:
        if c.id not in ("input", "proses"):
            assert derived.criterion(c.id) == c
    assert (derived.bands, derived.levels, derived.sources, derived.flags) == (
        parent.bands,
        parent.levels,
        parent.sources,
        parent.flags,
    )


def test_the_derived_version_is_its_own_and_the_parent_is_recorded(tmp_path: Path) -> None:
    parent = get_rubric("ombudsman-2023")
    assert parent.version == "1.0.0"
    derived = load_rubric(_write(tmp_path / "contoh.toml", VARIANT))
    assert derived.version == "1"
    assert derived.derived_from == DerivedFrom("ombudsman-2023", parent.digest)
    assert derived.digest != parent.digest
    # the parent is part of the digest: the same rubric without it is another rubric
    assert attrs.evolve(derived, derived_from=None).digest != derived.digest
    given_version = load_rubric(
        _write(
            tmp_path / "v.toml",
            VARIANT.replace('id = "contoh-2023"\n', 'id = "v"\nversion = "2.1"\n', 1),
        )
    )
    assert given_version.version == "2.1"


def test_toml_extends_and_python_derive_make_the_same_rubric(tmp_path: Path) -> None:
    from_file = load_rubric(_write(tmp_path / "contoh.toml", VARIANT))
    in_python = get_rubric("ombudsman-2023").derive(
        "contoh-2023", points={"input": Decimal("25.85"), "proses": Decimal("28.37")}
    )
    assert in_python == from_file
    assert in_python.digest == from_file.digest


def test_remove_drops_a_subtree_and_new_ids_add_criteria(tmp_path: Path) -> None:
    text = """
extends = "ombudsman-2023"
id = "tanpa-pengaduan"
remove = ["pengaduan"]

[[criterion]]
id = "output"
points = 45.78   # 24.24 + the 21.54 of the removed dimension

[[criterion]]
id = "survei"
label = "Survei kepuasan"
parent = "output"
scale = "percentage"
level = "unit"
"""
    derived = load_rubric(_write(tmp_path / "t.toml", text))
    ids = [c.id for c in derived.criteria]
    assert "pengaduan" not in ids and "pengelolaan_pengaduan" not in ids
    assert ids[-1] == "survei"
    assert derived.criterion("survei").parent == "output"
    # output's two leaves weigh 1 each: (75 + 55) / 2 = 65 % of 45.78 = 29.757; with
    # input 15.295 and proses 25.896 the unit scores 70.948.
    table = _table(pengelolaan_pengaduan=-1, survei=55)
    assert score(derived, table).card("kab-x").score == pytest.approx(70.948, abs=1e-9)


def test_python_derive_takes_points_weights_and_remove() -> None:
    parent = get_rubric("ombudsman-2023")
    derived = parent.derive(
        "contoh",
        points={"output": 45.78},
        weights={"kompetensi_pelaksana": 3},
        remove=["pengaduan"],
        version="0.2",
    )
    assert derived.title == "contoh (derived from ombudsman-2023)"
    assert derived.version == "0.2"
    assert derived.criterion("kompetensi_pelaksana").weight == Decimal(3)
    assert derived.criterion("output").points == Decimal("45.78")
    assert "pengelolaan_pengaduan" not in {c.id for c in derived.criteria}


def test_a_sum_that_no_longer_adds_up_names_the_parent_and_the_siblings(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "contoh.toml",
        'extends = "ombudsman-2023"\nid = "x"\n[[criterion]]\nid = "input"\npoints = 25.85\n',
    )
    with pytest.raises(RubricError) as e:
        load_rubric(path)
    msg = str(e.value)
    assert msg.startswith(f'{path}: criterion "total".rule: ')
    assert "add up to 104.00, expected 100" in msg
    assert 'derived from rubric "ombudsman-2023"' in msg
    # the inherited siblings, not the one the file changed, and the amount: 104 - 100
    assert '"proses" (32.37), "output" (24.24) or "pengaduan" (21.54) by 4.00' in msg
    assert '"input" (' not in msg
    with pytest.raises(RubricError) as e:  # removing a dimension leaves 100 - 21.54 = 78.46
        get_rubric("ombudsman-2023").derive("y", remove=["pengaduan"])
    assert (
        'raise the points of "input" (21.85), "proses" (32.37) or "output" (24.24) by 21.54'
        in str(e.value)
    )


def test_a_bad_override_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "bad.toml",
        'extends = "ombudsman-2023"\nid = "x"\n[[criterion]]\nid = "proses"\npoints = "32,37"\n',
    )
    with pytest.raises(RubricError) as e:
        load_rubric(path)
    assert str(e.value) == f'{path}: criterion "proses".points: expected a number, found "32,37"'
    problem = e.value.problems[0]
    assert (problem.path, problem.key_path) == (str(path), 'criterion "proses".points')


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        (
            'extends = "ombudsman-2023"\nid = "x"\nremove = ["pengadu"]\n',
            "remove",
            'did you mean "pengaduan"',
        ),
        (
            'extends = "ombudsman-2023"\nid = "x"\nremove = ["total"]\n',
            "remove",
            "cannot remove the root",
        ),
        (
            'extends = "ombudsman-2023"\nid = "x"\ncritrion = []\n',
            "critrion",
            'did you mean "criterion"',
        ),
        ('extends = "ombudsman-2023"\n', "id", "required key missing"),
        ('id = "x"\ntitle = "x"\nremove = ["a"]\n', "remove", "has no extends"),
        ('extends = "ombudsman-2032"\nid = "x"\n', "extends", 'did you mean "ombudsman-20'),
        ('extends = "nowhere/base.toml"\nid = "x"\n', "extends", "no rubric file"),
    ],
)
def test_bad_derivations_are_located(tmp_path: Path, text: str, key: str, needle: str) -> None:
    path = _write(tmp_path / "d.toml", text)
    with pytest.raises(RubricError) as e:
        load_rubric(path)
    problem = e.value.problems[0]
    assert problem.path == str(path)
    assert problem.key_path == key
    assert needle in str(e.value)


def test_a_path_is_taken_from_the_extending_files_folder_and_chains_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "base").mkdir()
    _write(tmp_path / "base" / "mid.toml", VARIANT.replace("contoh-2023", "mid"))
    child = _write(
        tmp_path / "base" / "child.toml",
        'extends = "mid.toml"\nid = "child"\n[[criterion]]\nid = "output"\nlabel = "Keluaran"\n',
    )
    monkeypatch.chdir(tmp_path)  # not the file's folder: the path must not be read from here
    rubric = load_rubric(child)
    mid = load_rubric(tmp_path / "base" / "mid.toml")
    # the whole line of parents: mid, then the edition mid extends
    assert rubric.derived_from == DerivedFrom("mid", mid.digest, mid.derived_from)
    assert mid.derived_from is not None and mid.derived_from.id == "ombudsman-2023"
    assert [p.id for p in rubric.derived_from.lineage] == ["mid", "ombudsman-2023"]
    assert rubric.criterion("input").points == Decimal("25.85")
    assert rubric.criterion("output").label.id == "Keluaran"
    assert rubric.criterion("output").label.en is None  # a label is replaced whole


def test_a_derivation_of_a_derivation_records_the_whole_line_and_round_trips(
    tmp_path: Path,
) -> None:
    edition = get_rubric("ombudsman-2023")
    a = edition.derive("a")
    b = a.derive("b")
    assert a.derived_from == DerivedFrom("ombudsman-2023", edition.digest)  # no parent: None
    assert b.derived_from == DerivedFrom(
        "a", a.digest, DerivedFrom("ombudsman-2023", edition.digest)
    )
    assert [(p.id, p.digest) for p in b.derived_from.lineage] == [
        ("a", a.digest),
        ("ombudsman-2023", edition.digest),
    ]
    # a first derivation's canonical form has no "parent" key (its digest is as before)
    assert "parent" not in canonical_rubric(a)["rubric"]["derived_from"]
    path = tmp_path / "b.toml"
    dump_rubric(b, path)
    assert "[derived_from.parent]" in path.read_text(encoding="utf-8")
    again = load_rubric(path)
    assert again == b and again.digest == b.digest


def test_a_cycle_of_files_is_a_located_error(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.toml", 'extends = "b.toml"\nid = "a"\n')
    b = _write(tmp_path / "b.toml", 'extends = "a.toml"\nid = "b"\n')
    with pytest.raises(RubricError) as e:
        load_rubric(a)
    problem = e.value.problems[0]
    assert (problem.path, problem.key_path) == (str(b), "extends")
    assert "cycle" in problem.message
    assert problem.message.index('("a")') < problem.message.index('("b")')


def test_dump_writes_the_flattened_rubric_which_reads_back_equal(tmp_path: Path) -> None:
    derived = load_rubric(_write(tmp_path / "contoh.toml", VARIANT))
    text = rubric_to_toml(derived)
    assert "extends" not in text
    assert "[derived_from]" in text and get_rubric("ombudsman-2023").digest in text
    again = rubric_from_toml(text)
    assert again == derived and again.digest == derived.digest
    assert again.derived_from == derived.derived_from


@settings(max_examples=40, deadline=None)
@given(rubrics())
def test_deriving_with_no_change_keeps_every_criterion_and_round_trips(rubric: Rubric) -> None:
    derived = rubric.derive("derived", version="3")
    assert derived.criteria == rubric.criteria
    assert derived.derived_from == DerivedFrom(rubric.id, rubric.digest)
    assert derived.version == "3"
    assert rubric_from_toml(rubric_to_toml(derived)) == derived


@settings(max_examples=60, deadline=None)
@given(rubrics(), st.data())
def test_remove_drops_exactly_the_subtree(rubric: Rubric, data: st.DataObject) -> None:
    tree = rubric.tree
    # a node whose parent keeps another child and does not add points (so the rest is valid)
    nodes = [
        i
        for i in range(len(tree.nodes))
        if tree.parent[i] >= 0
        and len(tree.children[tree.parent[i]]) >= 2
        and tree.nodes[tree.parent[i]].rule.name != "sum"
    ]
    assume(nodes)
    n = data.draw(st.sampled_from(nodes))
    try:
        derived = rubric.derive("derived", remove=[tree.nodes[n].id])
    except RubricError as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        # the rest is validated as a whole: a unit_sector rule left above criteria scored
        # per institution only can no longer match, and that is refused, at the rule
        assert all("not_applicable_for" in (p.key_path or "") for p in refused.problems)
        return
    # independently of derive: a criterion goes iff the removed node is on its root path
    kept = tuple(c for i, c in enumerate(tree.nodes) if n not in tree.path(i))
    assert derived.criteria == kept


def test_show_and_every_result_record_the_parent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "contoh.toml", VARIANT)
    parent = get_rubric("ombudsman-2023")
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"derived from ombudsman-2023 ({parent.digest})" in out.splitlines()[1]
    assert main(["show", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["derived_from"] == {"id": "ombudsman-2023", "digest": parent.digest}
    data = tmp_path / "obs.csv"
    lines = ["institution,unit,product,criterion,value"] + [
        f"kab-x,dinas,{'izin' if c == 'standar_pelayanan' else ''},{c},{v}"
        for c, v in LEAVES.items()
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["score", "--rubric", str(path), str(data), "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["rubric"]["derived_from"] == {"id": "ombudsman-2023", "digest": parent.digest}
    assert result["rubric"]["version"] == "1"
    assert result["institutions"][0]["published"] == "69.74"
    assert main(["score", "--rubric", "ombudsman-2023", str(data), "--format", "json"]) == 0
    assert "derived_from" not in json.loads(capsys.readouterr().out)["rubric"]


# -- inside a registration hook -------------------------------------------------------------
class FromFile:
    """A plugin whose rubric file extends the 2023 edition of another plugin."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @hookimpl
    def kepatuhan_register_rubrics(self, register: Callable[[Rubric], None]) -> None:
        register(load_rubric(self.path))


class InPython:
    """A plugin deriving in Python, through the hook's ``installed`` and ``get_rubric``."""

    @hookimpl
    def kepatuhan_register_rubrics(
        self, register: Callable[[Rubric], None], installed: Callable[[str], Rubric]
    ) -> None:
        register(
            installed("ombudsman-2023").derive("py-2023", points={"input": 25.85, "proses": 28.37})
        )
        register(
            get_rubric("ombudsman-2023").derive(
                "py-2023b", remove=["pengaduan"], points={"output": 45.78}
            )
        )


@pytest.mark.parametrize("derived_first", [True, False])
def test_a_plugin_derives_from_another_plugins_edition_in_its_hook(
    tmp_path: Path, derived_first: bool
) -> None:
    # pluggy calls the plugin registered last first: both orders must work
    file_plugin = FromFile(_write(tmp_path / "contoh.toml", VARIANT))
    plugins = [ombudsman, file_plugin, InPython()]
    pm = fresh_manager(*(plugins if derived_first else reversed(plugins)))
    reg = pm.registry
    assert not reg.broken
    parent = reg.rubric("ombudsman-2023")
    for rid in ("contoh-2023", "py-2023", "py-2023b"):
        assert reg.rubric(rid).derived_from == DerivedFrom("ombudsman-2023", parent.digest)
    same = attrs.evolve(
        reg.rubric("py-2023"), id="contoh-2023", title="contoh-2023 (derived from ombudsman-2023)"
    )
    assert same == reg.rubric("contoh-2023")  # the hook's derive and the file's extends agree
    card = score("contoh-2023", _table(), plugins=pm).card("kab-x")
    assert card.published == "69.74"


def test_each_hook_still_runs_once_when_another_asks_for_its_rubric(tmp_path: Path) -> None:
    calls: list[str] = []

    class Counting:
        @hookimpl
        def kepatuhan_register_rubrics(self, register: Callable[[Rubric], None]) -> None:
            calls.append("ombudsman")
            ombudsman.kepatuhan_register_rubrics(register)

    pm = fresh_manager(Counting(), FromFile(_write(tmp_path / "c.toml", VARIANT)), InPython())
    assert sorted(pm.registry.rubrics) == sorted(
        [
            *(f"ombudsman-{y}" for y in (2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024, 2025)),
            "contoh-2023",
            "py-2023",
            "py-2023b",
        ]
    )
    assert calls == ["ombudsman"]


def test_a_missing_parent_in_a_hook_breaks_only_that_plugin(tmp_path: Path) -> None:
    lost = FromFile(_write(tmp_path / "lost.toml", 'extends = "ombudsman-2099"\nid = "lost"\n'))
    pm = fresh_manager(ombudsman, lost)
    reg = pm.registry
    assert "ombudsman-2023" in reg.rubrics
    assert 'unknown rubric "ombudsman-2099"' in reg.broken["test-plugin-1"]
    assert str(tmp_path / "lost.toml") in reg.broken["test-plugin-1"]
    with pytest.raises(PluginError, match="broken"):
        reg.rubric("lost")


def test_plugins_whose_rubrics_extend_each_other_are_a_cycle(tmp_path: Path) -> None:
    a = FromFile(_write(tmp_path / "a.toml", 'extends = "b"\nid = "a"\n'))
    b = FromFile(_write(tmp_path / "b.toml", 'extends = "a"\nid = "b"\n'))
    reg = fresh_manager(a, b).registry
    assert set(reg.broken) == {"test-plugin-0", "test-plugin-1"}
    assert any("cycle" in err for err in reg.broken.values())
    assert not reg.rubrics


# -- new-rubric --from ----------------------------------------------------------------------
def test_new_rubric_from_an_edition_scaffolds_a_derived_plugin_whose_tests_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["new-rubric", "contoh-2023", "--from", "ombudsman-2023", "--dir", str(tmp_path)]) == 0
    )
    root = tmp_path / "kepatuhan-contoh-2023"
    toml = root / "src" / "kepatuhan_contoh_2023" / "rubrics" / "contoh-2023.toml"
    text = toml.read_text(encoding="utf-8")
    assert 'extends = "ombudsman-2023"' in text and "[[criterion]]" in text
    assert '"kepatuhan-ombudsman"' in (root / "pyproject.toml").read_text(encoding="utf-8")
    rubric = load_rubric(toml)
    assert rubric.version == "0.1.0" != get_rubric("ombudsman-2023").version
    assert rubric.derived_from is not None and rubric.derived_from.id == "ombudsman-2023"
    assert main(["validate", "--strict", str(toml)]) == 0
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed" in run.stdout


def test_new_rubric_from_refuses_an_unknown_id_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new-rubric", "x", "--from", "ombudsman-2032", "--dir", str(tmp_path)]) == 1
    assert 'unknown rubric "ombudsman-2032"' in capsys.readouterr().err
    assert main(["new-rubric", "x", "--from", "some/file.toml", "--dir", str(tmp_path)]) == 1
    assert "installed rubric id" in capsys.readouterr().err
    assert not (tmp_path / "kepatuhan-x").exists()


def test_a_result_of_a_derived_rubric_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "contoh.toml", VARIANT)
    data = tmp_path / "obs.csv"
    lines = ["institution,unit,product,criterion,value"] + [
        f"kab-x,dinas,{'izin' if c == 'standar_pelayanan' else ''},{c},{v}"
        for c, v in LEAVES.items()
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = tmp_path / "r.json"
    assert (
        main(
            ["score", "--rubric", str(path), str(data), "--output", str(result), "--format", "json"]
        )
        == 0
    )
    assert main(["verify", str(result)]) == 0
    # the same file, now extending a changed parent: the recorded parent no longer matches
    _write(tmp_path / "mid.toml", VARIANT.replace("contoh-2023", "mid"))
    _write(path, 'extends = "mid.toml"\nid = "contoh-2023"\n')
    capsys.readouterr()
    assert main(["verify", str(result)]) == 1
    assert "rubric.derived_from" in capsys.readouterr().out


class TwoDeep:
    """A plugin registering a variant of 2023 and a variant of that variant."""

    @hookimpl
    def kepatuhan_register_rubrics(
        self, register: Callable[[Rubric], None], installed: Callable[[str], Rubric]
    ) -> None:
        register(installed("ombudsman-2023").derive("mine-a"))
        register(installed("mine-a").derive("mine-b", points={"input": 25.85, "proses": 28.37}))


def test_rubrics_lists_each_derived_rubrics_parent_with_a_short_digest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pm = fresh_manager(ombudsman, TwoDeep())
    monkeypatch.setattr("kepatuhan.cli.common._manager", lambda: pm)
    edition, a = pm.registry.rubric("ombudsman-2023"), pm.registry.rubric("mine-a")
    assert main(["rubrics", "--format", "json"]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["ombudsman-2023"]["derived_from"] is None
    assert rows["mine-a"]["derived_from"] == {"id": "ombudsman-2023", "digest": edition.digest}
    assert rows["mine-b"]["derived_from"] == {"id": "mine-a", "digest": a.digest}  # the parent
    assert main(["rubrics", "--format", "csv"]) == 0
    lines = {line.split(",")[0]: line for line in capsys.readouterr().out.splitlines()}
    # sha256:5203c423… of the edition -> its first 12 hex digits after the prefix
    short = edition.digest.removeprefix("sha256:")[:12]
    assert lines["mine-a"].endswith(f",ombudsman-2023@{short}")
    assert lines["ombudsman-2023"].endswith(f",{short},")  # its own digest; no parent
    assert main(["rubrics"]) == 0
    table = capsys.readouterr().out
    assert f"mine-a@{a.digest[7:19]}" in table
    # show names every parent, back to the edition
    assert main(["show", "mine-b"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:3] == [
        f"derived from mine-a ({a.digest})",
        f"  which is derived from ombudsman-2023 ({edition.digest})",
    ]


def test_the_report_card_names_the_parent_of_a_derived_rubric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pm = fresh_manager(ombudsman, TwoDeep())
    monkeypatch.setattr("kepatuhan.cli.common._manager", lambda: pm)
    edition, a = pm.registry.rubric("ombudsman-2023"), pm.registry.rubric("mine-a")
    cases = (
        ("mine-b", "en", f"derived from mine-a ({a.digest[7:19]})"),
        ("mine-a", "id", f"diturunkan dari ombudsman-2023 ({edition.digest[7:19]})"),
    )
    for rubric, lang, words in cases:
        out = tmp_path / f"{rubric}.html"
        argv = ["report", str(EXAMPLE), "--rubric", rubric, "--institution", "kab-maluku-tenggara"]
        assert main([*argv, "--output", str(out), "--lang", lang]) == 0
        assert words in out.read_text(encoding="utf-8")
    out = tmp_path / "edition.html"
    argv = [
        "report",
        str(EXAMPLE),
        "--rubric",
        "ombudsman-2023",
        "--institution",
        "kab-maluku-tenggara",
    ]
    assert main([*argv, "--output", str(out), "--lang", "en"]) == 0
    assert "derived from" not in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("level_table", "expected"),
    [
        ('[levels.institution]\nnote = "why the roll-up is kept"\n', "products"),
        ('[levels.institution]\nweight_by = "equal"\n', "equal"),
    ],
)
def test_a_level_table_in_a_derived_file_replaces_only_the_keys_it_gives(
    tmp_path: Path, level_table: str, expected: str
) -> None:
    # ombudsman-2021 weighs units by their number of products; a note alone keeps that
    parent = get_rubric("ombudsman-2021")
    assert parent.levels.institution.weight_by == "products"
    text = f'extends = "ombudsman-2021"\nid = "lv-2021"\n\n{level_table}'
    derived = load_rubric(_write(tmp_path / "lv.toml", text))
    assert derived.levels.institution.weight_by == expected
    assert derived.levels.institution.combine == parent.levels.institution.combine
    assert derived.levels.unit == parent.levels.unit
