"""Strict, identical observation readers (issue #10): a cell is the right value or a located
error with a hint, the same in the stdlib CSV reader, the pyarrow reader, TOML and JSON."""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kepatuhan
import kepatuhan.io.observations_io as obs_io
import kepatuhan.observations as obs
from kepatuhan import InputFileError, KepatuhanError, ObservationError, read_observations
from kepatuhan.io.observations_io import read_observations_text
from kepatuhan.observations import MISSING, NOT_APPLICABLE, VALUE, ObservationTable, parse_value
from kepatuhan.testing import synthetic_campaign

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HEADER = "institution,unit,product,criterion,value\n"
ENGINES = ("stdlib", "arrow")
BAD = Path(__file__).resolve().parent / "bad_inputs"


def write(tmp: Path, text: str, name: str = "obs.csv") -> Path:
    p = tmp / name
    p.write_bytes(text.encode("utf-8"))
    return p


def outcome(read: Callable[[], ObservationTable]) -> tuple[str, Any]:
    """("ok", table) or ("error", (class name, message))."""
    try:
        return "ok", read()
    except KepatuhanError as e:
        return "error", (type(e).__name__, str(e))


def same_table(a: ObservationTable, b: ObservationTable) -> None:
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
        "word",
    ):
        x, y = getattr(a, col), getattr(b, col)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), col
    assert a.digest == b.digest


def both_engines(path: Path, **kw: Any) -> tuple[str, Any]:
    """The outcome of both CSV engines, asserted identical (same table or same error)."""
    s = outcome(lambda: read_observations(path, engine="stdlib", **kw))
    a = outcome(lambda: read_observations(path, engine="arrow", **kw))
    assert s[0] == a[0], (s, a)
    if s[0] == "ok":
        same_table(s[1], a[1])
    else:
        assert s[1] == a[1]
    return s


def csv_cell(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n') else cell


def one_value_everywhere(tmp: Path, cell: str, **kw: Any) -> list[tuple[str, Any]]:
    """Read one value cell through both CSV engines, TOML and JSON (as a string)."""
    got = [both_engines(write(tmp, HEADER + f"kab-x,disdik,,input,{csv_cell(cell)}\n"), **kw)]
    rec = {"institution": "kab-x", "unit": "disdik", "criterion": "input", "value": cell}
    toml = "[[observation]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in rec.items())
    got.append(outcome(lambda: read_observations_text(toml, "toml", "o.toml", **kw)))
    doc = json.dumps({"observations": [rec]})
    got.append(outcome(lambda: read_observations_text(doc, "json", "o.json", **kw)))
    return got


# -- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value", "state", "word"),
    [
        ("85", 85.0, VALUE, False),
        (" 85 ", 85.0, VALUE, False),
        ("85.5", 85.5, VALUE, False),
        ("1.0000", 1.0, VALUE, False),
        ("0.125", 0.125, VALUE, False),
        ("-2.25", -2.25, VALUE, False),
        ("0", 0.0, VALUE, False),
        ("ya", 1.0, VALUE, True),
        ("YA", 1.0, VALUE, True),
        ("Yes", 1.0, VALUE, True),
        ("tidak", 0.0, VALUE, True),
        ("No", 0.0, VALUE, True),
        ("na", 0.0, NOT_APPLICABLE, False),
        ("N/A", 0.0, NOT_APPLICABLE, False),
        ("tidak berlaku", 0.0, NOT_APPLICABLE, False),
        ("", 0.0, MISSING, False),
    ],
)
def test_accepted_values_read_the_same_in_every_reader(
    tmp_path: Path, cell: str, value: float, state: int, word: bool
) -> None:
    for kind, t in one_value_everywhere(tmp_path, cell):
        assert kind == "ok", t
        assert t.value.tolist() == [value] and t.state.tolist() == [state]
        assert t.word.tolist() == [word]


def test_minus_zero_is_stored_as_zero(tmp_path: Path) -> None:
    for _, t in one_value_everywhere(tmp_path, "-0"):
        assert t.value.tobytes() == np.zeros(1).tobytes()


