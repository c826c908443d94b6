"""CITATION.cff: the keys the Citation File Format 1.2.0 requires, in step with pyproject."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def _top_level(text: str) -> dict[str, str]:
    """The top-level ``key: value`` pairs of a small YAML file (no YAML library needed):
    a folded ``>-`` value is its indented lines joined; a list's value is empty."""
    out: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0] not in " -":
            key, _, value = line.partition(":")
            out[key] = value.strip().strip('"')
        elif key is not None and out[key] in (">-", "") and not line.lstrip().startswith("-"):
            out[key] = (out[key].removeprefix(">-") + " " + line.strip()).strip()
    return out


def test_citation_has_the_required_keys_and_the_package_version() -> None:
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    cff = _top_level(text)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    # required by the CFF 1.2.0 schema: cff-version, message, title, authors
    assert cff["cff-version"] == "1.2.0"
    assert cff["message"].startswith("If you use kepatuhan in research")
    assert cff["title"].startswith("kepatuhan")
    assert cff["version"] == project["version"]
    assert cff["license"] == project["license"] == "MIT"
    authors = [ln.split("name:", 1)[1].strip() for ln in text.splitlines() if "- name:" in ln]
    assert authors == [a["name"] for a in project["authors"]] == ["kepatuhan developers"]
    # nothing invented: no DOI, no URL, no release date the project has not got
    assert not {"doi", "url", "repository-code", "date-released", "identifiers"} & set(cff)
