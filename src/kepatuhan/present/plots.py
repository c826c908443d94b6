"""Pictures (the ``plot`` extra, matplotlib): each function returns a Figure.

- :func:`distribution` — the institutions' published scores, binned so that every band edge
  is a bin edge (no bar mixes two bands), bars coloured by zone, band names on the axis;
- :func:`waterfall` — from the top of the scale down to an institution's score: the points
  lost at each indicator, written on the bars, with the edge of the next band drawn;
- :func:`rank_intervals` — each institution's median rank within its kind and its
  5th–95th percentile interval over weight draws, grouped by kind;
- :func:`trajectories` — scores across years from a panel, each change of methodology marked
  with a vertical line and the editions it separates.

Words are in Bahasa Indonesia by default (``lang="en"`` for English): criterion labels through
:meth:`kepatuhan.rubric.Label.text`, band labels ``label`` / ``label_en``, entity names falling
back to ids. The Agg backend is used, so they render without a screen.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy as np

from ..analysis.panel import Panel
from ..analysis.sensitivity import Sensitivity
from ..applicability import attribute_groups
from ..bands import Band, BandScheme
from ..errors import KepatuhanError, Problem
from ..observations import Institution
from ..results import ExplainNode, Scores
from ..rounding import publish, round_scores
from . import lang as L

__all__ = [
    "WORDS",
    "ZONE_COLOURS",
    "band_bins",
    "distribution",
    "rank_intervals",
    "trajectories",
    "waterfall",
]

#: Bar colours of the Ombudsman's zones; a band without a zone gets ``NO_ZONE``.
ZONE_COLOURS = {"merah": "#c62828", "kuning": "#f9a825", "hijau": "#2e7d32"}
NO_ZONE = "#4c72b0"
#: The keys of :data:`WORDS` (the catalogue holds them as ``plot_KEY``).
_PLOT_KEYS = (
    "published_score",
    "institutions",
    "distribution",
    "unscored",
    "waterfall",
    "next_band",
    "top_band",
    "your_score",
    "other",
    "ranks_title",
    "ranks_how_uniform",
    "ranks_how_dirichlet",
    "ranks_how",
    "ranks_axis",
    "group",
    "no_kind",
    "all_kinds",
    "trajectories",
    "changed",
    "year",
)

#: The pictures' words, ``{key: {"id": …, "en": …}}``: a view of the one catalogue,
#: :mod:`kepatuhan.present.lang` (its ``plot_`` keys), kept for kepatuhan 0.2's callers.
WORDS: dict[str, dict[str, str]] = {
    key: {code: L.word("plot_" + key, code) for code in L.LANGS} for key in _PLOT_KEYS
}


def _w(key: str, lang: str, **fields: object) -> str:
    """A picture's word in ``lang`` (the catalogue's ``plot_`` key ``key``)."""
    return L.word("plot_" + key, lang, **fields)


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


def _band_colour(b: Band) -> str:
    return ZONE_COLOURS.get(b.zone or "", NO_ZONE)


def _edge(x: Decimal) -> str:
    """A band edge as written on an axis: ``54`` or ``60.01``."""
    return f"{x.normalize():f}" if x == x.to_integral_value() else publish(float(x))


def band_bins(scheme: BandScheme, target: float = 5.0) -> list[float]:
    """The histogram's bin edges: every band edge is one (no bin mixes two bands).

    Equal bins of the widest width up to ``target`` points that divides every band's width
    (counted in the scheme's resolution), so bar heights compare like with like; where the
    only such width is under one point (bands such as 0–33.33), one bin per band. The edges
    are the bands' ``min`` and the scheme's maximum as floats, exactly.
    """
    res = scheme.resolution
    steps = [int(b.min / res) for b in scheme.bands] + [int(scheme.maximum / res)]
    widths = [b - a for a, b in pairwise(steps)]
    g = 0
    for w in widths:
        g = math.gcd(g, w)
    width = 0
    for d in range(min(g, int(Decimal(str(target)) / res)), 0, -1):
        if g % d == 0:
            width = d
            break
    if width * res < 1:
        return [float(b.min) for b in scheme.bands] + [float(scheme.maximum)]
    return [float(k * res) for k in range(steps[0], steps[-1] + 1, width)]


def _published_scores(scores: Scores) -> tuple[np.ndarray[Any, Any], int]:
    col = scores.columns(0)
    values = round_scores(col.score[col.has_score])
    return values, int((~col.has_score).sum())


def distribution(
    scores: Scores, *, lang: str = "id", target: float = 5.0, decimal_comma: bool = False
) -> Any:
    """Histogram of the institutions' published scores, binned by :func:`band_bins`.

    Each bar has its band's zone colour; the band edges are the major ticks and the band
    names (id and label) sit under each band; each band says how many institutions it holds.
    Institutions without a score (not applicable) are counted in the title, not drawn.
    """
    plt = _plt()
    values, unscored = _published_scores(scores)
    scheme = scores.rubric.bands
    top = float(scheme.maximum) if scheme is not None else scores.maximum
    fig, ax = plt.subplots(figsize=(9, 4.6))
    if scheme is None:
        ax.hist(values, bins=20, range=(0, top), color=NO_ZONE, edgecolor="white")
    else:
        edges = band_bins(scheme, target)
        _, _, patches = ax.hist(values, bins=edges, edgecolor="white", linewidth=0.6)
        lows = np.array([float(b.min) for b in scheme.bands])
        for left, patch in zip(edges, patches, strict=False):
            band = scheme.bands[int(np.searchsorted(lows, left, side="right")) - 1]
            patch.set_facecolor(_band_colour(band))
        bounds = [*lows.tolist(), top]
        counts = (
            np.bincount(scheme.index(values), minlength=len(scheme.bands))
            if len(values)
            else np.zeros(len(scheme.bands), dtype=int)
        )
        ticks = [_edge(b.min) for b in scheme.bands] + [_edge(scheme.maximum)]
        ax.set_xticks(bounds, [L.format_published(t, decimal_comma) for t in ticks])
        centres = [(a + b) / 2 for a, b in pairwise(bounds)]
        names = [
            b.id
            if L.band_label(b, lang) in ("", b.id)
            else f"{b.id}\n" + "\n".join(textwrap.wrap(L.band_label(b, lang), 12))
            for b in scheme.bands
        ]
        ax.set_xticks(centres, names, minor=True)
        ax.tick_params(axis="x", which="minor", length=0, pad=16, labelsize=8)
        for a in bounds[1:-1]:
            ax.axvline(a, color="#555", linestyle="--", linewidth=0.8)
        ymax = max(ax.get_ylim()[1], 1.0)
        ax.set_ylim(0, ymax * 1.15)
        total = max(len(values), 1)
        for c, x, b in zip(counts, centres, scheme.bands, strict=True):
            ax.text(
                x,
                ymax * 1.08,
                f"{b.id}: {int(c)} ({100 * int(c) / total:.0f}%)",
                ha="center",
                va="center",
                fontsize=8,
            )
    ax.set_xlim(0, top)
    ax.set_xlabel(_w("published_score", lang))
    ax.set_ylabel(_w("institutions", lang))
    title = _w("distribution", lang, n=len(values))
    if unscored:
        title += f" ({_w('unscored', lang, n=unscored)})"
    rubric = textwrap.fill(scores.rubric.title or scores.rubric.id, 100)
    ax.set_title(f"{title}\n{rubric}", fontsize=10)
    fig.tight_layout()
    return fig


#: How far (points of 0–100) the losses below a node may be from its own loss and still
#: count as its exact decomposition (float error on sums of a few thousand terms).
_EXACT = 1e-6


def _losses(node: ExplainNode) -> list[ExplainNode]:
    """Where points were lost, as finely as the explanation decomposes exactly.

    Below a node whose parts' losses add up to its own (weighted means, sums), its parts;
    otherwise (a rule such as ``add``, whose split among its children is not published) the
    node itself, so no bar shows a loss the rubric does not define.
    """
    kids = (*node.children, *node.entities)
    mine = [node] if node.lost > 0 else []
    if not kids:
        return mine
    parts = [x for k in kids for x in _losses(k)]
    return parts if abs(sum(p.lost for p in parts) - node.lost) <= _EXACT else mine


def _two_lines(text: str, width: int = 46) -> str:
    """A bar's label on at most two lines (cut with … beyond)."""
    lines = textwrap.wrap(text, width)
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "\n".join(lines)


def _entity_name(scores: Scores, n: ExplainNode) -> str:
    """Who lost the points: a unit's name, or ``unit / product`` (product ids repeat across
    units; :func:`kepatuhan.present.lang.entity_name`); nothing for the institution itself."""
    if n.level == "institution":
        return ""
    return L.entity_name(scores.table, 1 if n.level == "unit" else 2, n.entity_index, full=True)


def waterfall(
    scores: Scores,
    institution: str,
    top: int = 12,
    *,
    by: str = "entity",
    lang: str = "id",
    decimal_comma: bool = False,
) -> Any:
    """From the top of the scale down to the institution's score: the points lost at each
    indicator (or given value), largest first, each written on its bar; the rest in one bar.
    ``by="entity"`` gives a bar per unit or product and indicator; ``by="criterion"`` one
    per indicator, summed over the units and products (a round with many products).

    A vertical line marks the lower edge of the next band up. Losses are split down the tree
    only where the parts add up exactly to the whole (:func:`_losses`); the bars together
    always equal the top of the scale minus the score, or the picture is refused.
    """
    plt = _plt()

    def num(text: str | None) -> str:
        return L.format_published(text, decimal_comma)

    card = scores.card(institution)
    name = L.entity_label(card.name, card.id)
    if card.score is None:
        raise KepatuhanError(
            Problem(f'institution "{institution}" has no score (not applicable): no waterfall')
        )
    labels_of = {c.id: c for c in scores.rubric.criteria}
    losses = sorted(_losses(scores.explain(institution)), key=lambda n: -n.lost)
    unit = scores.maximum / 100
    total_lost = sum(n.lost for n in losses) * unit
    if abs(scores.maximum - total_lost - card.score) > 0.005:
        raise KepatuhanError(
            Problem(
                f'waterfall of "{institution}": the points lost at the indicators add up to '
                f"{publish(total_lost)}, not {publish(scores.maximum - card.score)} (the roll-up "
                "is not a weighted mean or a sum); see kepatuhan explain",
                expected=publish(scores.maximum - card.score),
                found=publish(total_lost),
            )
        )
    if by not in ("entity", "criterion"):
        raise KepatuhanError(Problem(f"expected by entity or criterion, found {by!r}"))

    def crit_label(n: ExplainNode) -> str:
        c = labels_of.get(n.criterion)
        return n.criterion if c is None else L.criterion_label(c, lang)

    items: list[tuple[str, float]] = []  # (label, points lost on the published scale)
    if by == "entity":
        for n in losses:
            who = _entity_name(scores, n)
            text = f"{who}: {crit_label(n)}" if who else crit_label(n)
            if n.state == "missing_as_zero":
                text += f" ({L.word('missing', lang)})"
            items.append((text, n.lost * unit))
    else:  # one bar per criterion, summed over the units and products that lost there
        groups: dict[str, list[ExplainNode]] = {}
        for n in losses:
            groups.setdefault(n.criterion, []).append(n)
        for nodes in groups.values():
            text = crit_label(nodes[0]) + (f" (×{len(nodes)})" if len(nodes) > 1 else "")
            gone = sum(n.state == "missing_as_zero" for n in nodes)
            if gone:
                text += f" ({gone} {L.word('missing', lang)})"
            items.append((text, sum(n.lost for n in nodes) * unit))
        items.sort(key=lambda it: -it[1])
    shown, rest = items[:top], items[top:]
    labels = [_two_lines(text) for text, _ in shown]
    steps = [lost for _, lost in shown]
    if rest:
        labels.append(_w("other", lang, n=len(rest)))
        steps.append(sum(lost for _, lost in rest))
    fig, ax = plt.subplots(figsize=(9.5, 0.42 * len(steps) + 2.2))
    level = scores.maximum
    colour = _band_colour(card.band) if card.band is not None else NO_ZONE
    for i, s in enumerate(steps):
        ax.barh(i, -s, left=level, color="#c44e52", height=0.7)
        ax.text(level - s, i, f" −{num(publish(s))} ", ha="right", va="center", fontsize=8)
        level -= s
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.axvline(card.score, color=colour, linewidth=2)
    ax.text(
        card.score,
        -0.9,
        " " + _w("your_score", lang, score=num(card.published)),
        ha="left",
        va="bottom",
        fontsize=8,
    )
    scheme = scores.rubric.bands
    left = min(level, card.score)
    if scheme is not None and card.band is not None:
        k = [b.id for b in scheme.bands].index(card.band.id)
        if k + 1 < len(scheme.bands):
            nxt = scheme.bands[k + 1]
            ax.axvline(float(nxt.min), color=_band_colour(nxt), linestyle="--", linewidth=1.5)
            ax.text(
                float(nxt.min),
                -0.9,
                " " + _w("next_band", lang, band=nxt.id, edge=num(publish(float(nxt.min)))),
                ha="left",
                va="bottom",
                fontsize=8,
            )
    # room on the left for the value written beyond the last bar
    ax.set_xlim(max(0.0, left - max(6.0, 0.12 * (scores.maximum - left))), scores.maximum)
    ax.set_ylim(len(steps) - 0.4, -1.4)
    ax.set_xlabel(L.word("score", lang).lower())
    year = scores.rubric.year if scores.rubric.year is not None else scores.rubric.id
    band = ""
    if card.band is not None:
        band = f" — {card.band.id} ({L.band_label(card.band, lang)})"
        if scheme is not None and card.band.id == scheme.bands[-1].id:
            band += f", {_w('top_band', lang)}"
    ax.set_title(
        f"{name} ({year}): {num(card.published)}{band}\n"
        + _w(
            "waterfall",
            lang,
            top=num(_edge(Decimal(str(scores.maximum)))),
            score=num(card.published),
        ),
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def rank_intervals(
    sens: Sensitivity,
    scores: Scores | None = None,
    *,
    top: int = 15,
    method: str | None = None,
    spread: float | None = None,
    lang: str = "id",
) -> Any:
    """Each institution's median rank within its kind, with its 5th–95th percentile interval.

    One group per kind of institution (ranks are within kinds, as published), headed by the
    kind and its size; the ``top`` best by median rank of each group are drawn. Institutions
    without a score have no rank and are left out (their count is in the group's size).
    ``method`` and ``spread`` (as given to :func:`~kepatuhan.analysis.sensitivity.sensitivity`)
    go into the title. Without ``scores`` (kepatuhan 0.1's call) the institutions are shown
    by id in one group.
    """
    plt = _plt()
    # without the result (kepatuhan 0.1's call), ids only and a single group
    insts = (
        scores.table.institutions
        if scores is not None
        else tuple(Institution(i) for i in sens.institutions)
    )
    if tuple(i.id for i in insts) != sens.institutions:
        raise KepatuhanError(Problem("rank_intervals: the sensitivity run is of another result"))
    groups: dict[str, list[int]] = {}
    unknown = _w("no_kind" if scores is not None else "all_kinds", lang)
    # a kind in any letter case is one group, as rank() and sensitivity() rank it
    codes, kinds = attribute_groups([inst.kind for inst in insts])
    for i, k in enumerate(codes):
        groups.setdefault(kinds[k] or unknown, []).append(i)
    rows: list[tuple[str, int | None]] = []  # (label, institution or None for a header)
    for kind in sorted(groups):
        ranked = [i for i in groups[kind] if sens.rank_high[i] > 0]  # rank 0: no score
        ranked.sort(key=lambda i: (sens.rank_median[i], insts[i].id))
        shown = ranked[:top]
        rows.append((_w("group", lang, kind=kind, shown=len(shown), n=len(groups[kind])), None))
        rows.extend((L.entity_label(insts[i].name, insts[i].id), i) for i in shown)
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(rows) + 1.9))
    for y, (_, row) in enumerate(rows):
        if row is None:  # a group's header: a rule above it
            if y:
                ax.axhline(y - 0.5, color="#999", linewidth=0.6)
            continue
        ax.plot([sens.rank_low[row], sens.rank_high[row]], [y, y], color=NO_ZONE, linewidth=2)
        ax.plot(sens.rank_median[row], y, "o", color=NO_ZONE, markersize=4)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    for tick, (_, row) in zip(ax.get_yticklabels(), rows, strict=True):
        if row is None:
            tick.set_fontweight("bold")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(left=0.5)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # ranks are whole numbers
    ax.set_xlabel(_w("ranks_axis", lang), fontsize=9)
    draws = int(sens.weights.shape[0])
    if method == "uniform" and spread is not None:
        how = _w("ranks_how_uniform", lang, draws=draws, spread=f"{spread:g}")
    elif method == "dirichlet":
        how = _w("ranks_how_dirichlet", lang, draws=draws)
    else:
        how = _w("ranks_how", lang, draws=draws)
    labels = {c.id: L.criterion_label(c, lang) for c in scores.rubric.criteria} if scores else {}
    children = ", ".join(labels.get(k, k) for k in sens.children)
    rubric = scores.rubric.id if scores is not None else ""
    title = textwrap.fill(_w("ranks_title", lang, rubric=rubric, children=children), 90)
    ax.set_title(f"{title}\n{how}", fontsize=10)
    fig.tight_layout()
    return fig


