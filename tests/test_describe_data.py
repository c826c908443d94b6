"""``kepatuhan describe``: coverage per criterion and level, and the dimensions' correlations."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings

import kepatuhan
from kepatuhan.analysis.coverage import COVERAGE_CLASSES, correlations, describe_data
from kepatuhan.cli import main
from kepatuhan.io.observations_io import read_observations, read_observations_text
from kepatuhan.observations import ObservationTable
from kepatuhan.plugins import default_manager
from kepatuhan.results import Scores
from kepatuhan.rubric import Rubric
from kepatuhan.states import State
from kepatuhan.testing import rubrics, table_records

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "maluku-tenggara-2023.csv"
PM = default_manager()

# Five institutions given their 2023 dimension points directly. By hand: proses = 1.5 × input,
# so r = 1; output alternates 20, 10, 20, 10 against input 5, 10, 15, 20, so
# r = -50 / sqrt(125 × 100) = -1/sqrt(5) on the four that have it (i5 has no output row: it is
# missing, counted as 0 by the rubric, and left out of r); pengaduan is 8 everywhere.
HAND = """institution,unit,product,criterion,value
i1,,,input,5
i1,,,proses,7.5
i1,,,output,20
i1,,,pengaduan,8
i2,,,input,10
i2,,,proses,15
i2,,,output,10
i2,,,pengaduan,8
i3,,,input,15
i3,,,proses,22.5
i3,,,output,20
i3,,,pengaduan,8
i4,,,input,20
i4,,,proses,30
i4,,,output,10
i4,,,pengaduan,8
i5,,,input,12
i5,,,proses,18
i5,,,pengaduan,8
"""


def _hand() -> Scores:
    table = read_observations_text(HAND, "csv")
    return kepatuhan.score(PM.registry.rubric("ombudsman-2023"), table, plugins=PM)


def test_coverage_counts_given_computed_missing_and_not_computed_by_hand() -> None:
    d = describe_data(_hand())
    cov = {(c.level, c.criterion): c for c in d.coverage}
    assert {lv for lv, _ in cov} == {"institution"}  # no units, no products in the file
    assert (cov["institution", "input"].given, cov["institution", "input"].missing) == (5, 0)
    out = cov["institution", "output"]
    assert (out.given, out.computed, out.missing, out.not_applicable) == (4, 0, 1, 0)
    total = cov["institution", "total"]
    assert (total.given, total.computed) == (0, 5)
    # the indicators below a given dimension are not needed: not computed
    assert cov["institution", "kompetensi_pelaksana"].not_computed == 5
    assert d.rows["missing"] == 1 and d.rows["rows"] == 19


def test_correlations_by_hand_with_n_and_the_reason_when_undefined() -> None:
    d = describe_data(_hand())
    assert d.dimensions == ("input", "proses", "output", "pengaduan")
    assert d.correlation_level == "institution"
    r = {(c.a, c.b): c for c in d.correlations}
    assert r["input", "proses"].n == 5 and r["input", "proses"].r == pytest.approx(1.0)
    assert r["input", "output"].n == 4
    assert r["input", "output"].r == pytest.approx(-1 / np.sqrt(5))
    const = r["input", "pengaduan"]
    assert const.r is None and const.n == 5
    assert const.reason == "pengaduan is constant (8) on the 5 entities with both values"


def test_too_few_pairs_is_undefined_and_the_units_are_used_when_institutions_have_none() -> None:
    # the published example gives five units their total and two their dimension points: the
    # regency's own dimensions are never needed, so the correlations are taken across units
    res = kepatuhan.score(
        PM.registry.rubric("ombudsman-2023"), read_observations(EXAMPLE), plugins=PM
    )
    d = describe_data(res)
    assert d.correlation_level == "unit"
    for c in d.correlations:
        assert (c.n, c.r) == (2, None)
        assert c.reason == "fewer than 3 entities have both values"
    cov = {(c.level, c.criterion): c for c in d.coverage}
    assert (cov["unit", "total"].given, cov["unit", "total"].computed) == (5, 2)


def _cases(r: Rubric) -> Any:
    return table_records(r, PM.registry).map(lambda t: (r, t))


@settings(max_examples=30, deadline=None)
@given(rubrics().flatmap(_cases))
def test_every_cell_is_in_exactly_one_class_and_r_is_never_nan(
    case: tuple[Rubric, list[dict[str, Any]]],
) -> None:
    rubric, recs = case
    try:
        res = kepatuhan.score(rubric, ObservationTable.from_records(recs), plugins=PM)
    except kepatuhan.KepatuhanError:
        assume(False)
        return
    d = describe_data(res)
    for c in d.coverage:
        assert sum(getattr(c, k) for k in COVERAGE_CLASSES) == c.entities
    # the scored cells at the institution level not filled in by the policy are the given
    # and the computed ones; the cells the policy filled in are the missing ones
    st, filled = res.states_at(0), res.missing_at(0)
    for c in (c for c in d.coverage if c.level == "institution"):
        n = res.node_ids.index(c.criterion)
        assert c.given + c.computed == int(((st[n] == State.SCORED) & ~filled[n]).sum())
        assert c.missing == int((filled[n] | (st[n] == State.ZERO)).sum())
    _, pairs = correlations(res, d.correlation_level)
    lv = ("institution", "unit", "product").index(d.correlation_level)
    V, S = res.values_at(lv), res.states_at(lv)
    for p in pairs:
        a, b = res.node_ids.index(p.a), res.node_ids.index(p.b)
        ok = (S == State.SCORED) & ~res.missing_at(lv)
        both = ok[a] & ok[b]
        assert p.n == int(both.sum())
        if p.r is None:
            assert p.reason
            continue
        assert -1 <= p.r <= 1 and np.isfinite(p.r)
        assert p.r == pytest.approx(np.corrcoef(V[a][both], V[b][both])[0, 1], abs=1e-9)


def test_describe_prints_a_table_json_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "hand.csv"
    data.write_text(HAND)
    base = ["describe", str(data), "--rubric", "ombudsman-2023"]
    assert main([*base, "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "19 rows" in out and "1 needed values missing (policy: zero;" in out
    assert "-0.447 (n=4)" in out and "undefined (n=5)" in out
    assert main([*base, "--print-decimal-comma"]) == 0  # Bahasa Indonesia by default
    out = capsys.readouterr().out
    assert "19 baris" in out and "1 nilai yang diperlukan tidak ada (kebijakan: zero;" in out
    assert "-0,447 (n=4)" in out and "tak terdefinisi (n=5)" in out and "0.447" not in out
    assert main([*base, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["correlation_level"] == "institution" and len(doc["correlations"]) == 6
    assert main([*base, "--format", "csv"]) == 0
    coverage, pairs = capsys.readouterr().out.strip().split("\n\n")
    rows = list(csv.DictReader(io.StringIO(coverage)))
    assert {r["criterion"] for r in rows if r["missing"] == "1"} == {"output"}
    corr = {(r["a"], r["b"]): r for r in csv.DictReader(io.StringIO(pairs))}
    assert float(corr["input", "output"]["r"]) == pytest.approx(-1 / np.sqrt(5))
    const = corr["output", "pengaduan"]
    assert const["r"] == "" and const["reason"].startswith("pengaduan is constant (8)")


def test_describe_names_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bad.csv"
    data.write_text("institution,unit,product,criterion,value\ni1,,,inputt,5\n")
    assert main(["describe", str(data), "--rubric", "ombudsman-2023"]) == 1
    err = capsys.readouterr().err
    assert "bad.csv" in err and "inputt" in err
