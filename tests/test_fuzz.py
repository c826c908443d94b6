"""Fuzzing the readers: random bytes and near-valid files may only raise KepatuhanError, and
whatever does score obeys the bounds."""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import kepatuhan
from kepatuhan import KepatuhanError, rubric_from_toml
from kepatuhan.io.files import decode
from kepatuhan.io.observations_io import read_observations_text

VALID_CSV = (
    "institution,unit,product,criterion,value\n"
    "kab-x,disdik,,input,8.72\nkab-x,disdik,,proses,10.76\nkab-x,disdik,p1,standar_pelayanan,80\n"
    "kab-x,dinsos,,total,55.09\nkab-y,,,total,na\n"
)
VALID_TOML = (
    'id = "f"\ntitle = "f"\n[[criterion]]\nid = "total"\nlabel = "t"\nrule = "sum"\n'
    '[[criterion]]\nid = "a"\nlabel = "a"\nparent = "total"\npoints = 40\n'
    'scale = "yes_no"\nlevel = "unit"\n'
    '[[criterion]]\nid = "b"\nlabel = "b"\nparent = "total"\npoints = 60\n'
    'scale = { name = "points", max = 3 }\nlevel = "product"\n'
)
FORMATS = ("csv", "toml", "json")


def mutate(text: str, data: st.DataObject) -> str:
    """Delete, duplicate, replace or insert a few characters of a valid file."""
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 6))):
        if not chars:
            break
        i = data.draw(st.integers(0, len(chars) - 1))
        op = data.draw(st.sampled_from(["del", "dup", "sub", "ins"]))
        if op == "del":
            del chars[i]
        elif op == "dup":
            chars.insert(i, chars[i])
        else:
            c = data.draw(st.sampled_from(list(',"\n=[]{}.-0123456789 aAzZ\\#\x00é\ufeff')))
            if op == "sub":
                chars[i] = c
            else:
                chars.insert(i, c)
    return "".join(chars)


@given(st.binary(max_size=400), st.sampled_from(FORMATS))
def test_random_bytes_raise_only_kepatuhan_errors(blob: bytes, fmt: str) -> None:
    with contextlib.suppress(KepatuhanError):
        read_observations_text(decode(blob, "fuzz"), fmt, "fuzz")
    with contextlib.suppress(KepatuhanError):
        rubric_from_toml(decode(blob, "fuzz"), "fuzz")


@given(st.data())
def test_near_valid_csv_reads_or_fails_cleanly_and_scores_within_bounds(
    data: st.DataObject,
) -> None:
    text = mutate(VALID_CSV, data)
    try:
        table = read_observations_text(text, "csv", "fuzz.csv")
        res = kepatuhan.score("ombudsman-2023", table)
    except KepatuhanError:
        return
    for v in (res.values_at(L) for L in range(3)):
        assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v <= 100))


@given(st.data())
def test_near_valid_rubric_toml_reads_or_fails_cleanly(data: st.DataObject) -> None:
    text = mutate(VALID_TOML, data)
    try:
        rubric = rubric_from_toml(text, "fuzz.toml")
    except KepatuhanError:
        return
    assert rubric_from_toml(kepatuhan.rubric_to_toml(rubric)) == rubric


@settings(max_examples=30)
@given(st.data())
def test_near_valid_json_and_toml_observations_read_or_fail_cleanly(data: st.DataObject) -> None:
    text = mutate(
        '{"observations": [{"institution": "i", "unit": "u", "criterion": "input", "value": 3.5}]}',
        data,
    )
    with contextlib.suppress(KepatuhanError):
        read_observations_text(text, "json", "fuzz.json")
    text = mutate(
        '[[observation]]\ninstitution = "i"\nunit = "u"\ncriterion = "input"\nvalue = "ya"\n', data
    )
    with contextlib.suppress(KepatuhanError):
        read_observations_text(text, "toml", "fuzz.toml")
