"""Deterministic observation files of national shape, for ``bench_cli.py``.

Every generator writes a five-column CSV (``institution,unit,product,criterion,value``)
with the stdlib ``csv`` module, from a seeded ``random.Random``, and returns the number of
data rows written. Values are in range for the rubric and written with two decimals
(``85.25``; never three, which the readers refuse as a possible thousands group).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HEADER = ("institution", "unit", "product", "criterion", "value")

# ombudsman-2021: the ten product-level percentage variables under the root.
VARIABLES_2021 = (
    "standar_pelayanan",
    "maklumat_pelayanan",
    "pengelolaan_pengaduan",
    "sarana_prasarana",
    "pelayanan_khusus",
    "penilaian_kepuasan",
    "visi_misi_motto",
    "atribut",
    "pelayanan_terpadu",
    "rekognisi",
)
# ombudsman-2023: the four dimensions and their maximum points (given on unit rows).
DIMENSIONS_2023 = (("input", 21.85), ("proses", 32.37), ("output", 24.24), ("pengaduan", 21.54))

UNITS = 7
PRODUCTS_2021 = 24
# many criteria: 40 groups of 50 unit-level percentage leaves = 2,000 leaves
GROUPS, LEAVES_PER_GROUP = 40, 50
MANY_UNITS = 5
# distinct products: products per unit and units per institution
DISTINCT_UNITS, DISTINCT_PRODUCTS = 10, 130


def _write(path: Path, rows: Iterator[tuple[str, str, str, str, str]]) -> int:
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        # chunks keep memory flat for the 4M-row files
        chunk: list[tuple[str, str, str, str, str]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 100_000:
                w.writerows(chunk)
                n += len(chunk)
                chunk.clear()
        w.writerows(chunk)
        n += len(chunk)
    return n


def _pct(rng: random.Random) -> str:
    return f"{rng.uniform(20.0, 100.0):.2f}"


def products_2021(path: Path, n_rows: int, seed: int = 0) -> int:
    """600 institutions × 7 units × 24 products × 10 variables per 1,008,000 rows."""
    rng = random.Random(seed)
    per_inst = UNITS * PRODUCTS_2021 * len(VARIABLES_2021)
    n_inst = max(1, round(n_rows / per_inst))

    def rows() -> Iterator[tuple[str, str, str, str, str]]:
        for i in range(n_inst):
            inst = f"inst-{i:06d}"
            for u in range(UNITS):
                unit = f"unit-{u}"
                for p in range(PRODUCTS_2021):
                    prod = f"prod-{p:02d}"
                    for var in VARIABLES_2021:
                        yield inst, unit, prod, var, _pct(rng)

    return _write(path, rows())


def units_2023(path: Path, n_rows: int, seed: int = 0) -> int:
    """36,000 institutions × 7 units × 4 dimension points per 1,008,000 rows."""
    rng = random.Random(seed)
    n_inst = max(1, round(n_rows / (UNITS * len(DIMENSIONS_2023))))

    def rows() -> Iterator[tuple[str, str, str, str, str]]:
        for i in range(n_inst):
            inst = f"inst-{i:06d}"
            for u in range(UNITS):
                unit = f"unit-{u}"
                for dim, top in DIMENSIONS_2023:
                    yield inst, unit, "", dim, f"{rng.uniform(0.0, top):.2f}"

    return _write(path, rows())


def many_criteria_rubric(path: Path) -> str:
    """A rubric with GROUPS × LEAVES_PER_GROUP unit-level percentage leaves; returns its id."""
    parts = [
        'id = "bench-many"\ntitle = "bench: many criteria"\n',
        # bands, so that gap has a next band to aim for
        '[bands]\nname = "bench"\n[[bands.band]]\nid = "low"\nlabel = "low"\nmin = 0\n'
        'max = 59.99\n[[bands.band]]\nid = "mid"\nlabel = "mid"\nmin = 60\nmax = 79.99\n'
        '[[bands.band]]\nid = "high"\nlabel = "high"\nmin = 80\nmax = 100\n',
        '[[criterion]]\nid = "total"\nlabel = "total"\nrule = "weighted_mean"\n',
    ]
    for g in range(GROUPS):
        parts.append(f'[[criterion]]\nid = "g{g:02d}"\nlabel = "group {g}"\nparent = "total"\n')
        for k in range(LEAVES_PER_GROUP):
            parts.append(
                f'[[criterion]]\nid = "g{g:02d}-{k:03d}"\nlabel = "leaf"\nparent = "g{g:02d}"\n'
                'scale = "percentage"\nlevel = "unit"\n'
            )
    path.write_text("".join(parts), encoding="utf-8")
    return "bench-many"


def many_criteria(path: Path, n_rows: int, seed: int = 0) -> int:
    """Institutions × 5 units × 2,000 leaves (100 institutions per 1,000,000 rows)."""
    rng = random.Random(seed)
    leaves = [f"g{g:02d}-{k:03d}" for g in range(GROUPS) for k in range(LEAVES_PER_GROUP)]
    n_inst = max(1, round(n_rows / (MANY_UNITS * len(leaves))))

    def rows() -> Iterator[tuple[str, str, str, str, str]]:
        for i in range(n_inst):
            inst = f"inst-{i:06d}"
            for u in range(MANY_UNITS):
                for leaf in leaves:
                    yield inst, f"unit-{u}", "", leaf, _pct(rng)

    return _write(path, rows())


def distinct_products(path: Path, n_rows: int, seed: int = 0) -> int:
    """n_rows distinct products, one row each (2021, one variable): 10 units × 130 products."""
    rng = random.Random(seed)
    per_inst = DISTINCT_UNITS * DISTINCT_PRODUCTS

    def rows() -> Iterator[tuple[str, str, str, str, str]]:
        for r in range(n_rows):
            i, rest = divmod(r, per_inst)
            u, p = divmod(rest, DISTINCT_PRODUCTS)
            yield f"inst-{i:06d}", f"unit-{u}", f"prod-{p:03d}", "standar_pelayanan", _pct(rng)

    return _write(path, rows())


def distinct_institutions(path: Path, n_rows: int, seed: int = 0) -> int:
    """n_rows distinct institutions, one institution row each with its ``total`` (2023)."""
    rng = random.Random(seed)

    def rows() -> Iterator[tuple[str, str, str, str, str]]:
        for i in range(n_rows):
            yield f"inst-{i:07d}", "", "", "total", _pct(rng)

    return _write(path, rows())


@dataclass(frozen=True)
class Shape:
    """One benchmark shape: its generator, rubric and full-mode size."""

    name: str
    rubric: str  # a rubric id, or "many" for the generated rubric file
    rows: int
    write: Callable[[Path, int, int], int]
    # cost per row at 0.25M .. 4M rows is measured on these
    scaled: bool = False
    # cost per row compared with the 2021 shape (goal: within 2×)
    distinct: bool = False
    # sensitivity keeps entities × draws matrices (at the level of the root's children, the
    # products in 2021): above this many entities at any level it is measured on a smaller
    # file of the same shape (1.3 M products × 1,000 draws × 8 B = 10 GB a matrix: killed)
    sensitivity_entities: int = 150_000


SHAPES = (
    Shape("2021-products", "ombudsman-2021", 1_008_000, products_2021, scaled=True),
    Shape("units-heavy", "ombudsman-2023", 1_008_000, units_2023, scaled=True),
    Shape("many-criteria", "many", 1_000_000, many_criteria),
    Shape("distinct-products", "ombudsman-2021", 1_300_000, distinct_products, distinct=True),
    Shape(
        "distinct-institutions", "ombudsman-2023", 2_400_000, distinct_institutions, distinct=True
    ),
)
