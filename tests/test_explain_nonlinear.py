"""``explain`` under rules that are not linear: lost points re-scored, never added up.

Every number below is worked out by hand in the comment beside it, and the re-scored lost
points are checked against the engine scoring the improved data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kepatuhan import ObservationTable, Rubric, score
from kepatuhan.cli import main
from kepatuhan.io.rubric_toml import rubric_from_toml
from kepatuhan.plugins import PluginManager
from kepatuhan.results import ExplainNode

HEAD = """
id = "nl"
title = "non-linear"

[levels.institution]
combine = {combine}
"""

LEAF = """
[[criterion]]
id = "{id}"
label = "{id}"
parent = "{parent}"
weight = {weight}
scale = "percentage"
level = "{level}"
"""

NODE = """
[[criterion]]
id = "{id}"
label = "{id}"
{parent}
rule = {rule}
"""


def _rubric(
    nodes: list[tuple[str, str | None, str]],
    leaves: list[tuple[str, str, int, str]],
    combine: str = '"weighted_mean"',
) -> Rubric:
    text = HEAD.replace("{combine}", combine)
    for cid, parent, rule in nodes:
        text += (
            NODE.replace("{id}", cid)
            .replace("{parent}", f'parent = "{parent}"' if parent else "")
            .replace("{rule}", rule)
        )
    for cid, parent, weight, level in leaves:
        text += (
            LEAF.replace("{id}", cid)
            .replace("{parent}", parent)
            .replace("{weight}", str(weight))
            .replace("{level}", level)
        )
    return rubric_from_toml(text)


def _table(rows: list[tuple[str, str, float]]) -> ObservationTable:
    return ObservationTable.from_records(
        dict(institution="i", unit=u, product="", criterion=c, value=v) for u, c, v in rows
    )


def _by(tree: ExplainNode) -> dict[tuple[str, str], ExplainNode]:
    return {(n.entity.split(" ")[-1].strip('"'), n.criterion): n for n in tree.walk()}


def _gain(rubric: Rubric, rows: list[tuple[str, str, float]], k: int, pm: PluginManager) -> float:
    """The engine's own answer: the overall score with row ``k`` at 100, minus the actual."""
    better = [(u, c, 100.0 if j == k else v) for j, (u, c, v) in enumerate(rows)]
    after = score(rubric, _table(better), plugins=pm).card("i").score
    before = score(rubric, _table(rows), plugins=pm).card("i").score
    assert after is not None and before is not None
    return after - before


def test_minimum_lost_points_are_re_scored_and_said_not_to_add_up(pm: PluginManager) -> None:
    rubric = _rubric(
        [("total", None, '"minimum"')],
        [("a", "total", 1, "institution"), ("b", "total", 3, "institution")],
    )
    rows = [("", "a", 60.0), ("", "b", 80.0)]
    tree = score(rubric, _table(rows), plugins=pm).explain("i")
    nodes = _by(tree)
    a, b = nodes[("i", "a")], nodes[("i", "b")]
    assert tree.score == 60.0 and not tree.linear and tree.lost == 40.0
    # a at 100: min(100, 80) = 80, 20 more; b at 100: min(60, 100) = 60, nothing more
    assert a.rescored and a.lost == 20.0 and a.contribution is None
    assert b.rescored and b.lost == 0.0 and b.contribution is None
    assert a.lost + b.lost != tree.lost  # the point: they do not add up, and it says so
    assert a.lost == _gain(rubric, rows, 0, pm) and b.lost == _gain(rubric, rows, 1, pm)


def test_penalised_mean_lost_points_are_what_raising_one_child_gains(pm: PluginManager) -> None:
    rubric = _rubric(
        [("total", None, '{ name = "penalised_mean", penalty = 0.5 }')],
        [("a", "total", 1, "institution"), ("b", "total", 3, "institution")],
    )
    rows = [("", "a", 40.0), ("", "b", 80.0)]
    tree = score(rubric, _table(rows), plugins=pm).explain("i")
    nodes = _by(tree)
    # mean (40 + 240) / 4 = 70, lowest 40: 0.5·70 + 0.5·40 = 55
    assert tree.score == 55.0 and not tree.linear
    # a at 100: mean (100 + 240) / 4 = 85, lowest 80: 82.5, so 27.5 more
    assert nodes[("i", "a")].lost == 27.5
    # b at 100: mean (40 + 300) / 4 = 85, lowest 40: 62.5, so 7.5 more
    assert nodes[("i", "b")].lost == 7.5
    assert nodes[("i", "a")].lost == _gain(rubric, rows, 0, pm)
    assert nodes[("i", "b")].lost == _gain(rubric, rows, 1, pm)
    assert 27.5 + 7.5 != tree.lost == 45.0


