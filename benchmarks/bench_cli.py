"""The ``kepatuhan`` CLI end to end at national scale, as ratios measured in the same run.

Run with ``nox -s bench`` or ``python benchmarks/bench_cli.py [--quick] [--shapes a,b]
[--profile]``. ``--quick`` scales every shape down 10×; ``--shapes`` picks shapes by name
(see ``shapes.SHAPES``); ``--profile`` prints a cProfile (top 15 by tottime) of each
command whose goal is missed. Nothing is asserted: the script prints one table of ratios,
each beside its goal (issue 11) and ``met`` / ``missed``.

Per shape (files generated deterministically into a temporary directory):

- ``kepatuhan score DATA --rubric R --format json|csv --output X`` as a subprocess (the
  console script next to this interpreter), median of a few runs after a warm-up;
- baselines in this process on the same file: a bare ``csv.reader`` iteration, and
  ``pyarrow.csv.read_csv`` plus writing the CLI's output bytes once more;
- peak resident memory of the CLI process (``/usr/bin/time -f %M``, else
  ``getrusage(RUSAGE_CHILDREN)``) vs the input columns' bytes, defined as rows × 5 × 8;
- in-process after ``kepatuhan.score`` of the table: ``scores.explain``,
  ``kepatuhan.gap.gap`` and ``scores.card`` for one institution, each on a fresh result;
- ``kepatuhan.sensitivity.sensitivity`` with 1,000 draws vs 1,000 × one ``score`` call;
- on the two main shapes, CLI cost per row at 0.25, 0.5, 1, 2 and 4 M rows.

A CLI run that takes longer than ``SLOW`` seconds is measured once (its warm-up run is the
sample): a repeat would not change the verdict and would blow the time budget.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import os
import platform
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from shapes import SHAPES, Shape, many_criteria_rubric

import kepatuhan

SLOW = 20.0  # seconds; a CLI run slower than this is measured once
SCALE_SIZES = (250_000, 500_000, 1_000_000, 2_000_000, 4_000_000)
COLUMN_BYTES = 5 * 8  # input columns' bytes per row: five 8-byte columns
TIME = "/usr/bin/time"


@dataclass
class Row:
    """One line of the result table."""

    shape: str
    measure: str
    value: str
    goal: str
    met: bool | None  # None: no goal, or not measurable
    profile: Callable[[], str] | None = None
    profile_text: str = ""


@dataclass
class Run:
    """A CLI command's timings and peak memory."""

    seconds: list[float] = field(default_factory=list)
    peak_kb: int = 0
    once: bool = False  # slower than SLOW: the warm-up run is the only sample

    @property
    def median(self) -> float:
        """The median of the timed runs."""
        return statistics.median(self.seconds)


def kepatuhan_command() -> list[str]:
    """The console script installed next to this interpreter (else ``python -c``)."""
    script = Path(sys.executable).parent / "kepatuhan"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from kepatuhan.cli import main; sys.exit(main())"]


def run_once(argv: list[str]) -> tuple[float, int]:
    """Run the CLI once; wall seconds and peak resident kB of the process."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrap = [TIME, "-f", "%M", "-o", rss.name] if os.access(TIME, os.X_OK) else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t = time.perf_counter()
        done = subprocess.run([*wrap, *kepatuhan_command(), *argv], capture_output=True)
        dt = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(
                f"kepatuhan {' '.join(argv)}: exit {done.returncode}\n" + done.stderr.decode()
            )
        if wrap:
            peak = int(Path(rss.name).read_text().split()[-1])
        else:
            # RUSAGE_CHILDREN is the largest child so far: only a new maximum is exact
            peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return dt, peak


def run_cli(argv: list[str], repeats: int) -> Run:
    """Warm-up, then ``repeats`` timed runs (one run only when it is slower than SLOW)."""
    run = Run()
    dt, run.peak_kb = run_once(argv)
    if dt > SLOW:
        run.seconds.append(dt)
        run.once = True
        return run
    for _ in range(repeats):
        dt, peak = run_once(argv)
        run.seconds.append(dt)
        run.peak_kb = max(run.peak_kb, peak)
    return run


def median(f: Callable[[], Any], repeats: int) -> float:
    """Median wall time of ``f`` over ``repeats`` calls after one warm-up call."""
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def csv_parse(path: Path) -> None:
    """The bare baseline: iterate a stdlib ``csv.reader`` over the file."""
    with open(path, newline="", encoding="utf-8") as f:
        for _ in csv.reader(f):
            pass


def write_bytes(data: bytes, dst: Path) -> None:
    """Write the CLI's output bytes once more (the floor of any writer)."""
    with open(dst, "wb") as f:
        f.write(data)


