"""The core's own plugin: built-in scales and aggregators, registered like any plugin."""

from __future__ import annotations

from collections.abc import Callable

from .aggregators import Aggregator, builtin_aggregators
from .hookspecs import hookimpl
from .scales import Scale, builtin_scales

__all__ = ["kepatuhan_register_aggregators", "kepatuhan_register_scales"]


@hookimpl
def kepatuhan_register_scales(register: Callable[[Scale], None]) -> None:
    """yes_no, points, percentage, ordinal."""
    for scale in builtin_scales():
        register(scale)


@hookimpl
def kepatuhan_register_aggregators(register: Callable[[Aggregator], None]) -> None:
    """weighted_mean, sum, mean, minimum, add, penalised_mean."""
    for agg in builtin_aggregators():
        register(agg)
