"""The Ombudsman RI Penilaian Kepatuhan editions as kepatuhan rubrics (plugin package)."""

from __future__ import annotations

__all__ = ["EDITIONS"]

#: The rubric ids this plugin registers.
EDITIONS = tuple(
    f"ombudsman-{year}" for year in (2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024, 2025)
)
