"""Exit 3 is for bugs only: every catalogue case and every odd invocation below ends in
exit 0, 1 or 2 with one located line on stderr; outputs are written whole or not at all;
only regular files are read, and never more than the size limit."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import kepatuhan
from kepatuhan import hookimpl
from kepatuhan.aggregators import Sum
from kepatuhan.cli import main
from kepatuhan.io import files
from kepatuhan.testing import fresh_manager

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent / "bad_inputs"
EXAMPLE = ROOT / "examples" / "maluku-tenggara-2023.csv"
CASES: list[dict[str, Any]] = [
    c for f in sorted(HERE.glob("cases*.toml")) for c in tomllib.loads(f.read_text())["case"]
]


def argv_of(case: dict[str, Any]) -> list[str]:
    """The command line of a catalogue case (as tests/test_bad_inputs.py builds it)."""
    path = str(HERE / case["file"])
    if "argv" in case:
        return [a.format(file=path, dir=str(HERE)) for a in case["argv"]]
    if case["kind"] == "score":
        ref = case["rubric"]
        return ["score", path, "--rubric", str(HERE / ref) if ref.endswith(".toml") else ref]
    return ["validate", path]


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_cli_catalogue_has_at_least_15_cases() -> None:
    cli = tomllib.loads((HERE / "cases-cli.toml").read_text())["case"]
    assert len(cli) >= 15
    assert all((HERE / c["file"]).is_file() and c["kind"] == "cli" for c in cli)


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_no_catalogue_case_is_an_internal_error(
    case: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(argv_of(case), capsys)
    assert code in (0, 1), err
    assert "internal error" not in err and "Traceback" not in out + err


# -- odd invocations -------------------------------------------------------------------------
E = str(EXAMPLE)
R = ["--rubric", "ombudsman-2023"]
INST = ["--institution", "kab-maluku-tenggara"]

#: (argv, exit code, a fragment of stderr); {tmp} is a fresh directory.
ODD: list[tuple[list[str], int, str]] = [
    (["sensitivity", E, *R, "--draws", "0"], 2, "expected draws from 1 to 1000000, found 0"),
    (["sensitivity", E, *R, "--draws", "-5"], 2, "found -5"),
    (["sensitivity", E, *R, "--draws", "9" * 30], 2, "draws"),
    (["sensitivity", E, *R, "--draws", "1" * 5000], 2, "expected a whole number"),
    (["sensitivity", E, *R, "--spread", "nan"], 2, "--spread: expected a number from 0"),
    (["sensitivity", E, *R, "--spread", "-1"], 2, "found -1"),
    (["sensitivity", E, *R, "--spread", "1"], 2, "below 1"),
    (["sensitivity", E, *R, "--spread", "inf"], 2, "--spread"),
    (["sensitivity", E, *R, "--seed", "-1"], 2, "--seed: expected a seed"),
    (["sensitivity", E, *R, "--seed", "1" * 5000], 2, "--seed"),
    (["plot", "ranks", E, *R, "--draws", "0", "--output", "{tmp}/r.png"], 2, "draws"),
    (["plot", "ranks", E, *R, "--seed", "-3", "--output", "{tmp}/r.png"], 2, "--seed"),
    (["score", E, *R, "--delimiter", ";;"], 2, "--delimiter: expected one character"),
    (["score", E, *R, "--delimiter", '"'], 2, "--delimiter"),
    (["score", E, *R, "--delimiter", ""], 2, "--delimiter"),
    (["export", E, *R, "--output", "{tmp}/missing/x.json"], 1, "missing does not exist"),
    (["export", E, *R, "--output", "{tmp}/x.txt"], 1, "expected a .csv, .json, .jsonl or .parquet"),
    (["export", E, *R, "--output", E], 1, "the output is the input file"),
    (["score", E, *R, "--output", E], 1, "the output is the input file"),
    (["score", E, *R, "--output", "{tmp}"], 1, "is a directory"),
    (["report", E, *R, *INST, "--output", "{tmp}/missing/r.html"], 1, "does not exist"),
    (["report", E, *R, *INST, "--output", E], 1, "the output is the input file"),
    (["plot", "distribution", E, *R, "--output", "{tmp}/missing/p.png"], 1, "does not exist"),
    (["plot", "distribution", E, *R, "--output", "{tmp}/p.gif"], 1, "ending in .png or .svg"),
    (["sensitivity", E, *R, "--weights", E], 1, "the output is the input file"),
    (["sensitivity", E, *R, "--weights", "{tmp}/missing/w.csv"], 1, "does not exist"),
    (["score", "{tmp}", *R], 1, "unknown observation file type"),
    (["score", "{tmp}/nothing.csv", *R], 1, "nothing.csv: no such file"),
    (["score", E, "--rubric", "{tmp}/nothing"], 1, "nothing: no such file"),
    (["score", E, "--rubric", "no-such-rubric"], 1, 'unknown rubric "no-such-rubric"'),
    (["show", "{tmp}/nothing.toml"], 1, "no such file"),
    (["explain", E, *R, "--institution", "nobody"], 1, 'no institution "nobody"'),
    (["explain", E, *R, *INST, "--unit", "nobody"], 1, 'has no unit "nobody"'),
    (["explain", E, *R, *INST, "--unit", "dinas-pendidikan", "--product", "x"], 1, "no product"),
    (["gap", E, *R, "--institution", "nobody"], 1, 'no institution "nobody"'),
    (["verify", "{tmp}/nothing.json"], 1, "no such file"),
    (["verify", E], 1, "invalid JSON"),
    (["verify", "{tmp}"], 1, "is a directory"),
    (["panel", "{tmp}/nothing.json"], 1, "no such file"),
    (["panel", E], 1, "invalid JSON"),
    (["reproduce", "{tmp}/nothing.toml"], 1, "no such file"),
    (["reproduce", E], 1, ""),
    (["validate", "{tmp}/nothing.csv"], 1, "no such file"),
    (["new-rubric", "../x", "--dir", "{tmp}"], 1, "expected a name of lower-case letters"),
    (["new-rubric", "x", "--dir", E], 1, "Not a directory"),
]


@pytest.mark.parametrize(
    ("argv", "code", "fragment"), ODD, ids=[" ".join(a[:1] + a[-2:]) for a, _, _ in ODD]
)
def test_odd_invocations_exit_1_or_2_with_one_located_line(
    argv: list[str], code: int, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if code == 2:
        with pytest.raises(SystemExit) as e:
            main(args)
        got, err = e.value.code, capsys.readouterr().err
    else:
        got, _, err = run(args, capsys)
    assert got == code, err
    assert fragment in err
    assert "internal error" not in err and "Traceback" not in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "nothing written"


# -- files in --------------------------------------------------------------------------------
def test_a_fifo_is_refused_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "data.csv"
    os.mkfifo(fifo)  # opening it would block for ever
    code, _, err = run(["score", str(fifo), *R], capsys)
    assert code == 1 and "is a FIFO (named pipe), expected a regular file" in err
    with pytest.raises(kepatuhan.InputFileError, match="FIFO"):
        kepatuhan.read_observations(fifo, engine="stdlib")


def test_a_link_to_dev_zero_is_refused_as_a_device(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "data.csv"
    link.symlink_to("/dev/zero")
    for argv in (["score", str(link), *R], ["validate", str(link)], ["show", f"{link}.toml"]):
        if argv[0] == "show":
            Path(argv[1]).symlink_to("/dev/zero")
        code, _, err = run(argv, capsys)
        assert code == 1 and "is a device, expected a regular file" in err, err


def test_the_size_limit_holds_while_reading_not_only_from_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # /proc files are regular files whose stat size is 0, whatever they hold.
    link = tmp_path / "maps.csv"
    link.symlink_to("/proc/self/maps")
    assert os.stat(link).st_size == 0 and len(Path("/proc/self/maps").read_bytes()) > 200
    monkeypatch.setenv("KEPATUHAN_MAX_BYTES", "200")
    with pytest.raises(kepatuhan.InputFileError, match="file too large: more than 200 bytes"):
        files.read_bytes(link)
    with pytest.raises(kepatuhan.InputFileError, match="file too large"):
        kepatuhan.read_observations(link, engine="stdlib")


def test_a_file_that_vanishes_while_read_is_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.csv"
    real = files.check_file

    def check_then_vanish(path: str | os.PathLike[str]) -> Path:
        p = real(path)
        data.unlink(missing_ok=True)
        return p

    monkeypatch.setattr(files, "check_file", check_then_vanish)
    import kepatuhan.io.observations_io as oio

    monkeypatch.setattr(oio, "check_file", check_then_vanish, raising=False)
    five_columns = "institution,unit,product,criterion,value\nkab-x,u,,total,60\n"
    for text in (five_columns, EXAMPLE.read_text()):  # the fast CSV path, the stdlib path
        data.write_text(text)
        code, _, err = run(["score", str(data), *R], capsys)
        assert code == 1, err
        assert "internal error" not in err and str(data) in err
        assert "no such file" in err.lower() or "No such file" in err


def test_a_file_named_like_a_rubric_id_does_not_shadow_the_rubric(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ombudsman-2023").write_text("this is not a rubric\n")
    code, out, err = run(["score", str(EXAMPLE), "--rubric", "ombudsman-2023"], capsys)
    assert code == 0, err
    assert "60.80" in out
    code, _, err = run(["score", str(EXAMPLE), "--rubric", "./ombudsman-2023"], capsys)
    assert code == 1 and "ombudsman-2023" in err  # with a separator it is the file


# -- files out -------------------------------------------------------------------------------
def test_a_failing_writer_leaves_no_half_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half a fi")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        files.write_atomic(target, half_then_fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]

    def oserror(tmp: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(files.OutputFileError, match=r"out\.csv: cannot write: No space left"):
        files.write_atomic(target, oserror)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    files.write_atomic(target, lambda tmp: tmp.write_text("new\n"))
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        p = files.write_text_atomic(tmp_path / "r.json", "{}")
    finally:
        os.umask(mask)
    assert (p.stat().st_mode & 0o777) == 0o644  # not mkstemp's 0600


@pytest.mark.parametrize(
    "argv",
    [
        ["export", E, *R, "--output", "{out}.csv"],
        ["export", E, *R, "--output", "{out}.json"],
        ["score", E, *R, "--output", "{out}.txt"],
        ["score", E, *R, "--format", "json", "--output", "{out}.json"],
        ["report", E, *R, *INST, "--output", "{out}.html"],
        ["sensitivity", E, *R, "--draws", "5", "--weights", "{out}.csv"],
    ],
    ids=lambda a: " ".join(a[:1] + a[-1:]),
)
def test_a_writer_that_fails_midway_leaves_nothing(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every command writes through files.write_atomic: a crash in the rename leaves nothing."""
    args = [a.replace("{out}", str(tmp_path / "out")) for a in argv]
    assert main(args) == 0, capsys.readouterr().err
    written = sorted(tmp_path.iterdir())
    assert len(written) == 1 and written[0].stat().st_size > 0
    written[0].unlink()

    def no_rename(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    code, _, err = run(args, capsys)
    assert code == 1 and "cannot write: No space left on device" in err, err
    assert list(tmp_path.iterdir()) == []


def test_score_output_writes_what_it_would_print(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("table", "csv", "json"):
        code, printed, _ = run(["score", E, *R, "--units", "--format", fmt], capsys)
        assert code == 0
        out = tmp_path / f"s.{fmt}"
        code, stdout, err = run(
            ["score", E, *R, "--units", "--format", fmt, "--output", str(out)], capsys
        )
        assert code == 0 and stdout == "" and f"wrote {out}" in err
        assert out.read_text() == printed


# -- plugins ---------------------------------------------------------------------------------
class BrokenShares(Sum):
    """A third-party aggregator that sums correctly but cannot explain itself."""

    name = "broken_sum"

    def shares(self, values: Sequence[float], weights: Sequence[float]) -> list[float]:
        raise ZeroDivisionError("shares of nothing")


class BrokenPlugin:
    @hookimpl
    def kepatuhan_register_aggregators(self, register: Callable[[Any], None]) -> None:
        register(BrokenShares())


def test_a_plugin_raising_during_a_command_is_named_not_an_internal_error(
    tmp_path: Path,
    demo_rubric_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rubric = tmp_path / "demo.toml"
    rubric.write_text(demo_rubric_path.read_text().replace('rule = "sum"', 'rule = "broken_sum"'))
    data = tmp_path / "d.csv"
    data.write_text("institution,unit,product,criterion,value\ni,a,,persepsi,80\ni,a,,aduan,60\n")
    monkeypatch.setattr("kepatuhan.cli.common._manager", lambda: fresh_manager(BrokenPlugin()))
    code, _, err = run(["score", str(data), "--rubric", str(rubric)], capsys)
    assert code == 0, err
    code, _, err = run(
        ["explain", str(data), "--rubric", str(rubric), "--institution", "i"], capsys
    )
    assert code == 1, err
    assert "plugin 'test-plugin-0' raised: ZeroDivisionError: shares of nothing" in err
    assert "internal error" not in err


def test_a_real_bug_is_still_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def bug(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("a bug in kepatuhan itself")

    monkeypatch.setattr("kepatuhan.cli.common._read_table", bug)
    monkeypatch.delenv("KEPATUHAN_DEBUG", raising=False)
    code, _, err = run(["score", E, *R], capsys)
    assert code == 3 and "internal error: KeyError" in err


# -- one figure everywhere -------------------------------------------------------------------
def test_a_raw_53_745_is_53_75_in_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """53.745 is stored as 53.74499…; formatting it with :.2f would show 53.74."""
    data = tmp_path / "d.csv"
    data.write_text("institution,unit,product,criterion,value\nkab-x,u,,total,53.7450\n")
    result = tmp_path / "r.json"
    base = [str(data), *R]
    code, _, err = run(["score", *base, "--format", "json", "--output", str(result)], capsys)
    assert code == 0, err
    raw = json.loads(result.read_text())["institutions"][0]["score"]
    assert f"{raw:.2f}" == "53.74"  # the case tells the two rounding paths apart
    code, out, _ = run(["score", *base, "--units"], capsys)
    assert code == 0 and out.count("53.75") == 2 and "53.74" not in out
    code, out, _ = run(["explain", *base, "--institution", "kab-x", "--lang", "en"], capsys)
    assert code == 0 and "kab-x under Ombudsman RI — Penilaian Kepatuhan 2023" in out
    assert out.splitlines()[0].endswith(": 53.75")
    assert "points) @ u: 53.75 (53.75%)" in out and "53.74" not in out
    exported = tmp_path / "e.json"
    assert main(["export", *base, "--output", str(exported)]) == 0
    assert json.loads(exported.read_text())["institutions"][0]["published"] == "53.75"
    page = tmp_path / "r.html"
    assert main(["report", *base, "--institution", "kab-x", "--output", str(page)]) == 0
    html = page.read_text()
    assert "53.75" in html and "53.74" not in html
    code, out, _ = run(["panel", str(result)], capsys)
    assert code == 0 and "53.75 D" in out
    for argv in (["rank", *base], ["gap", *base, "--institution", "kab-x"]):
        code, out, _ = run(argv, capsys)
        # gap's "now" column is the raw value as given (53.745), never a rounded 53.74
        assert code == 0 and "53.75" in out and not re.search(r"53\.74(?!5)", out)


# -- missing values ----------------------------------------------------------------------------
def test_missing_values_are_one_warning_line_and_strict_refuses_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["institution,unit,product,criterion,value"]
    for u in ("a", "b", "c", "d", "e", "f", "g"):  # seven units without pengaduan
        rows += [f"kab-x,{u},,input,8.72", f"kab-x,{u},,proses,10.76", f"kab-x,{u},,output,20.76"]
    data = tmp_path / "d.csv"
    data.write_text("\n".join(rows) + "\n")
    code, out, err = run(["score", str(data), *R], capsys)
    assert code == 0
    lines = [x for x in err.splitlines() if "missing" in x]
    assert len(lines) == 1, err
    assert lines[0].startswith("warning: 7 needed values were missing and counted as 0: ")
    assert lines[0].count('criterion "pengaduan"') == 5 and lines[0].endswith(", …")
    assert 'unit "a"' in lines[0]
    code, out, err = run(["score", str(data), *R, "--format", "json"], capsys)
    assert code == 0 and "needed values were missing" not in err  # JSON lists them itself
    code, out, err = run(["score", str(data), *R, "--strict"], capsys)
    assert code == 1 and out == ""
    assert "7 needed values were missing" in err and "--strict refuses that" in err
    complete = tmp_path / "c.csv"
    complete.write_text("\n".join([*rows[:4], "kab-x,a,,pengaduan,9.61"]) + "\n")
    code, _, err = run(["score", str(complete), *R, "--strict"], capsys)
    assert code == 0 and "missing" not in err


# -- reading options ---------------------------------------------------------------------------
def test_every_command_reading_observations_takes_the_reading_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("institution;unit;product;criterion;value\nkab-x;u;;total;53,7450\n")
    d, out = str(data), str(tmp_path / "out")
    commands = [
        ["score", d, *R],
        ["explain", d, *R, "--institution", "kab-x"],
        ["gap", d, *R, "--institution", "kab-x"],
        ["rank", d, *R],
        ["sensitivity", d, *R, "--draws", "5"],
        ["export", d, *R, "--output", f"{out}.json"],
        ["report", d, *R, "--institution", "kab-x", "--output", f"{out}.html"],
        ["plot", "distribution", d, *R, "--output", f"{out}.svg"],
        ["validate", d, "--rubric", "ombudsman-2023"],
    ]
    for argv in commands:
        code, _, err = run(argv, capsys)
        assert code == 1 and "--decimal-comma" in err, (argv, err)
        code, stdout, err = run([*argv, "--decimal-comma", "--delimiter", ";"], capsys)
        assert code == 0, (argv, err)
        if argv[0] in ("score", "explain", "rank"):
            assert "53.75" in stdout
    doc = json.loads(Path(f"{out}.json").read_text())
    assert doc["input"]["options"] == {"decimal_comma": True, "delimiter": ";"}
    code, stdout, err = run(["verify", f"{out}.json"], capsys)
    assert code == 0 and "reproduces" in stdout, stdout + err


def test_an_unwritable_output_directory_is_refused_before_scoring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # root may write anywhere, so the permission check itself is made to say no
    monkeypatch.setattr(files.os, "access", lambda path, mode: Path(path) != tmp_path)
    monkeypatch.setattr("kepatuhan.cli.common._read_table", lambda *a: pytest.fail("scored first"))
    code, _, err = run(["export", E, *R, "--output", str(tmp_path / "x.csv")], capsys)
    assert code == 1 and f"the directory {tmp_path} is not writable" in err
    assert list(tmp_path.iterdir()) == []
