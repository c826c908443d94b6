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


@hookimpl
def kepatuhan_select_units(rubric: Rubric, table: ObservationTable) -> UnitSelection | None:
    """2024: report the SPM-sector score beside the overall one; other years: no opinion."""
    if rubric.base_id == "ombudsman-2024":
        return spm_selection(table)
    warnings = scale_warnings(rubric, table)
    if warnings:
        return UnitSelection(warnings=tuple(warnings))
    return None


@hookimpl
def kepatuhan_validate(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """2016–2019: refuse an institution whose kind belongs to the other scale (0–100 / 0–110)."""
    return scale_problems(rubric, table)