def _changes(p: Panel) -> list[tuple[int, int, str]]:
    """``(year before, year after, label)`` at each change of methodology in the panel: the
    rubric changed between consecutive series (another id, or the same id with another
    digest)."""
    out = []
    for s0, s1 in pairwise(p.series):
        if s0.rubric_id != s1.rubric_id:
            out.append((s0.year, s1.year, f"{s0.rubric_id} → {s1.rubric_id}"))
        elif s0.digest != s1.digest:
            out.append((s0.year, s1.year, s1.label))
    return out


def trajectories(
    p: Panel,
    entities: Sequence[str] | None = None,
    *,
    names: Mapping[str, str] | None = None,
    lang: str = "id",
) -> Any:
    """Scores by year; a vertical line, labelled with the editions, where the methodology
    changed. A trajectory is drawn solid within one methodology and dotted across a change,
    so a jump that comes with a new rubric is not read as a like-for-like change.

    ``entities`` defaults to the ten seen in the most years; ``names`` maps ids to the names
    shown in the legend (ids where absent).
    """
    plt = _plt()
    names = names or {}
    fig, ax = plt.subplots(figsize=(9, 4.6))
    default = sorted(p.trajectories, key=lambda k: (-len(p.trajectories[k]), k))[:10]
    changes = _changes(p)
    after = {y1 for _, y1, _ in changes}
    for ident in entities or default:
        t = p.trajectories.get(ident, {})
        ys = [y for y in p.years if y in t and t[y][0] is not None]
        vs = [float(t[y][0]) for y in ys]  # type: ignore[arg-type]
        (line,) = ax.plot([], [], marker="o", label=names.get(ident, ident))
        colour = line.get_color()
        span_x: list[int] = []
        span_y: list[float] = []
        for k, (y, v) in enumerate(zip(ys, vs, strict=True)):
            crossed = any(ys[k - 1] < y1 <= y for y1 in after) if k else False
            if crossed:
                ax.plot([ys[k - 1], y], [vs[k - 1], v], linestyle=":", color=colour)
                ax.plot(span_x, span_y, marker="o", color=colour)
                span_x, span_y = [], []
            span_x.append(y)
            span_y.append(v)
        ax.plot(span_x, span_y, marker="o", color=colour)
    seen = [v[0] for t in p.trajectories.values() for v in t.values() if v[0] is not None]
    ax.set_ylim(0, max([100.0, *seen]) * 1.05)
    for y0, y1, label in changes:
        x = (y0 + y1) / 2
        ax.axvline(x, color="#555", linestyle="--", linewidth=1)
        ax.text(x, 2, f" {label}", rotation=90, va="bottom", ha="right", fontsize=7)
    ax.set_xticks(list(p.years))
    ax.set_xlabel(_w("year", lang))
    ax.set_ylabel(L.word("score", lang).lower())
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(1.0, 0.0))
    ax.set_title(f"{_w('trajectories', lang)}\n{_w('changed', lang)}", fontsize=10)
    fig.tight_layout()
    return fig
