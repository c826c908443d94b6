"""Issue #12: an observation file's row problems are all reported in one pass, in file order,
each located, by every reader (both CSV engines, TOML, JSON, ``from_records``) and by
``kepatuhan validate`` and ``kepatuhan score``; a refused row leaves no fact behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kepatuhan import InputFileError, ObservationError, ObservationTable, read_observations
from kepatuhan.cli import main
from kepatuhan.io.observations_io import FIELD_LIMIT, MAX_KEPT

HEADER = "institution,unit,product,criterion,value\n"

#: Three different bad rows among good ones: a bad value (line 3), a sixth field (line 5)
#: and an empty institution id (line 7); lines 2, 4 and 6 are good.
THREE_BAD = (
    HEADER
    + "kab-a,dinkes,,input,20\n"
    + "kab-a,dinkes,,proses,abc\n"
    + "kab-a,dinkes,,output,20\n"
    + "kab-a,dinkes,,pengaduan,20,extra\n"
    + "kab-b,dinkes,,input,20\n"
    + ",dinkes,,proses,20\n"
)


def _lines(err: ObservationError) -> list[int | None]:
    return [p.line for p in err.problems]


def _check_three(err: ObservationError, path: Path) -> None:
    assert _lines(err) == [3, 5, 7]
    assert all(p.path == str(path) for p in err.problems)
    value, fields, ident = err.problems
    assert value.message.startswith('column "value": ') and '"abc"' in value.message
    assert (fields.expected, fields.found) == ("5 fields", "6 fields")
    assert ident.message == 'column "institution": expected an id, found an empty cell'


@pytest.mark.parametrize("engine", ["stdlib", "arrow"])
def test_a_csv_with_three_bad_rows_reports_all_three_in_order(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "tiga.csv"
    path.write_text(THREE_BAD)
    with pytest.raises(ObservationError) as info:
        read_observations(path, engine=engine)
    _check_three(info.value, path)


def test_both_csv_engines_report_the_same_problems_of_a_multi_problem_file(
    tmp_path: Path,
) -> None:
    # Only cell problems (the pyarrow parser reads the file, the builder refuses the cells),
    # and with a field-count problem too (the pyarrow parser itself refuses the file).
    cells = HEADER + "a,u,,input,1e3\n,u,,input,5\na,u,,proses,5\na,u,,input,ya ya\na,,p,x,1\n"
    for n, body in enumerate([cells, THREE_BAD]):
        path = tmp_path / f"f{n}.csv"
        path.write_text(body)
        got = {}
        for engine in ("stdlib", "arrow"):
            with pytest.raises(ObservationError) as info:
                read_observations(path, engine=engine)
            got[engine] = info.value.problems
        assert got["stdlib"] == got["arrow"]
        assert len(got["stdlib"]) == (4 if n == 0 else 3)
    assert [p.line for p in got["stdlib"]] == [3, 5, 7]


def test_validate_lists_every_bad_row_of_a_csv_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiga.csv"
    path.write_text(THREE_BAD)
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err] == [f"{path}:3", f"{path}:5", f"{path}:7"]
    assert "expected 5 fields, found 6" in err[1]


def test_score_lists_every_bad_row_of_a_csv_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tiga.csv"
    path.write_text(THREE_BAD)
    assert main(["score", "--rubric", "ombudsman-2023", str(path)]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    err = out.err.splitlines()
    assert [line.split(": ")[0] for line in err] == [f"{path}:3", f"{path}:5", f"{path}:7"]


#: Three bad records among good ones: a bad value (record 0), a misspelt key (record 2) and
#: a number as an institution id (record 3); records 1 and 4 are good.
RECORDS = [
    {"institution": "kab-a", "unit": "dinkes", "criterion": "input", "value": "abc"},
    {"institution": "kab-a", "unit": "dinkes", "criterion": "proses", "value": 20},
    {"institution": "kab-a", "unit": "dinkes", "criterion": "output", "vaule": 20},
    {"institution": 5, "unit": "dinkes", "criterion": "input", "value": 20},
    {"institution": "kab-b", "unit": "dinkes", "criterion": "input", "value": 20},
]
RECORD_PLACES = ["observation[0]", "observation[2].vaule", "observation[3]"]


def _toml(records: list[dict[str, object]]) -> str:
    out = []
    for rec in records:
        out.append("[[observation]]")
        out += [f"{k} = {json.dumps(v)}" for k, v in rec.items()]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("kind", ["json", "toml"])
def test_records_with_three_problems_report_all_three_in_order(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"tiga.{kind}"
    path.write_text(json.dumps({"observations": RECORDS}) if kind == "json" else _toml(RECORDS))
    with pytest.raises(ObservationError) as info:
        read_observations(path)
    probs = info.value.problems
    assert [p.key_path for p in probs] == RECORD_PLACES
    assert all(p.path == str(path) for p in probs)
    assert probs[1].message == 'unknown key "vaule" (did you mean "value"?)'
    assert probs[2].message == 'column "institution": expected text, found 5'
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[1] for line in err] == RECORD_PLACES


def test_from_records_reports_every_bad_record() -> None:
    with pytest.raises(ObservationError) as info:
        ObservationTable.from_records([*RECORDS[:2], RECORDS[0], RECORDS[3]])
    assert [p.key_path for p in info.value.problems] == ["row 1", "row 3", "row 4"]


def test_only_the_first_problems_are_kept_then_a_count(tmp_path: Path) -> None:
    n = MAX_KEPT + 150
    path = tmp_path / "many.csv"
    path.write_text(HEADER + "".join(f"kab-{i},u,,input,x{i}\n" for i in range(n)))
    for engine in ("stdlib", "arrow"):
        with pytest.raises(ObservationError) as info:
            read_observations(path, engine=engine)
        probs = info.value.problems
        assert len(probs) == MAX_KEPT + 1
        assert [p.line for p in probs[:-1]] == list(range(2, MAX_KEPT + 2))
        assert str(probs[-1]) == "… and 150 more problems"


def test_a_refused_row_leaves_no_sector_or_weight_for_later_rows_to_clash_with(
    tmp_path: Path,
) -> None:
    # Line 2 is refused for its value: its sector "kesehatan" and weight 2 are forgotten, so
    # line 3's "pendidikan" and 3 are the first; line 4's "kesehatan" then clashes with line 3,
    # and line 5's weight 2 with line 3's 3. No echo of line 2 anywhere.
    path = tmp_path / "sektor.csv"
    path.write_text(
        HEADER.rstrip("\n")
        + ",unit_sector,weight\n"
        + "a,u,p,input,abc,kesehatan,2\n"
        + "a,u,p,proses,5,pendidikan,3\n"
        + "a,u,p,output,5,kesehatan,\n"
        + "a,u,p,pengaduan,5,,2\n"
        + "a,u,q,input,5,pendidikan,2\n"
    )
    with pytest.raises(ObservationError) as info:
        read_observations(path)
    probs = info.value.problems
    assert [p.line for p in probs] == [2, 4, 5]
    assert probs[1].message == (
        'column "unit_sector": this entity was given "pendidikan" (line 3), found "kesehatan"'
    )
    assert probs[2].message == (
        'column "weight": this product was given the weight 3 (line 3), found 2'
    )


def test_a_file_level_problem_stops_the_reading_after_the_rows_before_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "panjang.csv"
    path.write_text(HEADER + "a,u,,input,abc\n" + "a,u,,proses," + "9" * (FIELD_LIMIT + 1) + "\n")
    with pytest.raises(ObservationError) as info:
        read_observations(path, engine="stdlib")
    probs = info.value.problems
    assert [p.line for p in probs] == [2, 3]
    assert probs[1].message.startswith("invalid CSV: field larger than field limit")
    path.write_text(HEADER + "a,u,,proses," + "9" * (FIELD_LIMIT + 1) + "\n")
    with pytest.raises(InputFileError):
        read_observations(path, engine="stdlib")


def test_a_good_file_reads_as_before(tmp_path: Path) -> None:
    path = tmp_path / "baik.csv"
    path.write_text(HEADER + "a,u,,input,20\na,u,,proses,30\nb,,,input,5\n")
    table = read_observations(path)
    assert len(table) == 3
    assert table.line.tolist() == [2, 3, 4]
