"""How much a ranking depends on its weights: the root's child weights, perturbed.

Draws perturb the weights of the root criterion's children (the dimensions of 2022–2025,
the variables of 2021): ``uniform`` multiplies each by a factor in 1 ± ``spread``;
``dirichlet`` draws shares around the published ones (``concentration`` sets how tight).
Each draw's weights are normalised to shares that add up to 1 — the weights the root's
weighted mean actually applies — and returned, so any draw can be re-run with
:func:`kepatuhan.score`. Everything is a matrix product: the children's scores (entities ×
children) times the draws' shares (children × draws), renormalised over the children that
apply, then rolled up to the institutions by segmented sums. No Python loop over draws or
entities.

Valid only where every rule the draws go through is linear
(:attr:`kepatuhan.Aggregator.linear`) and combines by the weights it is given: the root's
rule must be a weighted mean of its children (``weighted_mean``, ``sum``, or ``mean``, the
equal-weight case), and the roll-ups from the root's level up to the institution linear
means. A rule that is not linear (the minimum, a plugin's non-linear rule) is refused with
its name and the reason — the draws would have to be re-scored one by one, which
kepatuhan does not do silently — as is a root that adds its children up (``add``: there
are no weights to perturb).

An institution whose score is given as a total (the root given, not computed from its
children) does not move with the weights; :attr:`Sensitivity.fixed` lists them and
:attr:`Sensitivity.warnings` says so, so "the weights do not matter" is never mistaken for
a finding when the input holds only totals.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from ..aggregators import Aggregator
from ..applicability import attribute_groups
from ..errors import KepatuhanError, Problem
from ..results import NA, Scores
from ..rounding import round_scores
from ..states import has_value
from .rank import tie_ranks

__all__ = ["Sensitivity", "sensitivity"]


@attrs.frozen(eq=False)
class Sensitivity:
    """Scores, bands and ranks of every institution under every weight draw.

    ``weights`` is ``draws × children`` (columns in ``children`` order), each row the shares
    the draw applies (normalised: they add up to 1); ``scores`` and
    ``bands`` are ``institutions × draws`` (band index into the rubric's bands, -1 for
    none); ``rank_low``/``rank_median``/``rank_high`` are the 5th, 50th and 95th
    percentile ranks within each institution's kind.
    """

    institutions: tuple[str, ...]
    children: tuple[str, ...]
    weights: NDArray[np.float64]
    scores: NDArray[np.float64]
    bands: NDArray[np.intp]
    rank_low: NDArray[np.float64]
    rank_median: NDArray[np.float64]
    rank_high: NDArray[np.float64]
    seed: int
    fixed: tuple[str, ...] = ()
    """Institutions with a score that no weight can move: their total is given (the root
    given for them or for all their units), not computed from the root's children."""
    warnings: tuple[str, ...] = ()
    """What a reader of the draws must know (the institutions the weights cannot move)."""


def _draws(
    base: NDArray[np.float64], n: int, method: str, spread: float, concentration: float, seed: int
) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    if method == "uniform":
        out: NDArray[np.float64] = base * rng.uniform(1 - spread, 1 + spread, size=(n, len(base)))
        return out
    if method == "dirichlet":
        share = base / base.sum()
        dirichlet: NDArray[np.float64] = rng.dirichlet(share * concentration, size=n) * base.sum()
        return dirichlet
    raise KepatuhanError(Problem(f"expected method uniform or dirichlet, found {method!r}"))


