"""2016–2019: the scale follows the institution's kind (Ombudsman Sumbar via Harian Haluan, 2017).

Regional governments were scored 0–100; ministries, agencies and their vertical units
(Polres, Kantor Pertanahan …) 0–110. The G3 editions therefore come in two variants,
``ombudsman-YYYY`` (0–100) and ``ombudsman-YYYY:kl`` (0–110), and this check refuses an
institution whose ``institution_kind`` belongs to the other scale. Institutions without a
kind are not checked (the user chose the variant).
"""

from __future__ import annotations

from kepatuhan import ObservationTable, Problem, Rubric

__all__ = ["G3_EDITIONS", "KL_KINDS", "PEMDA_KINDS", "scale_problems"]

G3_EDITIONS = frozenset({"ombudsman-2016", "ombudsman-2017", "ombudsman-2018", "ombudsman-2019"})
#: Kinds scored on the 0–110 scale.
KL_KINDS = frozenset(
    {"kementerian", "lembaga", "polres", "polresta", "kantor pertanahan", "kantah", "vertikal"}
)
#: Kinds scored on the 0–100 scale.
PEMDA_KINDS = frozenset({"provinsi", "pemprov", "kabupaten", "pemkab", "kota", "pemkot"})


def scale_problems(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """One problem per institution whose kind does not fit the variant's scale."""
    base, alt = rubric.base_id, rubric.alternative_id
    if base not in G3_EDITIONS:
        return []
    kl = alt == "kl"
    wrong, right = (PEMDA_KINDS, f"{base}") if kl else (KL_KINDS, f"{base}:kl")
    out = []
    for inst in table.institutions:
        kind = (inst.kind or "").strip().lower()
        if kind in wrong:
            out.append(
                Problem(
                    f'institution "{inst.id}" is a {kind}, scored on the '
                    f"{'0–100' if kl else '0–110'} scale in {base[-4:]}: use --rubric {right}",
                    path=table.source,
                    expected=f"a rubric for a {kind}",
                    found=rubric.id,
                )
            )
    return out