@pytest.mark.parametrize(
    ("cell", "fragment"),
    [
        ("1_5", 'found "1_5"'),
        ("T", '"T" could mean true or tidak'),
        ("F", 'found "F" (write ya or tidak)'),
        ("y", 'found "y" (write ya or tidak)'),
        ("n", 'found "n" (write ya or tidak)'),
        ("true", 'found "true" (write ya or tidak)'),
        ("FALSE", 'found "FALSE" (write ya or tidak)'),
        ("benar", 'found "benar" (write ya or tidak)'),
        ("85%", 'without a percent sign, found "85%" (write 85;'),
        ("1e3", 'found "1e3" in scientific notation (write 1000)'),
        ("2.5E-2", "in scientific notation (write 0.025)"),
        ("+5", 'without a plus sign, found "+5" (write 5)'),
        ("1,234.5", 'without thousands separators, found "1,234.5"'),
        ("1.234,5", "without thousands separators"),
        ("1 000", "without thousands separators"),
        ("0x10", 'found "0x10"'),
        ("0b1", 'found "0b1"'),
        ("inf", 'expected a finite number, found "inf"'),
        ("-Infinity", "expected a finite number"),
        ("nan", 'expected a finite number, found "nan"'),
        ("85,5", "decimal_comma=True (--decimal-comma), or write 85.5"),
        ("1,000", "or 1000 if it separates thousands"),
        ("1.000", "\"1.000\" is ambiguous: '.' before exactly three digits also separates"),
        ("8.725", "write 8.7250 for the number"),
        ("100.000", "or 100000 if you meant thousands"),
        (".5", "(write 0.5)"),
        ("5.", "(write 5)"),
        ("-", "write na for not applicable, or leave the cell empty"),
        ("\u0668\u0665", "with the digits 0-9"),
        ("\u22125", "with the digits 0-9"),
        ("9" * 400, "expected a finite number"),
        ("lots", 'expected a number, ya/tidak, na, or an empty cell, found "lots"'),
    ],
)
def test_odd_cells_are_refused_with_a_hint_in_every_reader(
    tmp_path: Path, cell: str, fragment: str
) -> None:
    results = one_value_everywhere(tmp_path, cell)
    for kind, got in results:
        assert kind == "error", (cell, got)
        name, message = got
        assert name == "ObservationError" and fragment in message, message
        assert 'column "value"' in message
    assert ":2: " in results[0][1][1]  # the CSV line
    assert "observation[0]" in results[1][1][1] and "observation[0]" in results[2][1][1]


def test_parse_value_keeps_its_two_result_form() -> None:
    assert parse_value("ya") == (1.0, VALUE)
    assert parse_value(" 12.5 ") == (12.5, VALUE)
    assert parse_value("na") == (0.0, NOT_APPLICABLE)
    with pytest.raises(ValueError, match="write ya or tidak"):
        parse_value("t")
    with pytest.raises(ValueError, match="underscores"):
        parse_value("1_000")


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_in_json_or_toml_is_refused(value: bool) -> None:
    text = json.dumps({"observations": [{"institution": "i", "criterion": "a", "value": value}]})
    word = "true" if value else "false"
    hint = f'found {word}: a boolean is not a number (write "ya" or "tidak", or a number)'
    with pytest.raises(
        ObservationError, match=re.escape(f"expected a number or text, {hint}")
    ) as e:
        read_observations_text(text, "json", "o.json")
    assert e.value.key_path == "observation[0]"
    toml = f'[[observation]]\ninstitution = "i"\ncriterion = "a"\nvalue = {word}\n'
    with pytest.raises(ObservationError, match="a boolean is not a number") as e:
        read_observations_text(toml, "toml", "o.toml")
    assert e.value.key_path == "observation[0]"


