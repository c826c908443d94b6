"""Rubric size: building, validating, indexing, loading and describing are linear in criteria.

No wall time is measured here (benchmarks/bench_rubric.py does that). Instead every Python
and C function call made while handling a rubric is counted with ``sys.setprofile`` — a
deterministic number for a given rubric — and the count for 10,000 criteria must stay
within 12 × the count for 1,000 (linear work gives 10 ×; the quadratic code this replaces,
which re-hashed the whole rubric for every criterion it looked up, gave about 100 ×).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from types import FrameType

import pytest

from kepatuhan import Rubric, RubricError, ScaleRef, rubric_from_toml, rubric_to_toml
from kepatuhan.authoring.lint import lint_rubric
from kepatuhan.describe import rubric_document, rubric_markdown
from kepatuhan.plugins import PluginManager
from kepatuhan.rubric import MAX_DEPTH, Criterion

SMALL, LARGE = 1_000, 10_000
#: Linear work grows 10 × from SMALL to LARGE; a little room for fixed costs, none for n².
LINEAR_BOUND = 12.0


def wide(n: int) -> list[Criterion]:
    """A root with ``n - 1`` indicators, of three scales and levels, each citing a source."""
    scales = ("yes_no", "percentage", ScaleRef("points", (("max", Decimal(3)),)))
    return [Criterion("total", "Nilai")] + [
        Criterion(
            f"c{i}",
            f"Indikator {i}",
            parent="total",
            weight=1 + i % 5,
            scale=scales[i % 3],
            level=("institution", "unit", "product")[i % 3],
            source="https://ombudsman.go.id/",
            confidence="stated",
        )
        for i in range(n - 1)
    ]


def deep(n: int, depth: int = 60) -> list[Criterion]:
    """Chains ``depth`` long under one root (near the depth limit), each ending in a leaf."""
    out = [Criterion("total", "Nilai")]
    k = 0
    while len(out) < n:
        parent = "total"
        length = min(depth, n - len(out))
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
            parent = f"c{k}"
            k += 1
    return out


def handle(criteria: list[Criterion], pm: PluginManager) -> Rubric:
    """Everything done with a rubric: build (validates), TOML out and in, tree, checks, show."""
    rubric = Rubric("besar", "Besar", criteria)
    loaded = rubric_from_toml(rubric_to_toml(rubric))
    assert loaded == rubric and loaded.digest == rubric.digest
    tree = loaded.tree
    assert len(tree.order) == len(criteria) and tree.root.id == "total"
    for c in loaded.criteria:  # every lookup by id: the pattern that used to re-hash
        assert loaded.criterion(c.id) is tree.nodes[tree.index[c.id]]
    assert pm.registry.check(loaded) == []
    doc = rubric_document(loaded)
    assert len(doc["criteria"]) == len(criteria)
    assert rubric_markdown(loaded).count("\n| `c") == len(criteria) - 1
    lint_rubric(loaded)
    return loaded


def count_calls(work: Callable[[], object]) -> int:
    """The number of function calls (Python and C) ``work`` makes."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


@pytest.fixture(scope="module")
def pm() -> PluginManager:
    manager = PluginManager(entrypoints=False, env={})
    _ = manager.registry
    return manager


@pytest.mark.parametrize("shape", [wide, deep], ids=["wide", "deep"])
def test_handling_a_rubric_is_linear_in_its_criteria(
    shape: Callable[[int], list[Criterion]], pm: PluginManager
) -> None:
    handle(shape(50), pm)  # warm-up: one-time costs (generated converters, caches)
    small_criteria, large_criteria = shape(SMALL), shape(LARGE)
    small = count_calls(lambda: handle(small_criteria, pm))
    large = count_calls(lambda: handle(large_criteria, pm))
    assert small > SMALL  # the counter sees the work
    assert large / small <= LINEAR_BOUND, (small, large, large / small)


def test_the_deep_variant_is_as_deep_as_allowed() -> None:
    rubric = Rubric("besar", "Besar", deep(200))
    assert max(len(rubric.tree.path(i)) for i in rubric.tree.order) - 1 == 60 <= MAX_DEPTH


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda n: [Criterion("total", "T"), *chain(n)], "criterion tree too deep"),
        (
            lambda n: [Criterion("total", "T"), *chain(n, first_parent=f"c{n - 1}")],
            "criterion cycle",
        ),
    ],
    ids=["too-deep", "cycle"],
)
def test_refusing_a_long_chain_is_linear(
    make: Callable[[int], list[Criterion]], fragment: str
) -> None:
    """A 10,000-long chain (too deep) or cycle is refused after one walk, not one per node."""

    def refuse(n: int) -> Callable[[], None]:
        criteria = make(n)

        def work() -> None:
            with pytest.raises(RubricError, match=fragment):
                Rubric("besar", "Besar", criteria)

        return work

    refuse(2 * MAX_DEPTH)()  # warm-up, and long enough to be refused
    small, large = count_calls(refuse(SMALL)), count_calls(refuse(LARGE))
    assert large / small <= LINEAR_BOUND, (small, large, large / small)


def chain(n: int, first_parent: str = "total") -> list[Criterion]:
    """``n`` criteria each the parent of the next; the last one an indicator."""
    out = []
    for k in range(n):
        last = k == n - 1
        out.append(
            Criterion(
                f"c{k}",
                "K",
                parent=first_parent if k == 0 else f"c{k - 1}",
                scale="yes_no" if last else None,
                level="unit" if last else None,
            )
        )
    return out
