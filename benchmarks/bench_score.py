"""kepatuhan.score vs the plain reference scorer, measured in the same run (ratio printed)."""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

import kepatuhan
from kepatuhan import ObservationTable
from kepatuhan.testing import reference_scores


def campaign(rubric: kepatuhan.Rubric, n_inst: int, seed: int = 0) -> ObservationTable:
    rng = np.random.default_rng(seed)
    tree = rubric.tree
    recs = []
    for i in range(n_inst):
        for u in range(7):
            for n in tree.leaves():
                c = tree.nodes[n]
                if c.level == "unit":
                    recs.append(
                        dict(
                            institution=f"i{i}",
                            unit=f"u{u}",
                            criterion=c.id,
                            value=float(rng.uniform(0, 100)),
                        )
                    )
                elif c.level == "product":
                    for p in range(2):
                        recs.append(
                            dict(
                                institution=f"i{i}",
                                unit=f"u{u}",
                                product=f"p{p}",
                                criterion=c.id,
                                value=float(rng.uniform(0, 100)),
                            )
                        )
    return ObservationTable.from_records(recs)


def median_time(f, repeats: int = 5) -> float:  # type: ignore[no-untyped-def]
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    n_inst = int(sys.argv[1]) if len(sys.argv) > 1 else 590
    pm = kepatuhan.default_manager()
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    table = campaign(rubric, n_inst)
    eng = median_time(lambda: kepatuhan.score(rubric, table, plugins=pm))
    ref = median_time(lambda: reference_scores(rubric, table, pm.registry), repeats=3)
    print(f"observations: {len(table)}  institutions: {n_inst}")
    print(f"{'what':<40} {'seconds':>10} {'ratio':>8}")
    print(f"{'reference scorer (plain Python)':<40} {ref:>10.4f} {1.0:>8.1f}")
    print(f"{'kepatuhan.score (numpy)':<40} {eng:>10.4f} {ref / eng:>8.1f}x faster")


if __name__ == "__main__":
    main()
