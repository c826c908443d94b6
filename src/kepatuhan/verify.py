"""Re-checking a result file: does it still reproduce, bit for bit?

A result written by ``kepatuhan score --format json`` records the rubric it used (``ref``,
id, version, digest), the input file and its digest, and every score unrounded. Verifying
it reads the same input again, scores it with the same rubric, and compares: digests first
(to say *what* changed), then every institution's and unit's score, exactly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .errors import InputFileError, Problem
from .io.files import read_text
from .io.observations_io import read_observations
from .io.rubric_toml import load_rubric
from .plugins import PluginManager, default_manager

__all__ = ["Verification", "verify_result", "verify_result_file"]


@attrs.frozen
class Verification:
    """The outcome: ``reproduces`` and, if not, every difference found."""

    reproduces: bool
    compared: int
    differences: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _scores(doc: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for inst in doc.get("institutions", []):
        out[inst["id"]] = inst.get("score")
        for unit in inst.get("units", []):
            out[f"{inst['id']} / {unit['id']}"] = unit.get("score")
    return out


def verify_result(
    doc: Mapping[str, Any], *, plugins: PluginManager | None = None, base: Path | None = None
) -> Verification:
    """Re-score the input a result document names and compare everything, exactly."""
    from .engine import score

    pm = plugins or default_manager()
    try:
        ref = doc["rubric"]["ref"]
        data = doc["input"]["path"]
    except (KeyError, TypeError):
        raise InputFileError(
            Problem(
                "not a kepatuhan result: expected rubric.ref and input.path "
                "(written by kepatuhan score --format json)"
            )
        ) from None
    data_path = Path(data) if base is None or Path(data).is_absolute() else base / data
    if str(ref).endswith(".toml"):
        ref_path = Path(ref) if base is None or Path(ref).is_absolute() else base / ref
        rubric = load_rubric(ref_path)
    else:
        rubric = pm.registry.rubric(ref)
    table = read_observations(data_path)
    now = score(rubric, table, plugins=pm)
    fresh = now.to_dict()
    diffs: list[str] = []
    notes: list[str] = []
    for what, name in (("rubric", ref), ("input", data)):
        was, now_ = doc[what].get("digest"), fresh[what]["digest"]
        if was != now_:
            diffs.append(f"{what} {name} changed: digest {was} -> {now_}")
    if fresh["kepatuhan_version"] != doc.get("kepatuhan_version"):
        notes.append(f"kepatuhan {doc.get('kepatuhan_version')} -> {fresh['kepatuhan_version']}")
    if fresh["plugins"] != doc.get("plugins"):
        notes.append(f"plugins {doc.get('plugins')} -> {fresh['plugins']}")
    old, new = _scores(doc), _scores(fresh)
    for key in sorted(old.keys() | new.keys()):
        if old.get(key) != new.get(key):
            diffs.append(f"{key}: recorded {old.get(key)!r}, now {new.get(key)!r}")
    return Verification(not diffs, len(old), tuple(diffs), tuple(notes))


def verify_result_file(path: str | Path, *, plugins: PluginManager | None = None) -> Verification:
    """:func:`verify_result` on a JSON file; relative paths inside resolve from its folder."""
    text = read_text(path)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFileError(
            Problem(f"invalid JSON: {exc.msg}", path=str(path), line=exc.lineno)
        ) from None
    if not isinstance(doc, dict):
        raise InputFileError(Problem("not a kepatuhan result (not a JSON object)", path=str(path)))
    return verify_result(doc, plugins=plugins, base=Path(path).resolve().parent)