def test_typed_numbers_in_json_and_toml() -> None:
    js = '{"observations": [{"institution": "i", "criterion": "a", "value": 1e3},' + (
        '{"institution": "i", "criterion": "b", "value": 7}]}'
    )
    t = read_observations_text(js, "json", "o.json")
    assert t.value.tolist() == [1000.0, 7.0] and not t.word.any()
    for bad in ("1e400", "1" + "0" * 400, "NaN", "-Infinity"):
        js = '{"observations": [{"institution": "i", "criterion": "a", "value": ' + bad + "}]}"
        with pytest.raises(ObservationError, match="expected a finite number"):
            read_observations_text(js, "json", "o.json")
    for bad in ("nan", "inf", "1e400"):
        toml = f'[[observation]]\ninstitution = "i"\ncriterion = "a"\nvalue = {bad}\n'
        with pytest.raises(ObservationError, match="expected a finite number"):
            read_observations_text(toml, "toml", "o.toml")
    for bad in ("[1]", "{}"):
        js = '{"observations": [{"institution": "i", "criterion": "a", "value": ' + bad + "}]}"
        with pytest.raises(ObservationError, match="expected a number or text"):
            read_observations_text(js, "json", "o.json")


# -- decimal commas and separators ---------------------------------------------------------


def test_decimal_comma_reads_85_5_and_refuses_a_dot(tmp_path: Path) -> None:
    semi = HEADER.replace(",", ";")
    p = write(tmp_path, semi + "kab-x;disdik;;input;85,5\nkab-x;disdik;;proses;ya\n")
    kind, got = both_engines(p)
    assert kind == "error" and 'found "85,5"' in got[1] and "--decimal-comma" in got[1]
    assert f"{p}:2:" in got[1]
    kind, t = both_engines(p, decimal_comma=True)
    assert kind == "ok" and t.value.tolist() == [85.5, 1.0] and t.word.tolist() == [False, True]
    p2 = write(tmp_path, semi + "kab-x;disdik;;input;85.5\n", "dot.csv")
    kind, got = both_engines(p2, decimal_comma=True)
    assert kind == "error" and '(decimal_comma is on), found "85.5" (write 85,5)' in got[1]
    p3 = write(tmp_path, semi + "kab-x;disdik;;input;1.000\n", "thousand.csv")
    kind, got = both_engines(p3, decimal_comma=True)
    assert kind == "error" and "or 1000 if it separates thousands" in got[1]
    for kind, t in one_value_everywhere(tmp_path, "85,5", decimal_comma=True):
        assert kind == "ok" and t.value.tolist() == [85.5]


def test_a_comma_file_with_quoted_decimal_commas(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + 'kab-x,disdik,,input,"8,72"\n')
    assert both_engines(p)[0] == "error"
    kind, t = both_engines(p, decimal_comma=True)
    assert kind == "ok" and t.value.tolist() == [8.72]


@pytest.mark.parametrize(("sep", "name"), [(";", ";"), ("\t", "\t"), ("\t", "tab"), (",", ",")])
def test_the_separator_is_found_or_given(tmp_path: Path, sep: str, name: str) -> None:
    body = "kab-x,disdik,,input,8.72\nkab-x,disdik,p1,proses,na\nkab-y,,,total,ya\n"
    ref = read_observations(write(tmp_path, HEADER + body, "ref.csv"), engine="stdlib")
    p = write(tmp_path, (HEADER + body).replace(",", sep))
    for kw in ({}, {"delimiter": name}):
        kind, t = both_engines(p, **kw)
        assert kind == "ok"
        for col in ("level", "entity", "criterion", "value", "state", "word", "line"):
            assert np.array_equal(getattr(t, col), getattr(ref, col)), col
        assert t.units == ref.units and t.products == ref.products and t.digest == ref.digest


def test_a_wrong_or_unknown_delimiter_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER.replace(",", ";") + "kab-x;disdik;;input;8.72\n")
    kind, got = both_engines(p, delimiter=",")
    assert kind == "error" and 'the header is separated by ";", not ","' in got[1]
    with pytest.raises(InputFileError, match=re.escape("unknown delimiter '|'")):
        read_observations(p, delimiter="|")
    with pytest.raises(InputFileError, match="a delimiter is for CSV files"):
        read_observations_text(
            '[[observation]]\ninstitution="i"\n', "toml", "o.toml", delimiter=";"
        )


