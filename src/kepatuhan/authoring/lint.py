"""Rubric lint: what a valid rubric may still lack for a methodology designer.

Structural problems (weights that do not add up, band gaps, cycles, orphans, duplicate
ids) are errors of :class:`~kepatuhan.Rubric` itself. The lint adds the project's rule
that **every number has a source**: each weight or maximum of points, each band bound and
each roll-up rule names a ``source`` (and a ``confidence``); and a ``[[source]]`` that
nothing cites is a finding. (A cited source that is not defined is an error of the rubric
itself.)

:func:`lint_hints` points at what may be a slip but may also be meant, and never fails a
check: weights of a weighted mean that look like percentages but do not add up to 100.
"""

from __future__ import annotations

from decimal import Decimal

from ..errors import Problem
from ..rubric import Rubric, citations

__all__ = ["PERCENT_LIKE", "lint_hints", "lint_rubric"]

#: Sibling weights "look like percentages" when they add up to more than the first and less
#: than the second number: 30 + 30 + 45 = 105 or 25 + 25 + 25 = 75 (a child forgotten?) get
#: a hint; ratios such as 1 + 2 + 1 or the editions' nine weights of 1.0 do not.
PERCENT_LIKE = (Decimal(50), Decimal(150))


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


def lint_hints(rubric: Rubric) -> list[Problem]:
    """Hints (never errors): what may be a slip in a valid rubric; never raises.

    A ``weighted_mean`` node whose children all give a ``weight``, whose weights add up to
    between 50 and 150 (:data:`PERCENT_LIKE`: they look like percentages) but not to 100,
    gets a hint naming the node, the sum and each weight. Only ratios of weights matter, so
    the rubric scores the same either way; the hint asks whether a weight is mistyped or a
    child forgotten.
    """
    found: list[Problem] = []
    tree = rubric.tree
    lo, hi = PERCENT_LIKE
    for i, c in enumerate(tree.nodes):
        kids = [tree.nodes[k] for k in tree.children[i]]
        if c.rule.name != "weighted_mean" or len(kids) < 2:
            continue
        weights = [k.weight for k in kids]
        if any(w is None for w in weights):
            continue
        total = sum((w for w in weights if w is not None), Decimal(0))
        if lo < total < hi and abs(total - 100) > Decimal("1e-9"):
            parts = ", ".join(f"{k.id} {k.weight}" for k in kids)
            found.append(
                Problem(
                    f"the weights of its children add up to {total}, not 100 ({parts}); "
                    "only their ratios matter, so this scores the same as weights scaled to "
                    "100 — is a weight mistyped or a child missing?",
                    key_path=f'criterion "{c.id}"',
                    expected="weights adding up to 100 (when they are percentages)",
                    found=str(total),
                )
            )
    return found
