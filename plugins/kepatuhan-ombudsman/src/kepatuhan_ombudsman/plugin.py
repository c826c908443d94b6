"""Hook implementations of the Ombudsman editions plugin (entry point ``ombudsman``)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from kepatuhan import (
    ObservationTable,
    Problem,
    PublishedRecord,
    Rubric,
    UnitSelection,
    hookimpl,
    load_rubric,
    read_records,
)

from . import EDITIONS
from .kinds import scale_problems, scale_warnings
from .lineage import edition_of
from .spm import spm_selection

__all__ = [
    "kepatuhan_register_records",
    "kepatuhan_register_rubrics",
    "kepatuhan_select_units",
    "kepatuhan_validate",
]


@hookimpl
def kepatuhan_register_rubrics(register: Callable[[Rubric], None]) -> None:
    """Register every edition shipped as package data."""
    base = files("kepatuhan_ombudsman") / "rubrics"
    for rubric_id in EDITIONS:
        register(load_rubric(base / f"{rubric_id}.toml"))


@hookimpl
def kepatuhan_register_records(register: Callable[[PublishedRecord], None]) -> None:
    """Register the published record shipped as package data (records/published.csv and the
    public sources it cites, records/sources.toml)."""
    base = files("kepatuhan_ombudsman") / "records"
    for record in read_records(base / "published.csv", base / "sources.toml"):
        register(record)


# trylast: for a variant of an edition the edition's answer is a default, so a plugin that
# answers for its own variant (first non-None result wins) is asked before this one.
@hookimpl(trylast=True)
def kepatuhan_select_units(rubric: Rubric, table: ObservationTable) -> UnitSelection | None:
    """2024: report the SPM-sector score beside the overall one; 2016 and 2019: a warning for
    an institution of the other scale; other years: no opinion. A rubric derived from an
    edition (directly or through a chain, :func:`~kepatuhan_ombudsman.lineage.edition_of`)
    is answered for as the edition is; any other rubric gets None."""
    lineage = edition_of(rubric)
    if lineage is None:
        return None
    if lineage.edition == "ombudsman-2024":
        return spm_selection(table)
    warnings = scale_warnings(rubric, table)
    if warnings:
        return UnitSelection(warnings=tuple(warnings))
    return None


@hookimpl
def kepatuhan_validate(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """2017–2018 and the rubrics derived from them: refuse an institution whose kind belongs
    to the other scale (0–100 / 0–110)."""
    return scale_problems(rubric, table)
