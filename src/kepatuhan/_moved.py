"""Old module paths of kepatuhan 0.1 that keep working: ``kepatuhan.gap`` is
``kepatuhan.analysis.gap`` and so on (the modules moved into folders by part in 0.2).

A small import hook: importing an old path imports the module at its new path and
registers the same module object under the old name, so ``kepatuhan.gap.gap is
kepatuhan.analysis.gap.gap``. Nothing is imported until an old path is asked for. New code
and type checkers should use the new paths (``docs/architecture.md``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "install"]

#: Old module path → new module path.
MOVED = {
    "kepatuhan.gap": "kepatuhan.analysis.gap",
    "kepatuhan.panel": "kepatuhan.analysis.panel",
    "kepatuhan.rank": "kepatuhan.analysis.rank",
    "kepatuhan.reproduce": "kepatuhan.analysis.reproduce",
    "kepatuhan.sensitivity": "kepatuhan.analysis.sensitivity",
    "kepatuhan.verify": "kepatuhan.analysis.verify",
    "kepatuhan.plots": "kepatuhan.present.plots",
    "kepatuhan.report": "kepatuhan.present.report",
    "kepatuhan.lint": "kepatuhan.authoring.lint",
    "kepatuhan.pytest_plugin": "kepatuhan.authoring.pytest_plugin",
    "kepatuhan.scaffold": "kepatuhan.authoring.scaffold",
    "kepatuhan.synthetic": "kepatuhan.authoring.synthetic",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old path and loads it as the module already at its new path."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module at the new path is already executed."""


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.append(_Alias())
