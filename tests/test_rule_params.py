"""Rules with parameters: ``rule = { name = "penalised_mean", penalty = 0.25 }`` read, written,
checked with located errors, and scored; rubrics written with plain names keep their digests."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from kepatuhan import ObservationTable, RubricError, hookimpl, score
from kepatuhan.aggregators import (
    Aggregator,
    Argument,
    Minimum,
    PenalisedMean,
    RuleParam,
    WeightedMean,
)
from kepatuhan.io.rubric_toml import resolve_rubric, rubric_from_toml, rubric_to_toml
from kepatuhan.plugins import PluginManager, default_manager
from kepatuhan.rubric import RuleRef, canonical_rubric
from kepatuhan.testing import fresh_manager

DATA = Path(__file__).resolve().parent / "data"

RUBRIC = """
id = "pm"
title = "penalised"

[levels.institution]
combine = {combine}

[[criterion]]
id = "total"
label = "Total"
rule = {rule}

[[criterion]]
id = "a"
label = "A"
parent = "total"
weight = 1
scale = "percentage"
level = "institution"

[[criterion]]
id = "b"
label = "B"
parent = "total"
weight = 3
scale = "percentage"
level = "institution"
"""


def _rubric(rule: str, combine: str = '"weighted_mean"') -> str:
    return RUBRIC.replace("{rule}", rule).replace("{combine}", combine)


def test_every_shipped_edition_keeps_its_digest() -> None:
    """The digests recorded before rule parameters existed (tests/data/edition_digests.json)."""
    recorded = json.loads((DATA / "edition_digests.json").read_text(encoding="utf-8"))["digests"]
    reg = default_manager().registry
    assert recorded, "no digests recorded"
    for rubric_id, digest in recorded.items():
        assert reg.rubric(rubric_id).digest == digest, rubric_id


def test_a_rule_without_parameters_has_the_canonical_form_of_its_plain_name() -> None:
    r = rubric_from_toml(_rubric('"weighted_mean"'))
    crit = canonical_rubric(r)["rubric"]["criteria"][0]
    assert crit.get("rule", "weighted_mean") == "weighted_mean"
    with_params = rubric_from_toml(_rubric('{ name = "penalised_mean", penalty = 0.25 }'))
    form = canonical_rubric(with_params)["rubric"]["criteria"][0]["rule"]
    assert form == {"name": "penalised_mean", "params": {"penalty": ["number", "0.25"]}}
    assert with_params.digest != r.digest


@pytest.mark.parametrize("penalty", ["0.25", "1", None])
def test_rubric_toml_rubric_is_the_identity_with_rule_parameters(penalty: str | None) -> None:
    rule = '"minimum"' if penalty is None else f'{{ name = "penalised_mean", penalty = {penalty} }}'
    r = rubric_from_toml(_rubric(rule, combine=rule))
    text = rubric_to_toml(r)
    assert rubric_from_toml(text) == r
    if penalty is not None:
        assert r.root.rule == RuleRef("penalised_mean", (("penalty", Decimal(penalty)),))
        assert r.levels.institution.combine == r.root.rule
        assert 'name = "penalised_mean"' in text
    else:
        assert r.root.rule == RuleRef("minimum") and 'rule = "minimum"' in text


def _problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RubricError) as info:
        resolve_rubric(str(path))
    assert all(p.path == str(path) for p in info.value.problems)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("rule", "combine", "key", "says"),
    [
        (
            '{ name = "penalised_mean", penalty = 1.5 }',
            '"weighted_mean"',
            'criterion "total".rule.penalty',
            "expected a number from 0 to 1, found 1.5",
        ),
        (
            '{ name = "penalised_mean", penalty = -0.1 }',
            '"weighted_mean"',
            'criterion "total".rule.penalty',
            "expected a number from 0 to 1, found -0.1",
        ),
        (
            '{ name = "penalised_mean", penalty = "a lot" }',
            '"weighted_mean"',
            'criterion "total".rule.penalty',
            'expected a number from 0 to 1, found "a lot"',
        ),
        (
            '"penalised_mean"',
            '"weighted_mean"',
            'criterion "total".rule.penalty',
            'needs the parameter "penalty"',
        ),
        (
            '{ name = "penalised_mean", penalti = 0.2 }',
            '"weighted_mean"',
            'criterion "total".rule.penalti',
            'did you mean "penalty"',
        ),
        (
            '{ name = "weighted_mean", penalty = 0.2 }',
            '"weighted_mean"',
            'criterion "total".rule.penalty',
            'rule "weighted_mean" has no parameter "penalty"; its parameters: none',
        ),
        (
            '"mean"',
            '{ name = "penalised_mean", penalty = 2 }',
            "levels.institution.combine.penalty",
            "expected a number from 0 to 1, found 2",
        ),
    ],
)
def test_a_wrong_missing_or_unknown_parameter_is_a_located_rubric_error(
    rule: str, combine: str, key: str, says: str, tmp_path: Path
) -> None:
    problems = _problems(_rubric(rule, combine), tmp_path)
    assert any(key in p and says in p for p in problems), problems


def test_a_rule_table_without_a_name_or_of_the_wrong_type_names_the_key(tmp_path: Path) -> None:
    problems = _problems(_rubric("{ penalty = 0.5 }"), tmp_path)
    assert any('criterion "total".rule' in p and "expected rule.name" in p for p in problems)
    problems = _problems(_rubric("3"), tmp_path)
    assert any('criterion "total".rule' in p and "expected a rule" in p for p in problems)
    problems = _problems(_rubric('"penalised_man"'), tmp_path)
    assert any('did you mean "penalised_mean"' in p for p in problems), problems


def test_a_rule_parameter_of_an_unreadable_kind_names_the_key(tmp_path: Path) -> None:
    problems = _problems(_rubric('{ name = "penalised_mean", penalty = { x = 1 } }'), tmp_path)
    assert any('criterion "total".rule' in p and "rule parameters are" in p for p in problems)


def test_with_params_configures_a_copy_and_refuses_bad_parameters() -> None:
    registered = PenalisedMean()
    configured = registered.with_params(penalty=0.25)
    assert isinstance(configured, PenalisedMean) and configured.penalty == 0.25
    assert registered.penalty is None and not configured.linear
    assert registered.with_params(penalty=0.0).linear  # the weighted mean itself
    with pytest.raises(RubricError, match=r"penalty: expected a number from 0 to 1, found 3\.0"):
        registered.with_params(penalty=3)
    with pytest.raises(RubricError, match='needs the parameter "penalty"'):
        registered.with_params()
    with pytest.raises(RubricError, match="needs a penalty"):
        registered.reduce_one([1.0], [1.0])


def test_rule_param_says_what_it_expects() -> None:
    assert RuleParam("number", minimum=0).expected() == "a number ≥ 0"
    assert RuleParam("number").check(Decimal(5)) is None
    assert RuleParam("number").check(True) == "a number"
    assert RuleParam("bool").check("yes") == "true or false"
    assert RuleParam("text").check(Decimal(1)) == "text"


@pytest.mark.parametrize(
    ("penalty", "expected"),
    # values 40 and 100 with weights 1 and 3: mean (40 + 300) / 4 = 85, lowest 40;
    # (1 − p)·85 + p·40 by hand
    [(0.0, 85.0), (0.25, 73.75), (0.5, 62.5), (1.0, 40.0)],
)
def test_penalised_mean_by_hand(penalty: float, expected: float) -> None:
    agg = PenalisedMean().with_params(penalty=penalty)
    assert agg.reduce_one([40.0, 100.0], [1.0, 3.0]) == expected
    out = agg.reduce(
        np.array([40.0, 100.0, 55.0]), np.array([1.0, 3.0, 2.0]), np.array([0, 0, 2]), 3
    )
    assert out.tolist() == [expected, 0.0, 55.0]


def test_the_engine_scores_a_rule_with_parameters(pm: PluginManager) -> None:
    rubric = rubric_from_toml(_rubric('{ name = "penalised_mean", penalty = 0.5 }'))
    table = ObservationTable.from_records(
        [
            dict(institution="i", unit="", product="", criterion="a", value=40),
            dict(institution="i", unit="", product="", criterion="b", value=100),
        ]
    )
    res = score(rubric, table, plugins=pm)
    assert res.card("i").score == 62.5  # (1 − 0.5)·85 + 0.5·40, as above


class _Tilted(WeightedMean):
    """A plugin's rule with parameters of every kind: the weighted mean, or the minimum when
    ``strict``; ``note`` and ``levels`` are only recorded."""

    name = "tilted"
    params_schema: ClassVar[Mapping[str, RuleParam]] = {
        "strict": RuleParam("bool", "take the minimum instead", default=False),
        "note": RuleParam("text", "a note"),
        "levels": RuleParam("numbers", "some numbers", default=(), minimum=0),
    }

    def configure(self, params: Mapping[str, Argument]) -> Aggregator:
        out = Minimum() if params["strict"] else copy.copy(self)
        _Tilted.configured.append(dict(params))
        return out

    configured: ClassVar[list[dict[str, object]]] = []


class _TiltedPlugin:
    @hookimpl
    def kepatuhan_register_aggregators(self, register: Callable[[Aggregator], None]) -> None:
        register(_Tilted())


def test_a_plugin_rule_gets_its_parameters_with_defaults_filled_in() -> None:
    pm = fresh_manager(_TiltedPlugin())
    rows = [
        dict(institution="i", unit="", product="", criterion="a", value=40),
        dict(institution="i", unit="", product="", criterion="b", value=100),
    ]
    _Tilted.configured.clear()
    mean = rubric_from_toml(_rubric('{ name = "tilted", note = "n" }'))
    assert score(mean, ObservationTable.from_records(rows), plugins=pm).card("i").score == 85.0
    strict = rubric_from_toml(_rubric('{ name = "tilted", note = "n", strict = true }'))
    assert score(strict, ObservationTable.from_records(rows), plugins=pm).card("i").score == 40.0
    assert _Tilted.configured[0] == {"strict": False, "note": "n", "levels": ()}
    assert _Tilted.configured[1]["strict"] is True
    bad = rubric_from_toml(_rubric('{ name = "tilted", note = 3, levels = [1, -2] }'))
    problems = [str(p) for p in pm.registry.check(bad)]
    assert 'criterion "total".rule.note: expected text, found 3' in problems
    assert (
        'criterion "total".rule.levels: expected a list of numbers, each number ≥ 0, '
        "found [1, -2]" in problems
    ), problems