def test_a_header_two_separators_can_split_is_refused(tmp_path: Path) -> None:
    head = "institution;unit;product;criterion;value;note,institution,unit,product,criterion,value"
    kind, got = both_engines(write(tmp_path, head + "\nx\n"))
    assert kind == "error" and 'the header can be split by "," and by ";"' in got[1]


def test_a_semicolon_file_with_decimal_commas_is_never_read_as_something_else(
    tmp_path: Path,
) -> None:
    """With a free note column, a comma-separated reading would put 5 in the note."""
    text = "institution;unit;product;criterion;value;note\nkab-x;disdik;;input;8,5;catatan\n"
    p = write(tmp_path, text)
    for kw in ({}, {"delimiter": ";"}):
        kind, got = both_engines(p, **kw)
        assert kind == "error" and '"8,5"' in got[1] and "--decimal-comma" in got[1]
    kind, got = both_engines(p, delimiter=",")
    assert kind == "error" and "separated by" in got[1]
    kind, t = both_engines(p, decimal_comma=True)
    assert kind == "ok" and t.value.tolist() == [8.5]


# -- the word column -----------------------------------------------------------------------


def test_the_word_column_is_kept_through_take_and_defaults_to_false(tmp_path: Path) -> None:
    p = write(tmp_path, HEADER + "i,u,,a,ya\ni,u,,b,1\ni,u,,c,TIDAK\ni,u,,d,0\ni,u,,e,na\n")
    kind, t = both_engines(p)
    assert kind == "ok" and t.word.tolist() == [True, False, True, False, False]
    sub = t.take(np.array([True, False, True, True, False]))
    assert sub.word.tolist() == [True, True, False]
    plain = attrs.evolve(t, word=np.zeros(len(t), dtype=bool))
    assert plain.digest != t.digest  # "ya" and "1" are different input
    bare = ObservationTable(
        institutions=t.institutions,
        units=t.units,
        products=t.products,
        unit_institution=t.unit_institution,
        product_unit=t.product_unit,
        criterion_ids=t.criterion_ids,
        level=t.level,
        entity=t.entity,
        criterion=t.criterion,
        value=t.value,
        state=t.state,
        line=t.line,
    )
    assert bare.word.dtype == np.bool_ and bare.word.tolist() == [False] * 5
    recs = ObservationTable.from_records(
        [
            {"institution": "i", "criterion": "a", "value": "ya"},
            {"institution": "i", "criterion": "b", "value": 1},
        ]
    )
    assert recs.word.tolist() == [True, False]


# -- ids -----------------------------------------------------------------------------------


def test_ids_are_trimmed_and_nfc_normalised_in_every_reader(tmp_path: Path) -> None:
    decomposed, composed = "kab-bone\u0301", "kab-bon\u00e9"
    p = write(tmp_path, HEADER + f" {decomposed} ,u,,a,1\n{composed},u,,b,2\n")
    kind, t = both_engines(p)
    assert kind == "ok" and [i.id for i in t.institutions] == [composed]
    assert t.entity.tolist() == [0, 0]
    js = json.dumps(
        {"observations": [{"institution": decomposed, "criterion": "a", "value": 1}]},
        ensure_ascii=False,
    )
    assert read_observations_text(js, "json", "o.json").institutions[0].id == composed


