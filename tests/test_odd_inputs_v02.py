"""Odd but plausible inputs to the features of 0.2 (derive, rule parameters, not_applicable_for,
product weights, compare, describe, gap, rank, export, panel): the right number, or a located
error — never another number with exit 0. Each expected figure is worked out by hand beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kepatuhan import load_rubric, read_observations, rubric_from_toml
from kepatuhan.analysis.panel import panel
from kepatuhan.analysis.rank import rank
from kepatuhan.analysis.sensitivity import sensitivity
from kepatuhan.cli import main
from kepatuhan.engine import score
from kepatuhan.errors import InputFileError, RubricError

TWO = """
id = "two"
title = "two criteria"

[[criterion]]
id = "total"
label = "Total"

[[criterion]]
id = "a"
label = "A"
parent = "total"
scale = "percentage"
level = "unit"

[[criterion]]
id = "b"
label = "B"
parent = "total"
scale = "percentage"
level = "unit"
"""

# Three regencies and their one unit each, the sector and kind spelt as three spreadsheets
# would: "kesehatan", "Kesehatan", "KESEHATAN"; "kota", "Kota", "KOTA". Scores (a + b) / 2:
# k (80 + 40) / 2 = 60, j (90 + 60) / 2 = 75, m (70 + 70) / 2 = 70.
SPELLINGS = """institution,unit,product,criterion,value,unit_sector,institution_kind
k,u,,a,80,kesehatan,kota
k,u,,b,40,,
j,u,,a,90,Kesehatan,Kota
j,u,,b,60,,
m,u,,a,70,KESEHATAN,KOTA
m,u,,b,70,,
"""


def _spellings(tmp_path: Path) -> Path:
    p = tmp_path / "spellings.csv"
    p.write_text(SPELLINGS, encoding="utf-8")
    return p


@pytest.mark.parametrize(("by", "level"), [("sector", "unit"), ("kind", "institution")])
def test_rank_groups_a_sector_or_kind_whatever_its_letter_case(
    tmp_path: Path, by: str, level: str
) -> None:
    """The not_applicable_for rule reads "Kesehatan" as "kesehatan"; a peer group must too:
    one group of three, j 1st (75), m 2nd (70), k 3rd (60) — not j alone, 1st of 1."""
    res = score(rubric_from_toml(TWO), read_observations(_spellings(tmp_path)))
    rows = rank(res, by=by, level=level)
    assert len({r.group for r in rows}) == 1
    assert [(r.institution, r.rank, r.of) for r in rows] == [("j", 1, 3), ("m", 2, 3), ("k", 3, 3)]


def test_rank_cli_prints_one_group_for_spellings_of_one_sector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    p = _spellings(tmp_path)
    rubric = tmp_path / "two.toml"
    rubric.write_text(TWO, encoding="utf-8")
    argv = ["rank", str(p), "--rubric", str(rubric), "--by", "sector", "--level", "unit"]
    assert main([*argv, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    assert len(lines) == 3
    assert all(",3," in line for line in lines), lines  # every rank "of 3"


def test_sensitivity_ranks_within_a_kind_whatever_its_letter_case(tmp_path: Path) -> None:
    """Sensitivity's ranks are within kinds too: the three regencies are one kind, so with
    the weights hardly moved (spread 0.01 keeps j > m > k: 75 / 70 / 60 apart by 5 points or
    more) j is 1st, m 2nd and k 3rd in every draw."""
    res = score(rubric_from_toml(TWO), read_observations(_spellings(tmp_path)))
    s = sensitivity(res, draws=20, spread=0.01, seed=1)
    by_id = dict(zip(s.institutions, zip(s.rank_low, s.rank_high, strict=True), strict=True))
    assert by_id == {"j": (1, 1), "m": (2, 2), "k": (3, 3)}


def test_rank_intervals_draw_one_group_for_spellings_of_one_kind(tmp_path: Path) -> None:
    """The plot of sensitivity's ranks heads one group, "KOTA" (the first spelling in sorted
    order), of the three regencies — not three groups of one."""
    from kepatuhan.present import plots

    res = score(rubric_from_toml(TWO), read_observations(_spellings(tmp_path)))
    fig = plots.rank_intervals(sensitivity(res, draws=5, spread=0.0), res, top=10)
    ticks = fig.axes[0].get_yticklabels()
    headers = [t.get_text() for t in ticks if t.get_fontweight() == "bold"]
    assert headers == ["KOTA: 3 dari 3 instansi"]


# -- panel -----------------------------------------------------------------------------------


def _result(tmp: Path, name: str, data: str, rubric: str) -> str:
    d = tmp / f"{name}.csv"
    d.write_text(data, encoding="utf-8")
    out = tmp / f"{name}.json"
    assert (
        main(["score", str(d), "--rubric", rubric, "--format", "json", "--output", str(out)]) == 0
    )
    return str(out)


def test_panel_refuses_one_institution_spelt_in_two_letter_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ "kab-x" in 2023 and "Kab-X" in 2024 are one regency, as within one file (where the
    second spelling is refused): split, each would lose a year of its trajectory and be
    ranked as a stranger, with exit 0. Refused, naming both files and both spellings."""
    r23 = _result(
        tmp_path,
        "r23",
        "institution,unit,product,criterion,value\nkab-x,u,,total,70\n",
        "ombudsman-2023",
    )
    r24 = _result(
        tmp_path,
        "r24",
        "institution,unit,product,criterion,value\nKab-X,u,,total,80\n",
        "ombudsman-2024",
    )
    with pytest.raises(InputFileError) as e:
        panel([r23, r24])
    msg = str(e.value)
    assert '"Kab-X"' in msg and '"kab-x"' in msg and "r23.json" in msg and "r24.json" in msg
    capsys.readouterr()
    assert main(["panel", r23, r24]) == 1
    err = capsys.readouterr().err
    assert "r24.json" in err and "Traceback" not in err


