"""Tests of the example plugin: registered, lawful, and scoring a worked example."""

from __future__ import annotations

import pytest
from kepatuhan_example import RUBRIC_ID, plugin

from kepatuhan import ObservationTable, score
from kepatuhan.testing import check_rubric_laws


def test_the_rubric_is_registered(register_plugin):
    pm = register_plugin(plugin)
    assert RUBRIC_ID in pm.registry.rubrics


def test_the_rubric_obeys_the_aggregation_laws(register_plugin):
    pm = register_plugin(plugin)
    check_rubric_laws(pm.registry.rubric(RUBRIC_ID), plugins=pm, max_examples=25)


def test_a_worked_example(register_plugin):
    pm = register_plugin(plugin)
    rows = [
        dict(institution="prov-contoh", unit="disdik", criterion="input", value=80),
        dict(institution="prov-contoh", unit="disdik", product="p1", criterion="proses", value=90),
        dict(institution="prov-contoh", unit="disdik", product="p2", criterion="proses", value=70),
        dict(institution="prov-contoh", unit="disdik", criterion="output", value=75),
        dict(institution="prov-contoh", unit="disdik", criterion="pengaduan", value=2),
        dict(institution="prov-contoh", unit="dinsos", criterion="total", value=60.5),
    ]
    card = score(RUBRIC_ID, ObservationTable.from_records(rows), plugins=pm).card("prov-contoh")
    disdik = 0.15 * 80 + 0.45 * 80 + 0.20 * 75 + 20 * 2 / 3  # products averaged: (90+70)/2
    assert card.score == pytest.approx((disdik + 60.5) / 2)
    assert card.band.id == "C"
