"""Every hook a kepatuhan plugin can implement, in one place.

Plugins are found through the entry-point group ``kepatuhan`` and implement hooks with
the :data:`hookimpl` marker::

    from kepatuhan import hookimpl, load_rubric

    @hookimpl
    def kepatuhan_register_rubrics(register):
        register(load_rubric(files("my_plugin") / "my-rubric-2026.toml"))

Registration hooks receive a ``register`` callback (as in ``llm``): call it once per thing
provided. The registry behind it validates, records which plugin provided what, and
refuses a duplicate name with an error naming both plugins. Each docstring below says
when the hook is called, what it receives, what it returns, and whether the first
non-``None`` result wins — a rule declared here once (``firstresult=True``) and read from
the spec by :meth:`kepatuhan.plugins.PluginManager.call_each`, never by its callers.
Implementations marked ``wrapper=True`` or ``hookwrapper=True`` are refused at registration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from .aggregators import Aggregator
    from .errors import Problem
    from .observations import ObservationTable, UnitSelection
    from .records import PublishedRecord
    from .rubric import Rubric
    from .scales import Scale

__all__ = ["PROJECT", "hookimpl", "hookspec"]

#: The pluggy project name and the entry-point group.
PROJECT = "kepatuhan"
#: Marks a hook specification (used only in this module).
hookspec = pluggy.HookspecMarker(PROJECT)
#: Marks a plugin's hook implementation: ``@kepatuhan.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def kepatuhan_register_scales(register: Callable[[Scale], None]) -> None:
    """Provide value scales (yes/no, points out of N, …) that rubrics name.

    Called once when a plugin manager first builds its registry, before aggregators and
    rubrics. Call ``register(scale)`` for each :class:`~kepatuhan.scales.Scale` instance.
    Returns nothing; every implementation is called (no first-result rule).
    """


@hookspec
def kepatuhan_register_aggregators(register: Callable[[Aggregator], None]) -> None:
    """Provide combination rules (weighted mean, sum of points, …) that rubrics name.

    Called once when the registry is built, after scales and before rubrics. Call
    ``register(aggregator)`` for each :class:`~kepatuhan.aggregators.Aggregator`.
    Returns nothing; every implementation is called.
    """


@hookspec
def kepatuhan_register_rubrics(
    register: Callable[[Rubric], None], installed: Callable[[str], Rubric]
) -> None:
    """Provide rubric editions (usually TOML files shipped as package data).

    Called once when the registry is built, after scales and aggregators, so a
    registered rubric is checked against every scale and aggregator installed. Call
    ``register(rubric)`` for each :class:`~kepatuhan.Rubric`. ``installed(rubric_id)``
    (optional to accept) returns another installed rubric, to derive from it
    (``installed("ombudsman-2023").derive(...)``): the hooks of plugins that have not run
    yet are called first when needed, so the order plugins load in does not matter.
    ``kepatuhan.get_rubric`` and ``load_rubric`` of a file with ``extends = "ID"`` do the
    same inside this hook. Returns nothing; every implementation is called.
    """


@hookspec
def kepatuhan_register_records(register: Callable[[PublishedRecord], None]) -> None:
    """Provide published figures: what the Ombudsman printed, each with its public source.

    Called once when the registry is built, after rubrics. Call ``register(record)`` for
    each :class:`~kepatuhan.records.PublishedRecord` (``kepatuhan.io.records_io.read_records``
    reads a CSV of them and a TOML list of their sources). Records are listed by
    :func:`kepatuhan.published` and ``kepatuhan published``, and recomputed by
    ``kepatuhan reproduce --published``. Returns nothing; every implementation is called.
    """


@hookspec(firstresult=True)
def kepatuhan_select_units(rubric: Rubric, table: ObservationTable) -> UnitSelection | None:
    """Say which units count for the institution scores, how much, and which extra views.

    Called by :func:`kepatuhan.score` once per scoring run, before any arithmetic, with
    the rubric and the whole table (all institutions at once, so a plugin can decide with
    numpy rather than a loop). Return a :class:`~kepatuhan.observations.UnitSelection`
    (unit weights, named views such as the 2024 SPM-focus score, warnings) or ``None``
    to leave every unit weighing 1. The **first non-None result wins**, so a plugin
    should answer only for the rubrics it owns (check ``rubric.id``, and for the variants
    derived from them ``rubric.derived_from.lineage``, every parent back to the first).
    """


@hookspec(firstresult=True)
def kepatuhan_product_weights(rubric: Rubric, table: ObservationTable) -> Sequence[float] | None:
    """Give each service product its weight in its unit's score.

    Called by :func:`kepatuhan.score` once per scoring run, before any arithmetic, and only
    for a rubric whose ``[levels.unit]`` says ``weight_by = "product_weight"``, with the
    rubric and the whole table (``table.products[p].weight`` holds the weights the data
    gives, or None). Return one finite weight > 0 per product of the table, in the order of
    ``table.products`` (an array or a sequence), or ``None`` to use the data's ``weight``
    column (where every product then needs a weight). The **first non-None result wins**
    and replaces the data's weights; answer only for the rubrics you own (``rubric.id``).
    """


@hookspec
def kepatuhan_validate(rubric: Rubric, table: ObservationTable) -> list[Problem] | None:
    """Extra checks of a table against a rubric, beyond what the engine checks.

    Called by :func:`kepatuhan.score` after the engine's own checks and before scoring.
    Return a list of :class:`~kepatuhan.Problem` (empty or ``None`` when all is well);
    never raise. Every implementation is called and all problems are reported together;
    any problem stops scoring with an :class:`~kepatuhan.ObservationError`.
    """
