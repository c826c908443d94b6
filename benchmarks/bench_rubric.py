"""Rubric size: seconds to handle rubrics of 1,000, 10,000 and 100,000 criteria.

Run with ``python benchmarks/bench_rubric.py [--quick]`` (``--quick`` stops at 10,000).
For two shapes — ``wide`` (a root with n - 1 indicators) and ``deep`` (chains 60 long, near
the depth limit) — it times each step a command takes with a rubric: building it (which
validates it and indexes its tree), writing it as TOML, loading that TOML, checking it
against the registry (scale and aggregator names), describing it (``kepatuhan show``'s JSON
and Markdown) and its digest. Each figure is the median of a few runs; the table gives
seconds, microseconds per criterion, and the growth of the per-criterion cost from the
smallest size (1.0 = linear). The target (issue 11): 10,000 criteria validate in well
under a second (72 s before the tree was kept per rubric instance). No timing is asserted
in the test suite; tests/test_rubric_scale.py counts calls instead.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from kepatuhan import Rubric, ScaleRef, rubric_from_toml, rubric_to_toml
from kepatuhan.describe import rubric_document, rubric_markdown
from kepatuhan.plugins import PluginManager
from kepatuhan.rubric import Criterion, rubric_digest

QUICK = "--quick" in sys.argv
SIZES = (1_000, 10_000) if QUICK else (1_000, 10_000, 100_000)


def wide(n: int) -> list[Criterion]:
    """A root with ``n - 1`` indicators of three scales and levels."""
    scales = ("yes_no", "percentage", ScaleRef("points", (("max", Decimal(3)),)))
    return [Criterion("total", "Nilai")] + [
        Criterion(
            f"c{i}",
            f"Indikator {i}",
            parent="total",
            weight=1 + i % 5,
            scale=scales[i % 3],
            level=("institution", "unit", "product")[i % 3],
        )
        for i in range(n - 1)
    ]


def deep(n: int, depth: int = 60) -> list[Criterion]:
    """Chains ``depth`` long under one root, each ending in an indicator."""
    out = [Criterion("total", "Nilai")]
    k = 0
    while len(out) < n:
        parent, length = "total", min(depth, n - len(out))
        for j in range(length):
            leaf = j == length - 1
            out.append(
                Criterion(
                    f"c{k}",
                    f"Kriteria {k}",
                    parent=parent,
                    scale="yes_no" if leaf else None,
                    level="unit" if leaf else None,
                )
            )
            parent, k = f"c{k}", k + 1
    return out


def median_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """The median wall time of ``repeat`` calls of ``fn`` (garbage collector paused, as in
    :mod:`timeit`, so a collection of earlier steps' objects is not charged to this one)."""
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        finally:
            gc.enable()
    return statistics.median(times)


def steps(criteria: list[Criterion], pm: PluginManager) -> dict[str, Callable[[], Any]]:
    """The steps to time, each a fresh computation (new Rubric instances, nothing cached)."""
    rubric = Rubric("besar", "Besar", criteria)
    text = rubric_to_toml(rubric)
    return {
        "build+validate": lambda: Rubric("besar", "Besar", criteria),
        "write TOML": lambda: rubric_to_toml(rubric),
        "load TOML": lambda: rubric_from_toml(text),
        "registry check": lambda: pm.registry.check(rubric),
        "show (json+md)": lambda: (rubric_document(rubric), rubric_markdown(rubric)),
        "digest": lambda: rubric_digest(rubric),  # the function: .digest is kept per rubric
    }


def main() -> None:
    """Print one table per shape: seconds, µs per criterion, growth from the smallest size."""
    pm = PluginManager(entrypoints=False, env={})
    _ = pm.registry
    for name, shape in (("wide", wide), ("deep", deep)):
        print(f"\n{name}: seconds (µs per criterion; per-criterion cost vs {SIZES[0]:,} = 1.0)")
        print(f"{'step':<16}" + "".join(f"{n:>30,}" for n in SIZES))
        per: dict[str, list[float]] = {}
        rows: dict[str, list[str]] = {}
        for n in SIZES:
            repeat = 1 if n >= 100_000 else 3
            for step, fn in steps(shape(n), pm).items():
                fn()  # warm-up
                s = median_seconds(fn, repeat)
                per.setdefault(step, []).append(s / n)
                growth = (s / n) / per[step][0]
                rows.setdefault(step, []).append(
                    f"{s:9.3f} s ({s / n * 1e6:6.1f} µs, {growth:4.2f})"
                )
        for step, cells in rows.items():
            print(f"{step:<16}" + "".join(f"{c:>30}" for c in cells))


if __name__ == "__main__":
    main()
