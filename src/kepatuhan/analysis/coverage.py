"""What a researcher checks before trusting a composite: coverage and correlation.

``kepatuhan describe DATA --rubric R`` reads a data file under a rubric and reports, without
judging it:

- **coverage**: for every level (institution, unit, product) and every criterion that exists
  at that level, how many entities have the value *given* in the data, *computed* (from the
  entity's own children or its sub-entities), *missing* (needed, absent, filled in by the
  rubric's missing policy), *not applicable*, or *not computed* (not needed, because a value
  is given above it). Each cell is in exactly one class, so the five counts add up to the
  number of entities at the level;
- **correlation**: Pearson's r between the root's children (the dimensions of 2022–2025, the
  variables of 2021) across institutions (or, where no institution has them because the
  edition combines its dimensions per unit, across units: :func:`correlation_level`), each
  pair on the entities that have both values scored (a value filled in by the missing policy
  is left out: it is not an observation), with that number ``n``. A pair with fewer than
  three such entities, or with a column that is constant on them, has no r: it is
  ``undefined`` with the reason, never NaN.

Pure functions of a :class:`~kepatuhan.results.Scores`; the command line prints them.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from ..results import Scores
from ..rubric import LEVELS
from ..states import State
from .reasons import Reason

__all__ = [
    "COVERAGE_CLASSES",
    "Correlation",
    "CoverageRow",
    "DataDescription",
    "correlation_level",
    "correlations",
    "coverage",
    "describe_data",
]

#: The classes of a result cell, in the order the coverage table shows them.
COVERAGE_CLASSES = ("given", "computed", "missing", "not_applicable", "not_computed")

#: Fewer entities than this with both values give no correlation worth printing (with two
#: points r is always ±1).
MIN_PAIRS = 3


@attrs.frozen
class CoverageRow:
    """One criterion at one level: how many of the level's ``entities`` are in each class.

    ``given + computed + missing + not_applicable + not_computed == entities``.
    """

    level: str
    criterion: str
    entities: int
    given: int
    computed: int
    missing: int
    not_applicable: int
    not_computed: int

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and CSV."""
        return attrs.asdict(self)


