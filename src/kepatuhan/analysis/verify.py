"""Re-checking a result file: does the whole document still reproduce, bit for bit?

A result written by ``kepatuhan score --format json`` (or ``kepatuhan export --output
FILE.json``) records the rubric it used (``ref``, id, version, digest), the input file
(``path``, how it was read, its digest) and every figure of every entity. Verifying it reads
the same input again, scores it with the same rubric, builds the document the same way
(:func:`result_document`) and compares the two *recursively*: every field of every entity
(score, published, band, opinion, criteria, flags, missing, views, weights, names), the
entity set (no extra, duplicate or absent entity), the accounting and warnings, the rubric's
id, version and digest and the input digest. Each difference names its JSON path, such as
``institutions[3].units[1].criteria.proses``.

Not compared, because they describe the run rather than the result: ``kepatuhan_version``
and ``plugins`` (a difference is reported as a note), ``input.source`` (where the file was
when it was scored; ``input.path`` is what is read again and ``input.digest`` says whether it
is the same data) and ``rubric.ref`` (what is loaded again; its digest is compared).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from ..errors import InputFileError, Problem, too_many_digits
from ..io.files import read_text
from ..io.observations_io import read_observations
from ..io.result_json import RESULT_FORMAT, result_json_text, write_result_json
from ..io.rubric_toml import is_rubric_file, resolve_rubric
from ..plugins import PluginManager, default_manager

if TYPE_CHECKING:
    from ..results import Scores

__all__ = [
    "Verification",
    "dump_result",
    "is_rubric_file",
    "load_result",
    "read_options",
    "result_document",
    "result_header",
    "verify_result",
    "verify_result_file",
    "write_result",
]

#: Top-level keys that describe the run, not the result: reported as notes, not differences.
_NOTES = ("kepatuhan_version", "plugins")
#: Keys that say where to find things again, not what was found (see the module docstring).
_NOT_COMPARED = {("input", "source"), ("input", "path"), ("rubric", "ref")}
#: The most differences listed (the count of the rest is given).
_MAX_LISTED = 50


@attrs.frozen
class Verification:
    """The outcome: ``reproduces`` and, if not, every difference found (by JSON path)."""

    reproduces: bool
    compared: int
    differences: tuple[str, ...]
    notes: tuple[str, ...] = ()


# -- the document ------------------------------------------------------------------------


def read_options(decimal_comma: bool = False, delimiter: str | None = None) -> dict[str, Any]:
    """How the observation file was read (recorded in the result, used again by verify)."""
    return {"decimal_comma": decimal_comma, "delimiter": delimiter}


def result_header(
    scores: Scores,
    *,
    rubric_ref: str,
    data_path: str | os.PathLike[str],
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The result document without its ``institutions``: :meth:`Scores.document_header` plus
    what :func:`verify_result` needs to score the same thing again — the rubric reference
    (an installed id, or the absolute path of a rubric file), the absolute path of the input
    and the options it was read with."""
    doc = {"format": RESULT_FORMAT, **scores.document_header()}
    doc["rubric"]["ref"] = os.path.abspath(rubric_ref) if is_rubric_file(rubric_ref) else rubric_ref
    doc["input"]["path"] = os.path.abspath(data_path)
    doc["input"]["options"] = dict(options or read_options())
    return doc


