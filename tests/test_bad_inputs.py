"""The catalogue of bad inputs (tests/bad_inputs/cases*.toml): every error case gives its error
class, its located message, and through the CLI exit 1 with that message and no traceback;
every odd-but-valid case (kind ``score-ok``) gives the right published figures, its missing
values listed and its rows accounted for, through the library and the CLI alike."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

import kepatuhan
from kepatuhan import KepatuhanError, Rubric, load_rubric, read_observations, score
from kepatuhan.cli import main
from kepatuhan.plugins import default_manager

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent / "bad_inputs"
CASES: list[dict[str, Any]] = [
    case
    for path in sorted(HERE.glob("cases*.toml"))
    for case in tomllib.loads(path.read_text(encoding="utf-8"))["case"]
]
OK_CASES = [c for c in CASES if c["kind"] == "score-ok"]
ERROR_CASES = [c for c in CASES if c["kind"] != "score-ok"]


def checked_rubric(path: Path) -> Rubric:
    """Load a rubric file and check it against the installed scales and aggregators."""
    rubric = load_rubric(path)
    problems = default_manager().registry.check(rubric)
    if problems:
        raise kepatuhan.RubricError([attrs.evolve(p, path=str(path)) for p in problems])
    return rubric


def run_library(case: dict[str, Any]) -> None:
    path = HERE / case["file"]
    kind = case["kind"]
    if kind in ("rubric", "rubric-ok"):
        checked_rubric(path)
    elif kind == "observations":
        read_observations(path)
    elif kind == "score":
        score(_rubric_of(case), read_observations(path))


def cli_argv(case: dict[str, Any]) -> list[str]:
    path = str(HERE / case["file"])
    if "argv" in case:
        return [a.format(file=path, dir=str(HERE)) for a in case["argv"]]
    if case["kind"] in ("score", "score-ok"):
        ref = case["rubric"]
        return ["score", path, "--rubric", str(HERE / ref) if ref.endswith(".toml") else ref]
    return ["validate", path]


LIBRARY = [c for c in ERROR_CASES if c["kind"] != "cli"]


def test_the_catalogue_has_at_least_100_cases() -> None:
    assert sum(1 for c in CASES if "fragment" in c) + len(OK_CASES) >= 100
    for c in CASES:
        assert (HERE / c["file"]).is_file(), c["file"]
    names = [c["file"] for c in CASES if "argv" not in c]
    assert len(names) == len(set(names)), "a case file is listed twice"


def _rubric_of(case: dict[str, Any]) -> Rubric:
    ref = case["rubric"]
    return checked_rubric(HERE / ref) if ref.endswith(".toml") else kepatuhan.get_rubric(ref)


@pytest.mark.parametrize("case", OK_CASES, ids=[c["file"] for c in OK_CASES])
def test_odd_but_valid_data_gets_the_right_score(case: dict[str, Any]) -> None:
    res = score(_rubric_of(case), read_observations(HERE / case["file"]))
    for exp in case["expect"]:
        card = res.card(exp["institution"])
        if "unit" in exp:
            card = next(u for u in card.children if u.id == exp["unit"])
        assert card.published == exp["published"], (exp, card.score)
        assert list(card.missing) == exp.get("missing", []), exp
    acc = res.accounting()
    assert acc["empty"] == case.get("empty", 0)
    assert acc["overridden"] == case.get("overridden", 0)
    parts = acc["used"] + acc["overridden"] + acc["empty"] + acc["excluded"] + acc["refused"]
    assert parts == acc["rows"]
    listed = {(m.institution, m.unit, m.criterion) for m in res.missing()}
    wanted = {
        (e["institution"], e.get("unit"), m) for e in case["expect"] for m in e.get("missing", [])
    }
    assert listed == wanted


@pytest.mark.parametrize("case", OK_CASES, ids=[c["file"] for c in OK_CASES])
def test_odd_but_valid_data_gets_the_same_score_from_the_cli(
    case: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main([*cli_argv(case), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    insts = {i["id"]: i for i in doc["institutions"]}
    for exp in case["expect"]:
        got = insts[exp["institution"]]
        if "unit" in exp:
            got = next(u for u in got["units"] if u["id"] == exp["unit"])
        assert got["published"] == exp["published"]
        assert got.get("missing", []) == exp.get("missing", [])


@pytest.mark.parametrize("case", LIBRARY, ids=[c["file"] for c in LIBRARY])
def test_library_raises_the_class_with_the_located_message(case: dict[str, Any]) -> None:
    if "error" not in case:
        run_library(case)  # accepted input (a BOM, a valid helper rubric)
        return
    with pytest.raises(KepatuhanError) as e:
        run_library(case)
    err = e.value
    assert type(err).__name__ == case["error"], str(err)
    assert case["fragment"] in str(err)
    where = case["where"]
    located = [p for p in err.problems if case["fragment"] in str(p)]
    assert located, str(err)
    p = located[0]
    if where in ("line", "key", "file"):
        assert p.path is not None and p.path.endswith(case["file"]), str(p)
    if where == "line":
        assert p.line is not None, str(p)
    if where == "key":
        assert p.key_path, str(p)


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["file"] for c in ERROR_CASES])
def test_cli_exits_1_with_the_message_and_no_traceback(
    case: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(cli_argv(case))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    if "fragment" not in case:
        assert code == 0, out.err
        return
    assert code == 1, out.err
    assert case["fragment"] in out.err
    if case["kind"] != "cli":
        assert case["file"] in out.err


# -- generated cases: too big, too deep or too special to keep as files ---------------------


def test_a_rubric_1000_levels_deep_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parts = ['id = "deep"\ntitle = "x"\n[[criterion]]\nid = "total"\nlabel = "x"\n']
    for i in range(1000):
        parent = "total" if i == 0 else f"n{i - 1}"
        parts.append(f'[[criterion]]\nid = "n{i}"\nlabel = "x"\nparent = "{parent}"\n')
    parts.append('scale = "percentage"\nlevel = "unit"\n')
    p = tmp_path / "deep.toml"
    p.write_text("".join(parts))
    with pytest.raises(kepatuhan.RubricError, match="criterion tree too deep: expected at most 64"):
        load_rubric(p)
    assert main(["validate", str(p)]) == 1
    assert "too deep" in capsys.readouterr().err


def test_a_million_columns_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "wide.csv"
    p.write_text(",".join(f"c{i}" for i in range(10**6)) + "\n")
    with pytest.raises(kepatuhan.ObservationError, match="1000000 columns in the header"):
        read_observations(p, engine="stdlib")
    with pytest.raises(kepatuhan.ObservationError, match="1000000 columns in the header"):
        read_observations(p)


def test_an_extremely_long_line_is_refused_with_its_line(tmp_path: Path) -> None:
    p = tmp_path / "long.csv"
    p.write_text(
        "institution,unit,product,criterion,value\nkab-x,u,,input,1\nkab-x,u,,note,"
        + "9" * (2 << 20)
        + "\n"
    )
    with pytest.raises(kepatuhan.InputFileError) as e:
        read_observations(p)
    assert "field larger than field limit" in str(e.value) and e.value.line == 3


def test_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "data.csv"
    d.mkdir()
    with pytest.raises(kepatuhan.InputFileError, match="is a directory, expected a file"):
        read_observations(d)
    assert main(["score", str(d), "--rubric", "ombudsman-2023"]) == 1
    assert "is a directory" in capsys.readouterr().err


def test_a_file_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "big.csv"
    p.write_text("institution,unit,product,criterion,value\n" + "kab-x,u,,input,1\n" * 100)
    monkeypatch.setenv("KEPATUHAN_MAX_BYTES", "1000")
    with pytest.raises(
        kepatuhan.InputFileError, match=r"file too large: \d+ bytes, the limit is 1000"
    ):
        read_observations(p)


def test_reading_a_rubric_or_data_imports_no_code(tmp_path: Path) -> None:
    """A rubric naming a module as its aggregator is refused, and nothing gets imported."""
    import subprocess

    code = (
        "import sys, kepatuhan\n"
        "try:\n"
        "    r = kepatuhan.load_rubric(sys.argv[1])\n"
        "    kepatuhan.plugins.default_manager().registry.check(r)\n"
        "    kepatuhan.read_observations(sys.argv[2])\n"
        "except kepatuhan.KepatuhanError:\n"
        "    pass\n"
        "assert 'antigravity' not in sys.modules and 'this' not in sys.modules\n"
    )
    rubric = tmp_path / "r.toml"
    rubric.write_text(
        'id = "r"\ntitle = "t"\n[[criterion]]\nid = "total"\nlabel = "x"\nrule = "antigravity"\n'
        '[[criterion]]\nid = "a"\nlabel = "a"\nparent = "total"\nscale = "this"\nlevel = "unit"\n'
    )
    data = tmp_path / "d.csv"
    data.write_text("institution,unit,product,criterion,value\n__import__('this'),u,,a,1\n")
    out = subprocess.run(
        [sys.executable, "-c", code, str(rubric), str(data)], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
