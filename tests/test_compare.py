"""``kepatuhan compare`` and :mod:`kepatuhan.analysis.compare`: the rubric diff, the
per-entity comparison, the crosswalk. Every expected number below is worked out by hand in
the comment beside it."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import kepatuhan
from kepatuhan.analysis.compare import (
    Crosswalk,
    apply_crosswalk,
    compare_scores,
    diff_rubrics,
    series_labels,
)
from kepatuhan.cli import main
from kepatuhan.errors import InputFileError, KepatuhanError
from kepatuhan.io.observations_io import read_observations
from kepatuhan.io.rubric_toml import load_rubric
from kepatuhan.observations import ObservationTable
from kepatuhan.rubric import Rubric
from kepatuhan.testing import fresh_manager, rubrics, table_records

BANDS = """
[bands]
[[bands.band]]
id = "merah"
label = "Rendah"
zone = "merah"
min = 0
max = 64.99
[[bands.band]]
id = "hijau"
label = "Tinggi"
zone = "hijau"
min = 65
max = 100
"""


def rubric_text(rid: str, wx: str = "1", wy: str = "1", extra: str = "", bands: str = BANDS) -> str:
    """A two-indicator rubric: total = weighted mean of x and y (percentages, per unit)."""
    return f"""
id = "{rid}"
title = "{rid}"
year = 2023
missing = "zero"
{bands}
[[criterion]]
id = "total"
label = "Nilai"

[[criterion]]
id = "x"
parent = "total"
label = "X"
weight = {wx}
scale = "percentage"
level = "unit"

[[criterion]]
id = "y"
parent = "total"
label = "Y"
weight = {wy}
scale = "percentage"
level = "unit"
{extra}
"""


# i1: x 80, y 40; i2: x 50, y 90 (one unit each)
DATA = """institution,unit,product,criterion,value
i1,u1,,x,80
i1,u1,,y,40
i2,u2,,x,50
i2,u2,,y,90
"""


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        "a": write(tmp_path, "a.toml", rubric_text("a")),
        "b": write(tmp_path, "b.toml", rubric_text("b", wx="3")),
        "data": write(tmp_path, "d.csv", DATA),
    }


# -- the rubric diff ---------------------------------------------------------------------------
def test_same_ids_with_other_weight_points_rule_scale_and_label_are_each_one_change(
    tmp_path: Path,
) -> None:
    a = load_rubric(write(tmp_path, "a.toml", rubric_text("a")))
    text = rubric_text("a", wx="3").replace('label = "Y"', 'label = "Y baru"')
    text = text.replace(
        'id = "y"\nparent = "total"\nlabel = "Y baru"\nweight = 1\nscale = "percentage"',
        'id = "y"\nparent = "total"\nlabel = "Y baru"\nweight = 1'
        '\nscale = { name = "points", max = 4 }',
    )
    b = load_rubric(write(tmp_path, "b.toml", text))
    got = {(c.subject, c.field): (c.before, c.after) for c in diff_rubrics(a, b).changes}
    assert got[("x", "weight")] == ("1", "3")
    assert got[("y", "label")] == ('"Y"', '"Y baru"')
    assert got[("y", "scale")] == ("percentage", "points (max = 4)")
    # shares: 1/2 and 1/2 before; 3/4 and 1/4 after
    assert got[("x", "share")] == ("50.00 %", "75.00 %")
    assert got[("y", "share")] == ("50.00 %", "25.00 %")
    assert len(got) == 5
    assert diff_rubrics(a, a).changes == () and diff_rubrics(a, a).same


def test_an_added_subtree_is_one_change_naming_every_criterion_in_it(tmp_path: Path) -> None:
    sub = """
