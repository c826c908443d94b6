"""Sphinx configuration: MyST Markdown pages, furo theme, API from docstrings.

Build with ``nox -s docs`` (warnings are errors). The CLI reference is generated from the
argument parser at build time, so it cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

project = "kepatuhan"
author = "kepatuhan developers"
extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "examples", "editions.md.bak"]
html_theme = "furo"
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"


def _cli_reference() -> None:
    """Write _generated/cli-reference.md from kepatuhan.cli.build_parser()."""
    from kepatuhan.cli import build_parser

    parser = build_parser()
    out = ["# CLI reference (generated)", "", "Generated from the argument parser.", ""]
    out += ["```text", parser.format_help().rstrip(), "```", ""]
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, sp in sub.choices.items():  # type: ignore[union-attr]
        out += [f"## kepatuhan {name}", "", "```text", sp.format_help().rstrip(), "```", ""]
    gen = HERE / "_generated"
    gen.mkdir(exist_ok=True)
    (gen / "cli-reference.md").write_text("\n".join(out), encoding="utf-8")


_cli_reference()