def sensitivity(
    scores: Scores,
    *,
    draws: int = 1000,
    method: str = "uniform",
    spread: float = 0.10,
    concentration: float = 200.0,
    seed: int = 0,
) -> Sensitivity:
    """Perturb the root's child weights ``draws`` times; scores, bands and rank intervals."""
    tree = scores.rubric.tree
    root = tree.root_index
    kids = list(tree.children[root])
    problems = []
    if not kids:
        problems.append("the root has no children to weigh")
    agg = scores.aggregators[root]
    root_rule = _rule_kind(agg, scores.weights[kids].astype(np.float64)) if kids else "weights"
    if root_rule not in ("weights", "equal"):
        problems.append(f"the root's rule {root_rule}")
    lv_root = scores.node_levels[root]
    level_equal = []
    for lv in range(lv_root):
        kind = _rule_kind(scores.level_aggregators[lv], np.array([1.0, 2.0, 3.0]))
        level_equal.append(kind == "equal")
        if kind not in ("weights", "equal"):
            problems.append(f"the {('institution', 'unit')[lv]} roll-up's rule {kind}")
    if problems:
        raise KepatuhanError([Problem(f"sensitivity: {p}") for p in problems])
    equal = root_rule == "equal"
    base = np.ones(len(kids)) if equal else scores.weights[kids].astype(np.float64)
    W = _draws(base, draws, method, spread, concentration, seed)  # draws × k
    W = W / W.sum(axis=1, keepdims=True)  # the shares each draw applies

    def own(level: int, rows: NDArray[np.intp] | None = None) -> NDArray[np.float64]:
        """The root from the entity's own children, under every draw (entities × draws)."""
        V, S = scores.values_at(level), scores.states_at(level)
        child = V[kids].T if rows is None else V[kids][:, rows].T  # entities × k
        inc = has_value(S[kids] if rows is None else S[kids][:, rows]).T.astype(np.float64)
        num = (child * inc) @ W.T
        den = inc @ W.T
        out: NDArray[np.float64] = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
        return out

    def rollup_weights(lv: int, ok: NDArray[np.bool_]) -> NDArray[np.float64]:
        """The engine's weights of the entities of ``lv`` in their parents' roll-up."""
        if level_equal[lv - 1]:
            return ok.astype(np.float64) * (scores.entity_weights(lv) > 0)
        out: NDArray[np.float64] = scores.entity_weights(lv) * ok
        return out

    def settle(lv: int, x: NDArray[np.float64], tot: NDArray[Any]) -> Any:
        """After rolling up into level ``lv - 1``: the parents that take the root from
        their own children or were given it keep that, as the engine did."""
        ok = tot > 0
        parent_state = scores.states_at(lv - 1)[root]
        # an entity with data of its own under the root (dimension points on an institution
        # row) takes the root from its own children, as the engine did
        mine = np.flatnonzero(scores.from_children_at(lv - 1)[root])
        if len(mine):
            x[mine] = own(lv - 1, mine)
            ok[mine] = has_value(parent_state[mine])
        parent_given = scores.given_at(lv - 1)[root]
        x[parent_given] = scores.values_at(lv - 1)[root][parent_given][:, None]
        ok = ok | parent_given
        ok &= parent_state != NA
        return x, ok

    ok = has_value(scores.states_at(lv_root)[root])
    if lv_root == 0:
        x = own(0)
        # a root given directly (a published total) does not move with the weights
        given = scores.given_at(0)[root]
        x[given] = scores.values_at(0)[root][given][:, None]
    else:
        # the first roll-up fused with the root's own combination: parents × draws, never
        # the (many more) children × draws
        lv = lv_root
        par = scores.table.unit_institution if lv == 1 else scores.table.product_unit
        n_par = len(scores.table.institutions) if lv == 1 else len(scores.table.units)
        w = rollup_weights(lv, ok)
        tot = np.bincount(par, weights=w, minlength=n_par)
        acc = _fused_rollup(scores, lv, kids, W, w, par, n_par)
        x = np.divide(acc, tot[:, None], out=np.zeros_like(acc), where=tot[:, None] > 0)
        x, ok = settle(lv, x, tot)
    # the further roll-ups, level by level, with the engine's entity weights
    for lv in range(lv_root - 1, 0, -1):
        par = scores.table.unit_institution if lv == 1 else scores.table.product_unit
        n_par = len(scores.table.institutions) if lv == 1 else len(scores.table.units)
        w = rollup_weights(lv, ok)
        tot = np.bincount(par, weights=w, minlength=n_par)
        acc = _segment_sums(x * w[:, None], par, n_par)
        x = np.divide(acc, tot[:, None], out=np.zeros_like(acc), where=tot[:, None] > 0)
        x, ok = settle(lv, x, tot)
    x = x * (scores.maximum / 100.0)
    bands = (
        scores.rubric.bands.index(x).reshape(x.shape)
        if scores.rubric.bands is not None
        else np.full(x.shape, -1, dtype=np.intp)
    )
    ranks = _ranks(scores, round_scores(x, 9), ok)
    moves = _moves_with_weights(scores, lv_root, ok)
    ids = tuple(i.id for i in scores.table.institutions)
    fixed = tuple(ids[i] for i in np.flatnonzero(ok & ~moves))
    warnings: tuple[str, ...] = ()
    if fixed:
        n_ok = int(ok.sum())
        who = "all" if len(fixed) == n_ok else f"{len(fixed)} of {n_ok}"
        shown = ", ".join(fixed[:5]) + (", …" if len(fixed) > 5 else "")
        warnings = (
            f"{who} scored institutions have only totals in the data (their score is given, "
            f"not computed from {', '.join(tree.nodes[k].id for k in kids)}): the weights "
            f"cannot move them ({shown})",
        )
    return Sensitivity(
        institutions=tuple(i.id for i in scores.table.institutions),
        children=tuple(tree.nodes[k].id for k in kids),
        weights=W,
        scores=x,
        bands=np.asarray(bands, dtype=np.intp),
        rank_low=np.percentile(ranks, 5, axis=1),
        rank_median=np.percentile(ranks, 50, axis=1),
        rank_high=np.percentile(ranks, 95, axis=1),
        seed=seed,
        fixed=fixed,
        warnings=warnings,
    )


