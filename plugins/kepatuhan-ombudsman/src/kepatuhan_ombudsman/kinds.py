"""2016–2019: the scale follows the institution's kind (Ombudsman Sumbar via Harian Haluan, 2017).

Regional governments were scored 0–100; ministries, agencies and their vertical units
(Polres, Kantor Pertanahan …) 0–110. The G3 editions therefore come in two variants,
``ombudsman-YYYY`` (0–100) and ``ombudsman-YYYY:kl`` (0–110), and this check refuses an
institution whose ``institution_kind`` belongs to the other scale. Institutions without a
kind are not checked (the user chose the variant).
"""

from __future__ import annotations

from kepatuhan import ObservationTable, Problem, Rubric

__all__ = [
    "G3_EDITIONS",
    "KL_KINDS",
    "PEMDA_KINDS",
    "SCALE_STATED",
    "scale_problems",
    "scale_warnings",
]

G3_EDITIONS = frozenset({"ombudsman-2016", "ombudsman-2017", "ombudsman-2018", "ombudsman-2019"})
#: Years whose 0–110 scale for ministries, agencies and vertical units is stated (Harian
#: Haluan 2017–2018); for 2016 and 2019 it is not known, so a figure is scored, not refused.
SCALE_STATED = frozenset({"ombudsman-2017", "ombudsman-2018"})
#: Kinds scored on the 0–110 scale.
KL_KINDS = frozenset(
    {"kementerian", "lembaga", "polres", "polresta", "kantor pertanahan", "kantah", "vertikal"}
)
#: Kinds scored on the 0–100 scale.
PEMDA_KINDS = frozenset({"provinsi", "pemprov", "kabupaten", "pemkab", "kota", "pemkot"})


def scale_problems(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """One problem per institution whose kind does not fit the variant's scale (2017, 2018:
    the scale of each kind is stated)."""
    if rubric.base_id not in SCALE_STATED:
        return []
    return _mismatches(rubric, table)


def scale_warnings(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """2016 and 2019, whose scale for ministries and agencies is not known: the figure is
    scored under the rubric asked for, and one warning names the alternative to use."""
    if rubric.base_id not in G3_EDITIONS - SCALE_STATED:
        return []
    found = _mismatches(rubric, table)
    if not found:
        return []
    other = "0–110" if rubric.alternative_id != "kl" else "0–100"
    return [
        Problem(
            f"{len(found)} institution(s) of a kind scored on the {other} scale in 2017–2018 "
            f"({', '.join(p.found or '' for p in found[:5])}): for {rubric.base_id[-4:]} that "
            f'scale is not known, so they are scored under "{rubric.id}" as asked — '
            f"{found[0].expected} if the record says otherwise",
            path=table.source,
        )
    ]


def _mismatches(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    base, alt = rubric.base_id, rubric.alternative_id
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
                    expected=f"use --rubric {right}",
                    found=f'"{inst.id}" ({kind})',
                )
            )
    return out