INVISIBLE = [
    ("\u200b", "an invisible character U+200B"),
    ("\u200c", "an invisible character U+200C"),
    ("\u200d", "an invisible character U+200D"),
    ("\u2060", "an invisible character U+2060"),
    ("\ufeff", "an invisible character U+FEFF"),
    ("\u00ad", "an invisible character U+00AD"),
    ("\u202a", "a bidirectional control character U+202A"),
    ("\u202e", "a bidirectional control character U+202E"),
    ("\u2066", "a bidirectional control character U+2066"),
    ("\u2069", "a bidirectional control character U+2069"),
    ("\u200e", "a bidirectional control character U+200E"),
    ("\u200f", "a bidirectional control character U+200F"),
    ("\u061c", "a bidirectional control character U+061C"),
    ("\x01", "a control character U+0001"),
    ("\t", "a control character U+0009"),
    ("\x7f", "a control character U+007F"),
    ("\u00a0", "a space other than a plain space U+00A0"),
    ("\u2028", "an invisible character U+2028"),
]


@pytest.mark.parametrize(("char", "fragment"), INVISIBLE)
@pytest.mark.parametrize("column", ["institution", "unit", "product", "criterion"])
def test_invisible_and_control_characters_in_ids_are_refused(
    tmp_path: Path, char: str, fragment: str, column: str
) -> None:
    row = {"institution": "kab-x", "unit": "disdik", "product": "prod1", "criterion": "input"}
    row[column] = row[column][:2] + char + row[column][2:]
    cells = [csv_cell(row[c]) for c in ("institution", "unit", "product", "criterion")]
    kind, got = both_engines(write(tmp_path, HEADER + ",".join(cells) + ",1\n"))
    assert kind == "error" and got[0] == "ObservationError"
    assert f'column "{column}": ' in got[1] and fragment in got[1] and ":2: " in got[1]
    assert "at character 3" in got[1]
    js = json.dumps({"observations": [dict(row, value=1)]})
    with pytest.raises(ObservationError, match=fragment.replace("+", r"\+")) as e:
        read_observations_text(js, "json", "o.json")
    assert e.value.key_path == "observation[0]"


def test_a_nul_in_an_id_is_refused() -> None:
    with pytest.raises(ObservationError, match="a control character U\\+0000"):
        read_observations_text(HEADER + "kab\x00x,u,,a,1\n", "csv", "o.csv")
    js = json.dumps({"observations": [{"institution": "kab\x00x", "criterion": "a", "value": 1}]})
    with pytest.raises(ObservationError, match="a control character U\\+0000"):
        read_observations_text(js, "json", "o.json")


@pytest.mark.parametrize(
    ("rows", "fragment"),
    [
        (
            "kab-x,u,,a,1\nKAB-X,u,,a,1\n",
            'institution "KAB-X" looks like the same institution as "kab-x" (line 2)',
        ),
        ("kab-x,u,,a,1\nkab-x,U,,a,1\n", 'unit "U" looks like the same unit as "u" (line 2)'),
        (
            "kab-x,u,p,a,1\nkab-x,u,P,a,1\n",
            'product "P" looks like the same product as "p" (line 2)',
        ),
        ("i,u,,Input,1\ni,u,,input,1\n", 'criterion "input" looks like the same criterion as'),
        (
            "i,u,,stra\u00dfe,1\ni,u,,STRASSE,1\n",
            'criterion "STRASSE" looks like the same criterion as "stra\u00dfe"',
        ),
    ],
)
def test_ids_differing_only_in_case_are_refused(tmp_path: Path, rows: str, fragment: str) -> None:
    kind, got = both_engines(write(tmp_path, HEADER + rows))
    assert kind == "error" and fragment in got[1] and ":3: " in got[1]
    recs = [dict(zip(HEADER.strip().split(","), r.split(","), strict=True)) for r in rows.split()]
    with pytest.raises(ObservationError, match="looks like the same") as e:
        read_observations_text(json.dumps(recs), "json", "o.json")
    assert e.value.key_path == "observation[1]" and "(observation[0])" in str(e.value)


def test_the_same_unit_id_under_two_institutions_may_differ_in_case(tmp_path: Path) -> None:
    kind, t = both_engines(write(tmp_path, HEADER + "kab-x,disdik,,a,1\nkab-y,Disdik,,a,1\n"))
    assert kind == "ok" and [u.id for u in t.units] == ["disdik", "Disdik"]