def profile_cli(argv: list[str]) -> Callable[[], str]:
    """A deferred cProfile of one CLI command: top 15 functions by tottime."""

    def run() -> str:
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "cli.prof"
            cmd = kepatuhan_command()
            if len(cmd) == 1:  # the console script is a Python file
                cmd = [sys.executable, "-m", "cProfile", "-o", str(out), cmd[0]]
            else:
                cmd = [sys.executable, "-m", "cProfile", "-o", str(out), *cmd[1:]]
            subprocess.run([*cmd, *argv], check=True, capture_output=True)
            return top15(pstats.Stats(str(out)))

    return run


def profile_call(f: Callable[[], Any]) -> Callable[[], str]:
    """A deferred cProfile of one in-process call: top 15 functions by tottime."""

    def run() -> str:
        prof = cProfile.Profile()
        prof.runcall(f)
        return top15(pstats.Stats(prof))

    return run


def top15(stats: pstats.Stats) -> str:
    """The 15 functions with the most own time, as pstats prints them."""
    buf = io.StringIO()
    stats.stream = buf  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(15)
    return buf.getvalue()


def verdict(ratio: float, goal: float, at_most: bool = True) -> bool:
    """Whether a ratio meets its goal (``<= goal``, or ``>= goal`` when not at_most)."""
    return ratio <= goal if at_most else ratio >= goal


