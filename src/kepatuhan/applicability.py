"""Where a criterion does not apply by the rubric's own rule (``not_applicable_for``).

One home for the rule: the engine asks :func:`not_applicable_cells` which cells are not
applicable before it places any value; explanations and warnings ask
:func:`not_applicable_reason` why. A criterion with ``not_applicable_for = { unit_sector =
["kesehatan"] }`` is not applicable, with its whole subtree, for every unit whose sector is
``kesehatan`` and for that unit's products; an ``institution_kind`` rule matches an
institution by its kind, with its units and products. Values are compared ignoring letter
case (``Kesehatan`` is ``kesehatan``). An entity whose attribute is not in the data is not
matched: the criterion applies to it, and :func:`unmatched_warnings` says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from .errors import Problem
from .observations import ObservationTable
from .rubric import LEVELS, NOT_APPLICABLE_KEYS, Rubric

__all__ = [
    "ATTRIBUTE_WORDS",
    "attribute_groups",
    "attribute_key",
    "not_applicable_cells",
    "not_applicable_reason",
    "ruled_rows",
    "unmatched_warnings",
]

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

#: How a rule's attribute reads in a reason ("not applicable (unit sector kesehatan)").
ATTRIBUTE_WORDS = {"unit_sector": "unit sector", "institution_kind": "institution kind"}


def attribute_key(text: str | None) -> str:
    """What two spellings of one sector or kind share: ``"Kesehatan"`` and ``"kesehatan"``
    are one sector (``""`` for none). The rule's matching and every peer group (rank,
    sensitivity, plots) compare by this key, so a spreadsheet's capital letter neither
    escapes a rule nor splits a group."""
    return "" if text is None else text.strip().casefold()


def attribute_groups(values: Sequence[str | None]) -> tuple[list[int], list[str]]:
    """The peer group of each of ``values`` (sectors or kinds) by :func:`attribute_key`, and
    each group's label: the first spelling in sorted order (``"Kesehatan"`` before
    ``"kesehatan"``), so the label does not depend on the order of the rows; ``""`` for
    entities without one."""
    spellings: dict[str, str] = {}
    for v in values:
        k = attribute_key(v)
        if v is not None and (k not in spellings or v < spellings[k]):
            spellings[k] = v
        spellings.setdefault(k, "")
    keys = sorted(spellings)
    code = {k: i for i, k in enumerate(keys)}
    return [code[attribute_key(v)] for v in values], [spellings[k] for k in keys]


def _carried(table: ObservationTable, name: str) -> list[str | None]:
    """The attribute ``name`` of each entity of the level that carries it."""
    if name == "unit_sector":
        return [u.sector for u in table.units]
    return [i.kind for i in table.institutions]


def _down(table: ObservationTable, codes: IntArray, carrier: int, level: int) -> IntArray:
    """Codes of the carrying level's entities, read for each entity of ``level``."""
    out = codes
    for L in range(carrier + 1, level + 1):
        parent = table.unit_institution if L == 1 else table.product_unit
        out = out[parent] if len(parent) else np.zeros(0, dtype=np.intp)
    return out


def _attribute_codes(table: ObservationTable, name: str) -> tuple[list[IntArray | None], list[str]]:
    """Per level, each entity's code of attribute ``name`` (-1: not given; None: a level
    above the carrier, which never matches), and the case-folded values by code."""
    carrier = NOT_APPLICABLE_KEYS[name]
    seen: dict[str, int] = {}
    raw = _carried(table, name)
    codes = np.array(
        [-1 if v is None else seen.setdefault(attribute_key(v), len(seen)) for v in raw],
        dtype=np.intp,
    )
    per_level: list[IntArray | None] = [
        None if carrier > L else _down(table, codes, carrier, L) for L in range(3)
    ]
    return per_level, list(seen)


def _subtree(rubric: Rubric, i: int) -> list[int]:
    tree = rubric.tree
    out, stack = [], [i]
    while stack:
        k = stack.pop()
        out.append(k)
        stack.extend(tree.children[k])
    return out


def not_applicable_cells(
    rubric: Rubric, table: ObservationTable
) -> tuple[BoolArray, BoolArray, BoolArray] | None:
    """Per level, the ``node × entity`` cells that are not applicable by the rubric's
    ``not_applicable_for`` rules (a rule covers its criterion's whole subtree); ``None``
    when the rubric has no such rule (the engine then skips the rule entirely)."""
    declared = [
        (i, c.not_applicable_for)
        for i, c in enumerate(rubric.tree.nodes)
        if c.not_applicable_for is not None and c.not_applicable_for.rules()
    ]
    if not declared:
        return None
    nn = len(rubric.tree.nodes)
    sizes = (len(table.institutions), len(table.units), len(table.products))
    out = tuple(np.zeros((nn, m), dtype=bool) for m in sizes)
    attrs_of: dict[str, tuple[list[IntArray | None], list[str]]] = {}
    for i, rule in declared:
        assert rule is not None
        below = np.asarray(_subtree(rubric, i), dtype=np.intp)
        for name, values in rule.rules():
            if name not in attrs_of:
                attrs_of[name] = _attribute_codes(table, name)
            per_level, folded = attrs_of[name]
            wanted = {attribute_key(v) for v in values}
            hit = np.array([v in wanted for v in folded] + [False], dtype=bool)  # [-1]: none
            for L in range(3):
                codes = per_level[L]
                if codes is None or not len(codes):
                    continue
                match = hit[codes]
                if match.any():
                    out[L][below[:, None], np.flatnonzero(match)[None, :]] = True
    return out[0], out[1], out[2]


