"""Panels across years: each entity's trajectory, and what changed between methodologies.

A panel is built from result documents (``kepatuhan score --format json``), one per year.
Each entity's score and band are lined up by year; whenever two consecutive years were
scored under different rubrics, the panel says what changed — the band scheme, the
criteria under the root (dimensions or variables), the roll-up — so a rise from *kuning*
to *A* is not read as a like-for-like improvement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import attrs

from ..errors import InputFileError, Problem
from ..io.files import read_text
from ..io.rubric_toml import resolve_rubric
from ..plugins import PluginManager, default_manager
from ..rounding import publish
from ..rubric import Rubric

__all__ = ["Panel", "changes", "panel"]


@attrs.frozen
class Panel:
    """``years`` in order; per entity id, per year, ``(score, published, band)`` or absent."""

    years: tuple[int, ...]
    rubrics: tuple[str, ...]
    trajectories: dict[str, dict[int, tuple[float | None, str | None, str | None]]]
    warnings: tuple[str, ...]


def changes(a: Rubric, b: Rubric) -> list[str]:
    """What differs between two editions that matters when comparing their scores."""
    out: list[str] = []
    if (a.bands is None) != (b.bands is None) or (
        a.bands is not None
        and b.bands is not None
        and [(x.id, x.min) for x in a.bands.bands] != [(x.id, x.min) for x in b.bands.bands]
    ):

        def show(r: Rubric) -> str:
            return (
                "none"
                if r.bands is None
                else " / ".join(f"{x.id} ≥ {publish(float(x.min))}" for x in r.bands.bands)
            )

        out.append(f"bands: {show(a)} -> {show(b)}")
    kids = [
        [a.tree.nodes[k].id for k in a.tree.children[a.tree.root_index]],
        [b.tree.nodes[k].id for k in b.tree.children[b.tree.root_index]],
    ]
    if kids[0] != kids[1]:
        out.append(f"criteria under the root: {', '.join(kids[0])} -> {', '.join(kids[1])}")
    else:
        wa = [str(a.tree.nodes[k].effective_weight) for k in a.tree.children[a.tree.root_index]]
        wb = [str(b.tree.nodes[k].effective_weight) for k in b.tree.children[b.tree.root_index]]
        if wa != wb:
            out.append(f"weights of {', '.join(kids[0])}: {' / '.join(wa)} -> {' / '.join(wb)}")
    for level in ("institution", "unit"):
        ra, rb = a.levels.rule(level), b.levels.rule(level)
        if (ra.combine, ra.weight_by) != (rb.combine, rb.weight_by):
            out.append(
                f"{level} roll-up: {ra.combine} by {ra.weight_by} -> {rb.combine} by {rb.weight_by}"
            )
    if a.tree.level[a.tree.root_index] != b.tree.level[b.tree.root_index]:
        out.append("the level the score is computed at")
    return out


def panel(results: Sequence[str | Path], *, plugins: PluginManager | None = None) -> Panel:
    """A panel from result files (one per year, any order)."""
    pm = plugins or default_manager()
    docs: list[tuple[int, Rubric, dict[str, Any]]] = []
    for path in results:
        try:
            doc = json.loads(read_text(path))
            ref = doc["rubric"].get("ref") or doc["rubric"]["id"]
        except (ValueError, KeyError, TypeError, AttributeError):  # JSONDecodeError is one
            raise InputFileError(
                Problem("not a kepatuhan result (kepatuhan score --format json)", path=str(path))
            ) from None
        rubric = resolve_rubric(ref, pm, base=Path(path).resolve().parent)
        if rubric.year is None:
            raise InputFileError(Problem(f"rubric {rubric.id} has no year", path=str(path)))
        docs.append((rubric.year, rubric, doc))
    docs.sort(key=lambda d: d[0])
    years = [d[0] for d in docs]
    if len(set(years)) != len(years):
        raise InputFileError(Problem(f"two results for the same year: {years}"))
    traj: dict[str, dict[int, tuple[float | None, str | None, str | None]]] = {}
    for year, _, doc in docs:
        for inst in doc.get("institutions", []):
            band = inst.get("band") or {}
            traj.setdefault(inst["id"], {})[year] = (
                inst.get("score"),
                inst.get("published"),
                band.get("id"),
            )
    warnings = []
    for (y0, r0, _), (y1, r1, _) in pairwise(docs):
        if r0.digest != r1.digest:
            for c in changes(r0, r1):
                warnings.append(f"{y0} -> {y1} ({r0.id} -> {r1.id}): {c}")
    return Panel(tuple(years), tuple(d[1].id for d in docs), traj, tuple(warnings))