def test_a_minimum_under_a_weighted_mean_re_scores_through_the_mean(pm: PluginManager) -> None:
    rubric = _rubric(
        [("total", None, '"weighted_mean"'), ("x", "total", '"minimum"')],
        [
            ("a", "x", 1, "institution"),
            ("b", "x", 1, "institution"),
            ("c", "total", 1, "institution"),
        ],
    )
    rows = [("", "a", 60.0), ("", "b", 80.0), ("", "c", 50.0)]
    tree = score(rubric, _table(rows), plugins=pm).explain("i")
    nodes = _by(tree)
    x, c = nodes[("i", "x")], nodes[("i", "c")]
    # x = min(60, 80) = 60; total = (60 + 50) / 2 = 55
    assert tree.score == 55.0 and tree.linear
    # the root's rule is linear: x and c add up, as before (½·60 + ½·50; ½·40 + ½·50)
    assert x.contribution == 30.0 and c.contribution == 25.0 and x.lost + c.lost == tree.lost
    assert not x.linear and not x.rescored
    # a at 100: x = 80, total = 65, so 10 more; b at 100 changes nothing
    assert nodes[("i", "a")].lost == 10.0 == _gain(rubric, rows, 0, pm)
    assert nodes[("i", "b")].lost == 0.0 == _gain(rubric, rows, 1, pm)


def test_a_non_linear_roll_up_of_units_re_scores_the_units(pm: PluginManager) -> None:
    rubric = _rubric(
        [("total", None, '"weighted_mean"')],
        [("a", "total", 1, "unit")],
        combine='"minimum"',
    )
    rows = [("u1", "a", 60.0), ("u2", "a", 90.0)]
    tree = score(rubric, _table(rows), plugins=pm).explain("i")
    nodes = _by(tree)
    assert tree.score == 60.0 and not tree.linear  # the institution is its weakest unit
    u1, u2 = nodes[("u1", "total")], nodes[("u2", "total")]
    # u1 at 100: min(100, 90) = 90, 30 more; u2 is not the weakest
    assert u1.rescored and u1.lost == 30.0 and u2.lost == 0.0
    assert nodes[("u1", "a")].rescored and nodes[("u1", "a")].lost == 30.0
    assert nodes[("u1", "a")].lost == _gain(rubric, rows, 0, pm)


def test_explain_text_says_where_lost_points_do_not_add_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kepatuhan.io.rubric_toml import rubric_to_toml

    rubric = _rubric(
        [("total", None, '"minimum"')],
        [("a", "total", 1, "institution"), ("b", "total", 3, "institution")],
    )
    path = tmp_path / "nl.toml"
    path.write_text(rubric_to_toml(rubric), encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("institution,unit,product,criterion,value\ni,,,a,60\ni,,,b,80\n")
    assert (
        main(["explain", str(data), "--rubric", str(path), "--institution", "i", "--lang", "en"])
        == 0
    )
    out = capsys.readouterr().out
    assert "[minimum: not linear: the lost points below do not add up]" in out
    assert "lost 20.00 if raised alone (re-scored)" in out


def test_rule_at_names_the_configured_rule_of_each_cell(pm: PluginManager) -> None:
    rubric = _rubric(
        [("total", None, '{ name = "penalised_mean", penalty = 0.5 }')],
        [("a", "total", 1, "unit"), ("b", "total", 3, "unit")],
        combine='"minimum"',
    )
    rows = [("u1", "a", 40.0), ("u1", "b", 80.0)]
    res = score(rubric, _table(rows), plugins=pm)
    root = res.root_index
    unit_rule = res.rule_at("unit", 0, root)
    assert unit_rule is not None and unit_rule.name == "penalised_mean"
    assert getattr(unit_rule, "penalty", None) == 0.5 and not unit_rule.linear
    inst_rule = res.rule_at("institution", 0, root)
    assert inst_rule is not None and inst_rule.name == "minimum" and not inst_rule.linear
    assert res.rule_at("unit", 0, rubric.tree.index["a"]) is None  # an indicator's value
