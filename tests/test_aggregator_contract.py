"""The aggregator contract: ``check_aggregator`` passes every built-in and, for a rule that
breaks one law, fails with one line naming that law and the input."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np
import pytest

from kepatuhan import Criterion, Rubric, hookimpl
from kepatuhan.aggregators import (
    Aggregator,
    FloatArray,
    IntArray,
    Minimum,
    PenalisedMean,
    WeightedMean,
    builtin_aggregators,
)
from kepatuhan.testing import (
    AggregatorLawError,
    check_aggregator,
    check_rubric_laws,
    fresh_manager,
)


@pytest.mark.parametrize(
    "agg",
    [a for a in builtin_aggregators() if not a.params_schema]
    + [PenalisedMean().with_params(penalty=p) for p in (0.0, 0.25, 0.5, 0.9, 1.0)],
    ids=lambda a: f"{a.name}{getattr(a, 'penalty', '') or ''}",
)
def test_every_builtin_keeps_the_contract(agg: Aggregator) -> None:
    check_aggregator(agg, examples=400)


def test_the_same_seed_checks_the_same_inputs() -> None:
    broken = _OneUlpOff()
    with pytest.raises(AggregatorLawError) as first:
        check_aggregator(broken, seed=7)
    with pytest.raises(AggregatorLawError) as again:
        check_aggregator(broken, seed=7)
    assert str(first.value) == str(again.value)


class _Looped(Aggregator):
    """A test rule whose ``reduce`` is its ``reduce_one`` per segment (values in order)."""

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        out = np.zeros(n_segments)
        for s in range(n_segments):
            mine = segments == s
            if mine.any():
                out[s] = self.reduce_one(values[mine].tolist(), weights[mine].tolist())
        return out


class _OneUlpOff(WeightedMean):
    """The weighted mean, but the vectorised version one ulp above the plain one."""

    name = "one_ulp_off"

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        return np.nextafter(super().reduce(values, weights, segments, n_segments), np.inf)


class _PlusOne(_Looped):
    """The plain mean plus one point: above its inputs' range."""

    name = "plus_one"

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        return min(100.0, sum(values) / len(values) + 1.0)


class _Reflected(_Looped):
    """min + max − mean: within the range, but raising a middle child lowers it."""

    name = "reflected"

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        mean = sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)
        return min(max(min(values) + max(values) - mean, min(values)), max(values))


class _WeightsPlusOne(_Looped):
    """A weighted mean with weights w + 1: doubling every weight changes it."""

    name = "weights_plus_one"

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        ws = [w + 1.0 for w in weights]
        mean = sum(v * w for v, w in zip(values, ws, strict=True)) / sum(ws)
        return min(max(mean, min(values)), max(values))


class _ByPosition(_Looped):
    """A mean weighted by position (1, 2, 3, …): the order of the children matters."""

    name = "by_position"

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        ws = [float(i + 1) for i in range(len(values))]
        mean = sum(v * w for v, w in zip(values, ws, strict=True)) / sum(ws)
        return min(max(mean, min(values)), max(values))


class _LinearMinimum(Minimum):
    """The minimum, declared linear."""

    name = "linear_minimum"
    linear = True


class _NaN(_Looped):
    """NaN for a segment of more than two children."""

    name = "nan_sometimes"

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        return float("nan") if len(values) > 2 else min(values)


class _Raises(_Looped):
    """Raises on a child of exactly 100."""

    name = "raises"

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        if 100.0 in values:
            raise ZeroDivisionError("no room at the top")
        return min(values)


@pytest.mark.parametrize(
    ("broken", "law", "says"),
    [
        (
            _OneUlpOff(),
            "reduce == reduce_one",
            "one_ulp_off: reduce and reduce_one differ by 1 ulp",
        ),
        (_PlusOne(), "bounded", "plus_one: not bounded: the result leaves the values' range"),
        (_Reflected(), "monotone", "reflected: not monotone: raising value"),
        (
            _WeightsPlusOne(),
            "weight scaling",
            "weights_plus_one: not invariant under a common scaling of the weights",
        ),
        (_ByPosition(), "order", "by_position: not permutation invariant"),
        (_LinearMinimum(), "linear", "linear_minimum: declared linear but is not"),
        (_NaN(), "finite", "nan_sometimes: reduce returned NaN or infinity"),
        (_Raises(), "raises", "raises: reduce(_one)? raised ZeroDivisionError: no room at the top"),
    ],
    ids=lambda x: x if isinstance(x, str) and " " not in x else None,
)
def test_a_broken_law_is_named_in_one_line(broken: Aggregator, law: str, says: str) -> None:
    with pytest.raises(AggregatorLawError) as info:
        check_aggregator(broken)
    msg = str(info.value)
    assert "\n" not in msg and re.match(says, msg), msg
    assert info.value.law == law
    assert f"for values={info.value.values!r}, weights={info.value.weights!r} (" in msg


def test_an_exception_names_the_input_it_was_raised_for() -> None:
    with pytest.raises(AggregatorLawError) as info:
        check_aggregator(_Raises())
    assert 100.0 in info.value.values


def test_the_ulp_message_shows_both_results_and_the_smallest_input() -> None:
    with pytest.raises(AggregatorLawError) as info:
        check_aggregator(_OneUlpOff())
    err = info.value
    # shrunk to one child: reduce gives the value one ulp up, reduce_one the value itself
    assert len(err.values) == 1
    v = err.values[0]
    up = float(np.nextafter(v, np.inf))
    assert str(err).endswith(f"(reduce {up!r}, reduce_one {v!r})")


def test_a_monotonicity_failure_is_real() -> None:
    """The input named for ``monotone`` does lower the result when the value is raised."""
    with pytest.raises(AggregatorLawError) as info:
        check_aggregator(_Reflected())
    err, agg = info.value, _Reflected()
    before = agg.reduce_one(err.values, err.weights)
    raised = [
        (i, up)
        for i, v in enumerate(err.values)
        for up in (100.0, float(np.nextafter(v, 101.0)))
        if up > v
        and agg.reduce_one([*err.values[:i], up, *err.values[i + 1 :]], err.weights) < before
    ]
    assert raised


def test_a_rule_needing_parameters_is_checked_configured() -> None:
    with pytest.raises(AggregatorLawError, match="penalised_mean: reduce raised RubricError"):
        check_aggregator(PenalisedMean())


class _UlpPlugin:
    @hookimpl
    def kepatuhan_register_aggregators(self, register: Callable[[Aggregator], None]) -> None:
        register(_OneUlpOff())


def test_check_rubric_laws_names_the_first_entity_that_differs_in_one_line() -> None:
    rubric = Rubric(
        id="ulp",
        title="ulp",
        criteria=(
            Criterion("total", "total", rule="one_ulp_off"),
            Criterion("a", "a", parent="total", scale="percentage", level="institution"),
        ),
    )
    with pytest.raises(AssertionError) as info:
        check_rubric_laws(rubric, plugins=fresh_manager(_UlpPlugin()), max_examples=20)
    msg = str(info.value)
    assert "\n" not in msg
    assert re.match(
        r"the vectorised engine differs from the reference scorer by 1 ulp at institution #\d+ "
        r"\(engine [0-9.e-]+, reference [0-9.e-]+\)$",
        msg,
    ), msg
