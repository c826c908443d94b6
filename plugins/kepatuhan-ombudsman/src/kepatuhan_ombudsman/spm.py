"""The 2024 SPM focus: which units belong to the minimum-service-standard sectors.

PP 2/2018 names six SPM sectors: pendidikan, kesehatan, pekerjaan umum, perumahan rakyat,
trantibumlinmas and sosial (PP 2/2018). The 2024 focus on SPM units is stated by one
source only (Kab. Mukomuko, 2 Feb 2024) and contradicted by none; this module therefore reports
an *extra* score over the SPM-sector units beside the official overall score, and never
changes the overall score. A unit's sector comes from the ``unit_sector`` column.
"""

from __future__ import annotations

import numpy as np

from kepatuhan import ObservationTable, Problem, UnitSelection

__all__ = ["EXPECTED_KAB_KOTA", "SPM_SECTORS", "spm_selection"]

#: Sector names accepted as SPM sectors (PP 2/2018), lower case, with common synonyms.
SPM_SECTORS = frozenset(
    {
        "pendidikan",
        "kesehatan",
        "pekerjaan umum",
        "pekerjaan_umum",
        "perumahan rakyat",
        "perumahan_rakyat",
        "trantibumlinmas",
        "trantibum",
        "sosial",
    }
)
#: The unit set expected for a regency or city (Ombudsman Jateng slides, Brebes 2023:
#: Dinkes + 2 Puskesmas,
#: Disdik, Dinsos, DPMPTSP, Disdukcapil), as sectors: kesehatan, pendidikan, sosial,
#: perizinan, kependudukan.
EXPECTED_KAB_KOTA = ("kesehatan", "pendidikan", "sosial", "perizinan", "kependudukan")
_KAB_KOTA = {"kabupaten", "kab", "kota", "pemkab", "pemkot", "regency", "city"}


def spm_selection(table: ObservationTable) -> UnitSelection:
    """All units count for the score; the ``spm`` view counts only SPM-sector units."""
    sectors = [(u.sector or "").strip().lower() for u in table.units]
    spm = np.array([1.0 if s in SPM_SECTORS else 0.0 for s in sectors])
    n_units = np.bincount(table.unit_institution, minlength=len(table.institutions))
    without_units: list[str] = []
    lacking_some: list[str] = []
    for i, inst in enumerate(table.institutions):
        if (inst.kind or "").strip().lower() not in _KAB_KOTA:
            continue
        if n_units[i] == 0:
            without_units.append(inst.id)
            continue
        have = {sectors[u] for u in np.flatnonzero(table.unit_institution == i)}
        lacking = [s for s in EXPECTED_KAB_KOTA if s not in have]
        if lacking:
            lacking_some.append(f"{inst.id} (no {', '.join(lacking)})")
    # one summary line per situation, not one per institution
    warnings = []
    if without_units:
        warnings.append(
            Problem(
                f"{len(without_units)} regencies/cities have no units in the data (their "
                "totals only): the 2024 SPM view is not computed for them — "
                + _first(without_units),
                path=table.source,
            )
        )
    if lacking_some:
        warnings.append(
            Problem(
                f"{len(lacking_some)} regencies/cities lack units of an SPM sector (a 2024 "
                "regency/city is expected to have Dinkes + Puskesmas, Disdik, Dinsos, DPMPTSP "
                "and Disdukcapil; set the unit_sector column): " + _first(lacking_some),
                path=table.source,
            )
        )
    return UnitSelection(
        weights=None, views={"spm": spm}, warnings=tuple(warnings), source="pp-2-2018"
    )


def _first(items: list[str], n: int = 5) -> str:
    """The first ``n`` items, and how many more."""
    more = f", … and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more
