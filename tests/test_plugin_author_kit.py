"""The kit for plugin authors: pytest fixtures and check_rubric_laws."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kepatuhan
from kepatuhan import PluginManager, hookimpl, load_rubric, rubric_from_toml
from kepatuhan.aggregators import Aggregator
from kepatuhan.testing import check_rubric_laws


@pytest.mark.parametrize("rubric_id", ["ombudsman-2021", "ombudsman-2023", "ombudsman-2025"])
def test_the_official_editions_obey_the_laws(
    rubric_id: str, kepatuhan_manager: PluginManager
) -> None:
    check_rubric_laws(kepatuhan.get_rubric(rubric_id, plugins=kepatuhan_manager), max_examples=15)


def test_the_demo_rubric_obeys_the_laws(demo_rubric_path: Path) -> None:
    check_rubric_laws(load_rubric(demo_rubric_path), max_examples=20)


class Range(Aggregator):
    """Not a mean at all: max − min, which falls when the lowest child improves."""

    name = "range"

    def reduce(self, values: Any, weights: Any, segments: Any, n_segments: int) -> Any:
        hi = np.zeros(n_segments)
        lo = np.full(n_segments, 100.0)
        np.maximum.at(hi, segments, values)
        np.minimum.at(lo, segments, values)
        return np.maximum(hi - lo, 0.0)

    def reduce_one(self, values: Sequence[float], weights: Sequence[float]) -> float:
        return max(values) - min(values)


class RangePlugin:
    @hookimpl
    def kepatuhan_register_aggregators(self, register: Callable[[Aggregator], None]) -> None:
        register(Range())


def test_a_law_breaking_aggregator_is_caught(
    register_plugin: Callable[[object], PluginManager],
) -> None:
    pm = register_plugin(RangePlugin())
    leaf = '[[criterion]]\nid = "{0}"\nlabel = "{0}"\nparent = "total"\nscale = "percentage"\n'
    rubric = rubric_from_toml(
        'id = "r"\ntitle = "t"\n[[criterion]]\nid = "total"\nlabel = "t"\nrule = "range"\n'
        + leaf.format("a")
        + 'level = "unit"\n'
        + leaf.format("b")
        + 'level = "unit"\n'
    )
    with pytest.raises(AssertionError, match="a better value lowered a score"):
        check_rubric_laws(rubric, plugins=pm, max_examples=200)


def test_fixtures_give_fresh_managers(
    kepatuhan_manager: PluginManager, kepatuhan_builtin_manager: PluginManager
) -> None:
    assert "ombudsman-2023" in kepatuhan_manager.registry.rubrics
    assert not kepatuhan_builtin_manager.registry.rubrics
    assert kepatuhan_manager is not kepatuhan.plugins.default_manager()


INSTALLED = sorted(kepatuhan.plugins.default_manager().registry.rubrics)


@pytest.mark.parametrize("rubric_id", INSTALLED)
def test_every_indicator_at_its_best_scores_the_top_and_at_its_worst_zero(
    rubric_id: str, kepatuhan_manager: PluginManager
) -> None:
    """``extreme_records`` gives each leaf once, on its level's row, at its scale's end."""
    from kepatuhan import ObservationTable, score
    from kepatuhan.testing import extreme_records

    reg = kepatuhan_manager.registry
    rubric = reg.rubric(rubric_id)
    tree = rubric.tree
    for best, expected, band in ((True, 100.0, -1), (False, 0.0, 0)):
        records = extreme_records(rubric, best=best, registry=reg)
        assert sorted(r["criterion"] for r in records) == sorted(
            tree.nodes[n].id for n in tree.leaves()
        )
        for r in records:
            level = rubric.criterion(r["criterion"]).level
            assert (r["unit"] != "") == (level != "institution")
            assert (r["product"] != "") == (level == "product")
        card = score(rubric, ObservationTable.from_records(records), plugins=kepatuhan_manager)
        got = card.card("i")
        assert got.score == pytest.approx(expected), (rubric_id, best)
        assert got.missing == ()
        if rubric.bands is not None:
            assert got.band == rubric.bands.bands[band]
