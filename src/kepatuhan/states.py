"""The states of a result cell and the classes of an input row: one home for both.

A result cell (an entity's value of one criterion) is *scored*, *zero* (missing, counted as 0
by the rubric's policy), *not applicable*, or *empty* (not computed: not needed because a
value is given above it). An input row is *used*, *overridden*, *empty* or *excluded*
(``docs/concepts.md``). The engine writes these codes; every view reads them through
:func:`has_value`, never by comparing codes inline.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

__all__ = ["RowClass", "State", "has_value"]


class State(IntEnum):
    """The state of one result cell (stored as ``int8`` in the result matrices)."""

    EMPTY = 0
    """Not computed: not needed, because a value is given above it."""
    SCORED = 1
    """A value, given or computed."""
    NA = 2
    """Not applicable: excluded, the siblings renormalise."""
    ZERO = 3
    """Missing and counted as 0 by the rubric's ``missing = "zero"`` policy."""

    @property
    def label(self) -> str:
        """The name used in JSON and explanations."""
        return _STATE_LABELS[self]


_STATE_LABELS = {
    State.EMPTY: "not_computed",
    State.SCORED: "scored",
    State.NA: "not_applicable",
    State.ZERO: "missing_as_zero",
}


class RowClass(IntEnum):
    """The class of one input row in ``Scores.accounting()``: every row is in exactly one."""

    USED = 0
    """Needed by a score."""
    OVERRIDDEN = 1
    """Below a value given above it (the same entity's ancestor node, or an entity above)."""
    EMPTY = 2
    """An empty cell: no value at all."""
    EXCLUDED = 3
    """Not needed for another reason: its unit is not selected by the rubric's plugin, or
    its criterion is not applicable to its entity by the rubric's ``not_applicable_for``."""

    @property
    def label(self) -> str:
        """The name used in ``accounting``."""
        return self.name.lower()


#: Plain ints of the codes for the hot comparisons (an IntEnum member is slower to compare).
_SCORED, _ZERO = int(State.SCORED), int(State.ZERO)


def has_value(states: NDArray[np.int8]) -> NDArray[np.bool_]:
    """Where a cell carries a number that counts: scored, or missing counted as 0."""
    out: NDArray[np.bool_] = (states == _SCORED) | (states == _ZERO)
    return out