def _rule_kind(agg: Aggregator | None, weights: NDArray[np.float64]) -> str:
    """``"weights"`` when ``agg`` is the weighted mean of its children by the weights it is
    given, ``"equal"`` when it is their plain mean; otherwise why the draws cannot use it.

    Linearity is the rule's own declaration (:attr:`Aggregator.linear`); that it combines
    by the given weights is checked on a probe (each child alone at 100), so a plugin's
    linear rule with fixed weights of its own is refused rather than misread."""
    if agg is None:
        return "is missing"
    if not agg.linear:
        return f'"{agg.name}" is not linear: a draw would need a re-score of its own'
    if agg.additive:
        return f'"{agg.name}" adds its children up: there are no weights to perturb'
    k = len(weights)
    probe = np.asarray(
        agg.reduce(np.full(k, 100.0), weights, np.arange(k, dtype=np.intp), k),
        dtype=np.float64,
    )
    # each child alone in a segment of its own scores 100 under any mean; the shares
    # come from one segment holding every child with one at 100, the rest at 0
    shares = np.empty(k)
    for j in range(k):
        vals = np.where(np.arange(k) == j, 100.0, 0.0)
        shares[j] = float(agg.reduce(vals, weights, np.zeros(k, dtype=np.intp), 1)[0]) / 100
    if not np.allclose(probe, 100.0):
        return f'"{agg.name}" is not a mean of its children'
    if np.allclose(shares, weights / weights.sum(), rtol=1e-9, atol=1e-12):
        return "weights"
    if np.allclose(shares, 1.0 / k, rtol=1e-9, atol=1e-12):
        return "equal"
    return f'"{agg.name}" is linear but does not weigh its children by their weights'


