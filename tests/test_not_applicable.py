"""``not_applicable_for``: a criterion that does not apply to some units or institutions.

The worked example (checked by hand): criterion ``a`` weighs 3 and ``b`` weighs 1 under the
root; ``b`` does not apply to ``kesehatan`` units. The hospital (``rs``, sector
``Kesehatan``) has a = 80, so it scores 80.00 (b is not applicable, a alone counts); the
school (``sd``, ``pendidikan``) has a = 60, b = 100: (3 × 60 + 1 × 100) / 4 = 70.00; the
institution is the plain mean of its units, (80 + 70) / 2 = 75.00. A value for ``b`` given
for the hospital anyway (20) is excluded: with it, the hospital would score
(3 × 80 + 20) / 4 = 65.00.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from kepatuhan import KepatuhanError, ObservationTable, Rubric, rubric_from_toml, rubric_to_toml
from kepatuhan.cli import main
from kepatuhan.engine import score
from kepatuhan.errors import RubricError
from kepatuhan.plugins import PluginManager
from kepatuhan.results import NA, ROW_EXCLUDED
from kepatuhan.rubric import Criterion, NotApplicableFor, canonical_rubric
from kepatuhan.testing import reference_scores

DOCS = Path(__file__).resolve().parent.parent / "docs"

RUBRIC = """
id = "na-demo"
title = "N/A demo"

[[criterion]]
id = "total"
label = "Total"

[[criterion]]
id = "a"
label = "A"
parent = "total"
weight = 3
scale = "percentage"
level = "unit"

[[criterion]]
id = "b"
label = "B"
parent = "total"
weight = 1
scale = "percentage"
level = "unit"
not_applicable_for = { unit_sector = ["kesehatan"] }
"""


RULE = 'not_applicable_for = { unit_sector = ["kesehatan"] }'


def rows(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        dict(institution="k", unit="rs", criterion="a", value=80, unit_sector="Kesehatan"),
        dict(institution="k", unit="rs", criterion="b", value=20),
        dict(institution="k", unit="sd", criterion="a", value=60, unit_sector="pendidikan"),
        dict(institution="k", unit="sd", criterion="b", value=100),
        *extra,
    ]


@pytest.fixture
def rubric() -> Rubric:
    return rubric_from_toml(RUBRIC)


def unit_scores(res: Any) -> dict[str, float | None]:
    states = res.states_at(1)[res.root]
    return {
        u.id: None if states[k] == NA else float(res.values_at(1)[res.root, k])
        for k, u in enumerate(res.table.units)
    }


def test_the_worked_example_by_hand(rubric: Rubric, pm: PluginManager) -> None:
    res = score(rubric, ObservationTable.from_records(rows()), plugins=pm)
    assert unit_scores(res) == {"rs": 80.0, "sd": 70.0}
    assert res.card("k").score == 75.0
    # b is not applicable for the hospital, scored for the school
    b = res.rubric.tree.index["b"]
    assert res.states_at(1)[b].tolist() == [NA, 1]


def test_a_value_given_for_a_cell_not_applicable_by_rule_is_excluded_and_reported(
    rubric: Rubric, pm: PluginManager
) -> None:
    res = score(rubric, ObservationTable.from_records(rows()), plugins=pm)
    acc = res.accounting()
    assert acc["excluded"] == 1 and acc["used"] == 3
    assert acc["excluded_lines"] == [2]  # the hospital's b = 20 (record 2)
    assert acc["excluded_rows"] == [
        {"line": 2, "by": 'criterion "b" not applicable (unit sector Kesehatan)'}
    ]
    assert int(res.row_class[1]) == ROW_EXCLUDED
    warned = [str(w) for w in res.warnings if "not_applicable_for" in str(w)]
    assert len(warned) == 1 and "1 rows" in warned[0] and "excluded, not used" in warned[0]
    assert 'unit "rs" criterion "b"' in warned[0]


def test_the_rule_gives_what_na_rows_give(rubric: Rubric, pm: PluginManager) -> None:
    """Without the rule, writing na for the hospital's b gives the same bits."""
    plain = rubric_from_toml(
        RUBRIC.replace('not_applicable_for = { unit_sector = ["kesehatan"] }', "")
    )
    by_rule = score(rubric, ObservationTable.from_records(rows()), plugins=pm)
    with_na = rows()
    with_na[1] = dict(with_na[1], value="na")
    by_na = score(plain, ObservationTable.from_records(with_na), plugins=pm)
    for level in range(3):
        assert by_rule.values_at(level).tobytes() == by_na.values_at(level).tobytes()
        assert by_rule.states_at(level).tobytes() == by_na.states_at(level).tobytes()


