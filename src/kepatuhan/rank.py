"""Ranks within peer groups, on unrounded scores, with an explicit tie rule.

The Ombudsman ranks institutions within their kind (kementerian, lembaga, provinsi, kota,
kabupaten). Ranking uses the unrounded scores — two regencies that both publish 77.69 are
tied only if their scores are equal to the last bit — and the tie rule is a parameter:
``min`` (competition ranking, 1, 2, 2, 4: the default), ``dense`` (1, 2, 2, 3) or
``ordinal`` (ties broken by id, 1, 2, 3, 4).
"""

from __future__ import annotations

from collections import defaultdict

import attrs

from .errors import KepatuhanError, Problem
from .results import Scores

__all__ = ["TIES", "RankRow", "rank"]

TIES = ("min", "dense", "ordinal")


@attrs.frozen
class RankRow:
    """One ranked entity: its group, rank, group size, and unrounded score."""

    id: str
    institution: str
    group: str
    rank: int
    of: int
    score: float
    published: str


def rank(
    scores: Scores, *, by: str | None = "kind", level: str = "institution", ties: str = "min"
) -> list[RankRow]:
    """Rank the scored entities of ``level`` within groups.

    ``by`` is ``"kind"`` (institutions: their ``institution_kind``), ``"sector"`` (units:
    their ``unit_sector``), ``"institution"`` (units within their institution) or ``None``
    (one group). Entities without a score (not applicable) are left out; entities without
    a group value form the group ``""``. Rows come out by group, then rank.
    """
    if ties not in TIES:
        raise KepatuhanError(Problem(f"expected ties in {', '.join(TIES)}, found {ties!r}"))
    if level == "institution":
        cards = [(c, c.id) for c in scores.cards()]
    elif level == "unit":
        cards = [(u, c.id) for c in scores.cards() for u in c.children]
    else:
        raise KepatuhanError(Problem(f"expected level institution or unit, found {level!r}"))
    groups: dict[str, list[tuple[float, str, str, str]]] = defaultdict(list)
    for c, inst in cards:
        if c.score is None or c.published is None:
            continue
        if by is None:
            g = ""
        elif by == "kind":
            g = c.kind or ""
        elif by == "sector":
            g = c.sector or ""
        elif by == "institution":
            g = inst
        else:
            raise KepatuhanError(
                Problem(f"expected by = kind, sector, institution or none, found {by!r}")
            )
        groups[g].append((c.score, c.id, inst, c.published))
    out: list[RankRow] = []
    for g in sorted(groups):
        members = sorted(groups[g], key=lambda m: (-m[0], m[2], m[1]))
        prev: float | None = None
        current = dense = 0
        for position, (value, ident, inst, pub) in enumerate(members, start=1):
            if value != prev:
                dense += 1
                current = position
            prev = value
            r = {"min": current, "dense": dense, "ordinal": position}[ties]
            out.append(RankRow(ident, inst, g, r, len(members), value, pub))
    return out
