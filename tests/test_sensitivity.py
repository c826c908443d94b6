"""Weight sensitivity: the matrix computation equals re-scoring each draw with its weights."""

from __future__ import annotations

from decimal import Decimal

import attrs
import numpy as np
import pytest

import kepatuhan
from kepatuhan import KepatuhanError, ObservationTable, score
from kepatuhan.analysis.sensitivity import sensitivity
from kepatuhan.testing import synthetic_campaign


def rescore(
    rubric: kepatuhan.Rubric, table: ObservationTable, children: tuple[str, ...], w: np.ndarray
) -> np.ndarray:
    """The same draw the slow way: a rubric whose root is a weighted mean with these weights."""
    weights = dict(zip(children, w, strict=True))
    crits = tuple(
        attrs.evolve(c, rule="weighted_mean")
        if c.parent is None
        else attrs.evolve(
            c,
            weight=Decimal(repr(float(weights[c.id]))),
            # a node that adds up its children's points keeps its points (their maximum)
            points=c.points if c.rule.name == "add" else None,
        )
        if c.id in weights
        else c
        for c in rubric.criteria
    )
    r = attrs.evolve(rubric, criteria=crits, bands=None)
    res = score(r, table)
    return np.array(
        [
            c.score * rubric.root.points / 100
            if rubric.root.points and c.score is not None
            else c.score
            for c in res.cards()
        ]
    )


@pytest.mark.parametrize("rubric_id", ["ombudsman-2021", "ombudsman-2023", "ombudsman-2025"])
@pytest.mark.parametrize("method", ["uniform", "dirichlet"])
def test_draws_equal_rescoring_with_the_drawn_weights(rubric_id: str, method: str) -> None:
    rubric = kepatuhan.get_rubric(rubric_id)
    table = synthetic_campaign(rubric, 12, seed=4)
    sens = sensitivity(score(rubric, table), draws=6, method=method, seed=1)
    for d in range(6):
        slow = rescore(rubric, table, sens.children, sens.weights[d])
        assert sens.scores[:, d] == pytest.approx(slow, abs=1e-9)


def test_seeded_reproducible_and_rank_intervals_bracket_the_median() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    res = score(rubric, synthetic_campaign(rubric, 40, seed=2))
    a, b = sensitivity(res, draws=200, seed=9), sensitivity(res, draws=200, seed=9)
    assert np.array_equal(a.scores, b.scores) and np.array_equal(a.weights, b.weights)
    assert np.all(a.rank_low <= a.rank_median) and np.all(a.rank_median <= a.rank_high)
    assert np.all((a.rank_low >= 1) & (a.rank_high <= 40))
    # the unperturbed ranks lie inside the 5–95 % interval for most institutions
    assert a.scores.shape == (40, 200) and set(np.unique(a.bands)) <= set(range(5))


def test_a_minimum_rule_is_refused() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    crits = tuple(
        attrs.evolve(c, rule="minimum") if c.parent is None else c for c in rubric.criteria
    )
    r = attrs.evolve(rubric, criteria=crits)
    res = score(r, synthetic_campaign(rubric, 3, seed=1))
    with pytest.raises(KepatuhanError, match="the root's rule must be a weighted mean or a sum"):
        sensitivity(res, draws=5)


def test_an_institution_scored_from_its_own_row_moves_with_the_weights_too() -> None:
    """Indicators on an institution row (a Polres published without units) make the
    institution's root come from its own children: the draws must do the same."""
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    leaves = (
        "kompetensi_pelaksana",
        "sarana_prasarana",
        "standar_pelayanan",
        "persepsi_maladministrasi",
        "pengelolaan_pengaduan",
    )
    rows = [
        dict(institution="polres-a", criterion=c, value=v)
        for c, v in zip(leaves, (90, 80, 30, 95, 20), strict=True)
    ]
    rows += [
        dict(institution="kab-b", unit=u, criterion=c, value=v)
        for u, vals in (("u1", (60, 70, 80, 50, 40)), ("u2", (10, 20, 90, 95, 100)))
        for c, v in zip(leaves, vals, strict=True)
    ]
    table = ObservationTable.from_records(rows)
    res = score(rubric, table)
    assert res.from_children_at(0)[res.root][res.institution_index("polres-a")]
    sens = sensitivity(res, draws=5, method="uniform", spread=0.3, seed=2)
    for d in range(5):
        slow = rescore(rubric, table, sens.children, sens.weights[d])
        assert sens.scores[:, d] == pytest.approx(slow, abs=1e-9)
    # the weights do move the institution scored from its own row
    assert np.ptp(sens.scores[res.institution_index("polres-a")]) > 0.01
