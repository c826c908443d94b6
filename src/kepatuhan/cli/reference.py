"""The index of commands on the docs' front page, generated from the argument parser.

``docs/index.md`` lists every command with its one-line help between two marker lines;
``tests/test_docs.py`` fails when the list and the parser disagree. After adding or
renaming a command, or changing its ``help=``, regenerate the list with one command::

    python -m kepatuhan.cli.reference          # rewrites docs/index.md in place
    python -m kepatuhan.cli.reference --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["BEGIN", "END", "command_index", "commands", "with_command_index"]

#: The marker lines around the generated list in a Markdown page.
BEGIN = "<!-- commands: generated from the parser by `python -m kepatuhan.cli.reference` -->"
END = "<!-- end of commands -->"


def commands(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    """Every subcommand of ``parser`` with its one-line help, in the parser's order."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return [(a.dest, a.help or "") for a in sub._choices_actions]


def command_index(parser: argparse.ArgumentParser) -> str:
    """The Markdown table of commands (without the marker lines)."""
    rows = ["| command | what it does |", "|---|---|"]
    for name, text in commands(parser):
        cell = text.replace("|", "\\|")  # a bar would end the cell
        rows.append(f"| `kepatuhan {name}` | {cell} |")
    return "\n".join(rows)


def with_command_index(page: str, parser: argparse.ArgumentParser) -> str:
    """``page`` with the text between :data:`BEGIN` and :data:`END` replaced by the index."""
    head, sep, rest = page.partition(BEGIN + "\n")
    if not sep or END not in rest:
        raise ValueError(f"the page has no {BEGIN!r} … {END!r} block")
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{command_index(parser)}\n\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with ``--check``, only compare) the command index of a docs page."""
    from ..io.files import read_text, write_text_atomic
    from . import build_parser

    p = argparse.ArgumentParser(prog="python -m kepatuhan.cli.reference")
    p.add_argument("page", nargs="?", default="docs/index.md", help="default: docs/index.md")
    p.add_argument("--check", action="store_true", help="exit 1 if the page is out of date")
    args = p.parse_args(argv)
    page = Path(args.page)
    text = read_text(page)
    new = with_command_index(text, build_parser())
    if new == text:
        return 0
    if args.check:
        print(f"{page}: the command index is out of date; run {p.prog}", file=sys.stderr)
        return 1
    write_text_atomic(page, new)
    print(f"updated {page}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