def test_without_the_rule_the_hospital_value_would_count(pm: PluginManager) -> None:
    plain = rubric_from_toml(
        RUBRIC.replace('not_applicable_for = { unit_sector = ["kesehatan"] }', "")
    )
    res = score(plain, ObservationTable.from_records(rows()), plugins=pm)
    assert unit_scores(res)["rs"] == 65.0  # (3 × 80 + 20) / 4: what the rule prevents


def test_a_unit_without_a_sector_is_not_matched_and_score_warns(
    rubric: Rubric, pm: PluginManager
) -> None:
    recs = rows(
        dict(institution="k", unit="x", criterion="a", value=40),
        dict(institution="k", unit="x", criterion="b", value=0),
    )
    res = score(rubric, ObservationTable.from_records(recs), plugins=pm)
    assert unit_scores(res)["x"] == 30.0  # (3 × 40 + 0) / 4: b applies
    warned = [str(w) for w in res.warnings if "have no unit_sector" in str(w)]
    assert len(warned) == 1 and "1 of 3 units" in warned[0] and 'unit "x"' in warned[0]


def test_sectors_match_ignoring_letter_case(rubric: Rubric, pm: PluginManager) -> None:
    for spelling in ("kesehatan", "KESEHATAN", "Kesehatan"):
        recs = rows()
        recs[0] = dict(recs[0], unit_sector=spelling)
        res = score(rubric, ObservationTable.from_records(recs), plugins=pm)
        assert unit_scores(res)["rs"] == 80.0, spelling


def test_a_unit_whose_only_criteria_do_not_apply_is_not_applicable(
    pm: PluginManager,
) -> None:
    both = rubric_from_toml(
        RUBRIC.replace(
            'level = "unit"\n\n[[criterion]]\nid = "b"',
            'level = "unit"\nnot_applicable_for = { unit_sector = ["kesehatan"] }\n\n'
            '[[criterion]]\nid = "b"',
        )
    )
    res = score(both, ObservationTable.from_records(rows()), plugins=pm)
    assert unit_scores(res) == {"rs": None, "sd": 70.0}
    assert res.card("k").score == 70.0  # the institution renormalises over its units


SUBTREE = """
id = "na-tree"
title = "subtree"

[[criterion]]
id = "total"
label = "Total"

[[criterion]]
id = "sarana"
label = "Sarana"
parent = "total"
not_applicable_for = { institution_kind = ["kota"] }

[[criterion]]
id = "s1"
label = "S1"
parent = "sarana"
scale = "yes_no"
level = "product"

[[criterion]]
id = "s2"
label = "S2"
parent = "sarana"
scale = "yes_no"
level = "unit"

[[criterion]]
id = "c"
label = "C"
parent = "total"
scale = "percentage"
level = "unit"
"""


def test_an_institution_kind_rule_covers_the_whole_subtree(pm: PluginManager) -> None:
    """For a city (kind ``kota``) "sarana" and its indicators do not apply at any level:
    the unit scores c alone (50). For a regency the unit is (sarana + c) / 2, with sarana =
    (s1 + s2) / 2 = (100 + 0) / 2 = 50, so (50 + 90) / 2 = 70."""
    r = rubric_from_toml(SUBTREE)

    def inst(i: str, kind: str, c: float) -> list[dict[str, Any]]:
        return [
            dict(
                institution=i,
                unit="u",
                product="p",
                criterion="s1",
                value="ya",
                institution_kind=kind,
            ),
            dict(institution=i, unit="u", criterion="s2", value="tidak"),
            dict(institution=i, unit="u", criterion="c", value=c),
        ]

    res = score(
        r,
        ObservationTable.from_records(
            [*inst("kota-a", "Kota", 50), *inst("kab-b", "kabupaten", 90)]
        ),
        plugins=pm,
    )
    assert res.card("kota-a").score == 50.0
    assert res.card("kab-b").score == 70.0
    acc = res.accounting()
    assert acc["excluded"] == 2  # the city's s1 (a product row) and s2
    assert {r["by"] for r in acc["excluded_rows"]} == {
        'criterion "s1" not applicable (institution kind Kota)',
        'criterion "s2" not applicable (institution kind Kota)',
    }
    sarana = r.tree.index["sarana"]
    city = [i.id for i in res.table.institutions].index("kota-a")
    assert res.states_at(0)[sarana, city] == NA


