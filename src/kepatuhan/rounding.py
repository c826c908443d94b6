"""The one rounding rule: half away from zero, to the two decimals the Ombudsman publishes.

Scores are float64 inside the library; they are rounded only to be shown, compared with a
published figure, or looked up in a band scheme, and always by these functions. A float
such as ``0.285`` is stored as ``0.28499999999999998``; rounding it naively gives 0.28,
not the 0.29 a person computing by hand publishes. So the value is first cleaned to
:data:`GUARD_DECIMALS` decimals (far below any published precision, far above float
noise), then rounded half away from zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DECIMALS", "GUARD_DECIMALS", "publish", "round_half_away", "round_scores"]

#: Decimals of a published score.
DECIMALS = 2
#: Decimals kept before the final rounding, to wash out binary floating-point noise.
GUARD_DECIMALS = 9


def round_half_away(value: float, decimals: int = DECIMALS) -> float:
    """``value`` rounded half away from zero to ``decimals`` places (after the guard step)."""
    d = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-GUARD_DECIMALS), ROUND_HALF_UP)
    return float(d.quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))


def round_scores(values: ArrayLike, decimals: int = DECIMALS) -> NDArray[np.float64]:
    """Vectorised :func:`round_half_away` (same results, element by element)."""
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**decimals
    a = np.round(np.abs(x) * scale, GUARD_DECIMALS - decimals)
    out: NDArray[np.float64] = np.copysign(np.floor(a + 0.5) / scale, x)
    return out


def publish(value: float, decimals: int = DECIMALS) -> str:
    """The published form of a score: a string with exactly ``decimals`` decimals."""
    return f"{round_half_away(value, decimals):.{decimals}f}"
