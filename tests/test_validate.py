"""`kepatuhan validate` reports every problem of a rubric file in one pass; points and weight
on one criterion is an error; weights that look like percentages but do not add up to 100
get a hint; `show` prints scale numbers as the file writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kepatuhan import RubricError, rubric_from_toml
from kepatuhan.authoring.lint import lint_hints
from kepatuhan.cli import main

HEAD = """id = "tiga"
title = "Three problems"

[[criterion]]
id = "total"
label = "Nilai"
rule = "sum"
"""


def crit(cid: str, parent: str, **keys: object) -> str:
    lines = [
        "",
        "[[criterion]]",
        f'id = "{cid}"',
        f'label = "{cid.upper()}"',
        f'parent = "{parent}"',
    ]
    for k, v in keys.items():
        lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def leaf(cid: str, parent: str, **keys: object) -> str:
    return crit(cid, parent, scale='"yes_no"', level='"unit"', **keys)


#: A misspelt key (a1), a number written with a decimal comma (a2), and the dimensions'
#: points adding up to 99 instead of 100 (60 + 39), in one file.
THREE = (
    HEAD
    + crit("a", "total", points=60)
    + leaf("a1", "a", wieght=2)
    + leaf("a2", "a", weight='"32,37"')
    + crit("b", "total", points=39, scale='"percentage"', level='"unit"')
)


def _validate(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], *flags: str
) -> tuple[int, list[str], str]:
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["validate", *flags, str(path)])
    cap = capsys.readouterr()
    return code, [line for line in cap.err.splitlines() if line], cap.out


def test_validate_reports_a_misspelt_key_a_bad_number_and_a_bad_sum_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, _ = _validate(tmp_path, THREE, capsys)
    path = tmp_path / "r.toml"
    assert code == 1
    assert err == [
        f'{path}: criterion "a1".wieght: unknown key "wieght" (did you mean "weight"?)',
        f'{path}: criterion "a2".weight: expected a number, found "32,37"',
        f'{path}: criterion "total".rule: children\'s points add up to 99, expected 100 '
        "(checked exactly, in decimal)",
    ]


def test_the_library_error_carries_the_same_problems_each_located() -> None:
    with pytest.raises(RubricError) as e:
        rubric_from_toml(THREE, "r.toml")
    assert [p.key_path for p in e.value.problems] == [
        'criterion "a1".wieght',
        'criterion "a2".weight',
        'criterion "total".rule',
    ]
    assert all(p.path == "r.toml" for p in e.value.problems)


def test_an_unknown_scale_is_reported_beside_the_other_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = THREE.replace('scale = "percentage"', 'scale = "percentag"')
    code, err, _ = _validate(tmp_path, text, capsys)
    assert code == 1
    assert len(err) == 4
    assert 'criterion "b".scale: unknown scale "percentag" (did you mean "percentage"?)' in err[3]


def test_a_problem_that_only_follows_from_an_unreadable_value_is_not_repeated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unreadable points of a dimension: the sum over the dimensions cannot be checked, and
    saying "every child needs points" would only repeat the first problem."""
    text = HEAD + crit("a", "total", points='"60"', scale='"percentage"', level='"unit"')
    text += crit("b", "total", points=40, scale='"percentage"', level='"unit"')
    code, err, _ = _validate(tmp_path, text, capsys)
    assert code == 1
    assert len(err) == 1, err
    assert 'criterion "a".points: expected a number, found "60"' in err[0]


def test_points_and_weight_on_one_criterion_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEAD.replace('rule = "sum"', 'rule = "weighted_mean"')
        + leaf("a", "total", weight=2, points=10)
        + leaf("b", "total", weight=1)
    )
    code, err, _ = _validate(tmp_path, text, capsys)
    assert code == 1
    assert len(err) == 1
    assert 'r.toml: criterion "a": criterion "a" has both points and weight' in err[0]
    assert "would not use the points" in err[0]
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text)
    assert e.value.key_path == 'criterion "a"'
    assert e.value.found == "points = 10, weight = 2"


def test_a_weight_beside_points_under_a_sum_is_an_error() -> None:
    """Under "sum" the points weigh the criterion: the weight would be silently unused."""
    text = HEAD + crit("a", "total", points=60, weight=3, scale='"yes_no"', level='"unit"')
    text += crit("b", "total", points=40, scale='"yes_no"', level='"unit"')
    with pytest.raises(RubricError, match=r'criterion "a" has both .* would not use the weight'):
        rubric_from_toml(text)


