"""A rubric derived from an edition keeps the edition's hooks: the 2024 SPM view and the
2017–2018 scale checks (directly, through a TOML ``extends``, and through a chain)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from kepatuhan_ombudsman import EDITIONS, plugin
from kepatuhan_ombudsman import plugin as ombudsman_plugin
from kepatuhan_ombudsman.kinds import SCALE_STATED
from kepatuhan_ombudsman.lineage import edition_of

import kepatuhan
from kepatuhan import ObservationTable, get_rubric, hookimpl, load_rubric, score
from kepatuhan.testing import fresh_manager

#: The rows of test_editions' 2024 SPM case: 90 (kesehatan), 80 (pendidikan), 50
#: (perizinan, not an SPM sector): overall (90+80+50)/3 = 73.33, SPM view (90+80)/2 = 85.
SPM_ROWS = [
    dict(
        institution="kab-x",
        institution_kind="kabupaten",
        unit="dinkes",
        unit_sector="kesehatan",
        criterion="total",
        value=90,
    ),
    dict(institution="kab-x", unit="disdik", unit_sector="pendidikan", criterion="total", value=80),
    dict(institution="kab-x", unit="dpmptsp", unit_sector="perizinan", criterion="total", value=50),
]
MINISTRY = [dict(institution="kemhan", institution_kind="kementerian", criterion="total", value=90)]
REGENCY = [dict(institution="kab-x", institution_kind="kabupaten", criterion="total", value=90)]


def _table(rows: list[dict[str, object]]) -> ObservationTable:
    return ObservationTable.from_records(rows)


def test_a_rubric_derived_from_2024_gets_the_spm_view_with_the_editions_numbers() -> None:
    edition = score("ombudsman-2024", _table(SPM_ROWS))
    derived = score(get_rubric("ombudsman-2024").derive("mine-2024"), _table(SPM_ROWS))
    card = derived.card("kab-x")
    assert card.score == pytest.approx(220 / 3)
    assert card.views["spm"] == pytest.approx(85.0)
    assert card.views == edition.card("kab-x").views
    assert [str(w) for w in derived.warnings] == [str(w) for w in edition.warnings]
    assert any("sosial, kependudukan" in str(w) for w in derived.warnings)


def test_a_2024_file_that_extends_the_edition_gets_the_spm_view(tmp_path: Path) -> None:
    path = tmp_path / "mine-2024.toml"
    path.write_text('extends = "ombudsman-2024"\nid = "mine-2024"\n', encoding="utf-8")
    res = score(load_rubric(path), _table(SPM_ROWS))
    assert res.card("kab-x").views["spm"] == pytest.approx(85.0)


def test_a_rubric_derived_from_2017_refuses_the_ministry_the_edition_refuses() -> None:
    """Mirrors test_editions.test_g3_refuses_an_institution_of_the_other_scale."""
    with pytest.raises(kepatuhan.ObservationError, match="use --rubric ombudsman-2017:kl"):
        score("ombudsman-2017", _table(MINISTRY))
    mine = get_rubric("ombudsman-2017").derive("mine-2017", weights={"standar_pelayanan": 2})
    # the derived rubric inherits the alternative "kl": it is the one to use
    with pytest.raises(
        kepatuhan.ObservationError, match=r'use its alternative "kl" \(mine-2017:kl\)$'
    ):
        score(mine, _table(MINISTRY))
    with pytest.raises(
        kepatuhan.ObservationError, match=r'use "mine-2017" without its alternative "kl"$'
    ):
        score(mine.with_alternative("kl"), _table(REGENCY))
    # its own variants score what fits them
    assert score(mine, _table(REGENCY)).card("kab-x").published == "90.00"
    assert score(mine.with_alternative("kl"), _table(MINISTRY)).card("kemhan").published == (
        "90.00"
    )


def test_a_rubric_derived_from_the_0_110_variant_refuses_a_regency(tmp_path: Path) -> None:
    path = tmp_path / "kl.toml"
    path.write_text('extends = "ombudsman-2017:kl"\nid = "mine-2017-kl"\n', encoding="utf-8")
    mine = load_rubric(path)
    assert mine.alternatives == ()  # a variant has no alternatives: the edition's is named
    with pytest.raises(
        kepatuhan.ObservationError,
        match=r'"mine-2017-kl" \(derived from ombudsman-2017\) scores out of 110: '
        r"use --rubric ombudsman-2017, or a rubric derived from it$",
    ):
        score(mine, _table(REGENCY))
    assert score(mine, _table(MINISTRY)).card("kemhan").published == "90.00"


def test_a_derivation_of_a_derivation_keeps_the_editions_checks(tmp_path: Path) -> None:
    """Through a file no plugin installs: the whole line of parents is recorded."""
    (tmp_path / "a.toml").write_text(
        'extends = "ombudsman-2018"\nid = "mine-a"\n', encoding="utf-8"
    )
    (tmp_path / "b.toml").write_text('extends = "a.toml"\nid = "mine-b"\n', encoding="utf-8")
    b = load_rubric(tmp_path / "b.toml")
    c = b.derive("mine-c")
    assert [p.id for p in c.derived_from.lineage] == ["mine-b", "mine-a", "ombudsman-2018"]
    lineage = edition_of(c)
    assert lineage is not None
    assert (lineage.edition, lineage.chain) == (
        "ombudsman-2018",
        ("mine-c", "mine-b", "mine-a", "ombudsman-2018"),
    )
    for rubric in (b, c):
        with pytest.raises(kepatuhan.ObservationError, match=r"scale in 2018"):
            score(rubric, _table(MINISTRY))
    # written out and read back (no parent installed), the line is still there
    again = kepatuhan.rubric_from_toml(kepatuhan.rubric_to_toml(c))
    assert again == c and edition_of(again) == lineage


def test_2019_derived_warns_as_the_edition_does() -> None:
    rows = [
        dict(institution="kemenag", institution_kind="kementerian", criterion="total", value=92.05)
    ]
    res = score(get_rubric("ombudsman-2019").derive("mine-2019"), _table(rows))
    assert res.card("kemenag").published == "92.05"
    (warning,) = [str(w) for w in res.warnings]
    assert (
        'use its alternative "kl" (mine-2019:kl) if the record' in warning and "for 2019" in warning
    )


def test_a_g3_derivation_on_another_maximum_is_not_checked_and_says_so(tmp_path: Path) -> None:
    """Out of 120 the kinds' scales say nothing: the ministry is scored, with a warning."""
    path = tmp_path / "mine-120.toml"
    path.write_text(
        'extends = "ombudsman-2017"\nid = "mine-120"\n\n'
        '[bands]\nname = "two"\nmaximum = 120.0\n'
        '[[bands.band]]\nid = "low"\nlabel = "low"\nmin = 0.0\n'
        '[[bands.band]]\nid = "high"\nlabel = "high"\nmin = 60.0\nmax = 120.0\n\n'
        '[[criterion]]\nid = "total"\npoints = 120.0\n',
        encoding="utf-8",
    )
    mine = load_rubric(path)
    res = score(mine, _table(MINISTRY))
    assert res.card("kemhan").published == "90.00"
    (warning,) = [str(w) for w in res.warnings]
    assert '"mine-120" is derived from ombudsman-2017 but scores out of 120, neither' in warning
    assert "is not applied" in warning


