"""Hand-written numbers as exact decimals (weights, points, band bounds)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import fmt

__all__ = ["opt_decimal", "to_decimal"]


def to_decimal(value: object) -> Decimal:
    """Convert a hand-written number to an exact Decimal (floats through ``repr``).

    Raises ``ValueError`` (message: what was expected, what was found) for booleans,
    strings and anything not finite; the readers turn it into a located error.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"expected a number, found {fmt(value)}")
    try:
        d = value if isinstance(value, Decimal) else Decimal(repr(value))
    except InvalidOperation as exc:  # pragma: no cover - repr of a float is always valid
        raise ValueError(f"expected a number, found {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"expected a finite number, found {value}")
    return d


def opt_decimal(value: object) -> Decimal | None:
    """:func:`to_decimal`, letting ``None`` (not given) through."""
    return None if value is None else to_decimal(value)
