"""The plugin author's test kit, at its public address (``from kepatuhan.testing import …``).

The kit lives in :mod:`kepatuhan.authoring.kit`; this module is its stable public name, for
plugin test suites and the scaffold's generated tests. Needs the ``test`` extra (hypothesis).

- :func:`reference_scores` — a plain recursive scorer the engine must equal, bit for bit;
- :func:`rubrics`, :func:`tables`, :func:`table_records` — hypothesis strategies;
- :func:`check_rubric_laws` — the core's property tests, for any rubric;
- :func:`check_aggregator` — the aggregator contract's laws for one rule, failing with one
  line that names the law and the input (:class:`AggregatorLawError`);
- :func:`synthetic_campaign` — a realistic random national round;
- :func:`extreme_records` — every indicator at its best (or worst) value, for "all best
  scores the top, all worst scores zero";
- :func:`fresh_manager` — a plugin manager with the built-ins and the plugins given.
"""

from __future__ import annotations

from .authoring.kit import (
    AggregatorLawError,
    check_aggregator,
    check_rubric_laws,
    fresh_manager,
    reference_scores,
    rubrics,
    rule_refs,
    synthetic_campaign,
    table_records,
    tables,
)
from .authoring.synthetic import extreme_records

__all__ = [
    "AggregatorLawError",
    "check_aggregator",
    "check_rubric_laws",
    "extreme_records",
    "fresh_manager",
    "reference_scores",
    "rubrics",
    "rule_refs",
    "synthetic_campaign",
    "table_records",
    "tables",
]