# -- derive (extends) ------------------------------------------------------------------------


def test_a_rubric_with_two_criteria_differing_only_in_letter_case_is_refused() -> None:
    """Data with "y" and "Y" is refused (one criterion spelt twice), so a rubric with both
    could never be scored from data giving both; it is refused where it is written."""
    text = TWO.replace('id = "b"\nlabel = "B"', 'id = "A"\nlabel = "B"')
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text)
    assert 'criterion "A" looks like the same criterion as "a"' in str(e.value)
    assert any(p.key_path == 'criterion "A".id' for p in e.value.problems)


def test_an_override_spelt_in_another_letter_case_is_refused_not_added(tmp_path: Path) -> None:
    """An override of "b" written `id = "B"` with the keys of a whole criterion would add a
    third criterion "B" beside "b": the data's "b" still scores "b", "B" is missing and counts
    0, so a unit with a = 80, b = 40 gets (80 + 40 + 0) / 3 = 40.00 instead of 60.00 — with
    exit 0. Refused, naming the inherited id, in the derived file."""
    (tmp_path / "two.toml").write_text(TWO, encoding="utf-8")
    derived = tmp_path / "derived.toml"
    derived.write_text(
        'extends = "two.toml"\nid = "derived"\n[[criterion]]\nid = "B"\nlabel = "B"\n'
        'parent = "total"\nscale = "percentage"\nlevel = "unit"\n',
        encoding="utf-8",
    )
    with pytest.raises(RubricError) as e:
        load_rubric(derived)
    assert 'criterion "B" looks like the same criterion as "b"' in str(e.value)
    assert e.value.problems[0].path == str(derived)


# -- compare --crosswalk -----------------------------------------------------------------------

# The next edition renames "a" to "aa" and brings a new "a" of weight 3 (another measure).
NEXT = """
id = "next"
title = "the next edition"

[[criterion]]
id = "total"
label = "Total"

[[criterion]]
id = "a"
label = "another measure"
parent = "total"
scale = "percentage"
level = "unit"
weight = 3

[[criterion]]
id = "aa"
label = "A"
parent = "total"
scale = "percentage"
level = "unit"

[[criterion]]
id = "b"
label = "B"
parent = "total"
scale = "percentage"
level = "unit"
"""


