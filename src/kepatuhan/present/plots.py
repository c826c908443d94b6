"""Pictures (the ``plot`` extra, matplotlib): each function returns a Figure.

- :func:`distribution` — the scores of all institutions, with the band edges;
- :func:`waterfall` — where an institution's points were lost, largest first;
- :func:`rank_intervals` — 5th–95th percentile ranks from a sensitivity run;
- :func:`trajectories` — scores across years from a panel, with methodology changes marked.

The Agg backend is used, so they render without a screen.
"""

from __future__ import annotations

from typing import Any

from ..analysis.panel import Panel
from ..analysis.sensitivity import Sensitivity
from ..errors import KepatuhanError, Problem
from ..results import ExplainNode, Scores

__all__ = ["distribution", "rank_intervals", "trajectories", "waterfall"]


def _plt() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plt.rcParams["svg.fonttype"] = "none"  # SVG keeps its text as text, searchable
    except ImportError:
        raise KepatuhanError(
            Problem("pictures need matplotlib: pip install kepatuhan[plot]")
        ) from None
    return plt


def distribution(scores: Scores) -> Any:
    """Histogram of the institutions' scores, with each band's lower edge and label."""
    plt = _plt()
    values = [c.score for c in scores.cards() if c.score is not None]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.hist(values, bins=20, range=(0, scores.maximum), color="#4c72b0")
    if scores.rubric.bands is not None:
        for b in scores.rubric.bands.bands:
            ax.axvline(float(b.min), color="#888", linestyle="--", linewidth=1)
            ax.text(float(b.min) + 0.5, ax.get_ylim()[1] * 0.95, b.id, va="top", fontsize=9)
    ax.set_xlabel("score")
    ax.set_ylabel("institutions")
    ax.set_title(f"{scores.rubric.id}: {len(values)} institutions")
    fig.tight_layout()
    return fig


def _leaves(node: ExplainNode) -> list[ExplainNode]:
    return [n for n in node.walk() if not n.children and not n.entities and n.lost > 0.005]


def waterfall(scores: Scores, institution: str, top: int = 12) -> Any:
    """From 100 down to the score: the points lost at each indicator or given value."""
    plt = _plt()
    card = scores.card(institution)
    losses = sorted(_leaves(scores.explain(institution)), key=lambda n: -n.lost)
    shown = losses[:top]
    rest = sum(n.lost for n in losses[top:])
    labels = [
        f"{n.entity.split(chr(34))[-2] if chr(34) in n.entity else n.entity}: {n.criterion}"
        for n in shown
    ]
    steps = [n.lost * scores.maximum / 100 for n in shown]
    if rest > 0:
        labels.append("other")
        steps.append(rest * scores.maximum / 100)
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(steps) + 1.5))
    level = scores.maximum
    for i, s in enumerate(steps):
        ax.barh(i, -s, left=level, color="#c44e52")
        level -= s
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(card.score or 0, color="#333", linewidth=1)
    ax.set_xlim(min(level, card.score or 0) - 5, scores.maximum)
    ax.set_xlabel("score")
    ax.set_title(f"{institution}: {card.published} — points lost")
    fig.tight_layout()
    return fig


def rank_intervals(sens: Sensitivity, top: int = 30) -> Any:
    """Each institution's median rank with its 5th–95th percentile interval."""
    plt = _plt()
    order = sorted(range(len(sens.institutions)), key=lambda i: sens.rank_median[i])[:top]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(order) + 1.5))
    for y, i in enumerate(order):
        ax.plot([sens.rank_low[i], sens.rank_high[i]], [y, y], color="#4c72b0")
        ax.plot(sens.rank_median[i], y, "o", color="#4c72b0")
    ax.set_yticks(range(len(order)), [sens.institutions[i] for i in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("rank within kind (5th–95th percentile over weight draws)")
    fig.tight_layout()
    return fig


def trajectories(p: Panel, entities: list[str] | None = None) -> Any:
    """Scores by year; a dotted vertical line where the methodology changed.

    ``entities`` defaults to the ten seen in the most years.
    """
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 4))
    # by default the ten entities seen in the most years
    default = sorted(p.trajectories, key=lambda k: (-len(p.trajectories[k]), k))[:10]
    for ident in entities or default:
        t = p.trajectories.get(ident, {})
        ys = [y for y in p.years if y in t and t[y][0] is not None]
        ax.plot(ys, [t[y][0] for y in ys], marker="o", label=ident)
    changed = {int(w.split(" -> ")[1].split(" ")[0]) for w in p.warnings}
    for y in changed:
        ax.axvline(y - 0.5, color="#888", linestyle=":", linewidth=1)
    ax.set_xticks(list(p.years))
    ax.set_ylabel("score")
    ax.legend(fontsize=7)
    ax.set_title("trajectories (dotted: methodology changed)")
    fig.tight_layout()
    return fig
