"""Synthetic assessment rounds: realistic random observation tables for any rubric.

For teaching, simulation and benchmarks. Built with numpy in one pass (no Python object
per observation), so a national round of a million observations takes well under a
second. Values are skewed towards the top of each scale (most units comply with most
indicators, as the published distributions show), a few percent are not applicable, a few
percent are missing (no row at all).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..observations import (
    NOT_APPLICABLE,
    VALUE,
    Institution,
    ObservationTable,
    ServiceProduct,
    Unit,
)
from ..plugins import Registry, default_manager
from ..rubric import LEVELS, Rubric

__all__ = ["SECTORS", "extreme_records", "leaf_cap", "synthetic_campaign"]

#: Sectors of a regency's usual seven units (Ombudsman Jateng slides, Brebes 2023): Dinkes,
#: 2 Puskesmas,
#: Disdik, Dinsos, DPMPTSP, Disdukcapil; more units cycle through the list again.
SECTORS = (
    "kesehatan",
    "kesehatan",
    "kesehatan",
    "pendidikan",
    "sosial",
    "perizinan",
    "kependudukan",
)
_UNIT_NAMES = ("dinkes", "puskesmas-1", "puskesmas-2", "disdik", "dinsos", "dpmptsp", "disdukcapil")


def _raw_values(
    rng: np.random.Generator, n: int, lo: float, hi: float, allowed: tuple[float, ...] | None
) -> NDArray[np.float64]:
    skew = rng.beta(5.0, 2.0, size=n)  # mean ~0.71, long tail towards 0
    if allowed is not None:
        idx = np.minimum((skew * len(allowed)).astype(np.intp), len(allowed) - 1)
        out: NDArray[np.float64] = np.asarray(allowed, dtype=np.float64)[idx]
        return out
    return np.round(lo + (hi - lo) * skew, 2)


def leaf_cap(rubric: Rubric, n: int, registry: Registry) -> float | None:
    """The largest raw value random data gives leaf ``n``: its scale's top, except under an
    additive parent (``add``), whose children share the parent's points — each gets an
    equal part, so the children never add up past the parent."""
    tree = rubric.tree
    p = tree.parent[n]
    if p < 0 or tree.is_leaf(p) or not registry.aggregator(tree.nodes[p].rule.name).additive:
        return None
    c = tree.nodes[n]
    assert c.scale is not None
    hi = registry.scale(c.scale.name).bounds(c.scale)[1]
    return hi / len(tree.children[p])


def extreme_records(
    rubric: Rubric, *, best: bool, registry: Registry | None = None
) -> list[dict[str, Any]]:
    """Observation records with every indicator of ``rubric`` at its best or its worst value.

    One institution ``"i"`` with one unit ``"u"`` and one service product ``"p"``; each leaf
    is given once, on the row of its level, at the top of its scale (``best=True``: the
    largest allowed value, within :func:`leaf_cap` under an additive parent) or at its
    bottom (``best=False``). Built from the rubric and the scales' own bounds, so a test
    that scores these records ("all best scores the top, all worst scores zero") follows
    the rubric when its file is edited, instead of repeating its numbers.
    """
    reg = registry or default_manager().registry
    tree = rubric.tree
    out: list[dict[str, Any]] = []
    for n in tree.leaves():
        c = tree.nodes[n]
        assert c.scale is not None and c.level is not None
        scale = reg.scale(c.scale.name)
        lo, hi = scale.bounds(c.scale)
        cap = leaf_cap(rubric, n, reg)
        allowed = scale.discrete(c.scale)
        if allowed is not None:
            pool = [a for a in allowed if cap is None or a <= cap] or [lo]
            value = max(pool) if best else min(pool)
        else:
            value = (hi if cap is None else min(hi, cap)) if best else lo
        lv = LEVELS.index(c.level)
        out.append(
            {
                "institution": "i",
                "unit": "u" if lv >= 1 else "",
                "product": "p" if lv == 2 else "",
                "criterion": c.id,
                "value": value,
            }
        )
    return out


def synthetic_campaign(
    rubric: Rubric,
    institutions: int = 590,
    *,
    units: int = 7,
    products: int = 3,
    seed: int = 0,
    not_applicable: float = 0.03,
    missing: float = 0.02,
    registry: Registry | None = None,
) -> ObservationTable:
    """A random :class:`ObservationTable` for every indicator of ``rubric``.

    ``institutions`` × ``units`` × ``products`` entities; each indicator is observed at its
    level for every entity of that level, except a fraction ``missing`` (no row) and a
    fraction ``not_applicable`` (``na``; only where the indicator allows it). Seeded and
    reproducible: the same arguments give the same table, bit for bit.
    """
    reg = registry or default_manager().registry
    rng = np.random.default_rng(seed)
    tree = rubric.tree
    n_inst, n_unit, n_prod = institutions, institutions * units, institutions * units * products
    width = len(str(max(institutions, units, products)))
    inst_ids = [f"i{k:0{width}d}" for k in range(n_inst)]
    insts = tuple(Institution(i, kind="kabupaten") for i in inst_ids)
    unit_objs = tuple(
        Unit(
            f"u{u:0{width}d}-{_UNIT_NAMES[u % len(_UNIT_NAMES)]}",
            inst_ids[i],
            sector=SECTORS[u % len(SECTORS)],
        )
        for i in range(n_inst)
        for u in range(units)
    )
    # A rubric that weighs products by their weight gets weights 1, 2, 3, 1, … (not drawn
    # from the generator, so every other rubric's table stays what it was, bit for bit).
    weighed = rubric.levels.unit.weight_by == "product_weight"
    prods = tuple(
        ServiceProduct(
            f"p{p:0{width}d}",
            unit_objs[u].id,
            unit_objs[u].institution,
            weight=float(p % 3 + 1) if weighed else None,
        )
        for u in range(n_unit)
        for p in range(products)
    )
    sizes = (n_inst, n_unit, n_prod)
    leaves = list(tree.leaves())
    cols: dict[str, list[NDArray[np.generic]]] = {k: [] for k in ("lv", "ent", "crit", "val", "st")}
    for code, n in enumerate(leaves):
        c = tree.nodes[n]
        assert c.scale is not None and c.level is not None
        lv = LEVELS.index(c.level)
        m = sizes[lv]
        keep = rng.random(m) >= missing
        ent = np.flatnonzero(keep)
        scale = reg.scale(c.scale.name)
        lo, hi = scale.bounds(c.scale)
        cap = leaf_cap(rubric, n, reg)
        allowed = scale.discrete(c.scale)
        if cap is not None:
            hi = min(hi, cap)
            allowed = None if allowed is None else tuple(a for a in allowed if a <= cap)
        val = _raw_values(rng, len(ent), lo, hi, allowed)
        st = np.full(len(ent), VALUE, dtype=np.int8)
        if c.na_allowed:
            na = rng.random(len(ent)) < not_applicable
            st[na] = NOT_APPLICABLE
            val[na] = 0.0
        cols["lv"].append(np.full(len(ent), lv, dtype=np.int8))
        cols["ent"].append(ent.astype(np.intp))
        cols["crit"].append(np.full(len(ent), code, dtype=np.intp))
        cols["val"].append(val)
        cols["st"].append(st)
    level = np.concatenate(cols["lv"]).astype(np.int8)
    return ObservationTable(
        institutions=insts,
        units=unit_objs,
        products=prods,
        unit_institution=np.repeat(np.arange(n_inst, dtype=np.intp), units),
        product_unit=np.repeat(np.arange(n_unit, dtype=np.intp), products),
        criterion_ids=tuple(tree.nodes[n].id for n in leaves),
        level=level,
        entity=np.concatenate(cols["ent"]).astype(np.intp),
        criterion=np.concatenate(cols["crit"]).astype(np.intp),
        value=np.concatenate(cols["val"]).astype(np.float64),
        state=np.concatenate(cols["st"]).astype(np.int8),
        line=np.arange(1, len(level) + 1, dtype=np.int64),
        source=f"synthetic_campaign(seed={seed})",
    )
