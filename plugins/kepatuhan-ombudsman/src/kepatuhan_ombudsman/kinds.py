"""2016–2019: the scale follows the institution's kind (Ombudsman Sumbar via Harian Haluan, 2017).

Regional governments were scored 0–100; ministries, agencies and their vertical units
(Polres, Kantor Pertanahan …) 0–110. The G3 editions therefore come in two variants,
``ombudsman-YYYY`` (0–100) and ``ombudsman-YYYY:kl`` (0–110), and this check refuses an
institution whose ``institution_kind`` belongs to the other scale. Institutions without a
kind are not checked (the user chose the variant). A rubric derived from a G3 edition is
checked like it (:mod:`kepatuhan_ombudsman.lineage`), by its own maximum: 100 is the
regional scale, 110 the ministries' one, and any other maximum is not checked (one warning).
"""

from __future__ import annotations

from decimal import Decimal

from kepatuhan import ObservationTable, Problem, Rubric

from .lineage import Lineage, edition_of

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
    """One problem per institution whose kind does not fit the rubric's scale (2017, 2018 and
    the rubrics derived from them: the scale of each kind is stated)."""
    lineage = edition_of(rubric)
    if lineage is None or lineage.edition not in SCALE_STATED:
        return []
    kl = _on_kl_scale(rubric)
    return [] if kl is None else _mismatches(rubric, table, lineage, kl)


def scale_warnings(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """2016 and 2019 (and the rubrics derived from them), whose scale for ministries and
    agencies is not known: the figure is scored under the rubric asked for, and one warning
    names the alternative to use. A rubric derived from a G3 edition whose maximum is
    neither 100 nor 110 gets one warning that the kind check does not apply to it."""
    lineage = edition_of(rubric)
    if lineage is None or lineage.edition not in G3_EDITIONS:
        return []
    kl = _on_kl_scale(rubric)
    if kl is None:
        maximum = _maximum(rubric)
        shown = f"{maximum:f}".rstrip("0").rstrip(".") if "." in f"{maximum:f}" else f"{maximum}"
        derived = f" is derived from {lineage.edition} but" if lineage.derived else ""
        return [
            Problem(
                f'rubric "{rubric.id}"{derived} scores out of {shown}, neither the 0–100 '
                "scale of regional governments nor the 0–110 scale of ministries and "
                f"agencies: the institution_kind check of {lineage.year} is not applied",
                path=table.source,
                expected="a maximum of 100 or 110",
                found=shown,
            )
        ]
    if lineage.edition in SCALE_STATED:
        return []
    found = _mismatches(rubric, table, lineage, kl)
    if not found:
        return []
    other = "0–100" if kl else "0–110"
    return [
        Problem(
            f"{len(found)} institution(s) of a kind scored on the {other} scale in 2017–2018 "
            f"({', '.join(p.found or '' for p in found[:5])}): for {lineage.year} that "
            f'scale is not known, so they are scored under "{rubric.id}" as asked — '
            f"{found[0].expected} if the record says otherwise",
            path=table.source,
        )
    ]


def _maximum(rubric: Rubric) -> Decimal:
    """The score a rubric gives at best: its root's points, else 100."""
    points = rubric.root.points
    return Decimal(100) if points is None else Decimal(str(points))


def _on_kl_scale(rubric: Rubric) -> bool | None:
    """True on the 0–110 scale (``:kl``), False on 0–100, None on any other maximum.

    Read from the rubric's own maximum, not its id: a derived rubric keeps the scale of the
    variant it was derived from (``ombudsman-2017:kl``) whatever it is called."""
    maximum = _maximum(rubric)
    if maximum == 110:
        return True
    if maximum == 100:
        return False
    return None


def _other_scale(rubric: Rubric, lineage: Lineage, kl: bool) -> str:
    """What to use for an institution of the other scale: the edition's other variant for
    the edition; for a derived rubric its own other variant when it has one (inherited with
    the edition's alternatives), else the edition's other variant or a rubric derived from it.
    A derived rubric read from a file has no ``--rubric FILE:kl``: its variant is named."""
    if not lineage.derived:
        return f"use --rubric {rubric.base_id if kl else f'{rubric.id}:kl'}"
    if kl and rubric.alternative_id == "kl":
        return f'use "{rubric.base_id}" without its alternative "kl"'
    if not kl and rubric.alternative_id is None and "kl" in {a.id for a in rubric.alternatives}:
        return f'use its alternative "kl" ({rubric.id}:kl)'
    edition = lineage.edition if kl else f"{lineage.edition}:kl"
    return f"use --rubric {edition}, or a rubric derived from it"


def _mismatches(
    rubric: Rubric, table: ObservationTable, lineage: Lineage, kl: bool
) -> list[Problem]:
    wrong = PEMDA_KINDS if kl else KL_KINDS
    right = _other_scale(rubric, lineage, kl)
    of = f" (derived from {lineage.edition})" if lineage.derived else ""
    out = []
    for inst in table.institutions:
        kind = (inst.kind or "").strip().lower()
        if kind in wrong:
            out.append(
                Problem(
                    f'institution "{inst.id}" is a {kind}, scored on the '
                    f"{'0–100' if kl else '0–110'} scale in {lineage.year}; "
                    f'"{rubric.id}"{of} scores out of {110 if kl else 100}: '
                    f"{right}",
                    path=table.source,
                    expected=right,
                    found=f'"{inst.id}" ({kind})',
                )
            )
    return out