def test_a_crosswalk_from_id_in_another_letter_case_than_the_data_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`A,aa` meant the data's "a". Left unused, the row "a" = 80 is kept as the next
    edition's other "a" (weight 3) and "aa" is missing: (3 × 80 + 0 + 40) / 5 = 56.00, where
    the mapping the file asks for gives (3 × 0 + 80 + 40) / 5 = 24.00 — with exit 0 and only
    "0 of 2 rows mapped" to tell. Refused at the crosswalk's line, naming both spellings."""
    (tmp_path / "two.toml").write_text(TWO, encoding="utf-8")
    (tmp_path / "next.toml").write_text(NEXT, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("institution,unit,product,criterion,value\nk,u,,a,80\nk,u,,b,40\n")
    cw = tmp_path / "cw.csv"
    cw.write_text("from,to\nA,aa\n", encoding="utf-8")
    argv = ["compare", str(data), "--rubric", str(tmp_path / "two.toml")]
    argv += ["--rubric", str(tmp_path / "next.toml"), "--crosswalk", str(cw)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "cw.csv:2" in err and '"A"' in err and '"a"' in err and "Traceback" not in err


# -- not_applicable_for ----------------------------------------------------------------------

RULED = TWO.replace(
    'id = "b"\nlabel = "B"',
    'id = "b"\nlabel = "B"\nnot_applicable_for = { unit_sector = ["kesehatan"] }',
)


def test_a_rule_whose_sector_occurs_nowhere_in_the_data_is_announced(tmp_path: Path) -> None:
    """The data spells the health sector "puskesmas": the rule matches no unit, so "b"
    applies everywhere — u scores (80 + 40) / 2 = 60.00, not 80.00 — which is right for the
    data as written, and must be visible: a warning names the rule and the data's sectors."""
    p = tmp_path / "d.csv"
    p.write_text(
        "institution,unit,product,criterion,value,unit_sector\n"
        "k,u,,a,80,puskesmas\nk,u,,b,40,\nk,v,,a,60,pendidikan\nk,v,,b,60,\n",
        encoding="utf-8",
    )
    res = score(rubric_from_toml(RULED), read_observations(p))
    assert res.card("k").children[0].published == "60.00"
    warned = [str(w) for w in res.warnings if "matches no unit" in str(w)]
    assert len(warned) == 1, [str(w) for w in res.warnings]
    assert 'criterion "b"' in warned[0] and '"kesehatan"' in warned[0]
    assert "pendidikan, puskesmas" in warned[0]


def test_a_rule_that_matches_some_unit_is_not_announced_as_unmatched(tmp_path: Path) -> None:
    """ "Kesehatan" is the rule's "kesehatan": u's b is not applicable, u = 80.00."""
    p = tmp_path / "d.csv"
    p.write_text(
        "institution,unit,product,criterion,value,unit_sector\nk,u,,a,80,Kesehatan\nk,u,,b,,\n",
        encoding="utf-8",
    )
    res = score(rubric_from_toml(RULED), read_observations(p))
    assert res.card("k").children[0].published == "80.00"
    assert not [w for w in res.warnings if "matches no" in str(w)]


def test_compare_names_a_not_applicable_for_rule_as_a_method_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A derived rubric that only adds `not_applicable_for` to "b" moves a health unit from
    (80 + 40) / 2 = 60.00 to 80.00: compare must not say "no difference in how scores are
    made"; the change is one sentence, and the same rule in another letter case none."""
    from kepatuhan.analysis.compare import diff_rubrics

    base = rubric_from_toml(TWO)
    ruled = rubric_from_toml(RULED)
    changes = diff_rubrics(base, ruled).changes
    assert [(c.subject, c.field, c.before, c.after) for c in changes] == [
        ("b", "not_applicable_for", "none", "unit sector kesehatan")
    ]
    assert "does not apply" in changes[0].sentence
    shouted = rubric_from_toml(RULED.replace('["kesehatan"]', '["KESEHATAN"]'))
    assert not diff_rubrics(ruled, shouted).changes
    (tmp_path / "two.toml").write_text(TWO, encoding="utf-8")
    (tmp_path / "ruled.toml").write_text(RULED, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text(
        "institution,unit,product,criterion,value,unit_sector\nk,u,,a,80,kesehatan\nk,u,,b,40,\n"
    )
    argv = ["compare", str(data), "--rubric", str(tmp_path / "two.toml")]
    assert main([*argv, "--rubric", str(tmp_path / "ruled.toml"), "--format", "csv"]) == 0
    out = capsys.readouterr()
    # the differences go to stderr, in the language of --lang (Bahasa Indonesia by default)
    assert "Tidak ada perbedaan" not in out.err
    assert "aturan kapan kriteria ini tidak berlaku berubah" in out.err
    ruled_argv = [*argv, "--rubric", str(tmp_path / "ruled.toml"), "--format", "csv"]
    assert main([*ruled_argv, "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "No difference" not in err and "does not apply" in err
    assert main([*argv, "--rubric", str(tmp_path / "ruled.toml"), "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert out.out.splitlines()[2].split(",")[3:5] == ["80.00", ""]


# -- explain: a value the missing policy made not applicable -----------------------------------


def test_explain_shows_a_value_the_missing_policy_made_not_applicable_as_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Under `missing = "not_applicable"` u has no b: b is left out, u = a = 50.00, and b is in
    the result's missing list. The explanation must say b was missing, not only "not
    applicable" (which reads as the rubric's own rule): the three kinds of no value stay
    apart in the explanation too."""
    text = TWO.replace(
        'title = "two criteria"', 'title = "two criteria"\nmissing = "not_applicable"'
    )
    (tmp_path / "r.toml").write_text(text, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("institution,unit,product,criterion,value\nk,u,,a,50\n", encoding="utf-8")
    res = score(rubric_from_toml(text), read_observations(data))
    assert res.card("k").published == "50.00"
    node = res.explain("k")
    b = next(c for c in node.entities[0].children if c.criterion == "b")
    assert (b.state, b.reason) == ("not_applicable", "missing")
    argv = ["explain", str(data), "--rubric", str(tmp_path / "r.toml"), "--institution", "k"]
    assert main([*argv, "--lang", "en"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.strip().startswith("B @"))
    assert "not applicable (missing" in line, line
