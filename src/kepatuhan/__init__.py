"""kepatuhan: compliance scores of Ombudsman RI's Penilaian Kepatuhan, one engine for every year.

The public surface, all importable from ``kepatuhan``:

- :func:`load_rubric`, :func:`get_rubric`, :func:`rubrics` — methodology editions;
- :func:`read_observations` — observation files (CSV, TOML, JSON);
- :func:`score` — the vectorised engine, returning :class:`Scores`;
- :data:`hookimpl` — the marker for plugin hook implementations;
- :class:`KepatuhanError` — the root of every error raised on purpose.
"""

from __future__ import annotations

from typing import Any

from . import _moved
from .bands import Band, BandScheme
from .engine import score
from .errors import (
    DuplicateNameError,
    DuplicateObservationError,
    InputFileError,
    KepatuhanError,
    ObservationError,
    PluginError,
    Problem,
    RubricError,
    UnknownNameError,
)
from .hookspecs import hookimpl
from .io.observations_io import read_observations
from .io.records_io import read_records
from .io.rubric_toml import dump_rubric, load_rubric, rubric_from_toml, rubric_to_toml
from .observations import (
    Institution,
    Observation,
    ObservationTable,
    ServiceProduct,
    Unit,
    UnitSelection,
)
from .plugins import PluginManager, default_manager, installed_rubric
from .records import PublishedRecord, PublishedSource, select_records
from .results import ScoreCard, Scores
from .rounding import publish, round_half_away
from .rubric import (
    Criterion,
    DerivedFrom,
    Label,
    LevelRule,
    Levels,
    NotApplicableFor,
    Rubric,
    RuleRef,
    ScaleRef,
    Source,
)

__all__ = [
    "Band",
    "BandScheme",
    "Criterion",
    "DerivedFrom",
    "DuplicateNameError",
    "DuplicateObservationError",
    "InputFileError",
    "Institution",
    "KepatuhanError",
    "Label",
    "LevelRule",
    "Levels",
    "NotApplicableFor",
    "Observation",
    "ObservationError",
    "ObservationTable",
    "PluginError",
    "PluginManager",
    "Problem",
    "PublishedRecord",
    "PublishedSource",
    "Rubric",
    "RubricError",
    "RuleRef",
    "ScaleRef",
    "ScoreCard",
    "Scores",
    "ServiceProduct",
    "Source",
    "Unit",
    "UnitSelection",
    "UnknownNameError",
    "__version__",
    "dump_rubric",
    "get_rubric",
    "hookimpl",
    "load_rubric",
    "publish",
    "published",
    "published_frame",
    "read_observations",
    "read_records",
    "round_half_away",
    "rubric_from_toml",
    "rubric_to_toml",
    "rubrics",
    "score",
]


_moved.install()  # kepatuhan 0.1's module paths (kepatuhan.gap …) keep working


def get_rubric(rubric_id: str, *, plugins: PluginManager | None = None) -> Rubric:
    """The installed rubric ``rubric_id`` (e.g. ``"ombudsman-2023"``).

    Raises :class:`UnknownNameError` (listing the known ids) if no plugin provides it.
    Inside a ``kepatuhan_register_rubrics`` hook it asks the registry being built
    (:func:`kepatuhan.plugins.installed_rubric`), so a plugin can derive from an edition
    another plugin provides.
    """
    return installed_rubric(rubric_id, plugins=plugins)


def published(
    *,
    year: int | None = None,
    institution: str | None = None,
    edition: str | None = None,
    plugins: PluginManager | None = None,
) -> list[PublishedRecord]:
    """The published figures every installed plugin registered (the Ombudsman editions ship
    theirs), optionally of one year, institution id or edition. See :func:`published_frame`
    for a pandas DataFrame."""
    reg = (plugins or default_manager()).registry
    return select_records(reg.records, year=year, institution=institution, edition=edition)


def published_frame(**kw: Any) -> Any:
    """:func:`published` as a pandas DataFrame (the ``pandas`` extra), one row per record,
    the source flattened into ``source_*`` columns."""
    try:
        import pandas as pd
    except ImportError:
        raise KepatuhanError(
            Problem("published_frame needs pandas: pip install kepatuhan[pandas]")
        ) from None
    return pd.DataFrame([r.to_dict() for r in published(**kw)])


def rubrics(*, plugins: PluginManager | None = None) -> dict[str, Rubric]:
    """Every installed rubric, by id, sorted."""
    reg = (plugins or default_manager()).registry
    return {k: reg.rubrics[k].value for k in sorted(reg.rubrics)}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("kepatuhan")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    raise AttributeError(f"module 'kepatuhan' has no attribute {name!r}")
