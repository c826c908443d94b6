"""Value scales: how a raw indicator value becomes a 0–100 score.

A scale is registered by name through the ``kepatuhan_register_scales`` hook; a rubric
refers to it by that name with parameters (``scale = { name = "points", max = 3 }``).
Every scale is vectorised (``normalise`` takes a whole numpy column) and monotone: a
higher raw value never gives a lower score, which is what "improving an observation"
means to the aggregation laws.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from decimal import Decimal
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from .rubric import ScaleRef

__all__ = ["Ordinal", "Percentage", "Points", "Scale", "YesNo", "builtin_scales"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class Scale(ABC):
    """A named value scale. Subclass it and register an instance from a plugin.

    ``bounds`` gives the worst and best raw values; ``discrete`` the allowed raw values
    when the scale has finitely many (``None`` for a continuous one); ``normalise`` maps
    raw values to 0–100, monotone non-decreasing; ``check_params`` lists problems with a
    rubric's parameters (an empty list when they are fine).
    """

    #: The registered name a rubric uses.
    name: str = ""
    #: One line for ``kepatuhan plugins`` and the docs.
    description: str = ""

    def check_params(self, ref: ScaleRef) -> list[str]:
        """Problems with ``ref``'s parameters, as messages (empty when valid)."""
        return []

    @abstractmethod
    def bounds(self, ref: ScaleRef) -> tuple[float, float]:
        """The worst and the best raw value."""

    def discrete(self, ref: ScaleRef) -> tuple[float, ...] | None:
        """The allowed raw values, lowest first, or ``None`` for a continuous scale."""
        return None

    @abstractmethod
    def normalise(self, values: FloatArray, ref: ScaleRef) -> FloatArray:
        """Raw values (already valid) to scores in 0–100."""

    def valid(self, values: FloatArray, ref: ScaleRef) -> BoolArray:
        """Which raw values the scale accepts."""
        lo, hi = self.bounds(ref)
        ok: BoolArray = np.isfinite(values) & (values >= lo) & (values <= hi)
        allowed = self.discrete(ref)
        if allowed is not None:
            ok &= np.isin(values, np.asarray(allowed, dtype=np.float64))
        return ok

    def describe(self, ref: ScaleRef) -> str:
        """What the scale expects, for error messages: ``a number from 0 to 3``."""
        allowed = self.discrete(ref)
        if allowed is not None:
            return "one of " + ", ".join(f"{v:g}" for v in allowed)
        lo, hi = self.bounds(ref)
        return f"a number from {lo:g} to {hi:g}"


class YesNo(Scale):
    """Yes/no: ``ya``/``yes``/1 scores 100, ``tidak``/``no``/0 scores 0."""

    name = "yes_no"
    description = "yes/no: 1 (ya, yes) = 100, 0 (tidak, no) = 0"

    def bounds(self, ref: ScaleRef) -> tuple[float, float]:
        """0 (no) and 1 (yes)."""
        return (0.0, 1.0)

    def discrete(self, ref: ScaleRef) -> tuple[float, ...] | None:
        """Only 0 and 1."""
        return (0.0, 1.0)

    def normalise(self, values: FloatArray, ref: ScaleRef) -> FloatArray:
        """1 → 100, 0 → 0."""
        return values * 100.0

    def describe(self, ref: ScaleRef) -> str:
        """Yes or no."""
        return "ya/yes/1 or tidak/no/0"


def _positive(ref: ScaleRef, key: str) -> list[str]:
    v = ref.get(key)
    if v is None:
        return [f'scale "{ref.name}" needs the parameter {key}']
    if isinstance(v, bool) or not isinstance(v, Decimal) or not v > 0:
        return [f'scale "{ref.name}": expected {key} > 0, found {v!r}']
    return []


class Points(Scale):
    """Points out of a maximum: ``scale = { name = "points", max = 3 }``; v → 100·v/max."""

    name = "points"
    description = "points from 0 to max (parameter max); score = 100 * value / max"

    def check_params(self, ref: ScaleRef) -> list[str]:
        """``max`` must be a number > 0."""
        return _positive(ref, "max")

    def bounds(self, ref: ScaleRef) -> tuple[float, float]:
        """0 and ``max``."""
        return (0.0, float(ref.get("max")))

    def normalise(self, values: FloatArray, ref: ScaleRef) -> FloatArray:
        """100 · value / max."""
        return values * (100.0 / float(ref.get("max")))


class Percentage(Scale):
    """A percentage, 0–100, taken as the score."""

    name = "percentage"
    description = "a percentage from 0 to 100, taken as the score"

    def bounds(self, ref: ScaleRef) -> tuple[float, float]:
        """0 and 100."""
        return (0.0, 100.0)

    def normalise(self, values: FloatArray, ref: ScaleRef) -> FloatArray:
        """The value itself."""
        out: FloatArray = values.copy()
        return out


class Ordinal(Scale):
    """Ordered levels 0, 1, …, k-1 worth ``points[i]``.

    In a rubric: ``scale = { name = "ordinal", points = [0, 1, 2, 3] }``.

    The score is ``100 · points[v] / max(points)``; points must not decrease.
    """

    name = "ordinal"
    description = "levels 0..k-1 worth points[i] (parameter points, non-decreasing)"

    def check_params(self, ref: ScaleRef) -> list[str]:
        """``points``: at least two numbers, non-decreasing, ≥ 0, last > 0."""
        pts = ref.get("points")
        if not isinstance(pts, tuple) or len(pts) < 2:
            return [f'scale "{ref.name}" needs points = [at least two numbers]']
        if any(not isinstance(p, Decimal) or p < 0 for p in pts):
            return [f'scale "{ref.name}": points must be numbers >= 0, found {list(pts)}']
        if any(b < a for a, b in pairwise(pts)) or not pts[-1] > 0:
            return [f'scale "{ref.name}": points must not decrease and end above 0']
        return []

    def bounds(self, ref: ScaleRef) -> tuple[float, float]:
        """Level 0 and level k-1."""
        return (0.0, float(len(ref.get("points")) - 1))

    def discrete(self, ref: ScaleRef) -> tuple[float, ...] | None:
        """The level numbers 0..k-1."""
        return tuple(float(i) for i in range(len(ref.get("points"))))

    def normalise(self, values: FloatArray, ref: ScaleRef) -> FloatArray:
        """100 · points[level] / max(points)."""
        pts = np.array([float(p) for p in ref.get("points")])
        out: FloatArray = pts[values.astype(np.intp)] * (100.0 / pts[-1])
        return out


def builtin_scales() -> list[Scale]:
    """The scales every installation has."""
    return [YesNo(), Points(), Percentage(), Ordinal()]
