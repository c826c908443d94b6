"""The pyarrow CSV path gives the same table as the stdlib path, bit for bit, or steps aside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import kepatuhan
from kepatuhan import ObservationError, ObservationTable, read_observations
from kepatuhan.testing import synthetic_campaign

HEADER = "institution,unit,product,criterion,value\n"


def same(a: ObservationTable, b: ObservationTable) -> None:
    assert a.institutions == b.institutions and a.units == b.units and a.products == b.products
    assert a.criterion_ids == b.criterion_ids
    for col in (
        "unit_institution",
        "product_unit",
        "level",
        "entity",
        "criterion",
        "value",
        "state",
        "line",
    ):
        assert np.array_equal(getattr(a, col), getattr(b, col)), col
    assert a.digest == b.digest


@pytest.mark.parametrize(
    "body",
    [
        "i2,u1,,input,8.72\ni1,u2,p9,standar_pelayanan,na\ni1,,,total,\ni1, u2 ,p1,x,ya\n",
        "b,u,,a,1\na,u,,a,tidak\na,u,p,b,100\nb,u,p,b,0.5",  # no final newline
        '"i,1",u,,"a",3\n',  # a quoted comma
    ],
)
def test_arrow_and_stdlib_read_the_same_table(tmp_path: Path, body: str) -> None:
    p = tmp_path / "o.csv"
    p.write_text(HEADER + body)
    same(read_observations(p, engine="arrow"), read_observations(p, engine="stdlib"))


def test_a_national_round_reads_the_same_both_ways(tmp_path: Path) -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    t = synthetic_campaign(rubric, 30, seed=5)
    p = tmp_path / "round.csv"
    with open(p, "w") as f:
        f.write(HEADER)
        for r in range(len(t)):
            lv, e = int(t.level[r]), int(t.entity[r])
            if lv == 1:
                u = t.units[e]
                ids = (u.institution, u.id, "")
            else:
                pr = t.products[e]
                ids = (pr.institution, pr.unit, pr.id)
            v = "na" if t.state[r] == 1 else repr(float(t.value[r]))
            f.write(",".join((*ids, t.criterion_ids[t.criterion[r]], v)) + "\n")
    a, b = read_observations(p, engine="arrow"), read_observations(p, engine="stdlib")
    same(a, b)
    sa, sb = kepatuhan.score(rubric, a), kepatuhan.score(rubric, b)
    assert np.array_equal(sa.values_at(0), sb.values_at(0))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('i,u,,a,"88,01"\n', "write 88.01"),
        ("i,u,,a,1\n\ni,u,,b,2\n", None),  # a blank line: stdlib path, no error
        ("i,,p,a,1\n", "needs its unit"),
        ("i,u,,a,1,2\n", "expected 5 fields"),
    ],
)
def test_anything_unusual_goes_to_the_stdlib_path_with_its_located_error(
    tmp_path: Path, body: str, fragment: str | None
) -> None:
    p = tmp_path / "o.csv"
    p.write_text(HEADER + body)
    if fragment is None:
        same(read_observations(p, engine="arrow"), read_observations(p, engine="stdlib"))
    else:
        with pytest.raises(ObservationError, match=fragment) as e:
            read_observations(p, engine="arrow")
        assert e.value.line is not None
