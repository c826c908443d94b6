"""Hook implementations: register the rubric shipped with this package."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from kepatuhan import Rubric, hookimpl, load_rubric


@hookimpl
def kepatuhan_register_rubrics(register: Callable[[Rubric], None]) -> None:
    """Register rubrics/example.toml."""
    register(load_rubric(files("kepatuhan_example") / "rubrics" / "example.toml"))