@attrs.frozen
class Correlation:
    """Pearson's r between two criteria across entities, on the ``n`` that have both.

    ``r`` is ``None`` (undefined) when ``reason`` says why: fewer than three entities with
    both values, or a criterion that takes one value on all of them.
    """

    a: str
    b: str
    n: int
    r: float | None
    reason: str | None = None
    #: ``reason`` as data, for saying it in the reader's language (not in the JSON).
    why: Reason | None = attrs.field(default=None, eq=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and CSV (without :attr:`why`)."""
        return attrs.asdict(self, filter=lambda a, _: a.name != "why")


@attrs.frozen
class DataDescription:
    """The whole ``describe`` view: row accounting, coverage, and the correlations."""

    rubric: str
    rows: dict[str, int]
    """The input rows by class (``used``, ``overridden``, ``empty``, ``excluded``) and the
    number of needed values the missing policy filled in (``missing``)."""
    missing_policy: str
    entities: dict[str, int]
    coverage: tuple[CoverageRow, ...]
    dimensions: tuple[str, ...]
    correlation_level: str
    """The level whose entities the correlations are taken across (:func:`correlation_level`)."""
    correlations: tuple[Correlation, ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``kepatuhan describe --format json``."""
        return {
            "rubric": self.rubric,
            "rows": dict(self.rows),
            "missing_policy": self.missing_policy,
            "entities": dict(self.entities),
            "coverage": [c.to_dict() for c in self.coverage],
            "dimensions": list(self.dimensions),
            "correlation_level": self.correlation_level,
            "correlations": [c.to_dict() for c in self.correlations],
        }


def _classes(scores: Scores, level: int) -> NDArray[np.int8]:
    """Each cell's class (index into :data:`COVERAGE_CLASSES`), ``nodes × entities``."""
    st = scores.states_at(level)
    given = scores.given_at(level)
    missing = scores.missing_at(level)
    out = np.full(st.shape, COVERAGE_CLASSES.index("not_computed"), dtype=np.int8)
    scored = st == State.SCORED
    # the policy's filling-in may leave a cell marked scored: `missing` below wins
    out[scored & given] = COVERAGE_CLASSES.index("given")
    out[scored & ~given] = COVERAGE_CLASSES.index("computed")
    out[st == State.NA] = COVERAGE_CLASSES.index("not_applicable")
    # a value the policy filled in is missing whatever the policy made of it (0, or left out)
    out[(st == State.ZERO) | missing] = COVERAGE_CLASSES.index("missing")
    return out


def coverage(scores: Scores) -> tuple[CoverageRow, ...]:
    """Every criterion at every level it exists at: entities given / computed / missing /
    not applicable / not computed (criteria in the rubric's order, levels from the top)."""
    tree = scores.rubric.tree
    order = list(tree.preorder())
    rows: list[CoverageRow] = []
    for lv, name in enumerate(LEVELS):
        m = len((scores.table.institutions, scores.table.units, scores.table.products)[lv])
        if m == 0:
            continue
        cls = _classes(scores, lv)
        for n in order:
            if scores.node_levels[n] < lv:
                continue  # the criterion has no value at this level
            c = [int(x) for x in np.bincount(cls[n], minlength=len(COVERAGE_CLASSES))]
            rows.append(CoverageRow(name, scores.node_ids[n], m, c[0], c[1], c[2], c[3], c[4]))
    return tuple(rows)


def _pearson(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    names: tuple[str, str],
    units: tuple[float, float],
) -> tuple[float | None, Reason | None]:
    """r of two equally long columns, or ``None`` and why (``names`` and ``units``, the
    factor from 0–100 to each criterion's own unit, say which column is constant at what)."""
    if len(x) < MIN_PAIRS:
        n = str(MIN_PAIRS)
        return None, Reason("r_few", f"fewer than {n} entities have both values", (("min", n),))
    dx, dy = x - x.mean(), y - y.mean()
    sx, sy = float(dx @ dx), float(dy @ dy)
    if sx == 0 or sy == 0:
        const = [
            (name, f"{float(col[0]) * unit:g}")
            for name, col, s, unit in zip(names, (x, y), (sx, sy), units, strict=True)
            if s == 0
        ]
        text = " and ".join(f"{name} is constant ({v})" for name, v in const)
        fields: tuple[tuple[str, str], ...] = (("n", str(len(x))),)
        for k, (name, v) in enumerate(const):
            fields += ((f"c{k}_criterion", name), (f"v{k}_figure", v))
        key = "r_constant" if len(const) == 1 else "r_constant_both"
        return None, Reason(key, f"{text} on the {len(x)} entities with both values", fields)
    r = float(dx @ dy) / float(np.sqrt(sx) * np.sqrt(sy))
    return min(1.0, max(-1.0, r)), None  # rounding may put |r| a hair above 1


def correlation_level(scores: Scores) -> str:
    """The level the correlations are taken at: the institutions, unless no institution has
    a value of any of the root's children (an edition that combines the dimensions per unit
    and rolls up only the total, 2022–2024), then the highest level where one has."""
    kids = list(scores.rubric.tree.children[scores.root])
    for lv in range(scores.node_levels[scores.root] + 1):
        if kids and ((scores.states_at(lv) == State.SCORED) & ~scores.missing_at(lv))[kids].any():
            return LEVELS[lv]
    return LEVELS[0]


def correlations(
    scores: Scores, level: str | None = None
) -> tuple[tuple[str, ...], tuple[Correlation, ...]]:
    """The root's children and Pearson's r of every pair across the entities of ``level``
    (default: :func:`correlation_level`), see the module docstring."""
    tree = scores.rubric.tree
    kids = list(tree.children[scores.root])
    ids = tuple(scores.node_ids[k] for k in kids)
    lv = LEVELS.index(level or correlation_level(scores))
    V = scores.values_at(lv)
    # observed or computed; not filled in by the missing policy (which may mark it scored)
    ok = (scores.states_at(lv) == State.SCORED) & ~scores.missing_at(lv)
    # 0–100 to the criterion's own unit (its points), for naming a constant value
    own_unit = np.where(scores.has_points, scores.unit_max / 100.0, 1.0)
    out: list[Correlation] = []
    for i, a in enumerate(kids):
        for b in kids[i + 1 :]:
            both = ok[a] & ok[b]
            r, reason = _pearson(
                V[a][both].astype(np.float64),
                V[b][both].astype(np.float64),
                (scores.node_ids[a], scores.node_ids[b]),
                (own_unit[a], own_unit[b]),
            )
            out.append(
                Correlation(
                    scores.node_ids[a],
                    scores.node_ids[b],
                    int(both.sum()),
                    r,
                    None if reason is None else reason.text,
                    reason,
                )
            )
    return ids, tuple(out)


def describe_data(scores: Scores) -> DataDescription:
    """The ``describe`` view of a scored data file (see the module docstring)."""
    acc = scores.accounting(listed=0)
    rows = {k: int(acc[k]) for k in ("rows", "used", "overridden", "empty", "excluded", "missing")}
    level = correlation_level(scores)
    dims, corr = correlations(scores, level)
    t = scores.table
    return DataDescription(
        rubric=scores.rubric.id,
        rows=rows,
        missing_policy=str(acc["missing_policy"]),
        entities={
            "institution": len(t.institutions),
            "unit": len(t.units),
            "product": len(t.products),
        },
        coverage=coverage(scores),
        dimensions=dims,
        correlation_level=level,
        correlations=corr,
    )
