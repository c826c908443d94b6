"""The gap to the next band: the fewest indicator improvements that lift an entity up a band.

From the explanation tree, every observed (or given, or missing) value that loses points
is a candidate; raising it to the best value its scale allows gains ``lost`` points of the
overall score. Candidates are taken greedily, most points first, until the estimate
reaches the next band's lower bound; the plan is then applied to a copy of the
observations and scored again, so the reported ``achieved`` score is computed, not
estimated (the two differ only under rules that are not weighted means, such as the
minimum).
"""

from __future__ import annotations

import attrs
import numpy as np

from ..bands import Band
from ..errors import KepatuhanError, Problem
from ..observations import VALUE, ObservationTable
from ..plugins import PluginManager, default_manager
from ..results import ExplainNode, Scores
from ..rounding import round_half_away
from ..rubric import LEVELS

__all__ = ["GapPlan", "GapStep", "gap"]


@attrs.frozen
class GapStep:
    """Raise ``criterion`` of ``entity`` from ``value`` to ``best``: ``points`` gained."""

    entity: str
    criterion: str
    state: str
    value: float | None
    best: float
    points: float
    cumulative: float


@attrs.frozen
class GapPlan:
    """From ``score`` (band ``band``) to ``target``: the steps, estimated and achieved."""

    institution: str
    score: float
    band: Band | None
    target: Band | None
    steps: tuple[GapStep, ...]
    estimated: float
    achieved: float
    reached: bool


def _leaves(node: ExplainNode) -> list[ExplainNode]:
    return [n for n in node.walk() if not n.children and not n.entities]


def gap(scores: Scores, institution: str, *, plugins: PluginManager | None = None) -> GapPlan:
    """The smallest greedy set of improvements that lifts ``institution`` to its next band."""
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
    tree = scores.explain(institution)
    scale = scores.maximum / 100.0
    cands = [n for n in _leaves(tree) if n.lost > 1e-12 and n.state != "not_applicable"]
    cands.sort(key=lambda n: (-n.lost, n.entity, n.criterion))
    steps: list[GapStep] = []
    est = card.score
    goal = None if target is None else float(target.min)
    for n in cands:
        if goal is None or round_half_away(est) >= goal:
            break
        gain = n.lost * scale
        est += gain
        node = scores.rubric.tree.index[n.criterion]
        crit = scores.rubric.tree.nodes[node]
        if crit.scale is not None:
            best = pm.registry.scale(crit.scale.name).bounds(crit.scale)[1]
        else:
            best = n.maximum
        steps.append(GapStep(n.entity, n.criterion, n.state, n.value, best, gain, est))
    achieved = card.score
    if steps:
        table = _apply(scores, steps, tree)
        achieved_card = score(scores.rubric, table, plugins=pm).card(institution)
        achieved = achieved_card.score if achieved_card.score is not None else card.score
    reached = goal is not None and round_half_away(achieved) >= goal
    return GapPlan(institution, card.score, card.band, target, tuple(steps), est, achieved, reached)


def _apply(scores: Scores, steps: list[GapStep], tree: ExplainNode) -> ObservationTable:
    """A copy of the observations with every step's value raised to its best."""
    t = scores.table
    by_key = {(n.entity, n.criterion): n for n in _leaves(tree)}
    level = list(t.level)
    entity = list(t.entity)
    crit = list(t.criterion)
    value = list(t.value)
    state = list(t.state)
    line = list(t.line)
    word = list(t.word)
    ids = list(t.criterion_ids)
    where = {
        (int(t.level[r]), int(t.entity[r]), t.criterion_ids[int(t.criterion[r])]): r
        for r in range(len(t))
    }
    for s in steps:
        n = by_key[(s.entity, s.criterion)]
        key = (LEVELS.index(n.level), n.entity_index, s.criterion)
        raw = s.best
        if key in where:
            r = where[key]
            value[r], state[r], word[r] = raw, VALUE, False
        else:
            if s.criterion not in ids:
                ids.append(s.criterion)
            level.append(key[0])
            entity.append(key[1])
            crit.append(ids.index(s.criterion))
            value.append(raw)
            state.append(VALUE)
            line.append(0)
            word.append(False)
    return attrs.evolve(
        t,
        criterion_ids=tuple(ids),
        level=np.asarray(level, dtype=np.int8),
        entity=np.asarray(entity, dtype=np.intp),
        criterion=np.asarray(crit, dtype=np.intp),
        value=np.asarray(value, dtype=np.float64),
        state=np.asarray(state, dtype=np.int8),
        line=np.asarray(line, dtype=np.int64),
        word=np.asarray(word, dtype=np.bool_),
        source=f"{t.source} (with the gap plan applied)",
    )