def _attribute_of(table: ObservationTable, name: str, level: int, e: int) -> str | None:
    """The raw attribute ``name`` of entity ``e`` of ``level`` (from its unit or
    institution), or None."""
    carrier = NOT_APPLICABLE_KEYS[name]
    if level < carrier:
        return None
    while level > carrier:
        e = int(table.product_unit[e] if level == 2 else table.unit_institution[e])
        level -= 1
    return table.units[e].sector if name == "unit_sector" else table.institutions[e].kind


def not_applicable_reason(
    rubric: Rubric, table: ObservationTable, level: int, e: int, n: int
) -> str | None:
    """Why node ``n`` does not apply to entity ``e`` of ``level``: ``"unit sector
    kesehatan"`` (the entity's attribute as the data writes it), or None when no rule of
    ``n`` or of a criterion above it matches."""
    tree = rubric.tree
    for k in tree.path(n):
        rule = tree.nodes[k].not_applicable_for
        if rule is None:
            continue
        for name, values in rule.rules():
            got = _attribute_of(table, name, level, e)
            if got is not None and attribute_key(got) in {attribute_key(v) for v in values}:
                return f"{ATTRIBUTE_WORDS[name]} {got}"
    return None


def unmatched_warnings(rubric: Rubric, table: ObservationTable) -> list[Problem]:
    """One warning per rule attribute the rubric uses that some entities lack in the data:
    a rule cannot match them, so the criterion applies to them (a visible choice). And one
    per rule that matches no entity though the data has that attribute (``kesehatan`` in
    the rubric, ``puskesmas`` in the data): the criterion applies everywhere, which may be
    a spelling to fix."""
    names: dict[str, list[str]] = {}
    never: list[str] = []
    spellings: dict[str, list[str]] = {}
    for c in rubric.tree.nodes:
        if c.not_applicable_for is not None:
            for name, values in c.not_applicable_for.rules():
                names.setdefault(name, []).append(c.id)
                if name not in spellings:
                    raw = _carried(table, name)
                    spellings[name] = sorted({v for v in raw if v is not None}, key=attribute_key)
                have = {attribute_key(v) for v in spellings[name]}
                if have and not have & {attribute_key(v) for v in values}:
                    wanted = ", ".join(f'"{v}"' for v in values)
                    word = NOT_APPLICABLE_KEYS[name]
                    never.append(f'criterion "{c.id}" ({name} {wanted}) matches no {LEVELS[word]}')
    out: list[Problem] = []
    if never:
        kinds = "; ".join(
            f"the data's {name}s: " + _listed(spellings[name]) for name in sorted(spellings)
        )
        out.append(
            Problem(
                "a not_applicable_for rule matches nothing in the data, so its criterion "
                "applies everywhere: " + "; ".join(never) + f" ({kinds}); check the spelling",
                path=table.source,
                expected="a rule value the data uses",
                found="none used",
            )
        )
    for name, crits in names.items():
        raw = _carried(table, name)
        lacking = [k for k, v in enumerate(raw) if v is None]
        if not lacking:
            continue
        level = NOT_APPLICABLE_KEYS[name]
        first = ", ".join(table.entity_label(level, k) for k in lacking[:3])
        more = f" and {len(lacking) - 3} more" if len(lacking) > 3 else ""
        out.append(
            Problem(
                f"{len(lacking)} of {len(raw)} {LEVELS[level]}s have no {name} in the data "
                f"({first}{more}): the not_applicable_for rule of "
                + ", ".join(f'criterion "{c}"' for c in crits)
                + " cannot match them, so those criteria apply to them",
                path=table.source,
                expected=f"a {name} for every {LEVELS[level]}",
                found="none",
            )
        )
    return out


def _listed(values: Sequence[str], most: int = 8) -> str:
    """``a, b, c`` — at most ``most`` of them, then how many more."""
    more = f" and {len(values) - most} more" if len(values) > most else ""
    return ", ".join(values[:most]) + more


def ruled_rows(
    table: ObservationTable,
    node: NDArray[np.intp],
    cells: tuple[BoolArray, BoolArray, BoolArray],
) -> BoolArray:
    """Which rows of ``table`` (about criterion ``node[r]``) sit on a cell that ``cells``
    (:func:`not_applicable_cells`) marks not applicable: the rows the rule excludes."""
    out = np.zeros(len(table), dtype=bool)
    for L in range(3):
        r = np.flatnonzero(table.level == L)
        out[r] = cells[L][node[r], table.entity[r]]
    return out
