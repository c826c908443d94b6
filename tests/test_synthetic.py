"""synthetic_campaign: every level, skewed values, a few % na and missing, reproducible."""

from __future__ import annotations

import numpy as np

import kepatuhan
from kepatuhan.observations import NOT_APPLICABLE
from kepatuhan.testing import fresh_manager, reference_scores, synthetic_campaign


def test_same_seed_same_bits_and_other_seed_other_values() -> None:
    r = kepatuhan.get_rubric("ombudsman-2023")
    a, b = synthetic_campaign(r, 20, seed=3), synthetic_campaign(r, 20, seed=3)
    c = synthetic_campaign(r, 20, seed=4)
    assert a.digest == b.digest
    assert a.digest != c.digest


def test_every_indicator_at_its_level_with_na_and_missing_rates() -> None:
    r = kepatuhan.get_rubric("ombudsman-2023")
    t = synthetic_campaign(r, 200, products=2, seed=1, not_applicable=0.05, missing=0.1)
    expected = 200 * 7 * 4 + 200 * 7 * 2 * 1  # four unit-level leaves, one product-level leaf
    assert 0.85 * expected < len(t) < 0.95 * expected  # ~10 % missing
    na = float(np.mean(t.state == NOT_APPLICABLE))
    assert 0.03 < na < 0.07
    assert set(np.unique(t.level).tolist()) == {1, 2}
    assert np.all((t.value >= 0) & (t.value <= 100))
    assert float(np.median(t.value[t.state == 0])) > 55  # skewed towards compliance


def test_a_synthetic_round_scores_exactly_as_the_reference_scorer() -> None:
    pm = kepatuhan.default_manager()
    r = kepatuhan.get_rubric("ombudsman-2021")
    t = synthetic_campaign(r, 5, seed=2)
    res = kepatuhan.score(r, t, plugins=pm)
    ref = reference_scores(r, t, pm.registry)
    got = {(0, i): float(res.values_at(0)[res.root, i]) for i in range(len(t.institutions))}
    assert got == {k: v for k, v in ref.items() if k[0] == 0}
    assert fresh_manager() is not pm