@pytest.mark.parametrize(("value", "shown"), [("5", "5"), ("true", "true"), ('["a"]', "['a']")])
@pytest.mark.parametrize("key", ["institution", "unit", "product", "criterion", "unit_name"])
def test_ids_in_json_must_be_text(key: str, value: str, shown: str) -> None:
    rec: dict[str, Any] = {"institution": "i", "unit": "u", "product": "p", "criterion": "a"}
    rec[key] = json.loads(value)
    doc = json.dumps({"observations": [dict(rec, value=1)]})
    with pytest.raises(ObservationError, match=f'column "{key}": expected text, found') as e:
        read_observations_text(doc, "json", "o.json")
    assert shown in str(e.value) and e.value.key_path == "observation[0]"


def test_declared_ids_must_be_clean_text() -> None:
    with pytest.raises(ObservationError, match="expected text, found 7") as e:
        read_observations_text("[[institution]]\nid = 7\n", "toml", "o.toml")
    assert e.value.key_path == "institution[0].id"
    with pytest.raises(ObservationError, match="invisible character U\\+200B") as e:
        read_observations_text('[[unit]]\ninstitution = "i"\nid = "u\\u200b"\n', "toml", "o.toml")
    assert e.value.key_path == "unit[0].id"
    toml = (
        '[[institution]]\nid = "kab-x"\n[[observation]]\ninstitution = "kab-x "\ncriterion = "a"\n'
    )
    assert read_observations_text(toml, "toml", "o.toml").institutions[0].id == "kab-x"


def test_an_attribute_of_a_deeper_level_is_refused_not_dropped(tmp_path: Path) -> None:
    text = "institution,unit,product,criterion,value,product_name\nkab-x,u,,a,1,Legalisir\n"
    kind, got = both_engines(write(tmp_path, text))
    assert kind == "error" and "this row is about a unit; a product attribute" in got[1]
    rec = {"institution": "kab-x", "criterion": "a", "value": 1, "unit_sector": "kesehatan"}
    with pytest.raises(ObservationError, match="this row is about an institution"):
        read_observations_text(json.dumps([rec]), "json", "o.json")


def test_attributes_are_cleaned_like_ids(tmp_path: Path) -> None:
    text = (
        "institution,unit,product,criterion,value,unit_name\n"
        "kab-x,u,,a,1, Dinas Kesehatan\nkab-x,u,,b,1,Dinas Kesehatan \n"
    )
    kind, t = both_engines(write(tmp_path, text))
    assert kind == "ok" and t.units[0].name == "Dinas Kesehatan"
    bad = text.replace("Dinas Kesehatan \n", "Dinas\u200bKesehatan\n")
    kind, got = both_engines(write(tmp_path, bad, "bad.csv"))
    assert kind == "error" and 'column "unit_name"' in got[1] and ":3: " in got[1]


# -- TOML/JSON structure -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "key_path"),
    [
        (
            '{"observations": [{"institution": "i", "criterion": "a", "value": 1, "value": 2}]}',
            "observations[0].value",
        ),
        (
            '{"observations": [], "observations": [{"institution": "i", "criterion": "a"}]}',
            "observations",
        ),
        ('[{"institution": "i", "institution": "j", "criterion": "a"}]', "[0].institution"),
        ('{"institution": [{"id": "i", "id": "j"}], "observation": []}', "institution[0].id"),
    ],
)
def test_a_duplicate_json_key_is_refused_with_its_path(doc: str, key_path: str) -> None:
    with pytest.raises(ObservationError, match="duplicate key") as e:
        read_observations_text(doc, "json", "o.json")
    assert e.value.key_path == key_path


def test_two_lists_of_the_same_thing_are_refused() -> None:
    both = {
        "observation": [{"institution": "i", "criterion": "a", "value": 1}],
        "observations": [{"institution": "j", "criterion": "a", "value": 1}],
    }
    with pytest.raises(ObservationError, match='both "observation" and "observations"'):
        read_observations_text(json.dumps(both), "json", "o.json")
    toml = '[[unit]]\ninstitution="i"\nid="u"\n[[units]]\ninstitution="i"\nid="v"\n'
    with pytest.raises(ObservationError, match='both "unit" and "units"'):
        read_observations_text(toml + '[[observation]]\ninstitution="i"\n', "toml", "o.toml")
    with pytest.raises(ObservationError, match='unknown key "observasi"') as e:
        read_observations_text('{"observasi": []}', "json", "o.json")
    assert e.value.key_path == "observasi"