class Bench:
    """Runs the shapes and collects the table rows."""

    def __init__(self, work: Path, scale: float, repeats: int, profile: bool) -> None:
        self.work = work
        self.profile = profile
        self.scale = scale
        self.repeats = repeats
        self.rows: list[Row] = []
        self.per_row_2021: float | None = None  # CLI json seconds per row, 2021 shape
        self.fixed = 0.0  # seconds of a one-row score: startup, imports, rubric
        self.fixed_kb = 0
        self.many_rubric = work / "bench-many.toml"
        many_criteria_rubric(self.many_rubric)

    def startup(self) -> float:
        """The CLI's fixed cost: ``score`` of a one-row file (interpreter, imports, rubric)."""
        path = self.work / "one-row.csv"
        path.write_text("institution,unit,product,criterion,value\ni,u,p,atribut,50\n")
        out = self.work / "one-row.json"
        argv = ["score", str(path), "--rubric", "ombudsman-2021", "--format", "json"]
        try:
            run = run_cli([*argv, "--output", str(out)], self.repeats)
        except RuntimeError as exc:
            # a broken tree (someone mid-edit): say so, measure what still runs
            last = str(exc).strip().splitlines()[-1][:80]
            print(f"CLI fixed cost: failed: {last}")
            self.rows.append(Row("(any)", "CLI fixed cost", f"failed: {last}", "—", None))
            return 0.0
        self.fixed = run.median
        self.fixed_kb = run.peak_kb
        self.rows.append(
            Row(
                "(any)",
                "CLI fixed cost: score of a one-row file",
                f"{run.median:.2f} s, peak RSS {run.peak_kb / 1024:.0f} MB",
                "—",
                None,
            )
        )
        print(f"CLI fixed cost: {run.median:.2f} s, peak RSS {run.peak_kb / 1024:.0f} MB")
        return run.median

    def rubric_arg(self, shape: Shape) -> str:
        """The ``--rubric`` argument: an id, or the generated rubric file."""
        return str(self.many_rubric) if shape.rubric == "many" else shape.rubric

    def make(self, shape: Shape, n_rows: int) -> tuple[Path, int]:
        """Write the shape's CSV with about ``n_rows`` rows; its path and exact row count."""
        path = self.work / f"{shape.name}-{n_rows}.csv"
        return path, shape.write(path, n_rows, 0)

    def add(
        self,
        shape: Shape,
        measure: str,
        value: str,
        goal: str,
        met: bool | None,
        profile: Callable[[], str] | None = None,
    ) -> None:
        """One table row."""
        self.rows.append(Row(shape.name, measure, value, goal, met, profile))
        mark = {True: "met", False: "MISSED", None: "-"}[met]
        print(f"  {measure}: {value}  [{goal}: {mark}]", flush=True)

    def shape(self, shape: Shape) -> None:
        """Every measurement of one shape."""
        n_target = round(shape.rows * self.scale)
        t = time.perf_counter()
        path, n = self.make(shape, n_target)
        print(
            f"\n== {shape.name}: {n:,} rows, {path.stat().st_size / 1e6:.0f} MB, "
            f"rubric {shape.rubric} (written in {time.perf_counter() - t:.1f} s)",
            flush=True,
        )
        self.cli(shape, path, n)
        # a broken tree (someone mid-edit) fails one part: say so, measure the rest
        try:
            self.library(shape, path, n)
        except kepatuhan.KepatuhanError as exc:
            self.add(
                shape,
                "library (explain, gap, card, sensitivity)",
                f"failed: {str(exc).splitlines()[0][:80]}",
                "—",
                None,
            )
        if shape.scaled:
            try:
                self.scaling(shape)
            except RuntimeError as exc:
                self.add(
                    shape,
                    "cost per row",
                    f"failed: {str(exc).splitlines()[-1][:80]}",
                    "≤ 25 %",
                    None,
                )
        self.profiles(shape)
        path.unlink()

    def profiles(self, shape: Shape) -> None:
        """Profile each missed command of this shape now (its file still exists), once."""
        done: dict[int, str] = {}
        for r in self.rows:
            if r.shape != shape.name or not callable(r.profile):
                continue
            if self.profile and r.met is False:
                key = id(r.profile)
                if key not in done:
                    print(f"  profiling: {r.measure}", flush=True)
                    done[key] = r.profile()
                    r.profile_text = done[key]
            # drop the closures: they hold results and tables of this shape
            r.profile = None

    def cli(self, shape: Shape, path: Path, n: int) -> None:
        """CLI json/csv vs a bare csv parse and vs pyarrow parse + writing the bytes."""
        t_csv = median(lambda: csv_parse(path), self.repeats)
        try:
            import pyarrow.csv as pacsv

            t_pa: float | None = median(lambda: pacsv.read_csv(path), self.repeats)
        except ImportError:
            t_pa = None
        peak = 0
        for fmt in ("json", "csv"):
            out = self.work / f"out.{fmt}"
            argv = [
                "score",
                str(path),
                "--rubric",
                self.rubric_arg(shape),
                "--format",
                fmt,
                "--output",
                str(out),
            ]
            try:
                run = run_cli(argv, self.repeats)
            except RuntimeError as exc:
                # a broken tree (someone mid-edit) or a refusal: say so, measure the rest
                last = str(exc).strip().splitlines()[-1][:80]
                self.add(shape, f"score --format {fmt}", f"failed: {last}", "≤ 4×", None)
                continue
            peak = max(peak, run.peak_kb)
            t_cli = run.median
            note = f" (1 run: > {SLOW:.0f} s)" if run.once else ""
            prof = profile_cli(argv)
            r = t_cli / t_csv
            self.add(
                shape,
                f"score --format {fmt} / bare csv.reader",
                f"{t_cli:.2f} s / {t_csv:.2f} s = {r:.1f}×{note}",
                "≤ 4×",
                verdict(r, 4),
                prof,
            )
            if t_pa is not None:
                data = out.read_bytes()
                dst = self.work / f"copy.{fmt}"
                t_w = median(lambda d=data, p=dst: write_bytes(d, p), self.repeats)
                r = t_cli / (t_pa + t_w)
                self.add(
                    shape,
                    f"score --format {fmt} / (pyarrow read_csv + write output)",
                    f"{t_cli:.2f} s / ({t_pa:.2f} + {t_w:.3f} s; {len(data) / 1e6:.0f} MB)"
                    f" = {r:.1f}×",
                    "≤ 2×",
                    verdict(r, 2),
                    prof,
                )
            else:
                self.add(
                    shape, f"score --format {fmt} / pyarrow", "pyarrow not installed", "≤ 2×", None
                )
            if fmt == "json":
                per_row = t_cli / n
                if shape.name == "2021-products":
                    self.per_row_2021 = per_row
                if shape.distinct:
                    self.distinct(shape, per_row, prof)
        if not peak:
            return
        in_bytes = n * COLUMN_BYTES
        r = peak * 1024 / in_bytes
        self.add(
            shape,
            "peak RSS of the CLI (json, csv) / input columns (rows × 5 × 8 B)",
            f"{peak / 1024:.0f} MB / {in_bytes / 1e6:.0f} MB = {r:.1f}×",
            "≤ 3×",
            verdict(r, 3),
        )

    def distinct(self, shape: Shape, per_row: float, prof: Callable[[], str]) -> None:
        """Cost per row relative to the 2021 shape's (same run)."""
        if self.per_row_2021 is None:
            self.add(shape, "cost per row / 2021 shape's", "2021 shape not run", "≤ 2×", None)
            return
        r = per_row / self.per_row_2021
        self.add(
            shape,
            "score --format json cost per row / 2021 shape's",
            f"{per_row * 1e6:.1f} µs / {self.per_row_2021 * 1e6:.1f} µs = {r:.1f}×",
            "≤ 2×",
            verdict(r, 2),
            prof,
        )

    def library(self, shape: Shape, path: Path, n: int) -> None:
        """explain, gap, card for one institution; sensitivity vs repeated scoring."""
        from kepatuhan.gap import gap

        rubric = kepatuhan.load_rubric(self.many_rubric) if shape.rubric == "many" else shape.rubric
        table = kepatuhan.read_observations(path)
        reps = self.repeats

        def score() -> Any:
            return kepatuhan.score(rubric, table)

        t_score = median(score, reps)
        insts = table.institutions
        inst = insts[len(insts) // 2].id
        calls: dict[str, Callable[[Any], Any]] = {
            "explain": lambda s: s.explain(inst),
            "gap": lambda s: gap(s, inst),
            "card": lambda s: s.card(inst),
        }
        for name, call in calls.items():
            # each call alone, on a fresh result: no cache filled by an earlier call
            times = []
            try:
                for _ in range(reps):
                    fresh = score()
                    t = time.perf_counter()
                    call(fresh)
                    times.append(time.perf_counter() - t)
            except kepatuhan.KepatuhanError as exc:
                self.add(
                    shape,
                    f"{name}({inst}) after scoring",
                    f"refused: {str(exc).splitlines()[0][:70]}",
                    "< 0.2 s",
                    None,
                )
                continue
            dt = statistics.median(times)
            s = score()
            self.add(
                shape,
                f"{name}(one institution) after scoring {n:,} rows",
                f"{dt:.3f} s",
                "< 0.2 s",
                dt < 0.2,
                profile_call(lambda c=call, s=s: c(s)),
            )
        self.sensitivity(shape, rubric, table, t_score)

    def sensitivity(self, shape: Shape, rubric: Any, table: Any, t_score: float) -> None:
        """sensitivity with 1,000 draws vs 1,000 × one score call on the same table."""
        from kepatuhan.sensitivity import sensitivity

        draws = 1000
        n_ent = max(len(table.institutions), len(table.units), len(table.products))
        size = ""
        if n_ent > shape.sensitivity_entities:
            # too large for entities × draws matrices in memory: a smaller file
            rows = round(len(table) * shape.sensitivity_entities / n_ent)
            path, n = self.make(shape, rows)
            table = kepatuhan.read_observations(path)
            path.unlink()
            t_score = median(lambda: kepatuhan.score(rubric, table), self.repeats)
            size = f" (at {n:,} rows, {len(table.institutions):,} institutions)"
        res = kepatuhan.score(rubric, table)
        try:
            t_sens = median(lambda: sensitivity(res, draws=draws, seed=0), max(1, self.repeats - 1))
        except kepatuhan.KepatuhanError as exc:
            self.add(
                shape,
                "sensitivity, 1,000 draws",
                f"refused: {str(exc).splitlines()[0][:70]}",
                "≥ 20×",
                None,
            )
            return
        r = draws * t_score / t_sens
        self.add(
            shape,
            f"sensitivity {draws:,} draws vs {draws:,} × score{size}",
            f"{t_sens:.3f} s vs {draws:,} × {t_score:.3f} s = {r:.0f}× faster",
            "≥ 20×",
            verdict(r, 20, at_most=False),
            profile_call(lambda: sensitivity(res, draws=draws, seed=0)),
        )

    def scaling(self, shape: Shape) -> None:
        """CLI json cost per row at 0.25 .. 4 M rows (quick: ÷ 10); max deviation from median."""
        per_row = []
        argv0 = ["--rubric", self.rubric_arg(shape), "--format", "json"]
        for size in SCALE_SIZES:
            path, n = self.make(shape, round(size * self.scale))
            out = self.work / "scale.json"
            run = run_cli(["score", str(path), *argv0, "--output", str(out)], self.repeats)
            per_row.append((n, run.median / n))
            print(
                f"  {n:,} rows: {run.median:.2f} s, {run.median / n * 1e6:.2f} µs/row, "
                f"peak {run.peak_kb / 1024:.0f} MB",
                flush=True,
            )
            path.unlink()
        mid = statistics.median(c for _, c in per_row)
        dev = max(abs(c / mid - 1) for _, c in per_row)
        spread = ", ".join(f"{k / 1e6:.2f}M {c * 1e6:.2f}" for k, c in per_row)
        self.add(
            shape,
            "score --format json µs per row; max deviation from the median",
            f"{spread}: {dev:.0%}",
            "≤ 25 %",
            dev <= 0.25,
        )
        # the same without the fixed cost of a one-row run: what grows with the rows
        net = [(k, c - self.fixed / k) for k, c in per_row]
        mid = statistics.median(c for _, c in net)
        dev = max(abs(c / mid - 1) for _, c in net)
        spread = ", ".join(f"{k / 1e6:.2f}M {c * 1e6:.2f}" for k, c in net)
        self.add(
            shape,
            "the same less the fixed cost of a one-row run (information)",
            f"{spread}: {dev:.0%}",
            "—",
            None,
        )


def machine() -> str:
    """nproc, CPU model, Python and numpy versions."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import pyarrow

        arrow = f", pyarrow {pyarrow.__version__}"
    except ImportError:
        arrow = ", no pyarrow"
    return (
        f"{os.cpu_count()} cores, {model}, {platform.machine()}, Python "
        f"{platform.python_version()}, numpy {np.__version__}{arrow}"
    )


def commit() -> str:
    """The short commit of the working tree measured (with + when it has local changes)."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "../src"],
            cwd=here,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + (" + uncommitted changes in src/" if dirty else "")


def table(rows: list[Row]) -> str:
    """The result table in Markdown."""
    lines = ["| shape | measure | result | goal | |", "|---|---|---|---|---|"]
    for r in rows:
        mark = {True: "met", False: "**missed**", None: "—"}[r.met]
        lines.append(f"| {r.shape} | {r.measure} | {r.value} | {r.goal} | {mark} |")
    return "\n".join(lines)


def main() -> None:
    """Parse the options, run the shapes, print the table (and profiles of misses)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="every shape 10× smaller")
    p.add_argument(
        "--shapes", help="comma-separated shape names: " + ", ".join(s.name for s in SHAPES)
    )
    p.add_argument("--repeats", type=int, help="timed runs after the warm-up (3; quick: 2)")
    p.add_argument(
        "--profile",
        action="store_true",
        help="cProfile (top 15 by tottime) of each command whose goal is missed",
    )
    args = p.parse_args()
    chosen = list(SHAPES)
    if args.shapes:
        names = [s.strip() for s in args.shapes.split(",") if s.strip()]
        unknown = sorted(set(names) - {s.name for s in SHAPES})
        if unknown:
            p.error(
                f"unknown shape(s) {', '.join(unknown)}; choose from "
                + ", ".join(s.name for s in SHAPES)
            )
        chosen = [s for s in SHAPES if s.name in names]
    scale = 0.1 if args.quick else 1.0
    if args.repeats is None:
        args.repeats = 2 if args.quick else 3
    started = time.perf_counter()
    first = commit()
    print(f"kepatuhan {kepatuhan.__version__} at {first}; {machine()}")
    print(f"CLI: {' '.join(kepatuhan_command())}; mode {'quick' if args.quick else 'full'}")
    with tempfile.TemporaryDirectory(prefix="kepatuhan-bench-") as d:
        bench = Bench(Path(d), scale, args.repeats, args.profile)
        bench.startup()
        for shape in chosen:
            bench.shape(shape)
    print(
        f"\n## {'Quick' if args.quick else 'Full'} run, {time.strftime('%Y-%m-%d')}, "
        f"commit {first}{'' if commit() == first else f' (at the end: {commit()})'}, "
        f"{time.perf_counter() - started:.0f} s; {machine()}\n"
    )
    print(table(bench.rows))
    missed = [r for r in bench.rows if r.met is False]
    print(f"\n{len(missed)} of {sum(r.met is not None for r in bench.rows)} goals missed.")
    for r in missed:
        if r.profile_text:
            print(f"\n### cProfile: {r.shape}, {r.measure}\n")
            print(r.profile_text)


if __name__ == "__main__":
    main()