def test_an_internal_node_under_a_weighted_mean_may_have_both() -> None:
    """Its weight weighs it among its siblings; its points are the maximum of its additive
    children (and of a value given for it directly): both are used, so both are allowed."""
    text = HEAD.replace('rule = "sum"', 'rule = "weighted_mean"')
    text += crit("dimensi", "total", points=70, weight=3, rule='"add"')
    for d in ("d1", "d2"):
        text += crit(
            d, "dimensi", scale='{ name = "points", max = 70 }', level='"unit"', na_allowed="false"
        )
    text += leaf("lain", "total", weight=1)
    rubric = rubric_from_toml(text)
    assert rubric.criterion("dimensi").effective_weight == 3
    from kepatuhan.testing import fresh_manager

    assert fresh_manager().registry.check(rubric) == []  # the "add" rule's children fit 70


WM = HEAD.replace('rule = "sum"', 'rule = "weighted_mean"')


@pytest.mark.parametrize(
    ("weights", "hint"),
    [
        ((30, 30, 45), "add up to 105, not 100 (a 30, b 30, c 45)"),
        ((25, 25, 25), "add up to 75, not 100"),
        ((33.3, 33.3, 33.3), "add up to 99.9, not 100"),
        ((30, 30, 40), None),  # percentages that add up
        ((1, 2, 1), None),  # ratios
        ((1, 1, 1, 1, 1, 1, 1, 1, 1), None),  # the editions' equal weights
        ((30, 30, None), None),  # one child weighs by default: not all percentages
    ],
)
def test_weights_that_look_like_percentages_but_miss_100_get_a_hint(
    weights: tuple[float | None, ...], hint: str | None
) -> None:
    text = WM
    for k, w in enumerate(weights):
        text += leaf("abcdefghi"[k], "total", **({} if w is None else {"weight": w}))
    hints = lint_hints(rubric_from_toml(text))
    if hint is None:
        assert hints == []
    else:
        assert len(hints) == 1
        assert hints[0].key_path == 'criterion "total"'
        assert hint in hints[0].message


def test_a_hint_is_printed_and_does_not_fail_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = 'id = "h"\ntitle = "h"\n\n[[source]]\nid = "m"\ntitle = "method"\n'
    text += '\n[levels.institution]\nsource = "m"\nconfidence = "assumed"\n'
    text += '\n[levels.unit]\nsource = "m"\nconfidence = "assumed"\n'
    text += '\n[[criterion]]\nid = "total"\nlabel = "Nilai"\nsource = "m"\nconfidence = "assumed"\n'
    for cid, w in (("a", 30), ("b", 30), ("c", 45)):
        text += leaf(cid, "total", weight=w, source='"m"', confidence='"assumed"')
    code, err, out = _validate(tmp_path, text, capsys, "--strict")
    assert code == 0, err
    assert err == [
        f'hint: {tmp_path / "r.toml"}: criterion "total": the weights of its children add up '
        "to 105, not 100 (a 30, b 30, c 45); only their ratios matter, so this scores the "
        "same as weights scaled to 100 — is a weight mistyped or a child missing?"
    ]
    assert out.strip() == f"ok {tmp_path / 'r.toml'} (1 hints)"


def test_show_prints_scale_numbers_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD + crit(
        "a",
        "total",
        points=60,
        scale='{ name = "ordinal", points = [0, 1, 2.5, 3] }',
        level='"unit"',
    )
    text += crit("b", "total", points=40, scale='{ name = "points", max = 2.5 }', level='"unit"')
    path = tmp_path / "r.toml"
    path.write_text(text, encoding="utf-8")
    for fmt in ("table", "csv"):
        assert main(["show", str(path), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "Decimal" not in out
        assert "ordinal points=[0, 1, 2.5, 3]" in out
        assert "points max=2.5" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'id = "x"\ntitle = "t"\ncriterion = "abc"\n',
            'criterion: expected a list of tables, found "abc"',
        ),
        (
            'id = "x"\ntitle = "t"\ncriterion = ["abc", 3]\n',
            'criterion[0]: expected a table, found "abc"',
        ),
        (
            'id = "x"\ntitle = "t"\ncriterion = ["abc", 3]\n',
            "criterion[1]: expected a table, found 3",
        ),
        (
            'id = "x"\ntitle = "t"\nlevels = [1]\n' + HEAD.split("\n", 2)[2],
            "levels: expected a table, found [1]",
        ),
    ],
)
def test_a_list_or_table_of_the_wrong_kind_is_a_located_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    code, err, _ = _validate(tmp_path, text, capsys)
    assert code == 1
    assert any(line.endswith(expected) for line in err), err
    assert not any("internal error" in line for line in err)


def test_an_unreadable_parent_does_not_also_report_two_roots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = HEAD.replace('rule = "sum"', 'rule = "weighted_mean"') + leaf("a", "total").replace(
        'parent = "total"', "parent = 1"
    )
    code, err, _ = _validate(tmp_path, text, capsys)
    assert code == 1
    assert len(err) == 1 and err[0].endswith('criterion "a".parent: expected a string, found 1')