# -- the digest ----------------------------------------------------------------------------


def csv_of(rows: list[str], head: str = HEADER) -> str:
    return head + "".join(r + "\n" for r in rows)


def test_the_digest_ignores_row_order_and_criterion_order(tmp_path: Path) -> None:
    rows = [
        "kab-x,disdik,,input,8.72",
        "kab-x,disdik,,proses,ya",
        "kab-x,dinsos,,input,na",
        "kab-x,dinsos,p1,standar,",
        "kab-y,,,total,55.09",
        "kab-y,,,total,55.09",  # a repeated row: ties must not depend on order either
        "kab-y,,,catatan,-1.5",
    ]
    base = read_observations(write(tmp_path, csv_of(rows), "a.csv"), engine="stdlib").digest
    rnd = random.Random(7)
    for k in range(5):
        shuffled = rows[:]
        rnd.shuffle(shuffled)
        p = write(tmp_path, csv_of(shuffled), f"s{k}.csv")
        for engine in ENGINES:
            assert read_observations(p, engine=engine).digest == base
    changes = [
        ("value", 0, "kab-x,disdik,,input,8.73"),
        ("state", 3, "kab-x,dinsos,p1,standar,na"),
        ("word", 1, "kab-x,disdik,,proses,1"),
        ("id", 0, "kab-x,disdikbud,,input,8.72"),
        ("criterion", 0, "kab-x,disdik,,inputs,8.72"),
    ]
    for what, i, row in changes:
        other = rows[:]
        other[i] = row
        p = write(tmp_path, csv_of(other), f"c-{what}.csv")
        assert read_observations(p, engine="stdlib").digest != base, what
    attr = csv_of(
        [r + (",Dinas" if i == 0 else ",") for i, r in enumerate(rows)],
        HEADER.strip() + ",unit_name\n",
    )
    attr2 = attr.replace("Dinas", "Dinas Pendidikan")
    d1 = read_observations(write(tmp_path, attr, "attr1.csv")).digest
    d2 = read_observations(write(tmp_path, attr2, "attr2.csv")).digest
    assert d1 != d2 and base not in (d1, d2)


def test_the_digest_of_a_permuted_national_round_is_the_same() -> None:
    t = synthetic_campaign(kepatuhan.get_rubric("ombudsman-2023"), 20, seed=3)
    perm = np.random.default_rng(1).permutation(len(t))
    cols = ("level", "entity", "criterion", "value", "state", "line", "word")
    shuffled = attrs.evolve(t, **{c: getattr(t, c)[perm] for c in cols})
    assert shuffled.digest == t.digest
    # criteria first seen in another order: recode them by a permutation of their ids
    ids = list(t.criterion_ids)
    order = list(range(len(ids)))[::-1]
    recoded = attrs.evolve(
        t,
        criterion_ids=tuple(ids[i] for i in order),
        criterion=np.argsort(order)[t.criterion],
    )
    assert recoded.digest == t.digest
    bumped = t.value.copy()
    bumped[123] += 0.01
    assert attrs.evolve(t, value=bumped).digest != t.digest
    state = t.state.copy()
    state[5] = NOT_APPLICABLE if state[5] != NOT_APPLICABLE else VALUE
    assert attrs.evolve(t, state=state).digest != t.digest


# -- both engines, everywhere --------------------------------------------------------------


def catalogue_csv_files() -> list[str]:
    files: set[str] = set()
    for cases in sorted(BAD.glob("cases*.toml")):
        for c in tomllib.loads(cases.read_text())["case"]:
            if c["kind"] in ("observations", "score") and c["file"].endswith((".csv", ".tsv")):
                files.add(c["file"])
    return sorted(files)


