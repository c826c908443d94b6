"""pytest fixtures for plugin authors, loaded automatically when kepatuhan is installed.

- ``kepatuhan_manager``: a fresh :class:`~kepatuhan.PluginManager` with the built-ins and
  every installed plugin (your own included once ``pip install -e .`` has run);
- ``kepatuhan_builtin_manager``: a fresh manager with the built-ins only;
- ``register_plugin``: register a plugin object (module or class instance) on
  ``kepatuhan_builtin_manager`` for one test, and get that manager back.

With them and :func:`kepatuhan.testing.check_rubric_laws` a plugin's tests need three lines.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ..plugins import PluginManager

__all__ = ["kepatuhan_builtin_manager", "kepatuhan_manager", "register_plugin"]


@pytest.fixture
def kepatuhan_manager() -> PluginManager:
    """A fresh plugin manager: built-ins plus the installed plugins."""
    return PluginManager()


@pytest.fixture
def kepatuhan_builtin_manager() -> PluginManager:
    """A fresh plugin manager with the built-in plugin only."""
    return PluginManager(entrypoints=False, env={})


@pytest.fixture
def register_plugin(
    kepatuhan_builtin_manager: PluginManager,
) -> Callable[[object], PluginManager]:
    """``register_plugin(obj)`` registers ``obj`` for this test and returns the manager."""

    def register(plugin: object, name: str | None = None) -> PluginManager:
        kepatuhan_builtin_manager.register(plugin, name)
        kepatuhan_builtin_manager.check_pending()
        return kepatuhan_builtin_manager

    return register
