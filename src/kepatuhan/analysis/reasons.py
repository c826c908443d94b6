"""Why an analysis could not give an answer, as data as well as an English sentence.

A :class:`Reason` carries the English sentence the library and the machine outputs keep
(``GapPlan.reason``, ``Correlation.reason``) and, beside it, the key of the same sentence
in the catalogue of :mod:`kepatuhan.present.lang` with its fields (figures as published
text, criterion ids), so that a view for people can say it in the reader's language and
name criteria by their labels (``kepatuhan.present.lang.reason_text``).
"""

from __future__ import annotations

import attrs

__all__ = ["Reason"]


@attrs.frozen
class Reason:
    """``text``: the English sentence; ``key`` and ``fields``: the same sentence as a
    catalogue key of :mod:`kepatuhan.present.lang` and its ``{field}`` values (a field
    whose name ends in ``criterion`` is a criterion id, one ending in ``figure`` a
    published figure)."""

    key: str
    text: str
    fields: tuple[tuple[str, str], ...] = ()
