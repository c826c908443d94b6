"""`kepatuhan verify` compares the whole result document: any tampered field is named."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kepatuhan import InputFileError
from kepatuhan.analysis.verify import verify_result, verify_result_file
from kepatuhan.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "maluku-tenggara-2023.csv"


def scored(data: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    assert main(["score", str(data), "--rubric", "ombudsman-2023", "--format", "json", *extra]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    """The example's result document, as `score --format json` writes it."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["score", str(EXAMPLE), "--rubric", "ombudsman-2023", "--format", "json"]) == 0
    doc: dict[str, Any] = json.loads(buf.getvalue())
    return doc


# Fields that say where to find things again or describe the run (see kepatuhan.analysis.verify).
NOT_COMPARED = {"kepatuhan_version", "plugins", "input.source", "input.path", "rubric.ref"}


def key(path: str, k: str | int) -> str:
    if isinstance(k, int):
        return f"{path}[{k}]"
    return f"{path}.{k}" if path else k


def leaves(doc: Any, path: str = "") -> Iterator[tuple[str, list[str | int]]]:
    """(JSON path, keys) of every leaf, empty lists and objects included."""
    stack: list[tuple[str, list[str | int], Any]] = [(path, [], doc)]
    while stack:
        p, keys, v = stack.pop()
        if any(p == n or p.startswith(n + ".") for n in NOT_COMPARED) or p.startswith(
            "input.options"
        ):
            continue
        if isinstance(v, dict) and v:
            stack.extend((key(p, k), [*keys, k], x) for k, x in v.items())
        elif isinstance(v, list) and v:
            stack.extend((key(p, i), [*keys, i], x) for i, x in enumerate(v))
        else:
            yield p, keys


