"""Benchmarks of kepatuhan at national scale, as ratios measured in the same run.

Run with ``nox -s bench`` (or ``python benchmarks/bench_score.py [--quick]``). Every figure
is a ratio of two medians taken in this run on this machine, after a warm-up, so that
machine noise cancels. No timing is asserted anywhere in the test suite.

1. ``kepatuhan.score`` on 1,000,000 raw observations vs the plain reference scorer;
2. the same vs a bare numpy lower bound (one ``np.bincount`` per tree node and entity level);
3. reading a 1,000,000-row CSV and scoring vs ``csv``-module parsing alone (and vs
   pyarrow / pandas CSV parsing when installed);
4. time per observation at 0.25M, 0.5M, 1M, 2M, 4M observations;
5. peak memory of scoring 1M observations vs the bytes of the input columns;
6. weight sensitivity, 1,000 draws of the dimension weights (a matrix product) vs 1,000
   calls of ``score`` (1,000 × the median call measured in this run).
"""

from __future__ import annotations

import csv
import io
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from kepatuhan.synthetic import synthetic_campaign

import kepatuhan
from kepatuhan import ObservationTable, Rubric, rubric_from_toml
from kepatuhan.testing import reference_scores

QUICK = "--quick" in sys.argv
TARGET = 100_000 if QUICK else 1_000_000


def national_rubric() -> Rubric:
    """A G5-shaped rubric with 45 indicators (15 + 11 + 10 + 9), as the 2023 instrument."""
    parts = [
        'id = "bench"\ntitle = "bench"\n[[criterion]]\nid = "total"\nlabel = "t"\nrule = "sum"\n'
    ]
    for dim, pts, n, level in (
        ("input", "21.85", 15, "unit"),
        ("proses", "32.37", 11, "product"),
        ("output", "24.24", 10, "unit"),
        ("pengaduan", "21.54", 9, "unit"),
    ):
        parts.append(
            f'[[criterion]]\nid = "{dim}"\nlabel = "{dim}"\nparent = "total"\npoints = {pts}\n'
        )
        for k in range(n):
            scale = '{ name = "ordinal", points = [0, 1, 2, 3] }' if k % 3 else '"yes_no"'
            parts.append(
                f'[[criterion]]\nid = "{dim}-{k}"\nlabel = "x"\nparent = "{dim}"\n'
                f'scale = {scale}\nlevel = "{level}"\n'
            )
    return rubric_from_toml("".join(parts))


def campaign(rubric: Rubric, n_obs: int, seed: int = 0) -> ObservationTable:
    per_inst = 7 * (34 + 11 * 3)  # unit-level + product-level indicators, 3 products a unit
    return synthetic_campaign(rubric, max(1, round(n_obs / per_inst)), products=3, seed=seed)


def median(f: Callable[[], Any], repeats: int = 5) -> float:
    f()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def lower_bound(table: ObservationTable, rubric: Rubric) -> Callable[[], None]:
    """The least numpy work any engine must do: place values, one bincount per node/level."""
    tree = rubric.tree
    n_nodes = len(tree.nodes)
    index = {c.id: i for i, c in enumerate(tree.nodes)}
    node = np.array([index[c] for c in table.criterion_ids])[table.criterion]
    w = np.ones(n_nodes)
    sizes = (len(table.institutions), len(table.units), len(table.products))
    parents = (None, table.unit_institution, table.product_unit)

    def run() -> None:
        mats = []
        for lv in range(3):
            r = table.level == lv
            m = np.zeros((n_nodes, sizes[lv]))
            m[node[r], table.entity[r]] = table.value[r]
            mats.append(m)
        for lv in (2, 1):
            par = parents[lv]
            assert par is not None
            for n in tree.order:
                mats[lv - 1][n] += np.bincount(par, weights=mats[lv][n], minlength=sizes[lv - 1])
        for lv in range(3):
            for n in tree.order:
                kids = tree.children[n]
                if kids:
                    mats[lv][n] = np.bincount(
                        np.repeat(np.arange(sizes[lv]), len(kids)),
                        weights=(mats[lv][list(kids)] * w[list(kids), None]).T.ravel(),
                        minlength=sizes[lv],
                    )

    return run


def write_csv(table: ObservationTable, path: Path) -> None:
    lv, ent = table.level, table.entity
    inst = np.array([i.id for i in table.institutions], dtype=object)
    units = np.array([u.id for u in table.units], dtype=object)
    prods = np.array([p.id for p in table.products], dtype=object)
    u_inst = table.unit_institution
    p_unit = table.product_unit
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["institution", "unit", "product", "criterion", "value"])
        for r in range(len(table)):
            e = int(ent[r])
            if lv[r] == 0:
                row = [inst[e], "", ""]
            elif lv[r] == 1:
                row = [inst[u_inst[e]], units[e], ""]
            else:
                u = p_unit[e]
                row = [inst[u_inst[u]], units[u], prods[e]]
            v = "na" if table.state[r] == 1 else f"{table.value[r]:g}"
            w.writerow([*row, table.criterion_ids[table.criterion[r]], v])