def _moves_with_weights(scores: Scores, lv_root: int, ok: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which institutions' scores depend on the root's child weights: some entity at or
    below them computes the root from its children (not given) and counts in the roll-up."""
    root = scores.root
    dep = scores.from_children_at(lv_root)[root] & ~scores.given_at(lv_root)[root]
    dep = dep & has_value(scores.states_at(lv_root)[root])
    for lv in range(lv_root, 0, -1):
        par = scores.table.unit_institution if lv == 1 else scores.table.product_unit
        n_par = len(scores.table.institutions) if lv == 1 else len(scores.table.units)
        counted = dep & (scores.entity_weights(lv) > 0)
        up = np.bincount(par[counted], minlength=n_par) > 0
        up |= scores.from_children_at(lv - 1)[root]
        dep = up & ~scores.given_at(lv - 1)[root]
    out: NDArray[np.bool_] = dep & ok
    return out


def _ranks(scores: Scores, x: NDArray[np.float64], ok: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Competition ranks (1, 2, 2, 4) within institution kinds, per draw (column).

    The tie rule is :func:`kepatuhan.rank.tie_ranks` with ``min``, the default of
    :func:`kepatuhan.rank.rank`; institutions without a score keep rank 0.
    """
    # a kind in any letter case is one kind (applicability.attribute_key), as in rank()
    codes, labels = attribute_groups([i.kind for i in scores.table.institutions])
    kinds = np.asarray(codes, dtype=np.intp)
    ranks = np.zeros(x.shape)
    for kind in range(len(labels)):
        rows = np.flatnonzero((kinds == kind) & ok)
        if len(rows):
            ranks[rows] = tie_ranks(x[rows], "min")
    return ranks


def _segment_sums(
    y: NDArray[np.float64], segments: NDArray[np.intp], n: int
) -> NDArray[np.float64]:
    """Row sums of ``y`` per segment (``n × columns``), by one stable sort and
    ``np.add.reduceat`` over contiguous runs — ``np.add.at`` is unbuffered and ~20× slower on
    a national table. Entities are stored sorted by parent, so the sort is a no-op there."""
    out = np.zeros((n, y.shape[1]))
    if not len(segments):
        return out
    order = np.argsort(segments, kind="stable")
    counts = np.bincount(segments, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    filled = np.flatnonzero(counts > 0)
    out[filled] = np.add.reduceat(y[order], starts[filled], axis=0)
    return out


def _fused_rollup(
    scores: Scores,
    lv: int,
    kids: list[int],
    W: NDArray[np.float64],
    w: NDArray[np.float64],
    par: NDArray[np.intp],
    n_par: int,
) -> NDArray[np.float64]:
    """``Σ_children w · root(child, draw)`` per parent and draw, without a children × draws
    matrix. A child's root under draw d is ``(v·W_d)/(inc·W_d)`` over the root's children
    it has (``inc``); children with the same ``inc`` share the denominator, so their
    weighted numerators are summed per parent first (a handful of patterns, typically
    one). A child whose root was given adds its given value under every draw."""
    V, S = scores.values_at(lv), scores.states_at(lv)
    root = scores.root
    given = scores.given_at(lv)[root] & (w > 0)
    acc = np.zeros((n_par, W.shape[0]))
    if given.any():
        const = np.bincount(par[given], weights=w[given] * V[root][given], minlength=n_par)
        acc += const[:, None]
    free = np.flatnonzero(~given & (w > 0))
    if not len(free):
        return acc
    inc = has_value(S[kids][:, free]).T  # children × k
    codes = inc.astype(np.int64) @ (1 << np.arange(len(kids), dtype=np.int64))
    child = (V[kids][:, free].T * inc) * w[free][:, None]  # weighted numerators
    for code in np.unique(codes):
        rows = codes == code
        den = inc[np.argmax(rows)].astype(np.float64) @ W.T  # draws
        if not np.any(den > 0):
            continue
        sums = np.stack(
            [
                np.bincount(par[free][rows], weights=child[rows, j], minlength=n_par)
                for j in range(len(kids))
            ],
            axis=1,
        )  # parents × k
        acc += np.divide(
            sums @ W.T, den[None, :], out=np.zeros((n_par, W.shape[0])), where=den[None, :] > 0
        )
    return acc
