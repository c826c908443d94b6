"""Weight sensitivity: the matrix computation equals re-scoring each draw with its weights."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

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
    with pytest.raises(KepatuhanError, match='the root\'s rule "minimum" is not linear'):
        sensitivity(res, draws=5)


def test_a_minimum_roll_up_is_refused_by_name() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    lv = attrs.evolve(rubric.levels.institution, combine="minimum")
    r = attrs.evolve(rubric, levels=attrs.evolve(rubric.levels, institution=lv))
    res = score(r, synthetic_campaign(rubric, 3, seed=1))
    with pytest.raises(KepatuhanError, match='institution roll-up\'s rule "minimum" is not linear'):
        sensitivity(res, draws=5)


def test_the_weights_returned_are_the_shares_applied() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    res = score(rubric, synthetic_campaign(rubric, 5, seed=3))
    sens = sensitivity(res, draws=50, spread=0.2, seed=4)
    assert sens.weights.sum(axis=1) == pytest.approx(np.ones(50), abs=1e-12)
    # around the published points (21.85, 32.37, 24.24, 21.54 of 100), ± 20 % before
    # normalising: every share within a factor 1.2 / 0.8 of the published share
    published = np.array([21.85, 32.37, 24.24, 21.54]) / 100
    assert np.all(sens.weights / published < 1.2 / 0.8)
    assert np.all(sens.weights / published > 0.8 / 1.2)


def test_totals_only_are_listed_as_fixed_with_a_warning() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    dims = ("input", "proses", "output", "pengaduan")
    rows = [
        dict(institution="kab-a", unit=u, criterion=c, value=v)
        for u, vals in (("u1", (20, 30, 20, 10)), ("u2", (5, 10, 24, 21)))
        for c, v in zip(dims, vals, strict=True)
    ]
    # kab-b: one unit by dimensions, one as a total; kab-c: totals only
    rows += [dict(institution="kab-b", unit="u1", criterion=c, value=10) for c in dims]
    rows += [dict(institution="kab-b", unit="u2", criterion="total", value=70)]
    rows += [dict(institution="kab-c", unit="u1", criterion="total", value=55)]
    rows += [dict(institution="kab-c", unit="u2", criterion="total", value=65)]
    res = score(rubric, ObservationTable.from_records(rows))
    sens = sensitivity(res, draws=40, spread=0.3, seed=1)
    assert sens.fixed == ("kab-c",)
    (w,) = sens.warnings
    assert "1 of 3 scored institutions have only totals" in w and "kab-c" in w
    moved = np.ptp(sens.scores, axis=1)
    assert moved[0] > 0.01 and moved[1] > 0.01 and moved[2] == 0.0
    only_totals = ObservationTable.from_records([r for r in rows if r["institution"] == "kab-c"])
    assert sensitivity(score(rubric, only_totals), draws=5).warnings[0].startswith("all ")


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


def test_a_band_few_draws_reach_is_shown_never_as_0_or_100_percent() -> None:
    from kepatuhan.cli.analysis import _shares

    # 1 draw in 200 reaching A is 0.5 %: formatted with :.0% it would read "A 0%"
    assert _shares({"B": 0.995, "A": 0.005}) == "B >99%, A <1%"
    assert _shares({"C": 1.0}) == "C 100%" and _shares({"C": 0.5, "B": 0.5}) == "C 50%, B 50%"


def test_cli_json_has_numbers_and_the_weights_file_the_shares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kepatuhan.cli import main

    weights = tmp_path / "w.csv"
    example = Path(__file__).parent.parent / "examples" / "maluku-tenggara-2023.csv"
    argv = ["sensitivity", str(example), "--rubric", "ombudsman-2023", "--draws", "20"]
    assert main([*argv, "--format", "json", "--weights", str(weights), "--lang", "en"]) == 0
    out, err = capsys.readouterr()
    (rec,) = json.loads(out)
    assert isinstance(rec["score"], float) and rec["score"] == pytest.approx(60.80)
    assert rec["bands"] == {"C": 1.0} and isinstance(rec["rank_p50"], float)
    # five of its seven units were published only as totals: the two others still move it
    assert "only totals" not in err and "shares (adding up to 1)" in err
    rows = [line.split(",") for line in weights.read_text().splitlines()[1:]]
    assert len(rows) == 20
    assert all(sum(float(x) for x in r[1:]) == pytest.approx(1.0, abs=1e-12) for r in rows)


def test_a_rule_is_used_only_if_linear_and_weighing_by_its_weights() -> None:
    from kepatuhan.aggregators import Add, Mean, Minimum, Sum, WeightedMean
    from kepatuhan.analysis.sensitivity import _rule_kind

    class FirstCountsDouble(WeightedMean):
        """Linear, but its weights are not the ones it is given."""

        name = "first_double"

        def reduce(
            self, values: np.ndarray, weights: np.ndarray, segments: np.ndarray, n: int
        ) -> np.ndarray:
            w = weights.copy()
            w[0] *= 2
            return super().reduce(values, w, segments, n)

    w = np.array([21.85, 32.37, 24.24, 21.54])
    assert _rule_kind(WeightedMean(), w) == "weights" and _rule_kind(Sum(), w) == "weights"
    assert _rule_kind(Mean(), w) == "equal"
    assert "not linear" in _rule_kind(Minimum(), w)
    assert "no weights to perturb" in _rule_kind(Add(), w)
    assert "does not weigh its children by their weights" in _rule_kind(FirstCountsDouble(), w)