def test_explain_says_why_a_criterion_does_not_apply(
    rubric: Rubric, pm: PluginManager, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    res = score(rubric, ObservationTable.from_records(rows()), plugins=pm)
    node = res.explain("k", "rs")
    b = next(n for n in node.walk() if n.criterion == "b")
    assert b.state == "not_applicable" and b.reason == "unit sector Kesehatan"
    assert b.contribution == 0.0 and b.share == 0.0
    assert b.to_dict()["reason"] == "unit sector Kesehatan"
    a = next(n for n in node.walk() if n.criterion == "a")
    assert "reason" not in a.to_dict()  # no key where there is nothing to say
    (tmp_path / "r.toml").write_text(RUBRIC, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text(
        "institution,unit,product,criterion,value,unit_sector\n"
        "k,rs,,a,80,Kesehatan\nk,rs,,b,20,\nk,sd,,a,60,pendidikan\nk,sd,,b,100,\n",
        encoding="utf-8",
    )
    rc = main(
        [
            "explain",
            "--rubric",
            str(tmp_path / "r.toml"),
            str(data),
            "--institution",
            "k",
            "--unit",
            "rs",
            "--lang",
            "en",
        ]
    )
    out = capsys.readouterr()
    assert rc == 0
    assert "B @ rs: not applicable (unit sector Kesehatan)  " in out.out, out.out
    assert main(["score", "--rubric", str(tmp_path / "r.toml"), str(data)]) == 0
    err = capsys.readouterr().err
    assert "excluded, not used" in err and "d.csv:3" in err


def test_the_reference_scorer_agrees(rubric: Rubric, pm: PluginManager) -> None:
    table = ObservationTable.from_records(rows())
    ref = reference_scores(rubric, table, pm.registry)
    assert ref == {(0, 0): 75.0, (1, 0): 80.0, (1, 1): 70.0}


# -- the rubric file -------------------------------------------------------------------------
def bad(rule: str) -> str:
    return RUBRIC.replace('{ unit_sector = ["kesehatan"] }', rule)


@pytest.mark.parametrize(
    ("rule", "key_path", "message"),
    [
        (
            '{ unit_sectr = ["kesehatan"] }',
            'criterion "b".not_applicable_for.unit_sectr',
            'did you mean "unit_sector"',
        ),
        ('{ unit_kind = ["x"] }', 'criterion "b".not_applicable_for.unit_kind', "unknown key"),
        (
            '{ unit_sector = "kesehatan" }',
            'criterion "b".not_applicable_for.unit_sector',
            "expected a list of strings",
        ),
        (
            "{ unit_sector = [1] }",
            'criterion "b".not_applicable_for.unit_sector',
            "expected a list of strings",
        ),
        (
            '{ unit_sector = [""] }',
            'criterion "b".not_applicable_for.unit_sector[0]',
            "expected a non-empty text",
        ),
        ("{}", 'criterion "b".not_applicable_for', "expected at least one of"),
        ('"kesehatan"', 'criterion "b".not_applicable_for', "expected a table"),
    ],
)
def test_a_bad_rule_is_a_located_rubric_error(rule: str, key_path: str, message: str) -> None:
    with pytest.raises(RubricError) as err:
        rubric_from_toml(bad(rule), "r.toml")
    keys = [p.key_path for p in err.value.problems]
    assert key_path in keys, keys
    assert message in str(err.value)
    assert "r.toml" in str(err.value)


def test_a_unit_sector_rule_on_an_institution_criterion_is_refused() -> None:
    text = RUBRIC.replace(
        'level = "unit"\nnot_applicable_for', 'level = "institution"\nnot_applicable_for'
    )
    with pytest.raises(RubricError, match="can never match"):
        rubric_from_toml(text)
    # an institution_kind rule there is fine
    rubric_from_toml(text.replace("unit_sector", "institution_kind"))


def test_a_child_of_an_additive_node_cannot_carry_the_rule(pm: PluginManager) -> None:
    """Points whose split is unknown cannot renormalise: the rule belongs on the parent."""
    text = """
id = "add-na"
title = "add"
[[criterion]]
id = "total"
label = "T"
rule = "add"
[[criterion]]
id = "p"
label = "P"
parent = "total"
scale = { name = "points", max = 100 }
level = "unit"
na_allowed = false
not_applicable_for = { unit_sector = ["kesehatan"] }
"""
    problems = pm.registry.check(rubric_from_toml(text))
    assert [p.key_path for p in problems] == ['criterion "p".not_applicable_for'], problems
    assert "put the rule on the parent" in str(problems[0])
    assert pm.registry.check(rubric_from_toml(text.replace(RULE, ""))) == []


def test_toml_round_trip_and_python_spelling(rubric: Rubric) -> None:
    assert rubric_from_toml(rubric_to_toml(rubric)) == rubric
    b = rubric.criterion("b")
    assert b.not_applicable_for == NotApplicableFor(unit_sector=("kesehatan",))
    # a mapping is accepted in Python and means the same
    assert Criterion("b", "B", not_applicable_for={"unit_sector": ["kesehatan"]}) == Criterion(
        "b", "B", not_applicable_for=NotApplicableFor(unit_sector=("kesehatan",))
    )


def test_the_rule_enters_the_digest_only_when_set(rubric: Rubric) -> None:
    plain = rubric_from_toml(
        RUBRIC.replace('not_applicable_for = { unit_sector = ["kesehatan"] }', "")
    )
    assert plain.digest != rubric.digest
    crits = canonical_rubric(plain)["rubric"]["criteria"]
    assert all("not_applicable_for" not in c for c in crits)
    assert canonical_rubric(rubric)["rubric"]["criteria"][2]["not_applicable_for"] == {
        "unit_sector": ["kesehatan"],
        "institution_kind": [],
    }
    other = rubric_from_toml(RUBRIC.replace('"kesehatan"', '"pendidikan"'))
    assert other.digest != rubric.digest


def test_the_official_editions_keep_their_digests(pm: PluginManager) -> None:
    """Each edition's generated docs page (written before ``not_applicable_for`` and
    ``product_weight`` existed) records its digest: adding optional fields changed none."""
    from kepatuhan.plugins import default_manager

    reg = default_manager().registry
    pages = sorted((DOCS / "editions").glob("ombudsman-*.md"))
    assert len(pages) >= 8
    for page in pages:
        m = re.search(
            r"Rubric id `([^`]+)`, version [^,]+, digest `(sha256:[0-9a-f]{64})`",
            page.read_text(encoding="utf-8"),
        )
        assert m, page
        assert reg.rubric(m.group(1)).digest == m.group(2), page.name


def test_check_rubric_laws_hold_for_a_ruled_rubric(rubric: Rubric, pm: PluginManager) -> None:
    from kepatuhan.testing import check_rubric_laws

    check_rubric_laws(rubric, plugins=pm, max_examples=30)


def test_a_sector_declared_in_a_toml_observation_file_drives_the_rule(
    rubric: Rubric, pm: PluginManager
) -> None:
    from kepatuhan.io.observations_io import read_observations_text

    text = """
[[unit]]
institution = "k"
id = "rs"
sector = "kesehatan"

[[unit]]
institution = "k"
id = "sd"
sector = "pendidikan"
""" + "".join(
        f'\n[[observation]]\ninstitution = "k"\nunit = "{u}"\ncriterion = "{c}"\nvalue = {v}\n'
        for u, c, v in (("rs", "a", 80), ("rs", "b", 20), ("sd", "a", 60), ("sd", "b", 100))
    )
    res = score(rubric, read_observations_text(text, "toml", "d.toml"), plugins=pm)
    assert unit_scores(res) == {"rs": 80.0, "sd": 70.0}
    assert res.accounting()["excluded_rows"] == [
        {"line": 2, "by": 'criterion "b" not applicable (unit sector kesehatan)'}
    ]


SUM = """
id = "na-sum"
title = "points"

[[criterion]]
id = "total"
label = "Total"
rule = "sum"

[[criterion]]
id = "x"
label = "X"
parent = "total"
points = 60
level = "unit"
scale = { name = "points", max = 60 }

[[criterion]]
id = "y"
label = "Y"
parent = "total"
points = 40
level = "unit"
scale = { name = "points", max = 40 }
not_applicable_for = { unit_sector = ["kesehatan"] }
"""


def test_under_sum_the_rule_renormalises_as_na_does(pm: PluginManager) -> None:
    """x = 30 of 60 points; for a kesehatan unit y does not apply, so the unit has 30 of the
    60 points that apply: 50.00; another unit with y = 40 of 40 has 70 of 100: 70.00."""
    r = rubric_from_toml(SUM)
    recs = [
        dict(institution="k", unit="rs", criterion="x", value=30, unit_sector="kesehatan"),
        dict(institution="k", unit="sd", criterion="x", value=30, unit_sector="pendidikan"),
        dict(institution="k", unit="sd", criterion="y", value=40),
    ]
    res = score(r, ObservationTable.from_records(recs), plugins=pm)
    assert unit_scores(res) == {"rs": 50.0, "sd": 70.0}
    plain = rubric_from_toml(SUM.replace(RULE, ""))
    with_na = [*recs, dict(institution="k", unit="rs", criterion="y", value="na")]
    by_na = score(plain, ObservationTable.from_records(with_na), plugins=pm)
    assert by_na.values_at(1).tobytes() == res.values_at(1).tobytes()


def test_a_cell_not_applicable_by_rule_is_never_missing(pm: PluginManager) -> None:
    """Under ``missing = "error"`` the hospital needs no row for b at all."""
    strict = rubric_from_toml(
        RUBRIC.replace('title = "N/A demo"', 'title = "N/A demo"\nmissing = "error"')
    )
    recs = [r for r in rows() if not (r["unit"] == "rs" and r["criterion"] == "b")]
    res = score(strict, ObservationTable.from_records(recs), plugins=pm)
    assert unit_scores(res) == {"rs": 80.0, "sd": 70.0} and res.missing() == ()
    plain = rubric_from_toml(
        RUBRIC.replace(RULE, "").replace(
            'title = "N/A demo"', 'title = "N/A demo"\nmissing = "error"'
        )
    )
    with pytest.raises(KepatuhanError, match='no value for criterion "b"'):
        score(plain, ObservationTable.from_records(recs), plugins=pm)


def test_strict_refuses_rows_the_rule_excludes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r.toml").write_text(RUBRIC, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text(
        "institution,unit,product,criterion,value,unit_sector\n"
        "k,rs,,a,80,kesehatan\nk,rs,,b,20,\nk,sd,,a,60,pendidikan\nk,sd,,b,100,\n",
        encoding="utf-8",
    )
    args = ["score", "--rubric", str(tmp_path / "r.toml"), str(data), "--strict"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "1 rows give values for criteria that are not applicable" in err
    assert "(lines [3])" in err and "--strict refuses that" in err
    data.write_text(data.read_text().replace("k,rs,,b,20,\n", ""), encoding="utf-8")
    assert main(args) == 0


def test_accounting_counts_the_rows_the_rule_excludes(rubric: Rubric, pm: PluginManager) -> None:
    res = score(rubric, ObservationTable.from_records(rows()), plugins=pm)
    assert res.accounting()["excluded_by_rule"] == 1
    assert res.ruled_rows().tolist() == [1]
    plain = rubric_from_toml(RUBRIC.replace(RULE, ""))
    assert score(plain, ObservationTable.from_records(rows()), plugins=pm).ruled_rows().size == 0


def test_show_names_the_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r.toml"
    path.write_text(RUBRIC, encoding="utf-8")
    assert main(["show", str(path)]) == 0
    assert (
        "not applicable: b (with its subtree) for unit_sector kesehatan" in capsys.readouterr().out
    )
    assert main(["show", str(path), "--format", "markdown"]) == 0
    page = capsys.readouterr().out
    assert "## Not applicable by rule" in page
    assert "- `b` (with its subtree) does not apply for unit sector kesehatan" in page