def test_rubrics_of_no_edition_get_no_opinion() -> None:
    own = get_rubric("ombudsman-2017").derive("mine").derive("mine-2")
    assert edition_of(own) is not None
    # the 2023 tree under an id of its own, not derived: not an edition's, whatever its tree
    unrelated = attrs.evolve(get_rubric("ombudsman-2023"), id="other")
    assert edition_of(unrelated) is None
    assert edition_of(unrelated.derive("other-2")) is None
    # a parent that is not installed and names no edition ends the walk without an error
    orphan = attrs.evolve(unrelated, derived_from=kepatuhan.DerivedFrom("gone", "x"))
    assert edition_of(orphan) is None


def _variants() -> list[str]:
    """Every edition and every alternative of it (``ombudsman-2017:kl`` …)."""
    out = []
    for rubric_id in EDITIONS:
        out.append(rubric_id)
        out += [f"{rubric_id}:{a.id}" for a in get_rubric(rubric_id).alternatives]
    return out


@pytest.mark.parametrize("rubric_id", _variants())
def test_a_derivation_of_a_derivation_gets_the_editions_answers(rubric_id: str) -> None:
    """For every edition and alternative, unchanged twice over: the same number of refusals
    and warnings for a ministry beside a regency, and the same views."""
    edition = get_rubric(rubric_id)
    twice = edition.derive("mine-1").derive("mine-2")
    lineage = edition_of(twice)
    assert lineage is not None and lineage.edition == rubric_id.partition(":")[0]
    assert lineage.chain == ("mine-2", "mine-1", rubric_id)
    table = _table([*MINISTRY, *REGENCY])
    refused = plugin.kepatuhan_validate(twice, table)
    assert len(refused) == len(plugin.kepatuhan_validate(edition, table))
    # 2017, 2018: one of the two is always on the other scale, whichever variant
    assert len(refused) == (1 if lineage.edition in SCALE_STATED else 0)
    mine, theirs = (plugin.kepatuhan_select_units(r, table) for r in (twice, edition))
    assert (mine is None) == (theirs is None)
    if mine is not None and theirs is not None:
        assert len(mine.warnings) == len(theirs.warnings)
        assert mine.views.keys() == theirs.views.keys()
        for name in mine.views:
            assert list(mine.views[name]) == list(theirs.views[name])


class OwnView:
    """A plugin with a variant of 2024 and its own unit selection for it."""

    @hookimpl
    def kepatuhan_register_rubrics(
        self, register: Callable[[kepatuhan.Rubric], None], installed: Callable[[str], Any]
    ) -> None:
        register(installed("ombudsman-2024").derive("own-2024"))

    @hookimpl
    def kepatuhan_select_units(
        self, rubric: kepatuhan.Rubric, table: ObservationTable
    ) -> kepatuhan.UnitSelection | None:
        if rubric.id != "own-2024":
            return None
        return kepatuhan.UnitSelection(views={"own": np.ones(len(table.units))})


@pytest.mark.parametrize("own_first", [True, False])
def test_a_plugins_own_answer_for_its_variant_comes_before_the_editions(
    own_first: bool,
) -> None:
    """The first non-None result wins: the edition's view is only the default for a variant,
    whatever order the plugins were registered in."""
    plugins = [OwnView(), ombudsman_plugin] if own_first else [ombudsman_plugin, OwnView()]
    pm = fresh_manager(*plugins)
    res = score("own-2024", _table(SPM_ROWS), plugins=pm)
    assert set(res.card("kab-x").views) == {"own"}
    assert res.card("kab-x").views["own"] == pytest.approx(220 / 3)  # every unit counts
    # the edition itself still gets its SPM view from the same manager
    assert set(score("ombudsman-2024", _table(SPM_ROWS), plugins=pm).card("kab-x").views) == {"spm"}
