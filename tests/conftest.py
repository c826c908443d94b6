"""Shared fixtures and the hypothesis profiles (``ci`` fast, ``nightly`` thorough).

Pick one with ``HYPOTHESIS_PROFILE=nightly pytest``; the default is ``ci``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from kepatuhan.plugins import PluginManager
from kepatuhan.testing import fresh_manager

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def pm() -> PluginManager:
    """A plugin manager with only the built-in plugin."""
    return fresh_manager()


@pytest.fixture
def demo_rubric_path() -> Path:
    """The small four-dimension demonstration rubric used across the tests."""
    return DATA / "demo-rubric.toml"