def main() -> None:
    pm = kepatuhan.default_manager()
    rubric = national_rubric()
    pm.registry.add_rubric(rubric, "bench") if "bench" not in pm.registry.rubrics else None
    table = campaign(rubric, TARGET)
    n = len(table)
    rows: list[tuple[str, str, str]] = []

    def score() -> None:
        kepatuhan.score(rubric, table, plugins=pm)

    t_score = median(score)
    t_ref = median(lambda: reference_scores(rubric, table, pm.registry), repeats=1)
    rows.append(
        (
            "1. score vs reference scorer",
            f"{t_score:.3f} s vs {t_ref:.2f} s",
            f"{t_ref / t_score:.1f}x faster (goal >= 50x)",
        )
    )
    t_lb = median(lower_bound(table, rubric))
    rows.append(
        (
            "2. score vs bare numpy lower bound",
            f"{t_score:.3f} s vs {t_lb:.3f} s",
            f"{t_score / t_lb:.2f}x the bound (goal <= 3x)",
        )
    )

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "obs.csv"
        write_csv(table, path)
        text = path.read_text()

        def parse_only() -> None:
            for _ in csv.reader(io.StringIO(text)):
                pass

        def read_and_score(engine: str) -> Callable[[], None]:
            def run() -> None:
                table = kepatuhan.read_observations(path, engine=engine)
                kepatuhan.score(rubric, table, plugins=pm)

            return run

        t_csv = median(parse_only, repeats=3)
        t_std = median(read_and_score("stdlib"), repeats=3)
        rows.append(
            (
                "3. read CSV + score (stdlib) vs csv module parse",
                f"{t_std:.2f} s vs {t_csv:.2f} s",
                f"{t_std / t_csv:.2f}x",
            )
        )
        try:
            import pyarrow.csv as pacsv

            t_pa = median(lambda: pacsv.read_csv(path), repeats=3)
            t_fast = median(read_and_score("arrow"), repeats=3)
            rows.append(
                (
                    "3b. read CSV + score (arrow) vs pyarrow.csv.read_csv",
                    f"{t_fast:.3f} s vs {t_pa:.3f} s",
                    f"{t_fast / t_pa:.2f}x (goal <= 1.5x the fastest parser)",
                )
            )
        except ImportError:
            rows.append(("3b. vs pyarrow.csv", "pyarrow not installed", "-"))
        try:
            import pandas as pd

            t_pd = median(lambda: pd.read_csv(path), repeats=3)
            rows.append(("3c. pandas.read_csv alone", f"{t_pd:.3f} s", "-"))
        except ImportError:
            rows.append(("3c. vs pandas.read_csv", "pandas not installed", "-"))

    per_obs = []
    for size in (
        [25_000, 50_000, 100_000] if QUICK else [250_000, 500_000, 1_000_000, 2_000_000, 4_000_000]
    ):
        t = campaign(rubric, size, seed=1)
        dt = median(lambda t=t: kepatuhan.score(rubric, t, plugins=pm), repeats=3)
        per_obs.append((len(t), dt / len(t)))
    base = per_obs[len(per_obs) // 2][1]
    spread = ", ".join(f"{k / 1e6:.2f}M: {v / base:.2f}" for k, v in per_obs)
    worst = max(abs(v / base - 1) for _, v in per_obs)
    rows.append(
        (
            "4. time per observation, relative to the middle size",
            spread,
            f"max deviation {worst:.0%} (goal <= 25%)",
        )
    )

    input_bytes = sum(
        a.nbytes for a in (table.level, table.entity, table.criterion, table.value, table.state)
    )
    tracemalloc.start()
    score()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append(
        (
            "5. peak memory of score vs input columns",
            f"{peak / 1e6:.0f} MB vs {input_bytes / 1e6:.0f} MB",
            f"{peak / input_bytes:.2f}x (goal <= 3x)",
        )
    )
    from kepatuhan.sensitivity import sensitivity

    res = kepatuhan.score(rubric, table, plugins=pm)
    n_draws = 100 if QUICK else 1000
    t_sens = median(lambda: sensitivity(res, draws=n_draws, seed=0), repeats=3)
    # n calls of score would take n × the median call measured above
    rows.append(
        (
            f"6. weight sensitivity, {n_draws:,} draws vs {n_draws:,} calls of score",
            f"{t_sens:.2f} s vs {n_draws} × {t_score:.3f} s",
            f"{n_draws * t_score / t_sens:.0f}x faster (goal >= 20x)",
        )
    )

    import platform

    print(
        f"kepatuhan {kepatuhan.__version__}, numpy {np.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}; "
        f"{n:,} observations, {len(table.institutions)} institutions"
    )
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")


if __name__ == "__main__":
    main()
