"""Observation files: columns, values, and errors with file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kepatuhan import InputFileError, ObservationError, read_observations
from kepatuhan.observations import MISSING, NOT_APPLICABLE, VALUE

HEADER = "institution,unit,product,criterion,value\n"


def write(tmp_path: Path, text: str, name: str = "obs.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_values_states_and_levels(tmp_path: Path) -> None:
    t = read_observations(write(tmp_path, HEADER + "i,,,a,ya\ni,u,,b,na\ni,u,p,c,\ni,u,p,d,12.5\n"))
    assert t.state.tolist() == [VALUE, NOT_APPLICABLE, MISSING, VALUE]
    assert t.level.tolist() == [0, 1, 2, 2]
    assert np.allclose(t.value[[0, 3]], [1.0, 12.5])


def test_a_decimal_comma_is_refused_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ObservationError) as e:
        read_observations(write(tmp_path, HEADER + 'i,u,,a,"88,01"\n'))
    assert e.value.line == 2 and "write 88.01" in str(e.value)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    t = read_observations(write(tmp_path, "\ufeff" + HEADER + "i,u,,a,1\n"))
    assert len(t) == 1


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputFileError) as e:
        read_observations(
            write(
                tmp_path, HEADER + "Dinas Pendidikan Kota Bogor \xe9,u,,a,1\n", encoding="latin-1"
            )
        )
    assert e.value.line == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty file"),
        (HEADER, "no observations"),
        ("institution,unit,product,criterion,valeu\n", 'did you mean "value"'),
        (HEADER + "i,u,,a,1,extra\n", "expected 5 fields, found 6"),
        (HEADER + ",u,,a,1\n", 'column "institution"'),
        (HEADER + "i,,p,a,1\n", "needs its unit"),
        (HEADER + "i,u,,a,lots\n", "expected a number"),
        (HEADER + "i,u,,a,nan\n", "finite"),
    ],
)
def test_bad_csv_gives_a_located_error(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises((ObservationError, InputFileError), match=fragment) as e:
        read_observations(write(tmp_path, text))
    assert e.value.path is not None and e.value.path.endswith("obs.csv")


def test_conflicting_unit_sector_is_refused(tmp_path: Path) -> None:
    text = (
        "institution,unit,product,criterion,value,unit_sector\n"
        "i,u,,a,1,kesehatan\ni,u,,b,1,pendidikan\n"
    )
    with pytest.raises(ObservationError, match="line 2"):
        read_observations(write(tmp_path, text))


def test_toml_and_json_forms_read_the_same(tmp_path: Path) -> None:
    csv_t = read_observations(write(tmp_path, HEADER + "i,u,,a,1.5\ni,u,p,b,na\n"))
    toml_t = read_observations(
        write(
            tmp_path,
            '[[observation]]\ninstitution="i"\nunit="u"\ncriterion="a"\nvalue=1.5\n'
            '[[observation]]\ninstitution="i"\nunit="u"\nproduct="p"\ncriterion="b"\nvalue="na"\n',
            "o.toml",
        )
    )
    json_t = read_observations(
        write(
            tmp_path,
            '{"observations": [{"institution": "i", "unit": "u", "criterion": "a", "value": 1.5},'
            '{"institution": "i", "unit": "u", "product": "p", "criterion": "b", "value": "na"}]}',
            "o.json",
        )
    )
    for t in (toml_t, json_t):
        assert t.value.tolist() == csv_t.value.tolist()
        assert t.state.tolist() == csv_t.state.tolist()
        assert t.units == csv_t.units


def test_unknown_key_in_toml_names_the_record(tmp_path: Path) -> None:
    with pytest.raises(ObservationError) as e:
        read_observations(
            write(
                tmp_path,
                '[[observation]]\ninstitution="i"\ncriterion="a"\nvalue=1\ncriterium="x"\n',
                "o.toml",
            )
        )
    assert e.value.key_path == "observation[0].criterium"


def test_declared_entities_exist_with_their_attributes_even_without_rows(tmp_path: Path) -> None:
    text = (
        '[[institution]]\nid = "kab-x"\nname = "Kabupaten X"\nkind = "kabupaten"\n'
        '[[unit]]\ninstitution = "kab-x"\nid = "disdik"\nsector = "pendidikan"\n'
        '[[unit]]\ninstitution = "kab-x"\nid = "dinsos"\nsector = "sosial"\n'
        '[[observation]]\ninstitution = "kab-x"\nunit = "disdik"\ncriterion = "total"\nvalue = 80\n'
    )
    t = read_observations(write(tmp_path, text, "o.toml"))
    assert t.institutions[0].name == "Kabupaten X" and t.institutions[0].kind == "kabupaten"
    assert {(u.id, u.sector) for u in t.units} == {("disdik", "pendidikan"), ("dinsos", "sosial")}
    assert len(t) == 1
