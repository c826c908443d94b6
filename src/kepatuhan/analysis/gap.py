"""The gap to the next band: the smallest improvement that lifts an institution up a band.

The target is the next band's lower edge *as published*: the plan must bring the score to
a figure that publishes (half away from zero, two decimals, :func:`kepatuhan.publish`) at
or above the edge — 53.995 publishes as 54.00 and is in a band starting at 54.00, exactly
as :meth:`kepatuhan.BandScheme.index` classifies it. So the score to reach is the edge
minus half a unit of the last published decimal.

A plan is a list of steps, each raising one value (an indicator, or a node given directly,
of the institution or one of its units or products). It uses as few steps as it can: the
values that gain the most when raised to the best their scale allows come first, raised
in full, and the last step raises one value by *exactly* the amount still needed — on a
continuous scale (points, percentage, a given node's points) the smallest value that
reaches the target, on a stepped scale (yes/no, ordinal levels) the next allowed value
that reaches it. Among the values that can close the last gap, the one whose step gains
the fewest points (the least overshoot), then the one raised least (in its own 0–100
score), then by entity and criterion id, is chosen.

What is minimal, exactly: the last step's amount always (given the steps before it; a
smaller raise of it does not reach the band, which the tests check on random rubrics). The
number of steps is the fewest possible when every path is linear and no ``add`` caps a
raise (taking the largest gains first maximises what any number of steps can gain); under
``add`` caps and non-linear rules the largest-gain-first order is a greedy choice, not a
proof that no shorter plan exists.

Two ways to find the amounts, chosen per plan:

* **closed form**, when every rule on the way from each value up to the institution score
  is linear (:attr:`kepatuhan.Aggregator.linear`: weighted mean, sum, mean, add): a value's
  effect is its effective weight (the product of the normalised weights along the path,
  with ``na`` renormalised away and the engine's unit and product roll-up weights, as
  :meth:`kepatuhan.Scores.explain` gives it) times its raise. Under an ``add`` rule (2025)
  the children cannot add up past the parent's points, so a raise is capped by what is
  left of every ``add`` node above it (and earlier steps use that room up).
* **search by re-scoring**, when some rule on a path is not linear (the minimum, a
  plugin's rule): every candidate step is applied to a copy of the institution and all
  copies are scored by the engine at once; the step that gains most is taken, and the
  last one's amount is found by bisection (scores are monotone in every value). If no
  single raise improves the score (under a minimum, two values tied at the bottom must
  rise together) the plan refuses with that reason rather than guess.

Either way the plan is applied to a copy of the observations and scored again, so
``achieved`` is computed by the engine, never estimated.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import attrs
import numpy as np
from numpy.typing import NDArray

from ..bands import Band
from ..errors import KepatuhanError, Problem
from ..observations import VALUE, ObservationTable
from ..plugins import PluginManager, default_manager
from ..results import ExplainNode, Scores
from ..rounding import DECIMALS, round_half_away
from ..rubric import LEVELS
from .reasons import Reason

__all__ = ["GapPlan", "GapStep", "gap", "gap_threshold"]

#: At most this many observation rows are scored in one engine call of the search (copies
#: of the institution, one per candidate plan); more candidates are scored in chunks.
MAX_BATCH_ROWS = 400_000
#: Bisection rounds of the search's last step, each scoring this many amounts of every
#: value still in the running at once: 16 points × 10 rounds narrow the amount to
#: 17⁻¹⁰ ≈ 5·10⁻¹³ of the value's range.
_GRID, _ROUNDS = 16, 10


@attrs.frozen
class GapStep:
    """Raise ``criterion`` of ``entity`` from ``value`` to ``to``: ``points`` gained.

    ``value``/``to``/``best``/``amount`` are raw values in the criterion's own scale (the
    level of an ordinal, 0/1 for yes/no, points, a percentage; a node given directly: its
    points, or 0–100). ``value`` is ``None`` where the value was missing (counted as 0 by
    the rubric's policy). ``leaf_gain`` is the rise of the criterion's own 0–100 score,
    ``points`` the rise of the institution's score (published scale) and ``cumulative``
    the institution's score after this step. ``full`` is true when ``to`` is the best
    the scale allows.
    """

    entity: str
    criterion: str
    state: str
    value: float | None
    to: float
    best: float
    amount: float
    leaf_gain: float
    points: float
    cumulative: float
    full: bool


@attrs.frozen
class GapPlan:
    """From ``score`` (band ``band``) to ``target``: the steps, estimated and achieved.

    ``threshold`` is the lowest unrounded score that publishes at the target's lower edge;
    ``method`` is ``"closed form"`` (every rule on the way linear) or ``"search"`` (re-scored
    candidates); ``reached`` says whether the re-scored plan reaches the target, and
    ``reason`` why not when it does not.
    """

    institution: str
    score: float
    band: Band | None
    target: Band | None
    steps: tuple[GapStep, ...]
    estimated: float
    achieved: float
    reached: bool
    threshold: float | None = None
    method: str = "closed form"
    reason: str | None = None
    #: ``reason`` as data, for saying it in the reader's language (not in the JSON).
    why: Reason | None = attrs.field(default=None, eq=False, repr=False)


def gap_threshold(edge: Decimal | float) -> float:
    """The lowest score that publishes at or above ``edge`` (half away from zero, two
    decimals): ``edge`` minus half a unit of the last published decimal (54.00 → 53.995)."""
    return float(Decimal(str(edge)) - Decimal(5).scaleb(-DECIMALS - 1))


def gap(scores: Scores, institution: str, *, plugins: PluginManager | None = None) -> GapPlan:
    """The smallest plan of improvements that lifts ``institution`` to its next band.

    See the module docstring for what "smallest" means, where the target edge lies and
    how non-linear rules are handled. Raises :class:`~kepatuhan.KepatuhanError` when the
    institution has no score or the rubric no bands. A plan that cannot reach the band
    says why in ``reason`` (``reached`` is false); it is never a silently longer plan.
    """
    from ..engine import score

    pm = plugins or default_manager()
    if len(scores.table.institutions) > 1:
        # One institution scores to the same bits alone: plan and re-score it alone, so the
        # gap of one institution costs the same after scoring a national round.
        alone = scores.table.for_institutions([scores.institution_index(institution)])
        scores = score(scores.rubric, alone, plugins=pm)
    card = scores.card(institution)
    bands = scores.rubric.bands
    if card.score is None or bands is None:
        raise KepatuhanError(
            Problem(f'institution "{institution}" has no score or the rubric no bands')
        )
    i = bands.bands.index(card.band) if card.band in bands.bands else -1
    target = bands.bands[i + 1] if 0 <= i < len(bands.bands) - 1 else None
    if target is None:
        return GapPlan(institution, card.score, card.band, None, (), card.score, card.score, False)
    planner = _Planner(scores, pm, card.score, target)
    cands, room = _candidates(scores, scores.explain(institution), pm)
    linear = all(c.linear for c in cands)
    if linear:
        steps, est, reason = planner.closed_form(cands, room)
    else:
        steps, est, reason = planner.search(cands)
    achieved = card.score
    if steps:
        table = _variants(scores.table, [[(k, s.to) for k, s in steps]])
        got = score(scores.rubric, table, plugins=pm).columns(0)
        achieved = float(got.score[0]) if got.has_score[0] else card.score
    reached = planner.reaches(achieved)
    if not reached and reason is None:  # pragma: no cover - a bug, said rather than hidden
        reason = Reason(
            "gap_bug", "the re-scored plan falls short of the target (a bug: please report it)"
        )
    return GapPlan(
        institution=institution,
        score=card.score,
        band=card.band,
        target=target,
        steps=tuple(s for _, s in steps),
        estimated=est,
        achieved=achieved,
        reached=reached,
        threshold=planner.goal,
        method="closed form" if linear else "search",
        reason=None if reached or reason is None else reason.text,
        why=None if reached else reason,
    )


_Key = tuple[int, int, str]  # (level, entity index, criterion id) of a value in the table
_Edit = tuple[_Key, float]  # that value set to a raw value


@attrs.frozen
class _Cand:
    """A value the plan may raise: where it is, what it is now, how it maps to scores."""

    node: ExplainNode
    key: _Key
    raw: float | None  # the raw value in the table (None: no row, the policy filled it in)
    lo: float
    best: float
    allowed: tuple[float, ...] | None
    score: float  # the value's own 0-100 score now
    top: float  # its 0-100 score at the best value
    linear: bool  # every rule from here up to the institution score is linear
    caps: tuple[tuple[int, float], ...]  # (add node above: its id, its gain per point here)

    @property
    def start(self) -> float:
        """The raw value the plan starts from (the scale's worst where none was given)."""
        return self.lo if self.raw is None else self.raw


def _candidates(
    scores: Scores, tree: ExplainNode, pm: PluginManager
) -> tuple[list[_Cand], dict[int, float]]:
    """Every value below the institution that is not at its best and not ``na``; and the
    room left (0–100 of the node) under every ``add`` node, by the node's ``id``."""
    t = scores.table
    row_of = {
        (int(t.level[r]), int(t.entity[r]), t.criterion_ids[int(t.criterion[r])]): r
        for r in range(len(t))
    }
    rtree = scores.rubric.tree
    out: list[_Cand] = []
    room: dict[int, float] = {}

    def visit(n: ExplainNode, linear: bool, adds: tuple[ExplainNode, ...]) -> None:
        idx = rtree.index[n.criterion]
        if n.children or n.entities:
            # the rule that combines what is below: the criterion's own for its children,
            # the level's roll-up for sub-entities
            agg = (
                scores.aggregators[idx]
                if n.children
                else scores.level_aggregators[LEVELS.index(n.level)]
            )
            lin = linear and agg is not None and agg.linear
            if agg is not None and agg.additive and n.score is not None:
                room[id(n)] = 100.0 - n.score
                adds = (*adds, n)
            for k in (*n.children, *n.entities):
                visit(k, lin, adds)
            return
        if n.state == "not_applicable" or n.score is None:
            return
        crit = rtree.nodes[idx]
        key = (LEVELS.index(n.level), n.entity_index, n.criterion)
        r = row_of.get(key)
        raw = None if r is None or t.state[r] != VALUE else float(t.value[r])
        allowed: tuple[float, ...] | None = None
        if crit.scale is not None:
            sc = pm.registry.scale(crit.scale.name)
            lo, best = sc.bounds(crit.scale)
            allowed = sc.discrete(crit.scale)
            top = float(_norm(scores, pm, n.criterion, np.array([best]))[0])
            if allowed is not None:
                # the lowest allowed value that scores the top (ordinal points may plateau)
                vals = np.asarray(allowed, dtype=np.float64)
                best = float(vals[np.argmax(_norm(scores, pm, n.criterion, vals) >= top)])
        else:  # a node given directly: its points (or 0-100), continuous
            lo, best, top = 0.0, n.maximum, 100.0
        if n.score >= top:
            return
        caps = tuple(
            (id(a), n.effective_weight / a.effective_weight) for a in adds if a.effective_weight > 0
        )
        out.append(_Cand(n, key, raw, lo, best, allowed, n.score, top, linear, caps))

    visit(tree, True, ())
    return out, room


def _norm(
    scores: Scores, pm: PluginManager, cid: str, raw: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The 0–100 score of raw values of criterion ``cid`` (its scale, or value / max)."""
    n = scores.rubric.tree.index[cid]
    crit = scores.rubric.tree.nodes[n]
    if crit.scale is None:
        out: NDArray[np.float64] = raw * (100.0 / float(scores.unit_max[n]))
        return out
    return np.asarray(
        pm.registry.scale(crit.scale.name).normalise(raw, crit.scale), dtype=np.float64
    )


class _Planner:
    """The two ways to a plan, sharing the target and the scoring of copies."""

    def __init__(self, scores: Scores, pm: PluginManager, start: float, target: Band) -> None:
        self.scores, self.pm, self.start = scores, pm, start
        self.edge = float(target.min)
        self.goal = gap_threshold(target.min)
        self.per_point = scores.maximum / 100.0  # the published scale per internal point
        self._options: dict[int, tuple[list[float], list[float]]] = {}

    def reaches(self, value: float) -> bool:
        """Whether a score publishes at or above the target's edge (the band's own rule)."""
        return round_half_away(value) >= self.edge

    def norm(self, c: _Cand, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """The candidate's 0–100 score at raw values."""
        return _norm(self.scores, self.pm, c.key[2], raw)

    def options(self, c: _Cand) -> tuple[list[float], list[float]]:
        """The allowed values above ``c``'s start on its stepped scale and their scores
        (computed once per value and plan)."""
        got = self._options.get(id(c))
        if got is None:
            vals = [v for v in c.allowed or () if v > c.start]
            got = self._options[id(c)] = (
                vals,
                self.norm(c, np.asarray(vals, dtype=np.float64)).tolist(),
            )
        return got

    def raw_for(self, c: _Cand, want: float, cap: float | None = None) -> float | None:
        """The smallest raw value from ``c``'s start whose score is at least ``want``;
        on a stepped scale the next allowed value. With ``cap`` (a score not to pass, the
        room under an ``add``), the highest value within it when ``want`` is above it."""
        if c.allowed is not None:
            vals, got = self.options(c)
            if cap is not None:
                n = bisect.bisect_right(got, cap + 1e-9)  # scores never decrease
                vals, got = vals[:n], got[:n]
                if not vals:
                    return None
                if want > cap:
                    return vals[-1]
            k = bisect.bisect_left(got, want - 1e-12)
            return vals[k] if k < len(vals) else None
        want = min(want, cap) if cap is not None else want
        if want >= float(self.norm(c, np.array([c.best]))[0]):
            return c.best
        lo, hi = c.start, c.best  # norm(lo) < want <= norm(hi): halve until adjacent floats
        for _ in range(200):
            mid = lo + (hi - lo) / 2
            if mid <= lo or mid >= hi:
                break
            if float(self.norm(c, np.array([mid]))[0]) >= want:
                hi = mid
            else:
                lo = mid
        return hi

    def inverse(self, c: _Cand, want: float, cap: float) -> float:
        """The smallest value of a continuous ``c`` that scores ``want`` (within ``cap``)."""
        to = self.raw_for(c, want, cap)
        return c.best if to is None else to

    def clean(self, c: _Cand, to: float, before: float) -> float:
        """``to`` without the float noise of its arithmetic (97.36500000000008 → 97.365),
        when the cleaned value still reaches the target from ``before`` (the estimate)."""
        if c.allowed is not None:
            return to
        rate = c.node.effective_weight * self.per_point
        for d in range(13):
            v = round(to, d)
            if abs(v - to) > 1e-9 * max(1.0, abs(to)) or not c.start < v <= c.best:
                continue
            if self.reaches(before + (float(self.norm(c, np.array([v]))[0]) - c.score) * rate):
                return v
        return to

    def step(self, c: _Cand, to: float, cumulative: float, points: float) -> GapStep:
        """The plan's record of raising ``c`` to ``to``."""
        gain = float(self.norm(c, np.array([to]))[0]) - c.score
        return GapStep(
            entity=c.node.entity,
            criterion=c.node.criterion,
            state=c.node.state,
            value=c.raw,
            to=to,
            best=c.best,
            amount=to - c.start,
            leaf_gain=gain,
            points=points,
            cumulative=cumulative,
            full=to >= c.best,
        )

    # -- closed form -------------------------------------------------------------------------
    def closed_form(
        self, cands: list[_Cand], room: dict[int, float]
    ) -> tuple[list[tuple[_Key, GapStep]], float, Reason | None]:
        """Full raises, most points first, then the exact last one (every path linear).

        A value's effect on the institution is ``rate`` points per point of its own 0–100
        score (its effective weight on the published scale). Bisection on a scale (to invert
        it) runs only for the one value each step picks."""
        room = dict(room)
        pool = sorted(cands, key=lambda c: (c.node.entity, c.node.criterion))
        pool = [c for c in pool if c.node.effective_weight > 0]
        steps: list[tuple[_Key, GapStep]] = []
        est = self.start

        def rate(c: _Cand) -> float:
            return c.node.effective_weight * self.per_point

        def ceiling(c: _Cand) -> float:
            """The highest score ``c`` can reach: its scale's top, or the room under an add."""
            head = c.top
            for ident, f in c.caps:
                head = min(head, c.score + room[ident] / f)
            return head

        def reach(c: _Cand, want: float) -> tuple[float, float] | None:
            """The value ``c`` is raised to for a score of at least ``want`` (at most its
            ceiling) and the score it then has; None when it cannot rise at all."""
            cap = ceiling(c)
            if c.allowed is None:  # continuous: exactly ``want``, inverted when picked
                got = min(want, cap)
                return (float("nan"), got) if got > c.score else None
            to = self.raw_for(c, min(want, cap), cap)
            if to is None:
                return None
            got = float(self.norm(c, np.array([to]))[0])
            return (to, got) if got > c.score else None

        def rank_key(pts: float, gain: float, c: _Cand) -> tuple[float, float, str, str]:
            # rounded: equal amounts computed along different float paths are a tie
            return (round(pts, 9), round(gain, 9), c.node.entity, c.node.criterion)

        while pool:
            need = self.goal - est
            last = []
            full = []
            for c in pool:
                r = rate(c)
                got = reach(c, c.score + need / r)
                if got is None:
                    continue
                pts = (got[1] - c.score) * r
                # only a rise within float noise of the need is worth the rounding check
                if pts >= need or (pts > need - 1e-6 and self.reaches(est + pts)):
                    last.append((rank_key(pts, got[1] - c.score, c), c, got))
                else:
                    full.append((rank_key(-pts, 0.0, c), c, got))
            if last:
                _, c, (to, got_score) = min(last, key=lambda x: x[0])
                if c.allowed is None:
                    to = self.clean(c, self.inverse(c, got_score, ceiling(c)), est)
                pts = (float(self.norm(c, np.array([to]))[0]) - c.score) * rate(c)
                est += pts
                steps.append((c.key, self.step(c, to, est, pts)))
                return steps, est, None
            if not full:
                break
            # nothing closes the gap alone: raise in full the value that gains most
            _, c, (to, got_score) = min(full, key=lambda x: x[0])
            if c.allowed is None:
                to = self.inverse(c, got_score, ceiling(c))
            gain = float(self.norm(c, np.array([to]))[0]) - c.score
            est += gain * rate(c)
            for ident, f in c.caps:
                room[ident] -= gain * f
            steps.append((c.key, self.step(c, to, est, gain * rate(c))))
            pool.remove(c)
        top, edge = f"{round_half_away(est):.2f}", f"{self.edge:.2f}"
        return (
            steps,
            est,
            Reason(
                "gap_capped",
                f"with every value at the best its scale (and the rules' caps) allow, the score "
                f"reaches only {top}, below {edge}",
                (("got_figure", top), ("edge_figure", edge)),
            ),
        )

    # -- search by re-scoring -------------------------------------------------------------
    def scored(self, plans: Sequence[Sequence[_Edit]]) -> NDArray[np.float64]:
        """The institution's score (published scale) under each plan, by the engine: the
        copies are scored together, in chunks; a plan the engine refuses (children of an
        ``add`` past its points) scores -inf."""
        from ..engine import score

        t = self.scores.table
        per = max(1, MAX_BATCH_ROWS // max(1, len(t)))
        out = np.empty(len(plans))
        for lo in range(0, len(plans), per):
            chunk = plans[lo : lo + per]
            try:
                col = score(self.scores.rubric, _variants(t, chunk), plugins=self.pm).columns(0)
                out[lo : lo + len(chunk)] = np.where(col.has_score, col.score, -np.inf)
            except KepatuhanError:
                if len(chunk) == 1:
                    out[lo] = -np.inf
                    continue
                out[lo : lo + len(chunk)] = [self.scored([p])[0] for p in chunk]
        return out

    def search(self, cands: list[_Cand]) -> tuple[list[tuple[_Key, GapStep]], float, Reason | None]:
        """Re-score every candidate raise; the largest first, the last by bisection."""
        pool = sorted(cands, key=lambda c: (c.node.entity, c.node.criterion))
        steps: list[tuple[_Key, GapStep]] = []
        plan: list[_Edit] = []
        now = self.start
        while pool:
            full = self.scored([[*plan, (c.key, c.best)] for c in pool])
            hits = [pool[k] for k in range(len(pool)) if self.reaches(float(full[k]))]
            if hits:
                got, c, to = self._least(plan, hits)
                steps.append((c.key, self.step(c, to, got, got - now)))
                return steps, got, None
            k = int(np.argmax(full))  # ties: the first in (entity, criterion) order
            if not full[k] > now:
                stays = f"{round_half_away(now):.2f}"
                return (
                    steps,
                    now,
                    Reason(
                        "gap_stuck",
                        "no single improvement raises the score any more (under a rule such "
                        "as the minimum, values tied at the bottom must rise together); "
                        f"kepatuhan does not search combinations: the score stays at {stays}",
                        (("stays_figure", stays),),
                    ),
                )
            c = pool.pop(k)
            plan.append((c.key, c.best))
            steps.append((c.key, self.step(c, c.best, float(full[k]), float(full[k]) - now)))
            now = float(full[k])
        top = f"{now:.2f}"
        return (
            steps,
            now,
            Reason(
                "gap_best",
                f"with every value at its best the score reaches only {top}",
                (("got_figure", top),),
            ),
        )

    def _least(self, plan: list[_Edit], hits: list[_Cand]) -> tuple[float, _Cand, float]:
        """Among values that reach the target raised in full (on top of ``plan``), the one
        whose smallest reaching raise gains the fewest points, then rises least; with that
        raise and the score it gives: ``(score, candidate, value)``.

        On a stepped scale every allowed value is scored; on a continuous one each value's
        bracket ``(lo, hi]`` (``lo`` does not reach, ``hi`` does) is narrowed by scoring
        :data:`_GRID` points inside it, all values in one engine call per round, and a value
        is dropped once its lowest possible rise exceeds another's highest (scores are
        monotone, so the bracket holds the smallest reaching value)."""
        best: list[tuple[tuple[float, float, str, str], _Cand, float, float]] = []

        def key(c: _Cand, s: float, to: float) -> tuple[float, float, str, str]:
            gain = float(self.norm(c, np.array([to]))[0]) - c.score
            return (round(s - self.start, 9), round(gain, 9), c.node.entity, c.node.criterion)

        stepped = [c for c in hits if c.allowed is not None]
        tries = [(c, v) for c in stepped for v in (c.allowed or ()) if v > c.start]
        got = self.scored([[*plan, (c.key, v)] for c, v in tries])
        for c in stepped:
            k = next(i for i, (cc, _) in enumerate(tries) if cc is c and self.reaches(got[i]))
            best.append((key(c, float(got[k]), tries[k][1]), c, float(got[k]), tries[k][1]))
        smooth = [c for c in hits if c.allowed is None]
        br = {
            id(c): [c.start, c.best, float(self.scored([[*plan, (c.key, c.best)]])[0])]
            for c in smooth
        }
        live = list(smooth)
        for _ in range(_ROUNDS):
            live = [c for c in live if br[id(c)][1] - br[id(c)][0] > 1e-12 * max(1.0, br[id(c)][1])]
            if not live:
                break
            grid = [
                (c, br[id(c)][0] + (br[id(c)][1] - br[id(c)][0]) * (j + 1) / (_GRID + 1))
                for c in live
                for j in range(_GRID)
            ]
            got = self.scored([[*plan, (c.key, v)] for c, v in grid])
            for i, (c, v) in enumerate(grid):
                b = br[id(c)]
                if self.reaches(float(got[i])):
                    if v < b[1]:
                        b[1], b[2] = v, float(got[i])
                elif v > b[0]:
                    b[0] = v
            # the lowest rise a value may still need vs the highest another surely suffices
            ub = min(float(self.norm(c, np.array([br[id(c)][1]]))[0]) - c.score for c in live)
            live = [
                c for c in live if float(self.norm(c, np.array([br[id(c)][0]]))[0]) - c.score <= ub
            ]
        for c in smooth:
            _, hi, s = br[id(c)]
            best.append((key(c, s, hi), c, s, hi))
        _, c, s, to = min(best, key=lambda x: x[0])
        return s, c, to


def _variants(t: ObservationTable, plans: Sequence[Sequence[_Edit]]) -> ObservationTable:
    """One copy of the (one-institution) table per plan, each with its plan's values set.

    Copy ``k``'s institution id gets the suffix ``~k`` (zero-padded, so the copies keep
    their order) and its units and products are renumbered; a value with no row (missing)
    gets one.
    """
    n_i, n_u, n_p = len(t.institutions), len(t.units), len(t.products)
    ids = list(t.criterion_ids)
    code = {c: k for k, c in enumerate(ids)}
    where = {
        (int(t.level[r]), int(t.entity[r]), t.criterion_ids[int(t.criterion[r])]): r
        for r in range(len(t))
    }
    size = np.array([n_i, n_u, n_p], dtype=np.intp)
    cols: dict[str, list[NDArray[Any]]] = {
        k: [] for k in ("level", "entity", "criterion", "value", "state", "line", "word")
    }
    insts, units, prods = [], [], []
    width = len(str(len(plans)))
    for k, plan in enumerate(plans):
        value, state, word = t.value.copy(), t.state.copy(), t.word.copy()
        extra: list[tuple[int, int, int, float]] = []
        for (lv, e, cid), raw in plan:
            r = where.get((lv, e, cid))
            if r is not None:
                value[r], state[r], word[r] = raw, VALUE, False
                continue
            if cid not in code:
                code[cid] = len(ids)
                ids.append(cid)
            extra.append((lv, e, code[cid], raw))
        lv_x = np.array([x[0] for x in extra], dtype=np.int8)
        e_x = np.array([x[1] for x in extra], dtype=np.intp)
        cols["level"] += [t.level, lv_x]
        cols["entity"] += [t.entity + size[t.level] * k, e_x + size[lv_x] * k]
        cols["criterion"] += [t.criterion, np.array([x[2] for x in extra], dtype=np.intp)]
        cols["value"] += [value, np.array([x[3] for x in extra], dtype=np.float64)]
        cols["state"] += [state, np.full(len(extra), VALUE, dtype=np.int8)]
        cols["line"] += [t.line, np.zeros(len(extra), dtype=np.int64)]
        cols["word"] += [word, np.zeros(len(extra), dtype=np.bool_)]
        if len(plans) == 1:
            continue
        suffix = f"~{k:0{width}d}"
        renamed = {x.id: x.id + suffix for x in t.institutions}
        insts += [attrs.evolve(x, id=renamed[x.id]) for x in t.institutions]
        units += [attrs.evolve(u, institution=renamed[u.institution]) for u in t.units]
        prods += [attrs.evolve(p, institution=renamed[p.institution]) for p in t.products]
    one = len(plans) == 1
    return attrs.evolve(
        t,
        institutions=t.institutions if one else tuple(insts),
        units=t.units if one else tuple(units),
        products=t.products if one else tuple(prods),
        unit_institution=np.concatenate(
            [t.unit_institution + n_i * k for k in range(len(plans))]
        ).astype(np.intp),
        product_unit=np.concatenate([t.product_unit + n_u * k for k in range(len(plans))]).astype(
            np.intp
        ),
        criterion_ids=tuple(ids),
        level=np.concatenate(cols["level"]).astype(np.int8),
        entity=np.concatenate(cols["entity"]).astype(np.intp),
        criterion=np.concatenate(cols["criterion"]).astype(np.intp),
        value=np.concatenate(cols["value"]),
        state=np.concatenate(cols["state"]).astype(np.int8),
        line=np.concatenate(cols["line"]).astype(np.int64),
        word=np.concatenate(cols["word"]).astype(np.bool_),
        source=f"{t.source} (with the gap plan applied)",
    )