CATALOGUE = catalogue_csv_files()


def test_the_catalogue_has_csv_files_to_compare() -> None:
    assert len(CATALOGUE) >= 30


@pytest.mark.parametrize("name", CATALOGUE)
def test_both_csv_engines_agree_on_every_catalogue_file(name: str) -> None:
    both_engines(BAD / name)
    both_engines(BAD / name, decimal_comma=True)


CELLS = [
    "kab-x",
    "Kab-X",
    " kab-x",
    "u",
    "U",
    "",
    " ",
    "p",
    "a",
    "A",
    "input",
    "1",
    "-0",
    "1.000",
    "85,5",
    '"8,5"',
    "ya",
    "YA",
    "t",
    "na",
    "1e3",
    "+1",
    "1_0",
    "\u200b",
    "x\u00a0y",
    "\u00e9",
    "e\u0301",
    '"q""x"',
    "a;b",
    "\t",
]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.lists(st.sampled_from(CELLS), min_size=5, max_size=5), min_size=1, max_size=6),
    st.sampled_from([",", ";"]),
    st.booleans(),
)
def test_both_csv_engines_agree_on_random_files(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], sep: str, comma: bool
) -> None:
    text = HEADER.replace(",", sep) + "".join(sep.join(r) + "\n" for r in rows)
    p = tmp_path_factory.mktemp("rand") / "o.csv"
    p.write_text(text, encoding="utf-8")
    both_engines(p, decimal_comma=comma)


def test_each_distinct_cell_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"parse": 0, "clean": 0}
    parse, clean = obs.parse_cell, obs.clean_text

    def counting_parse(token: str, *, decimal_comma: bool = False) -> tuple[float, int, bool]:
        calls["parse"] += 1
        return parse(token, decimal_comma=decimal_comma)

    def counting_clean(text: str) -> str:
        calls["clean"] += 1
        return clean(text)

    monkeypatch.setattr(obs, "parse_cell", counting_parse)
    monkeypatch.setattr(obs, "clean_text", counting_clean)
    monkeypatch.setattr(obs_io, "clean_text", counting_clean)
    rows = [f"kab-{i % 3},u{i % 2},,c{i % 4},{('ya', '1.5', 'na')[i % 3]}" for i in range(3000)]
    p = write(tmp_path, csv_of(rows))
    for engine in ENGINES:
        calls.update(parse=0, clean=0)
        t = read_observations(p, engine=engine)
        assert len(t) == 3000
        assert calls["parse"] == 3  # three distinct values
        # at most three id cells per distinct entity and one per distinct criterion
        assert calls["clean"] <= 3 * 6 + 4, (engine, calls)


# -- the reading catalogue, until tests/test_bad_inputs.py loads every cases*.toml ----------

READING = tomllib.loads((BAD / "cases-reading.toml").read_text())["case"]


def test_the_reading_catalogue_has_25_error_cases() -> None:
    assert sum(1 for c in READING if "fragment" in c) >= 25
    for c in READING:
        assert c["file"].startswith("read-") and (BAD / c["file"]).is_file()


@pytest.mark.parametrize("case", READING, ids=[c["file"] for c in READING])
def test_reading_catalogue_case(case: dict[str, Any]) -> None:
    path = BAD / case["file"]
    engines = ENGINES if path.suffix in (".csv", ".tsv") else ("auto",)
    for engine in engines:
        if "error" not in case:
            assert len(read_observations(path, engine=engine)) > 0
            continue
        with pytest.raises(KepatuhanError) as e:
            read_observations(path, engine=engine)
        err = e.value
        assert type(err).__name__ == case["error"], str(err)
        located = [p for p in err.problems if case["fragment"] in str(p)]
        assert located, str(err)
        p = located[0]
        assert p.path is not None and p.path.endswith(case["file"])
        if case["where"] == "line":
            assert p.line is not None
        if case["where"] == "key":
            assert p.key_path
