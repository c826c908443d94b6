"""Which Ombudsman edition a rubric is, or is derived from (directly or through a chain).

The plugin's other hooks (the 2024 SPM view, the 2016–2019 scale checks) answer for an
edition *and* for every rubric derived from it: a variant that changes a few points of
``ombudsman-2017`` still scores ministries on the 0–110 scale and regional governments on
the 0–100 one, so it must be refused the ministry case the edition refuses. A derived
rubric records its parent (``rubric.derived_from``: id and digest) and the parent's own
parents (``derived_from.parent`` …, :attr:`kepatuhan.DerivedFrom.lineage`), so the edition
is found even through files that no plugin installs; a line recorded only in part (a file
written by an older kepatuhan) is followed through the installed rubrics
(:func:`kepatuhan.get_rubric`, the public API).

A parent is known by its **id**, as every plugin hook knows a rubric: a parent given as a
file (``extends = "my-2017.toml"``) is recorded by the id written in that file, so a file
that keeps an edition's id counts as that edition (whatever it changed: its digest is
recorded beside, for provenance, not checked here).
"""

from __future__ import annotations

from dataclasses import dataclass

import kepatuhan
from kepatuhan import KepatuhanError, Rubric

from . import EDITIONS

__all__ = ["Lineage", "edition_of"]


@dataclass(frozen=True)
class Lineage:
    """The edition a rubric belongs to and the ids that lead there.

    ``chain`` runs from the rubric itself to the edition: ``("ombudsman-2017",)`` for the
    edition, ``("mine-b", "mine-a", "ombudsman-2017")`` for a derivation of a derivation
    (an alternative keeps its suffix: ``"ombudsman-2017:kl"``).
    """

    edition: str
    chain: tuple[str, ...]

    @property
    def derived(self) -> bool:
        """Whether the rubric is derived from the edition rather than the edition itself."""
        return len(self.chain) > 1

    @property
    def year(self) -> str:
        """The edition's year, as written in its id (``"2017"``)."""
        return self.edition[-4:]


def _edition(rubric_id: str) -> str | None:
    """The edition ``rubric_id`` names (``ombudsman-2017`` for ``ombudsman-2017:kl``)."""
    base = rubric_id.partition(":")[0]
    return base if base in EDITIONS else None


def edition_of(rubric: Rubric) -> Lineage | None:
    """The Ombudsman edition ``rubric`` is, or is derived from; None for any other rubric.

    Reads the line of parents the rubric records (``rubric.derived_from.lineage``); when
    that line ends at a rubric that is not an edition (a file written before the whole line
    was recorded), the installed rubric of that id is asked for its own parents. A line
    that leads to no edition, or a loop of ids, gives None. Never raises: a parent that
    cannot be looked up is a parent the plugin does not know.
    """
    chain = [rubric.id]
    current: Rubric | None = rubric
    while True:
        edition = _edition(chain[-1])
        if edition is not None:
            return Lineage(edition, tuple(chain))
        if current is None or current.derived_from is None:
            return None
        for parent in current.derived_from.lineage:
            if parent.id in chain:  # ids that derive from each other: not an edition's line
                return None
            chain.append(parent.id)
            edition = _edition(parent.id)
            if edition is not None:
                return Lineage(edition, tuple(chain))
        try:
            current = kepatuhan.get_rubric(chain[-1])
        except KepatuhanError:  # not installed (a file's own id) or a broken plugin's
            return None