def tampered(value: Any, salt: int) -> Any:
    """A different value (of the same type where there is one)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, float):
        return [value + 0.01, value * 2 + 1, -value - 1, float(int(value) + salt + 1)][salt % 4]
    if isinstance(value, int):
        return value + 1 + salt
    if isinstance(value, str):
        return [value + "x", value[:-1], value.upper() + "!", ""][salt % 4] or "changed"
    if value is None:
        return [0.0, "x", False][salt % 3]
    if isinstance(value, list):
        return ["added"]
    return {"added": 1}


def set_at(doc: Any, keys: list[str | int], value: Any) -> None:
    for k in keys[:-1]:
        doc = doc[k]
    doc[keys[-1]] = value


LEAVES_OF_EXAMPLE: list[tuple[str, list[str | int]]] = []


def example_leaves(doc: dict[str, Any]) -> list[tuple[str, list[str | int]]]:
    if not LEAVES_OF_EXAMPLE:
        LEAVES_OF_EXAMPLE.extend(sorted(leaves(doc)))
    return LEAVES_OF_EXAMPLE


def test_the_untouched_document_reproduces(recorded: dict[str, Any]) -> None:
    v = verify_result(recorded)
    assert v.reproduces, v.differences
    assert v.compared == 8  # one institution, seven units
    # every kind of field the issue names is in the document, so tampering reaches it
    paths = {p for p, _ in example_leaves(recorded)}
    for field in (
        "rubric.id",
        "rubric.version",
        "rubric.digest",
        "input.digest",
        "institutions[0].score",
        "institutions[0].published",
        "institutions[0].band.id",
        "institutions[0].opinion",
        "institutions[0].criteria.total",
        "institutions[0].units[0].weight",
        "institutions[0].units[0].name",
        "institutions[0].units[1].criteria.proses",
        "accounting.rows",
    ):
        assert field in paths, sorted(paths)


@given(data=st.data())
def test_any_tampered_field_is_named(recorded: dict[str, Any], data: st.DataObject) -> None:
    path, keys = data.draw(st.sampled_from(example_leaves(recorded)), label="field")
    salt = data.draw(st.integers(0, 11), label="salt")
    doc = copy.deepcopy(recorded)
    old = recorded
    for k in keys:
        old = old[k]
    new = tampered(old, salt)
    set_at(doc, keys, new)
    doc = json.loads(json.dumps(doc))  # as it would be read back from the file
    v = verify_result(doc)
    assert not v.reproduces, (path, old, new)
    assert any(d.startswith(path) for d in v.differences), (path, v.differences)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d["institutions"][0]["units"].pop(2), "absent entity"),
        (
            lambda d: d["institutions"][0]["units"].append(d["institutions"][0]["units"][0]),
            "institutions[0].units[7].id: duplicate entity",
        ),
        (
            lambda d: d["institutions"].append(dict(d["institutions"][0], id="kab-lain")),
            'institutions[1].id: extra entity "kab-lain"',
        ),
        (
            lambda d: d["institutions"][0].pop("opinion"),
            "institutions[0].opinion: absent in the record",
        ),
        (
            lambda d: d["institutions"][0].update(extra=1),
            "institutions[0].extra: recorded 1, absent now",
        ),
        (lambda d: d.update(institutions=[]), "absent entity"),
        (
            lambda d: d["institutions"][0]["criteria"].update(total=60.8),
            "institutions[0].criteria.total: recorded 60.8, now",
        ),
        (lambda d: d["rubric"].update(digest="sha256:0"), "rubric.digest"),
        (lambda d: d["accounting"].update(rows=13.0), "accounting.rows: recorded 13.0, now 13"),
        (lambda d: d.update(warnings=None), "warnings: recorded null"),
    ],
)
def test_entity_sets_and_types_are_compared(
    recorded: dict[str, Any], edit: Any, named: str
) -> None:
    doc = copy.deepcopy(recorded)
    edit(doc)
    v = verify_result(doc)
    assert not v.reproduces
    assert any(named in d for d in v.differences), v.differences


def test_the_cli_exits_1_naming_the_tampered_field(
    tmp_path: Path, recorded: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = copy.deepcopy(recorded)
    doc["institutions"][0]["units"][1]["criteria"]["proses"] += 1e-9
    result = tmp_path / "r.json"
    result.write_text(json.dumps(doc))
    assert main(["verify", str(result)]) == 1
    out = capsys.readouterr().out
    assert "does not reproduce" in out
    assert "institutions[0].units[1].criteria.proses: recorded 16.42000000" in out


def test_verify_accepts_what_export_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert main(["export", str(EXAMPLE), "--rubric", "ombudsman-2023", "--output", str(out)]) == 0
    capsys.readouterr()
    assert main(["verify", str(out)]) == 0, capsys.readouterr()
    assert "reproduces: 8 scores identical to the bit, and the whole document" in (
        capsys.readouterr().out
    )
    # and export's JSON is the very document score --format json prints
    assert main(["score", str(EXAMPLE), "--rubric", "ombudsman-2023", "--format", "json"]) == 0
    assert out.read_text() == capsys.readouterr().out


def test_a_rubric_file_and_read_options_are_recorded_and_used_again(
    tmp_path: Path, demo_rubric_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text(
        "institution,unit,product,criterion,value\ni,a,,persepsi,80\ni,a,,aduan,60\ni,b,,total,70\n"
    )
    result = tmp_path / "r.json"
    argv = ["score", str(data), "--rubric", str(demo_rubric_path), "--format", "json"]
    assert main([*argv, "--output", str(result)]) == 0
    doc = json.loads(result.read_text())
    assert doc["rubric"]["ref"] == str(demo_rubric_path)
    assert doc["input"]["options"] == {"decimal_comma": False, "delimiter": None}
    assert verify_result_file(result).reproduces
    data.write_text(data.read_text().replace("i,b,,total,70", "i,b,,total,71"))
    v = verify_result_file(result)
    assert not v.reproduces
    assert any(d.startswith("input.digest") for d in v.differences)
    assert any(d.startswith("institutions[0].units[1].score") for d in v.differences)


def test_the_same_rows_in_another_order_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = EXAMPLE.read_text().splitlines()
    data = tmp_path / "d.csv"
    data.write_text("\n".join(lines) + "\n")
    result = tmp_path / "r.json"
    assert (
        main(
            [
                *("score", str(data), "--rubric", "ombudsman-2023"),
                *("--format", "json", "--output", str(result)),
            ]
        )
        == 0
    )
    body = lines[1:]
    random.Random(10).shuffle(body)
    assert body != lines[1:]
    data.write_text("\n".join([lines[0], *body]) + "\n")
    v = verify_result_file(result)
    assert v.reproduces, v.differences


@pytest.mark.parametrize(
    ("text", "fragment", "key_path"),
    [
        ("[]", "not a JSON object", None),
        ('{"rubric": 3}', "expected a string", "rubric.ref"),
        ('{"rubric": {"ref": "ombudsman-2023"}}', "expected a string", "input.path"),
        ('{"rubric": {"ref": "ombudsman-2023"}, "input": {"path": 7}}', "found int", "input.path"),
        ('{"rubric": {"ref": ""}, "input": {"path": "x.csv"}}', "expected a string", "rubric.ref"),
        (
            '{"rubric": {"ref": "ombudsman-2023"}, "input": {"path": "x.csv", "options": []}}',
            "decimal_comma",
            "input.options",
        ),
        ('{"a": "\\udc80"}', "lone surrogate", "a"),
        ('{"\\ud800": 1}', "lone surrogate", '"\\ud800"'),
        ('{"n": ' + "9" * 5000 + "}", "more than 4300 digits", None),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON", None),
        ("{", "invalid JSON", None),
    ],
)
def test_malformed_result_files_are_located(
    tmp_path: Path,
    text: str,
    fragment: str,
    key_path: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = tmp_path / "r.json"
    result.write_text(text)
    with pytest.raises(InputFileError) as e:
        verify_result_file(result)
    assert fragment in str(e.value) and e.value.path == str(result)
    assert e.value.key_path == key_path
    assert main(["verify", str(result)]) == 1
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1
