"""Rubric lint: what a valid rubric may still lack for a methodology designer.

Structural problems (weights that do not add up, band gaps, cycles, orphans, duplicate
ids) are errors of :class:`~kepatuhan.Rubric` itself. The lint adds the project's rule
that **every number has a source**: each weight or maximum of points, each band bound and
each roll-up rule names a ``source`` (and a ``confidence``); and a ``[[source]]`` that
nothing cites is a finding. (A cited source that is not defined is an error of the rubric
itself.)
"""

from __future__ import annotations

from ..errors import Problem
from ..rubric import Rubric, citations

__all__ = ["lint_rubric"]


def lint_rubric(rubric: Rubric) -> list[Problem]:
    """Lint findings (empty when every number is sourced); never raises."""
    found: list[Problem] = []

    def need(where: str, source: str | None, confidence: str | None, what: str) -> None:
        if source is None:
            found.append(Problem(f"{what} has no source", key_path=f"{where}.source"))
        if confidence is None:
            found.append(
                Problem(
                    f"{what} has no confidence (stated, secondary, inferred, assumed)",
                    key_path=f"{where}.confidence",
                )
            )

    tree = rubric.tree
    for i, c in enumerate(tree.nodes):
        numbered = c.weight is not None or c.points is not None or tree.is_leaf(i)
        if numbered or c.parent is None:
            what = (
                "its weight"
                if c.weight is not None
                else "its points"
                if c.points is not None
                else "it"
            )
            need(f'criterion "{c.id}"', c.source, c.confidence, f'criterion "{c.id}": {what}')
    for name, rule in (("institution", rubric.levels.institution), ("unit", rubric.levels.unit)):
        need(f"levels.{name}", rule.source, rule.confidence, f"the {name} roll-up rule")
    if rubric.bands is not None:
        for b in rubric.bands.bands:
            need(f'bands.band "{b.id}"', b.source, b.confidence, f'band "{b.id}" (min {b.min})')
    # cited by a `source` key, or by its id in the rubric's text (a description or a note
    # that says where its rounding rule or missing-value policy comes from)
    cited = {sid for _, sid in citations(rubric)}
    text = " ".join(
        [rubric.description or "", *(c.note or "" for c in rubric.criteria)]
        + [rubric.levels.rule(n).note or "" for n in ("institution", "unit")]
        + [a.note or "" for a in rubric.alternatives]
    )
    found.extend(
        Problem(f'source "{s.id}" is defined but nothing cites it', key_path="source")
        for s in rubric.sources
        if s.id not in cited and s.id not in text
    )
    return found
