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
    warnings = []
    for i, inst in enumerate(table.institutions):
        if (inst.kind or "").strip().lower() not in _KAB_KOTA:
            continue
        have = {sectors[u] for u in np.flatnonzero(table.unit_institution == i)}
        lacking = [s for s in EXPECTED_KAB_KOTA if s not in have]
        if lacking:
            warnings.append(
                Problem(
                    f'institution "{inst.id}" ({inst.kind}): no unit with sector '
                    + ", ".join(lacking)
                    + " — a 2024 regency/city is expected to have Dinkes + Puskesmas, Disdik, "
                    "Dinsos, DPMPTSP and Disdukcapil (set the unit_sector column)",
                    path=table.source,
                )
            )
    return UnitSelection(
        weights=None, views={"spm": spm}, warnings=tuple(warnings), source="pp-2-2018"
    )
