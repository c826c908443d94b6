"""Band schemes: zones (merah/kuning/hijau) and opinion grades (A–E) over the score range.

A band is defined by its inclusive lower bound ``min`` on the *published* (two-decimal)
score; it runs up to the next band's ``min``. A band may also state the published upper
bound ``max`` (``80.99``); the scheme then checks that ``max + resolution`` is the next
band's ``min``, which is how a gap or an overlap in a hand-written file is caught.
Lookup is total (every score in range falls in exactly one band) and monotone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .decimals import opt_decimal, to_decimal
from .errors import Problem
from .rounding import round_scores

__all__ = ["Band", "BandScheme", "check_bands"]


@attrs.frozen
class Band:
    """One band: ``id`` (``"A"``, ``"hijau"``), ``label``, ``zone`` and its bounds.

    ``min`` is inclusive on the published two-decimal score; ``max`` is the published
    inclusive upper bound, optional. ``source``/``confidence`` cite where the bounds
    come from.
    """

    id: str
    label: str
    min: Decimal = attrs.field(converter=to_decimal)
    max: Decimal | None = attrs.field(default=None, converter=opt_decimal)
    zone: str | None = None
    label_en: str | None = None
    source: str | None = None
    confidence: str | None = None


def _bands(items: Iterable[Band]) -> tuple[Band, ...]:
    return tuple(items)


@attrs.frozen
class BandScheme:
    """Ordered bands covering ``0 … maximum`` at the given ``resolution`` (0.01)."""

    bands: tuple[Band, ...] = attrs.field(converter=_bands)
    resolution: Decimal = attrs.field(default=Decimal("0.01"), converter=to_decimal)
    maximum: Decimal = attrs.field(default=Decimal(100), converter=to_decimal)
    name: str | None = None

    def index(self, scores: ArrayLike) -> NDArray[np.intp]:
        """Band index of each score (rounded to two decimals first); -1 outside 0–maximum."""
        x = round_scores(scores)
        lows = np.array([float(b.min) for b in self.bands])
        idx = np.searchsorted(lows, x, side="right") - 1
        out: NDArray[np.intp] = np.where((x < 0) | (x > float(self.maximum)), -1, idx)
        return out

    def lookup(self, score: float) -> Band:
        """The band of one score; ``ValueError`` if it lies outside the scheme's range."""
        i = int(self.index([score])[0])
        if i < 0:
            raise ValueError(f"score {score} is outside 0–{self.maximum}")
        return self.bands[i]

    def get(self, band_id: str) -> Band | None:
        """The band with ``band_id``, if any."""
        for b in self.bands:
            if b.id == band_id:
                return b
        return None


def check_bands(scheme: BandScheme, key: str = "bands") -> list[Problem]:
    """Every problem of a band scheme: order, coverage from 0, gaps, overlaps, range."""
    problems: list[Problem] = []
    bands: Sequence[Band] = scheme.bands
    if not bands:
        return [Problem("expected at least one band, found none", key_path=f"{key}.band")]
    if scheme.resolution <= 0:
        problems.append(Problem("expected a resolution > 0", key_path=f"{key}.resolution"))
    seen: set[str] = set()
    for i, b in enumerate(bands):
        where = f'{key}.band "{b.id}"'
        if b.id in seen:
            problems.append(Problem(f'duplicate band id "{b.id}"', key_path=f"{where}.id"))
        seen.add(b.id)
        if not Decimal(0) <= b.min <= scheme.maximum:
            problems.append(
                Problem(
                    f"expected min within 0–{scheme.maximum}, found {b.min}",
                    key_path=f"{where}.min",
                    expected=f"0–{scheme.maximum}",
                    found=str(b.min),
                )
            )
        if b.max is not None and not b.min <= b.max <= scheme.maximum:
            problems.append(
                Problem(
                    f"expected max within {b.min}–{scheme.maximum}, found {b.max}",
                    key_path=f"{where}.max",
                    expected=f"{b.min}–{scheme.maximum}",
                    found=str(b.max),
                )
            )
        if i == 0 and b.min != 0:
            problems.append(
                Problem(
                    f"the lowest band must start at 0, found min = {b.min} (scores below it "
                    "would have no band)",
                    key_path=f"{where}.min",
                    expected="0",
                    found=str(b.min),
                )
            )
        if i > 0:
            prev = bands[i - 1]
            if b.min <= prev.min:
                problems.append(
                    Problem(
                        f"bands must be listed from low to high: min {b.min} is not above "
                        f'"{prev.id}"\'s min {prev.min}',
                        key_path=f"{where}.min",
                    )
                )
            elif prev.max is not None and prev.max + scheme.resolution != b.min:
                gap = b.min - prev.max
                kind = "gap" if gap > scheme.resolution else "overlap"
                problems.append(
                    Problem(
                        f'{kind} between band "{prev.id}" (max {prev.max}) and "{b.id}" '
                        f"(min {b.min}): expected min = {prev.max + scheme.resolution}",
                        key_path=f"{where}.min",
                        expected=str(prev.max + scheme.resolution),
                        found=str(b.min),
                    )
                )
    last = bands[-1]
    if last.max is not None and last.max != scheme.maximum:
        problems.append(
            Problem(
                f"the highest band must reach {scheme.maximum}, found max = {last.max}",
                key_path=f'{key}.band "{last.id}".max',
            )
        )
    return problems
