"""Aggregators: named rules that combine children into one score.

One interface serves both kinds of combination — a criterion's children (indicators into
a variable, dimensions into a total) and an entity's children (products into a unit,
units into an institution): ``reduce`` takes flat arrays of the *included* values (not
applicable and excluded cells are left out beforehand), their weights, and the segment
(parent) each belongs to, and returns one value per segment. It must be vectorised
(``np.bincount`` and friends), bounded (the result lies within its inputs' range),
monotone, invariant to a common scaling of the weights, and agree with ``reduce_one``,
the plain-Python version the reference scorer and the property tests use.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["Add", "Aggregator", "Mean", "Minimum", "Sum", "WeightedMean", "builtin_aggregators"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]


class Aggregator(ABC):
    """A named combination rule. Subclass it and register an instance from a plugin."""

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
        is not a weighted mean (the minimum) says which child decides.
        """
        tot = sum(weights)
        return [w / tot for w in weights]


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
        den = sum(weights)
        return min(100.0, max(0.0, sum(v * w for v, w in zip(values, weights, strict=True)) / den))


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
        return min(100.0, max(0.0, sum(values) / len(values)))

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
        return float(sum(values))

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        """Every child counts in full: its value is its contribution."""
        return [1.0] * len(values)


def builtin_aggregators() -> list[Aggregator]:
    """The aggregators every installation has."""
    return [WeightedMean(), Sum(), Mean(), Minimum(), Add()]