def result_document(
    scores: Scores,
    *,
    rubric_ref: str,
    data_path: str | os.PathLike[str],
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON document of ``score --format json`` and ``export --output FILE.json``, whole
    (:func:`write_result` streams the same document without holding it)."""
    doc = result_header(scores, rubric_ref=rubric_ref, data_path=data_path, options=options)
    doc["institutions"] = list(scores.iter_institution_dicts())
    return doc


def write_result(
    out: TextIO,
    scores: Scores,
    *,
    rubric_ref: str,
    data_path: str | os.PathLike[str],
    options: Mapping[str, Any] | None = None,
) -> None:
    """Stream the result document to ``out``, one institution per line (flat memory)."""
    header = result_header(scores, rubric_ref=rubric_ref, data_path=data_path, options=options)
    write_result_json(out, header, scores.iter_institution_json())


def dump_result(doc: Mapping[str, Any]) -> str:
    """The text of a result document (one serialisation, so files compare byte for byte)."""
    return result_json_text(doc)


# -- reading a result file -----------------------------------------------------------------
def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    simple = key.replace("_", "").replace("-", "").isalnum()
    name = key if simple else json.dumps(key, ensure_ascii=True)
    return f"{path}.{name}" if path else name


def _walk(doc: Any) -> Iterator[tuple[str, Any]]:
    """Every (JSON path, value) of a document, keys included, without recursion."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            for k, v in value.items():
                yield _join(path, k) + " (key)", k
                stack.append((_join(path, k), v))
        elif isinstance(value, list):
            stack.extend((_join(path, i), v) for i, v in enumerate(value))


def _unicode_problem(doc: Any, where: str) -> Problem | None:
    """The first string that is not valid Unicode (a lone surrogate such as ``\\udc80``)."""
    for path, value in _walk(doc):
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = value[exc.start]
                return Problem(
                    f"a lone surrogate \\u{ord(bad):04x} (an escape that is no character)",
                    path=where,
                    key_path=path.removesuffix(" (key)") or None,
                    expected="Unicode text",
                    found=f"\\u{ord(bad):04x}",
                )
    return None


def load_result(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A result file's JSON object; InputFileError (located) for anything that is not one.

    Refused: invalid JSON, a number too long to read, nesting too deep, a lone surrogate,
    anything but a JSON object at the top.
    """
    where = str(path)
    text = read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            Problem(f"invalid JSON: {exc.msg}", path=where, line=exc.lineno)
        ) from None
    except ValueError:  # an integer of more than 4300 digits (Python's safety limit)
        raise too_many_digits(where, "invalid JSON: a number") from None
    except RecursionError:
        raise InputFileError(Problem("invalid JSON: nested too deeply", path=where)) from None
    if not isinstance(doc, dict):
        raise InputFileError(
            Problem(
                "not a kepatuhan result (not a JSON object)",
                path=where,
                expected="a JSON object",
                found=type(doc).__name__,
            )
        )
    bad = _unicode_problem(doc, where)
    if bad is not None:
        raise InputFileError(bad)
    return doc


def _need_str(doc: Mapping[str, Any], section: str, key: str, where: str | None) -> str:
    """``doc[section][key]`` as a non-empty string, or a located InputFileError."""
    sec = doc.get(section)
    value = sec.get(key) if isinstance(sec, dict) else None
    if not isinstance(value, str) or not value:
        found = "nothing" if value is None else f"{type(value).__name__} {value!r:.60}"
        raise InputFileError(
            Problem(
                f"not a kepatuhan result: expected a string, found {found} (written by "
                "kepatuhan score --format json or kepatuhan export)",
                path=where,
                key_path=f"{section}.{key}",
                expected="a string",
                found=found,
            )
        )
    return value


def _options(doc: Mapping[str, Any], where: str | None) -> dict[str, Any]:
    """The recorded read options (defaults for a result written before they were recorded)."""
    raw = doc["input"].get("options", read_options())
    ok = (
        isinstance(raw, dict)
        and set(raw) <= {"decimal_comma", "delimiter"}
        and isinstance(raw.get("decimal_comma", False), bool)
        and (raw.get("delimiter") is None or isinstance(raw.get("delimiter"), str))
    )
    if not ok:
        raise InputFileError(
            Problem(
                "not a kepatuhan result: expected decimal_comma (true/false) and delimiter",
                path=where,
                key_path="input.options",
                found=f"{raw!r:.60}",
            )
        )
    return read_options(bool(raw.get("decimal_comma", False)), raw.get("delimiter"))


# -- comparing -------------------------------------------------------------------------------
def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."


def _same_leaf(a: Any, b: Any) -> bool:
    """Equal to the bit, and of the same JSON type (``1`` is not ``1.0``, nor ``true``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        )
    return bool(a == b)


def _ids(items: list[Any]) -> list[Any] | None:
    """The ``id`` of each item, if every item is an object with one."""
    if all(isinstance(x, dict) and "id" in x for x in items):
        return [x["id"] for x in items]
    return None


def _compare_lists(path: str, was: list[Any], now: list[Any], out: list[str]) -> None:
    ids_was, ids_now = _ids(was), _ids(now)
    if ids_was is None or ids_now is None:
        if len(was) != len(now):
            out.append(f"{path}: recorded {len(was)} items, now {len(now)}")
            return
        for i, (a, b) in enumerate(zip(was, now, strict=True)):
            _compare(_join(path, i), a, b, out)
        return
    # An entity list is a set by id (the order follows the rows of the data, which may
    # change): name what is extra, duplicated or absent, then compare entity by entity.
    fresh: dict[str, Any] = {}
    for item in now:
        fresh.setdefault(json.dumps(item["id"], sort_keys=True), item)
    seen: set[str] = set()
    for i, item in enumerate(was):
        key = json.dumps(item["id"], sort_keys=True)
        at = _join(path, i)
        if key in seen:
            out.append(f"{_join(at, 'id')}: duplicate entity {_short(item['id'])}")
        elif key not in fresh:
            out.append(f"{_join(at, 'id')}: extra entity {_short(item['id'])} (not in the data)")
        else:
            _compare(at, item, fresh[key], out)
        seen.add(key)
    for key, item in fresh.items():
        if key not in seen:
            out.append(f"{path}: absent entity {_short(item['id'])} (in the data, not recorded)")


def _compare(path: str, was: Any, now: Any, out: list[str]) -> None:
    """Append one line per difference between a recorded value and a fresh one."""
    if isinstance(was, dict) and isinstance(now, dict):
        for key in sorted(was.keys() | now.keys(), key=str):
            sub = _join(path, key)
            if key not in now:
                out.append(f"{sub}: recorded {_short(was[key])}, absent now")
            elif key not in was:
                out.append(f"{sub}: absent in the record, now {_short(now[key])}")
            else:
                _compare(sub, was[key], now[key], out)
    elif isinstance(was, list) and isinstance(now, list):
        _compare_lists(path, was, now, out)
    elif not _same_leaf(was, now):
        out.append(f"{path or '(document)'}: recorded {_short(was)}, now {_short(now)}")


def _comparable(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document without the fields that are notes or directions (see the docstring)."""
    out = {k: v for k, v in doc.items() if k not in _NOTES}
    for section, key in _NOT_COMPARED:
        if isinstance(out.get(section), dict):
            out[section] = {k: v for k, v in out[section].items() if k != key}
    return out


def _count_scores(doc: Mapping[str, Any]) -> int:
    n = 0
    for inst in doc.get("institutions", []):
        n += 1 + len(inst.get("units", []))
    return n


def verify_result(
    doc: Mapping[str, Any],
    *,
    plugins: PluginManager | None = None,
    base: Path | None = None,
    where: str | None = None,
) -> Verification:
    """Re-score the input a result document names and compare the whole document, exactly.

    ``base`` resolves relative paths in the document; ``where`` (the result file) locates
    the errors of a malformed document.
    """
    from ..engine import score

    pm = plugins or default_manager()
    ref = _need_str(doc, "rubric", "ref", where)
    data = _need_str(doc, "input", "path", where)
    options = _options(doc, where)
    data_path = Path(data) if base is None or Path(data).is_absolute() else base / data
    rubric = resolve_rubric(ref, pm, base=base)
    table = read_observations(
        data_path, decimal_comma=options["decimal_comma"], delimiter=options["delimiter"]
    )
    now = score(rubric, table, plugins=pm)
    fresh = json.loads(
        dump_result(result_document(now, rubric_ref=ref, data_path=data_path, options=options))
    )
    notes = [
        f"{key}: recorded {_short(doc.get(key))}, now {_short(fresh.get(key))}"
        for key in _NOTES
        if doc.get(key) != fresh.get(key)
    ]
    diffs: list[str] = []
    _compare("", _comparable(doc), _comparable(fresh), diffs)
    if len(diffs) > _MAX_LISTED:
        diffs[_MAX_LISTED:] = [f"… and {len(diffs) - _MAX_LISTED} more differences"]
    return Verification(not diffs, _count_scores(fresh), tuple(diffs), tuple(notes))


def verify_result_file(path: str | Path, *, plugins: PluginManager | None = None) -> Verification:
    """:func:`verify_result` on a JSON file; relative paths inside resolve from its folder."""
    doc = load_result(path)
    return verify_result(doc, plugins=plugins, base=Path(path).resolve().parent, where=str(path))
