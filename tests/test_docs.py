"""The docs stay in sync with the code: every hook, CLI command and rubric key is documented."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from kepatuhan import hookspecs
from kepatuhan.bands import Band, BandScheme
from kepatuhan.cli import build_parser
from kepatuhan.rubric import Criterion, Flag, LevelRule, Rubric

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_hook_has_an_entry_in_the_hook_reference() -> None:
    text = (DOCS / "hooks.md").read_text()
    hooks = [n for n in dir(hookspecs) if n.startswith("kepatuhan_")]
    assert hooks
    for name in hooks:
        assert f"## `{name}(" in text, name


def test_every_cli_command_is_in_the_cli_reference() -> None:
    text = (DOCS / "cli.md").read_text()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        assert f"`kepatuhan {name}" in text, name


def test_every_rubric_key_is_in_the_format_reference() -> None:
    text = (DOCS / "rubric-format.md").read_text()
    renamed = {
        "criteria": "criterion",
        "sources": "source",
        "alternatives": "alternative",
        "flags": "flag",
        "bands": "bands",
    }
    for cls in (Rubric, Criterion, LevelRule, Band, BandScheme, Flag):
        for f in attrs.fields(cls):
            key = renamed.get(f.name, f.name)
            if cls is BandScheme and f.name == "bands":
                continue
            assert f"`{key}`" in text, f"{cls.__name__}.{f.name}"


def _hook_sections(text: str) -> dict[str, str]:
    """``{hook name: its section of hooks.md}``, one section per ``## `kepatuhan_…(`` heading."""
    out: dict[str, str] = {}
    for part in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        m = re.match(r"`(kepatuhan_\w+)\(", part)
        if m:
            out[m.group(1)] = part
    return out


WORKED = re.compile(r"^```python\n(# Worked example:.*?)^```", re.MULTILINE | re.DOTALL)
HOOK_SECTIONS = _hook_sections((DOCS / "hooks.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("hook", sorted(HOOK_SECTIONS))
def test_every_hook_has_a_worked_example_that_runs(hook: str) -> None:
    """Each example is a complete program that implements its hook and checks what it does."""
    examples = WORKED.findall(HOOK_SECTIONS[hook])
    assert examples, f"hooks.md: {hook} has no worked example"
    for code in examples:
        assert f"def {hook}(" in code, f"hooks.md: the {hook} example does not implement it"
        exec(compile(code, f"docs/hooks.md ({hook})", "exec"), {"__name__": "hooks_md"})


def test_the_worked_examples_cover_every_hookspec() -> None:
    assert set(HOOK_SECTIONS) == {n for n in dir(hookspecs) if n.startswith("kepatuhan_")}


def test_the_docs_index_lists_every_command_with_its_one_line_help() -> None:
    from kepatuhan.cli.reference import commands, with_command_index

    page = (DOCS / "index.md").read_text(encoding="utf-8")
    parser = build_parser()
    assert page == with_command_index(page, parser), (
        "docs/index.md: the command index is out of date; run python -m kepatuhan.cli.reference"
    )
    for name, text in commands(parser):
        assert text, f"kepatuhan {name} has no help= for the index"
        assert f"| `kepatuhan {name}` | {text} |" in page


def test_a_new_command_makes_the_index_stale_until_it_is_regenerated(tmp_path: Path) -> None:
    from kepatuhan.cli import reference

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    sub.add_parser("forecast", help="a new command, added by someone")  # type: ignore[attr-defined]
    page = tmp_path / "index.md"
    page.write_text((DOCS / "index.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert reference.with_command_index(page.read_text(), parser) != page.read_text()
    assert "| `kepatuhan forecast` | a new command, added by someone |" in (
        reference.with_command_index(page.read_text(), parser)
    )
    # the one command that regenerates the page, and its --check
    stale = page.read_text().replace("| `kepatuhan score` |", "| `kepatuhan scores` |")
    page.write_text(stale, encoding="utf-8")
    assert reference.main([str(page), "--check"]) == 1
    assert reference.main([str(page)]) == 0
    assert reference.main([str(page), "--check"]) == 0
    assert page.read_text() == (DOCS / "index.md").read_text(encoding="utf-8")
