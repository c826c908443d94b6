"""The published record: what the Ombudsman printed, one figure per record, with its source.

Plugins register records through the ``kepatuhan_register_records`` hook (the Ombudsman
editions ship theirs as data, ``kepatuhan_ombudsman/records/``); :func:`kepatuhan.published`
lists them and ``kepatuhan published`` prints them. A record keeps the figure *as printed*
(a string, ``"60.80"``; empty where only a band or a rank was printed), so reproduction
compares with what was published, not with a float.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

__all__ = ["PublishedRecord", "PublishedSource", "select_records"]


@attrs.frozen
class PublishedSource:
    """A public document: who published it, its title, its date (as exact as known), URL."""

    id: str
    publisher: str
    title: str
    date: str | None = None
    url: str | None = None
    supports: str | None = None


@attrs.frozen
class PublishedRecord:
    """One published figure: an institution's total, a unit's total, or a dimension's points.

    ``value`` is the figure as printed, with a decimal point (``None`` where only a band,
    zone or rank was printed); ``edition`` is the rubric it is scored under (empty for a
    year no edition covers). ``unit_set`` says, on unit rows, whether the source prints
    ``all`` the institution's units (so its total can be recomputed from them) or a
    ``partial`` set; ``official`` is false for a figure that is not an official result
    (a pre-evaluation); ``known_conflict`` says why a figure does not land in its printed
    band, when the source itself disagrees.
    """

    year: int
    edition: str | None
    institution_id: str
    institution_name: str
    kind: str | None
    source: PublishedSource
    province: str | None = None
    bps_code: str | None = None
    unit: str | None = None
    product: str | None = None
    criterion: str = "total"
    value: str | None = None
    value_as_printed: str | None = None
    band_as_printed: str | None = None
    rank_as_printed: str | None = None
    official: bool = True
    unit_set: str | None = None
    known_conflict: str | None = None
    note: str | None = None
    plugin: str | None = None
    """The plugin that registered the record (filled in by the registry)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and CSV: the source flattened into ``source_*`` keys."""
        d = attrs.asdict(self, recurse=False)
        src = d.pop("source")
        for k, v in attrs.asdict(src).items():
            d[f"source_{k}"] = v
        return d


def select_records(
    records: Iterable[PublishedRecord],
    *,
    year: int | None = None,
    institution: str | None = None,
    edition: str | None = None,
) -> list[PublishedRecord]:
    """The records of one year, institution (id) or edition, in the order registered."""
    return [
        r
        for r in records
        if (year is None or r.year == year)
        and (institution is None or r.institution_id == institution)
        and (edition is None or r.edition == edition)
    ]