[[criterion]]
id = "z"
parent = "total"
label = "Z"
weight = 2
[[criterion]]
id = "z1"
parent = "z"
label = "Z1"
scale = "percentage"
level = "unit"
[[criterion]]
id = "z2"
parent = "z"
label = "Z2"
scale = "yes_no"
level = "unit"
"""
    a = load_rubric(write(tmp_path, "a.toml", rubric_text("a")))
    b = load_rubric(write(tmp_path, "b.toml", rubric_text("b", extra=sub)))
    d = diff_rubrics(a, b)
    added = [c for c in d.changes if c.kind == "added"]
    assert [(c.subject, c.ids) for c in added] == [("z", ("z", "z1", "z2"))]
    assert d.added == ("z", "z1", "z2") and d.removed == ()
    assert added[0].sentence.startswith('Criterion "z" is added (')
    assert added[0].sentence.endswith("with the 2 criteria below it.")
    # x and y each had 1/2 of the score; with z (weight 2) beside them, 1/4
    shares = {c.subject: c.after for c in d.changes if c.field == "share"}
    assert shares == {"x": "25.00 %", "y": "25.00 %"}
    back = diff_rubrics(b, a)
    assert back.removed == ("z", "z1", "z2") and back.added == ()


def test_bands_are_compared_by_id_edges_labels_zones_added_and_removed(tmp_path: Path) -> None:
    other = (
        BANDS.replace("max = 64.99", "max = 59.99")
        .replace("min = 65", "min = 60")
        .replace('label = "Tinggi"', 'label = "Baik"')
    )
    other = other.replace(
        "min = 60\nmax = 100",
        'min = 60\nmax = 89.99\n[[bands.band]]\nid = "emas"\nlabel = "Emas"\nzone = "hijau"'
        "\nmin = 90\nmax = 100",
    )
    a = load_rubric(write(tmp_path, "a.toml", rubric_text("a")))
    b = load_rubric(write(tmp_path, "b.toml", rubric_text("b", bands=other)))
    got = {(c.subject, c.kind, c.field): (c.before, c.after) for c in diff_rubrics(a, b).changes}
    assert got[("merah", "changed", "max")] == ("64.99", "59.99")
    assert got[("hijau", "changed", "min")] == ("65.00", "60.00")
    assert got[("hijau", "changed", "max")] == ("100.00", "89.99")
    assert got[("hijau", "changed", "label")] == ('"Tinggi"', '"Baik"')
    assert ("emas", "added", None) in got
    assert got[("emas", "added", None)][1] == '"Emas", from 90.00–100.00, zone hijau'
    assert len(got) == 5
    sentences = diff_rubrics(a, b).sentences()
    assert 'Band "hijau": the lower edge changes from 65.00 to 60.00.' in sentences


def test_the_editions_diff_2021_to_2022_names_the_new_dimensions_and_bands() -> None:
    d = diff_rubrics(kepatuhan.get_rubric("ombudsman-2021"), kepatuhan.get_rubric("ombudsman-2022"))
    tops = {c.subject for c in d.changes if c.section == "criterion" and c.kind == "added"}
    assert tops == {"input", "proses", "output", "pengaduan"}
    bands = {(c.subject, c.kind) for c in d.changes if c.section == "band"}
    assert bands == {(b, "removed") for b in ("merah", "kuning", "hijau")} | {
        (b, "added") for b in "ABCDE"
    }
    assert all(s[0].isupper() and s.endswith(".") for s in d.sentences())


def test_kept_criteria_under_a_new_parent_are_moved_not_added() -> None:
    # 2025 puts the four 2024 dimensions under a new "dimensi" (70 points) beside
    # "kepercayaan_masyarakat" (30 points)
    d = diff_rubrics(kepatuhan.get_rubric("ombudsman-2024"), kepatuhan.get_rubric("ombudsman-2025"))
    assert d.added == ("dimensi", "kepercayaan_masyarakat")
    moved = {c.subject: c.after for c in d.changes if c.field == "parent"}
    assert moved == {k: '"dimensi"' for k in ("input", "proses", "output", "pengaduan")}
    top = next(c for c in d.changes if c.subject == "dimensi")
    assert top.sentence.endswith("points 70).")  # nothing new below it: no "with … below it"


@settings(max_examples=30, deadline=None)
@given(rubrics(), rubrics())
def test_the_diff_adds_what_one_rubric_has_and_the_other_lacks(a: Rubric, b: Rubric) -> None:
    d, back = diff_rubrics(a, b), diff_rubrics(b, a)
    ids_a, ids_b = {c.id for c in a.criteria}, {c.id for c in b.criteria}
    assert set(d.added) == ids_b - ids_a and len(d.added) == len(set(d.added))
    assert set(d.removed) == ids_a - ids_b
    assert set(back.added) == set(d.removed) and set(back.removed) == set(d.added)
    assert diff_rubrics(a, a).changes == ()


def test_series_labels_tell_apart_two_rubrics_with_one_id(tmp_path: Path) -> None:
    a = load_rubric(write(tmp_path, "a.toml", rubric_text("a")))
    a2 = load_rubric(write(tmp_path, "a2.toml", rubric_text("a", wx="2")))
    labels = series_labels([a, a2])
    assert labels == [f"a@{a.digest[7:15]}", f"a@{a2.digest[7:15]}"]
    assert series_labels([a]) == ["a"]
    with pytest.raises(KepatuhanError, match="given twice"):
        series_labels([a, a])


# -- the entities ------------------------------------------------------------------------------
def test_each_entity_under_each_rubric_with_the_changes_from_the_first(
    files: dict[str, str],
) -> None:
    table = read_observations(files["data"])
    a, b = load_rubric(files["a"]), load_rubric(files["b"])
    res = [kepatuhan.score(a, table), kepatuhan.score(b, table)]
    rows = {r.institution: r for r in compare_scores(res)}
    # a: i1 (80 + 40) / 2 = 60 merah, i2 (50 + 90) / 2 = 70 hijau
    # b: i1 (3·80 + 40) / 4 = 70 hijau, i2 (3·50 + 90) / 4 = 60 merah
    i1, i2 = rows["i1"], rows["i2"]
    assert [(r.published, r.band, r.rank) for r in i1.results] == [
        ("60.00", "merah", 2),
        ("70.00", "hijau", 1),
    ]
    assert [(r.published, r.zone, r.rank) for r in i2.results] == [
        ("70.00", "hijau", 1),
        ("60.00", "merah", 2),
    ]
    assert i1.score_change(1) == pytest.approx(10.0) and i1.rank_change(1) == -1
    assert i1.band_change(1) == "merah -> hijau" and i2.zone_change(1) == "hijau -> merah"
    assert i1.band_change(0) is None


# the band change (ids), then the zone change (zone words): merah -> hijau, and back
CHANGE_UP = ["merah", "->", "hijau", "merah", "->", "hijau"]
CHANGE_DOWN = ["hijau", "->", "merah", "hijau", "->", "merah"]


def test_cli_compare_shows_the_differences_then_every_institution(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["compare", files["data"], "--rubric", files["a"], "--rubric", files["b"]], capsys
    )
    assert code == 0, err
    head, _, body = out.partition("\n\n")
    assert "a -> b: 3 perbedaan" in head  # Bahasa Indonesia by default
    # the difference in Bahasa Indonesia, the criterion by its label ("X" in a.toml)
    assert "  - Kriteria «X»: bobot berubah dari 1 menjadi 3." in head.splitlines()
    assert 'Criterion "x"' not in head
    lines = [ln.split() for ln in body.splitlines()[2:]]
    # the table names bands by their labels (Rendah below 65, Tinggi from 65), zones and
    # band changes as the rubric writes them, the entity's id last
    assert lines == [
        ["i1", "a", "60.00", "Rendah", "merah", "2", "0", "i1"],
        ["i1", "b", "70.00", "Tinggi", "hijau", "1", "+10.00", *CHANGE_UP, "-1", "0", "i1"],
        ["i2", "a", "70.00", "Tinggi", "hijau", "1", "0", "i2"],
        ["i2", "b", "60.00", "Rendah", "merah", "2", "-10.00", *CHANGE_DOWN, "+1", "0", "i2"],
    ]
    code, out, _ = run(
        [
            "compare",
            files["data"],
            "--rubric",
            files["a"],
            "--rubric",
            files["b"],
            "--format",
            "json",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert [r["label"] for r in doc["rubrics"]] == ["a", "b"]
    assert doc["rubrics"][1]["digest"] == load_rubric(files["b"]).digest
    assert doc["differences"][0]["changes"][0]["sentence"].endswith(".")
    assert doc["entities"][1]["score_change"] == "+10.00"
    assert doc["entities"][1]["rank_change"] == -1
    code, out, err = run(
        [
            "compare",
            files["data"],
            "--rubric",
            files["a"],
            "--rubric",
            files["b"],
            "--format",
            "csv",
            "--units",
        ],
        capsys,
    )
    assert out.splitlines()[0] == (
        "level,institution,unit,rubric,score,band,zone,rank,of,score_change,band_change,"
        "zone_change,rank_change,missing"
    )
    assert "unit,i1,u1,b,70.00,hijau,hijau,1,2,+10.00,merah -> hijau,merah -> hijau,-1,0" in out
    assert "a -> b: 3 perbedaan" in err  # the CSV itself stays one table


def test_compare_needs_two_different_rubrics(
    files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["compare", files["data"], "--rubric", files["a"]], capsys)
    assert code == 1 and "expected at least two --rubric" in err
    code, _, err = run(
        ["compare", files["data"], "--rubric", files["a"], "--rubric", files["a"]], capsys
    )
    assert code == 1 and "given twice" in err


def test_a_rubric_that_needs_more_than_the_data_gives_shows_its_missing_values(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    extra = (
        '\n[[criterion]]\nid = "z"\nparent = "total"\nlabel = "Z"\nweight = 1\n'
        'scale = "percentage"\nlevel = "unit"\n'
    )
    c = write(tmp_path, "c.toml", rubric_text("c", extra=extra))
    code, out, err = run(["compare", files["data"], "--rubric", files["a"], "--rubric", c], capsys)
    assert code == 0
    # z is missing for both units and counts as 0: i1 (80 + 40 + 0) / 3 = 40, i2 140 / 3
    assert "warning: c: 2 needed values were missing and counted as 0" in err
    assert 'unit "u1": criterion "z"' in err
    rows = [ln.split() for ln in out.split("\n\n")[1].splitlines()[2:]]
    assert rows[1][:3] == ["i1", "c", "40.00"] and rows[1][-2:] == ["1", "i1"]
    assert rows[3][:3] == ["i2", "c", "46.67"] and rows[3][-2:] == ["1", "i2"]


# -- the crosswalk -----------------------------------------------------------------------------
NEW = """
id = "new"
title = "new"
year = 2024
[[criterion]]
id = "total"
label = "Nilai"
[[criterion]]
id = "p"
parent = "total"
label = "P"
scale = "percentage"
level = "unit"
[[criterion]]
id = "y"
parent = "total"
label = "Y"
scale = "percentage"
level = "unit"
"""


def test_a_crosswalk_maps_the_data_to_the_other_rubric_and_says_how_many_rows(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    new = write(tmp_path, "new.toml", NEW)
    cw = write(tmp_path, "cw.csv", "from,to,note\nx,p,renamed\n")
    argv = ["compare", files["data"], "--rubric", files["a"], "--rubric", new]
    code, _, err = run(argv, capsys)
    assert code == 1 and 'unknown criterion "x"' in err and "d.csv:2" in err
    code, out, err = run([*argv, "--crosswalk", cw], capsys)
    assert code == 0, err
    # x -> p on two rows; y is a criterion of "new" and keeps its id on the other two
    assert "new: " + cw + ": 2 dari 4 baris dipetakan, 2 tetap memakai kode kriterianya" in err
    err = run([*argv, "--crosswalk", cw, "--lang", "en"], capsys)[2]
    assert "new: " + cw + ": 2 of 4 rows mapped, 2 kept their criterion id" in err
    rows = [ln.split() for ln in out.split("\n\n")[1].splitlines()[2:]]
    assert rows[1][:3] == ["i1", "new", "60.00"] and rows[3][:3] == ["i2", "new", "70.00"]
    code, out, _ = run([*argv, "--crosswalk", cw, "--format", "json"], capsys)
    assert json.loads(out)["rubrics"][1]["crosswalk"] == {"rows": 4, "mapped": 2, "kept": 2}


def test_an_id_neither_mapped_nor_known_to_the_rubric_is_an_error_at_its_row(
    tmp_path: Path, files: dict[str, str]
) -> None:
    table = read_observations(write(tmp_path, "d.csv", DATA + "i2,u2,,w,10\n"))
    new = load_rubric(write(tmp_path, "new.toml", NEW))
    walk = Crosswalk((("x", "p", 2),), "cw.csv")
    with pytest.raises(KepatuhanError) as exc:
        apply_crosswalk(table, walk, new)
    assert str(exc.value.problems[0]).startswith(f'{tmp_path / "d.csv"}:6: criterion "w"')


def test_a_crosswalk_target_the_rubric_lacks_is_an_error_at_its_line(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    new = write(tmp_path, "new.toml", NEW)
    cw = write(tmp_path, "cw.csv", "from,to\ny,y\nx,q\n")
    argv = ["compare", files["data"], "--rubric", files["a"], "--rubric", new, "--crosswalk", cw]
    code, _, err = run(argv, capsys)
    assert code == 1 and err.startswith(f'{cw}:3: column "to": "q" is not a criterion of rubric')


def test_a_crosswalk_mapping_one_id_twice_or_without_header_is_refused(tmp_path: Path) -> None:
    from kepatuhan.analysis.compare import read_crosswalk

    with pytest.raises(InputFileError) as exc:
        read_crosswalk(write(tmp_path, "cw.csv", "from,to\nx,p\n\nx,q\n"))
    assert str(exc.value.problems[0]) == (
        f'{tmp_path / "cw.csv"}:4: "x" is mapped twice (first on line 2): a crosswalk maps '
        "each id to one criterion"
    )
    with pytest.raises(InputFileError, match=":1: expected the columns from and to"):
        read_crosswalk(write(tmp_path, "cw2.csv", "old,new\nx,p\n"))


def test_many_to_one_is_allowed_unless_one_entity_gives_two_of_the_merged_ids(
    tmp_path: Path,
) -> None:
    new = load_rubric(write(tmp_path, "new.toml", NEW))
    walk = Crosswalk((("x", "p", 2), ("x_old", "p", 3)), "cw.csv")
    # i1 gives x, i2 gives x_old: each entity has one value for p
    ok = (
        "institution,unit,product,criterion,value\ni1,u1,,x,80\ni1,u1,,y,40\n"
        "i2,u2,,x_old,50\ni2,u2,,y,90\n"
    )
    mapped, use = apply_crosswalk(read_observations(write(tmp_path, "ok.csv", ok)), walk, new)
    assert (use.rows, use.mapped, use.kept) == (4, 2, 2)
    res = kepatuhan.score(new, mapped)
    assert [c.published for c in res.cards()] == ["60.00", "70.00"]
    both = ok + "i1,u1,,x_old,10\n"
    path = write(tmp_path, "both.csv", both)
    with pytest.raises(KepatuhanError) as exc:
        apply_crosswalk(read_observations(path), walk, new)
    msg = str(exc.value.problems[0])
    assert msg.startswith(f'{path}:6: institution "i1" unit "u1": "x_old" and "x" (line 2)')
    assert 'both map to criterion "p"' in msg


CASES = Path(__file__).resolve().parent.parent / "plugins" / "kepatuhan-ombudsman" / "tests"


def test_2022_and_2023_on_2023_data_without_one_value_show_it_under_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (CASES / "cases" / "maluku-tenggara-2023.csv").read_text().splitlines()
    assert lines[4].startswith("kab-maluku-tenggara,puskesmas-watdek,,pengaduan,9.61")
    data = write(tmp_path, "d.csv", "\n".join(lines[:4] + lines[5:]) + "\n")
    argv = ["compare", data, "--rubric", "ombudsman-2022", "--rubric", "ombudsman-2023", "--units"]
    code, out, err = run(argv, capsys)
    assert code == 0
    for label in ("ombudsman-2022", "ombudsman-2023"):
        assert (
            f"warning: {label}: 1 needed values were missing and counted as 0: "
            'institution "kab-maluku-tenggara" unit "puskesmas-watdek": criterion "pengaduan"'
        ) in err
    # the table's cells are separated by two spaces or more (names have single spaces)
    rows = [re.split(r"\s{2,}", ln) for ln in out.split("\n\n")[1].splitlines()[2:]]
    # the regency: the seven published unit totals add up to 425.61 (60.80 × 7); without
    # Watdek's 9.61 points, 416.00 / 7 = 59.43; Watdek: 8.72 + 10.76 + 20.76 + 0 = 40.24
    assert [tuple(r[:4]) for r in rows[:2]] == [  # an institution row's unit cell is empty
        ("Kabupaten Maluku Tenggara", "ombudsman-2022", "59.43", "C — Kualitas Sedang"),
        ("Kabupaten Maluku Tenggara", "ombudsman-2023", "59.43", "C — Kualitas Sedang"),
    ]
    assert rows[0][-2] == rows[1][-2] == "1"
    watdek = [r[3:] for r in rows if r[-1] == "puskesmas-watdek"]
    assert [(r[0], r[-2]) for r in watdek] == [("40.24", "1"), ("40.24", "1")]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--crosswalk", "{tmp}/nothing.csv"], "nothing.csv: no such file"),
        (["--crosswalk", "{tmp}"], "is a directory"),
        (["--crosswalk", "{data}"], ":1: expected the columns from and to"),
        (["--rubric", "no-such-rubric"], 'unknown rubric "no-such-rubric"'),
    ],
)
def test_odd_compare_invocations_exit_1_with_one_located_line(
    extra: list[str],
    fragment: str,
    files: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)).replace("{data}", files["data"]) for a in extra]
    argv = ["compare", files["data"], "--rubric", files["a"], "--rubric", files["b"], *args]
    code, out, err = run(argv, capsys)
    assert code == 1 and out == "" and fragment in err, err
    assert len(err.strip().splitlines()) == 1, err


def test_compare_takes_the_reading_options(
    tmp_path: Path, files: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    data = write(tmp_path, "dc.csv", DATA.replace(",", ";").replace("80", "80,5"))
    argv = ["compare", data, "--rubric", files["a"], "--rubric", files["b"]]
    code, _, err = run(argv, capsys)
    assert code == 1 and "--decimal-comma" in err
    code, out, err = run([*argv, "--decimal-comma", "--delimiter", ";"], capsys)
    # i1 under a: (80.5 + 40) / 2 = 60.25; under b: (3 × 80.5 + 40) / 4 = 70.375 -> 70.38
    assert code == 0 and "60.25" in out and "70.38" in out and "+10.13" in out, err


def test_points_and_rules_of_kept_criteria_and_a_share_below_a_non_linear_rule(
    tmp_path: Path,
) -> None:
    summed = rubric_text("s").replace('label = "Nilai"', 'label = "Nilai"\nrule = "sum"')
    a = load_rubric(
        write(
            tmp_path,
            "a.toml",
            summed.replace("weight = 1", "points = 50"),
        )
    )
    b = load_rubric(
        write(
            tmp_path,
            "b.toml",
            summed.replace("weight = 1", "points = 70", 1).replace("weight = 1", "points = 30", 1),
        )
    )
    got = {(c.subject, c.field): (c.before, c.after) for c in diff_rubrics(a, b).changes}
    # x: 50 of 100 points -> 70 of 100; y: 50 -> 30
    assert got == {
        ("x", "points"): ("50", "70"),
        ("y", "points"): ("50", "30"),
        ("x", "share"): ("50.00 %", "70.00 %"),
        ("y", "share"): ("50.00 %", "30.00 %"),
    }
    assert diff_rubrics(a, b).sentences()[0] == 'Criterion "x": the points change from 50 to 70.'
    low = load_rubric(
        write(
            tmp_path,
            "m.toml",
            rubric_text("m").replace('label = "Nilai"', 'label = "Nilai"\nrule = "minimum"'),
        )
    )
    plain = load_rubric(write(tmp_path, "p.toml", rubric_text("p")))
    got = {(c.subject, c.field): (c.before, c.after) for c in diff_rubrics(plain, low).changes}
    assert got[("total", "rule")] == ("weighted_mean", "minimum")
    assert got[("x", "share")] == ("50.00 %", "not fixed (a non-linear rule above it)")


def test_values_given_in_points_of_a_node_whose_points_change_are_noted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Maluku Tenggara 2023 gives two units' dimension points; a draft with Input out of
    # 31.85 (not 21.85) reads the same 8.72 points as 8.72 of 31.85
    draft = CASES.parent / "src" / "kepatuhan_ombudsman" / "rubrics" / "ombudsman-2023.toml"
    text = draft.read_text().replace("points = 21.85", "points = 31.85")
    text = text.replace("points = 32.37", "points = 22.37")
    path = write(tmp_path, "draft.toml", text)
    data = str(CASES / "cases" / "maluku-tenggara-2023.csv")
    code, out, err = run(["compare", data, "--rubric", "ombudsman-2023", "--rubric", path], capsys)
    assert code == 0
    label = load_rubric(str(draft)).criterion("input").label
    notes = [ln for ln in err.splitlines() if ln.startswith("catatan: ")]
    assert len(notes) == 2 and notes[0].endswith(
        f"2 baris memberi nilai kriteria «{label.id}» secara langsung: dibaca sebagai poin "
        "dari 21.85 menurut rubrik pertama dan sebagai poin dari 31.85 menurut rubrik ini "
        "(angka yang sama, tidak diskalakan ulang)."
    )
    assert f"Kriteria «{label.id}»: poin berubah dari 21.85 menjadi 31.85." in out
    code, out, err = run(
        ["compare", data, "--rubric", "ombudsman-2023", "--rubric", path, "--lang", "en"], capsys
    )
    assert f"Criterion “{label.en}”: the points change from 21.85 to 31.85." in out
    notes = [ln for ln in err.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 2 and notes[0].endswith(
        f"2 rows give criterion “{label.en}” directly: read as points out of 21.85 under the "
        "first rubric and as points out of 31.85 under this one (the same numbers, not "
        "rescaled)."
    )
    # the JSON keeps the English sentence by id
    code, out, _ = run(
        ["compare", data, "--rubric", "ombudsman-2023", "--rubric", path, "--format", "json"],
        capsys,
    )
    assert json.loads(out)["rubrics"][1]["points_rereads"][0] == (
        '2 rows give criterion "input" directly: read as points out of 21.85 under the first '
        "rubric and as points out of 31.85 under this one (the same numbers, not rescaled)."
    )


PM = fresh_manager()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data(), st.sampled_from(["0.5", "2", "3", "10", "0.001"]))
def test_scaling_sibling_weights_is_a_weight_change_with_no_effect(
    data: st.DataObject, factor: str
) -> None:
    rubric = data.draw(rubrics())
    tree = rubric.tree
    # children weighed by weights alone (points beside a weight are refused on a leaf)
    parents = [
        i
        for i in tree.order
        if tree.children[i]
        and tree.nodes[i].rule.name == "weighted_mean"
        and all(tree.nodes[k].points is None for k in tree.children[i])
    ]
    assume(parents)
    p = data.draw(st.sampled_from(parents))
    kids = {tree.nodes[k].id for k in tree.children[p]}
    scaled = attrs.evolve(
        rubric,
        id="scaled",
        criteria=tuple(
            attrs.evolve(c, weight=c.effective_weight * Decimal(factor)) if c.id in kids else c
            for c in rubric.criteria
        ),
    )
    d = diff_rubrics(rubric, scaled)
    assert {c.field for c in d.changes} <= {"weight"}  # no share, no rule: only the weights
    assert {c.subject for c in d.changes} <= kids
    records = data.draw(table_records(rubric, PM.registry))
    table = ObservationTable.from_records(records)
    try:
        results = [kepatuhan.score(r, table, plugins=PM) for r in (rubric, scaled)]
    except KepatuhanError:
        assume(False)
        return
    for row in compare_scores(results, units=True):
        change = row.score_change(1)
        assert change is None or abs(change) < 1e-9
        assert row.band_change(1) is None and row.zone_change(1) is None
