"""Aggregators: named rules that combine children into one score.

One interface serves both kinds of combination — a criterion's children (indicators into
a variable, dimensions into a total) and an entity's children (products into a unit,
units into an institution): ``reduce`` takes flat arrays of the *included* values (not
applicable and excluded cells are left out beforehand), their weights, and the segment
(parent) each belongs to, and returns one value per segment. The laws every rule obeys
are written in :class:`Aggregator` (and docs/hooks.md, "The aggregator contract");
:func:`kepatuhan.testing.check_aggregator` checks them and names the first one broken.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import ClassVar

import attrs
import numpy as np
from numpy.typing import NDArray

from .errors import Problem, RubricError, fmt, suggest
from .rubric import ParamValue, RuleRef

__all__ = [
    "Add",
    "Aggregator",
    "Mean",
    "Minimum",
    "PenalisedMean",
    "RuleParam",
    "Sum",
    "WeightedMean",
    "builtin_aggregators",
    "rule_arguments",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
#: A parameter's value as a rule receives it: numbers as floats (a list of numbers as a
#: tuple of floats).
Argument = float | str | bool | tuple[float, ...]

_KINDS = ("number", "text", "bool", "numbers")


@attrs.frozen
class RuleParam:
    """One parameter a rule accepts (an entry of :attr:`Aggregator.params_schema`).

    ``kind`` is ``"number"``, ``"text"``, ``"bool"`` or ``"numbers"`` (a list of numbers);
    a parameter without a ``default`` is required; ``minimum``/``maximum`` bound a number,
    or each number of a list (inclusive).
    """

    kind: str = attrs.field(validator=attrs.validators.in_(_KINDS))
    description: str = ""
    default: Argument | None = None
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: ParamValue) -> str | None:
        """What is wrong with ``value`` for this parameter, or None when it is fine."""
        if self.kind == "bool":
            return None if isinstance(value, bool) else "true or false"
        if self.kind == "text":
            return None if isinstance(value, str) else "text"
        if self.kind == "numbers":
            if not isinstance(value, tuple) or not all(self._in_range(x) for x in value):
                return self.expected()
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
            return self.expected()
        return None if self._in_range(value) else self.expected()

    def _in_range(self, value: Decimal | float) -> bool:
        x = float(value)
        return (self.minimum is None or x >= self.minimum) and (
            self.maximum is None or x <= self.maximum
        )

    def expected(self) -> str:
        """The expected value in words: ``a number from 0 to 1``."""
        if self.kind in ("bool", "text"):
            return "true or false" if self.kind == "bool" else "text"
        if self.kind == "numbers":
            inner = RuleParam("number", minimum=self.minimum, maximum=self.maximum).expected()
            return "a list of numbers" + ("" if inner == "a number" else f", each {inner[2:]}")
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"a number from {lo:g} to {hi:g}"
        if lo is not None:
            return f"a number ≥ {lo:g}"
        if hi is not None:
            return f"a number ≤ {hi:g}"
        return "a number"


def rule_arguments(ref: RuleRef) -> dict[str, Argument]:
    """A rule reference's parameters as :meth:`Aggregator.with_params` takes them: numbers
    (exact decimals in the rubric) as floats, lists of numbers as tuples of floats."""
    out: dict[str, Argument] = {}
    for k, v in ref.params:
        if isinstance(v, Decimal):
            out[k] = float(v)
        elif isinstance(v, tuple):
            out[k] = tuple(float(x) for x in v)
        else:
            out[k] = v
    return out


class Aggregator(ABC):
    """A named combination rule. Subclass it and register an instance from a plugin.

    **The contract.** For any values in 0–100 and positive weights, a rule must be:

    1. *bounded* — the result lies within its inputs' range (``min(values)`` to
       ``max(values)``); an ``additive`` rule instead lies between the smallest value
       and the values' sum, and the engine refuses a sum past the parent's maximum;
    2. *monotone* — raising one value never lowers the result;
    3. *invariant under a common scaling of the weights* — multiplying every weight by the
       same positive number changes nothing (only ratios matter);
    4. *permutation invariant* — the order of the children changes nothing;
    5. *vectorised and exact* — ``reduce`` (numpy, many segments at once) equals
       ``reduce_one`` (plain Python, one segment) bit for bit, per segment, with each
       segment's values in the order ``reduce`` saw them; segments without values hold
       any finite number;
    6. *honest about linearity* — ``linear`` is true only if the result is
       Σ wᵢvᵢ / Σ wᵢ (or Σ vᵢ for an additive rule) with weights that do not depend on
       the values. Explanations add up contributions, and gap plans and sensitivity use a
       child's marginal effect, only where this holds; at any other rule they re-score.

    Laws 1, 3 and 4 allow the last bits of float rounding (1e-9, the engine's own tolerance
    for a plugin's output); laws 2 and 5 are exact. Check a rule with
    :func:`kepatuhan.testing.check_aggregator`, which names the first law that fails and the
    input that breaks it in one line.

    **Parameters.** A rule may take parameters from the rubric file
    (``rule = { name = "penalised_mean", penalty = 0.25 }``): declare them in
    :attr:`params_schema` and build the configured rule in :meth:`configure`. The engine
    calls :meth:`with_params` once per rubric; a wrong, missing or unknown parameter is a
    :class:`~kepatuhan.RubricError` naming ``criterion "x".rule.penalty``.
    """

    #: The registered name a rubric uses (``rule = "…"``, ``combine = "…"``).
    name: str = ""
    #: One line for ``kepatuhan plugins`` and the docs.
    description: str = ""
    #: Whether children must carry ``points`` that add up to the parent's maximum.
    needs_points: bool = False
    #: Whether the result is the children's values *added up* (each a share of the
    #: parent's maximum) instead of a value within the children's range. The engine refuses
    #: an entity whose children add up past 100 % of the parent (``Add``).
    additive: bool = False
    #: Whether the result is a fixed linear function of the children's values: a weighted
    #: mean (or sum) whose weights do not depend on the values. Explanations, gap plans and
    #: sensitivity draws may use linear shortcuts (contributions w·v, one child's marginal
    #: effect) only when this is true; for any other rule they re-score or refuse. A rule
    #: is non-linear unless it says otherwise.
    linear: bool = False
    #: The parameters the rule accepts, by name (empty: none).
    params_schema: ClassVar[Mapping[str, RuleParam]] = {}

    @abstractmethod
    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        """One value per segment; segments with no values may hold any finite number."""

    @abstractmethod
    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        """The same rule for one segment, in plain Python (``values`` is not empty)."""

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        """Each child's share of the result, for explanations (sums to 1).

        The default is the normalised weights, right for any weighted mean; a rule that
        is not a weighted mean (the minimum) says which child decides. For a rule that is
        not ``linear`` explanations show these shares but add up nothing with them.
        """
        tot = sum(weights)
        return [w / tot for w in weights]

    def check_params(self, params: Mapping[str, ParamValue]) -> list[Problem]:
        """Problems with a rubric's parameters for this rule (empty when they are fine).

        Each problem's key path is the parameter's name (the caller puts the criterion's
        ``rule`` or the level's ``combine`` in front). The default checks the names, kinds,
        ranges and required parameters against :attr:`params_schema`.
        """
        schema = self.params_schema
        out: list[Problem] = []
        for key in sorted(params):
            spec = schema.get(key)
            if spec is None:
                known = ", ".join(sorted(schema)) or "none"
                out.append(
                    Problem(
                        f'rule "{self.name}" has no parameter "{key}"'
                        + (suggest(key, list(schema)) or f"; its parameters: {known}"),
                        key_path=key,
                        expected=f"one of: {known}",
                        found=f'"{key}"',
                    )
                )
                continue
            wrong = spec.check(params[key])
            if wrong is not None:
                out.append(
                    Problem(
                        f"expected {wrong}, found {_found(params[key])}",
                        key_path=key,
                        expected=wrong,
                        found=_found(params[key]),
                    )
                )
        for key, spec in sorted(schema.items()):
            if spec.default is None and key not in params:
                out.append(
                    Problem(
                        f'rule "{self.name}" needs the parameter "{key}" ({spec.description})',
                        key_path=key,
                        expected=spec.expected(),
                        found="nothing",
                    )
                )
        return out

    def with_params(self, **params: Argument) -> Aggregator:
        """This rule configured with ``params`` (checked against :attr:`params_schema`,
        defaults filled in); the rule itself when it takes no parameters and none are given.

        Raises :class:`~kepatuhan.RubricError` (key paths are the parameter names) when a
        parameter is unknown, of the wrong kind, out of range, or missing.
        """
        problems = self.check_params({k: _decimal_of(v) for k, v in params.items()})
        if problems:
            raise RubricError(problems)
        if not self.params_schema:
            return self
        full: dict[str, Argument] = {
            k: spec.default for k, spec in self.params_schema.items() if spec.default is not None
        }
        full.update(params)
        return self.configure(full)

    def configure(self, params: Mapping[str, Argument]) -> Aggregator:
        """A configured copy for ``params`` (checked, defaults filled in). Override it in a
        rule that declares :attr:`params_schema`; leave ``self`` unchanged (it is the
        registered instance, shared by every rubric)."""
        return self


def _found(value: ParamValue) -> str:
    """A parameter as the rubric wrote it: ``1.5``, ``[1, -2]``, ``"text"``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(str(x) for x in value) + "]"
    return fmt(value)


def _decimal_of(value: Argument) -> ParamValue:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, tuple):
        return tuple(Decimal(repr(float(x))) for x in value)
    return Decimal(repr(float(value)))


def _sum_in_order(xs: Sequence[float]) -> float:
    """Σ xs left to right, the order ``np.bincount`` accumulates in (Python 3.12's ``sum`` of
    floats compensates rounding, so it can differ from the vectorised sum in the last bit)."""
    acc = 0.0
    for x in xs:
        acc += x
    return acc


def _weighted_mean(
    values: FloatArray, weights: FloatArray, segments: IntArray, n: int
) -> FloatArray:
    num = np.bincount(segments, weights=values * weights, minlength=n)
    den = np.bincount(segments, weights=weights, minlength=n)
    out = np.zeros(n, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    # A weighted mean lies within its inputs; clip the last-bit excursions of float sums.
    return np.clip(out, 0.0, 100.0)


class WeightedMean(Aggregator):
    """Σ wᵢvᵢ / Σ wᵢ over the children that apply: not-applicable ones renormalise away."""

    name = "weighted_mean"
    description = "weighted mean of the applicable children (weights renormalised)"
    linear = True

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        """Segmented weighted mean by ``np.bincount``."""
        return _weighted_mean(values, weights, segments, n_segments)

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        """Σ wᵢvᵢ / Σ wᵢ."""
        den = _sum_in_order(weights)
        num = _sum_in_order([v * w for v, w in zip(values, weights, strict=True)])
        return min(100.0, max(0.0, num / den))


class Sum(WeightedMean):
    """Points added up: each child is scored in points out of its ``points``.

    On the 0–100 scale this is the weighted mean with the children's maximum points as
    weights: when every child applies, the result is exactly Σ points (2023: input +
    proses + output + pengaduan); a not-applicable child's points renormalise away.
    """

    name = "sum"
    description = "sum of the children's points (children carry points adding up to the parent's)"
    needs_points = True


class Mean(Aggregator):
    """The plain (unweighted) mean of the applicable children."""

    name = "mean"
    description = "plain mean of the applicable children (weights ignored)"
    linear = True

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        """Segmented mean by ``np.bincount``."""
        return _weighted_mean(values, np.ones_like(values), segments, n_segments)

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        """Σ vᵢ / n."""
        return min(100.0, max(0.0, _sum_in_order(values) / len(values)))

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        """Equal shares."""
        return [1.0 / len(values)] * len(values)


class Minimum(Aggregator):
    """The lowest applicable child: a chain is as strong as its weakest link."""

    name = "minimum"
    description = "the lowest score among the applicable children"

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        """Segmented minimum by ``np.minimum.at``."""
        out = np.full(n_segments, np.inf)
        np.minimum.at(out, segments, values)
        out[np.isinf(out)] = 0.0
        return out

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        """min(vᵢ)."""
        return min(values)

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        """All of it to the (first) lowest child."""
        k = min(range(len(values)), key=lambda i: values[i])
        return [1.0 if i == k else 0.0 for i in range(len(values))]


class Add(Aggregator):
    """Children added up, for points whose split among the children the record does not give.

    2025: the four dimensions share 70 points, but how the 70 divide among them is not
    published; only each unit's points per dimension are. Each child is a share of the
    parent's maximum (its scale is ``points`` out of the parent's points), and the parent is
    their sum: a unit's published dimension points plus its trust points add up to its
    published total. Children that add up past the parent's maximum are refused by the
    engine (never clipped), and a child cannot be not applicable (with the split unknown
    there is nothing to renormalise). The one built-in rule that is not bounded by its
    inputs: it is bounded by the parent's maximum instead.
    """

    name = "add"
    description = (
        "children added up, each in points out of the parent's points (split unpublished); "
        "refused above the parent's points"
    )
    additive = True
    linear = True

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        """Segmented sum by ``np.bincount`` (not clipped: the engine checks the bound)."""
        return np.bincount(segments, weights=values, minlength=n_segments).astype(np.float64)

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        """Σ vᵢ."""
        return _sum_in_order(values)

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        """Every child counts in full: its value is its contribution."""
        return [1.0] * len(values)


class PenalisedMean(Aggregator):
    """The weighted mean pulled towards the weakest child: M − p·(M − min).

    With M = Σ wᵢvᵢ / Σ wᵢ over the applicable children, m = their lowest value and the
    ``penalty`` p from the rubric (``rule = { name = "penalised_mean", penalty = 0.25 }``),
    the result is (1 − p)·M + p·m: p = 0 is the weighted mean, p = 1 the minimum, and in
    between a strong average cannot hide one weak child. It lies between m and M, so
    within the children's range. It is monotone exactly when 0 ≤ p ≤ 1: the derivative in
    child i is (1 − p)·wᵢ/Σw plus p if i is the lowest, never negative for p in that range
    (for p > 1 raising the lowest child would lower the result; for p < 0 the result could
    leave the children's range), so the penalty is refused outside it. Not linear for
    p > 0 (which child is lowest depends on the values): explanations re-score it.
    """

    name = "penalised_mean"
    description = (
        "weighted mean minus penalty × (mean − lowest child); penalty from 0 (mean) to 1 (minimum)"
    )
    params_schema: ClassVar[Mapping[str, RuleParam]] = {
        "penalty": RuleParam(
            "number",
            "the weight of the lowest child against the weighted mean, 0 to 1",
            minimum=0.0,
            maximum=1.0,
        )
    }
    #: The configured penalty (the registered instance has none: it needs ``with_params``).
    penalty: float | None = None

    def configure(self, params: Mapping[str, Argument]) -> Aggregator:
        """A copy with ``penalty`` set; linear only for a penalty of 0 (the weighted mean)."""
        out = copy.copy(self)
        p = params["penalty"]
        assert isinstance(p, float | int) and not isinstance(p, bool)
        out.penalty = float(p)
        out.linear = out.penalty == 0.0
        return out

    def _p(self) -> float:
        if self.penalty is None:
            raise RubricError(
                Problem(
                    'rule "penalised_mean" needs a penalty: '
                    'rule = { name = "penalised_mean", penalty = 0.25 }',
                    key_path="penalty",
                    expected="a number from 0 to 1",
                    found="nothing",
                )
            )
        return self.penalty

    def reduce(
        self, values: FloatArray, weights: FloatArray, segments: IntArray, n_segments: int
    ) -> FloatArray:
        """Segmented (1 − p)·M + p·m by ``np.bincount`` and ``np.minimum.at``."""
        p = self._p()
        num = np.bincount(segments, weights=values * weights, minlength=n_segments)
        den = np.bincount(segments, weights=weights, minlength=n_segments)
        mean = np.zeros(n_segments, dtype=np.float64)
        np.divide(num, den, out=mean, where=den > 0)
        lo = np.full(n_segments, np.inf)
        np.minimum.at(lo, segments, values)
        hi = np.full(n_segments, -np.inf)
        np.maximum.at(hi, segments, values)
        empty = np.isinf(lo)
        lo[empty] = 0.0
        hi[empty] = 0.0
        # clip the mean to the children's range (float sums can leave it by an ulp), and the
        # result too: both clips are monotone, and make law 1 exact
        mean = np.minimum(np.maximum(mean, lo), hi)
        out: FloatArray = np.minimum(np.maximum((1.0 - p) * mean + p * lo, lo), hi)
        return out

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        """(1 − p)·M + p·m, with the same operations in the same order as ``reduce``."""
        p = self._p()
        num = _sum_in_order([v * w for v, w in zip(values, weights, strict=True)])
        den = _sum_in_order(weights)
        lo, hi = min(values), max(values)
        mean = min(max(num / den, lo), hi)
        return min(max((1.0 - p) * mean + p * lo, lo), hi)

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        """(1 − p)·wᵢ/Σw, plus p for the (first) lowest child: the derivative at these values."""
        p = self._p()
        tot = sum(weights)
        k = min(range(len(values)), key=lambda i: values[i])
        return [(1.0 - p) * w / tot + (p if i == k else 0.0) for i, w in enumerate(weights)]


def builtin_aggregators() -> list[Aggregator]:
    """The aggregators every installation has."""
    return [WeightedMean(), Sum(), Mean(), Minimum(), Add(), PenalisedMean()]
