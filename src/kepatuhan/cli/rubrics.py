"""Commands about rubrics and plugins: ``rubrics``, ``plugins``, ``show``, ``validate``,
``new-rubric``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import attrs

from ..describe import rubric_document, rubric_markdown
from ..errors import (
    InputFileError,
    KepatuhanError,
    Problem,
    RubricError,
)
from ..io.files import read_text
from ..io.rubric_toml import is_rubric_file, parse_toml, rubric_problems
from ..plugins import PluginManager
from ..rubric import short_digest
from . import common
from .common import (
    Col,
    _emit,
    _emit_records,
    _print_error,
    _resolve_rubric,
    _table,
    _too_long_number,
)


# -- commands ------------------------------------------------------------------------------
def _joined(values: Any) -> str:
    return ", ".join(values) if isinstance(values, list) else ("" if values is None else values)


#: The columns of ``rubrics`` (table, CSV and JSON alike).
RUBRIC_COLUMNS = (
    Col("id"),
    Col("year"),
    Col("version"),
    Col("plugin"),
    Col("title"),
    Col("digest", short_digest),
    Col("derived_from", lambda d: "" if d is None else f"{d['id']}@{short_digest(d['digest'])}"),
)
#: The columns of ``plugins``; a broken plugin shows ``BROKEN``, its error (one line) in
#: ``error``, and under ``rubrics`` the ids it registered before it failed.
PLUGIN_COLUMNS = (
    Col("name"),
    Col("version"),
    Col("distribution"),
    Col("rubrics", _joined),
    Col("scales", _joined),
    Col("aggregators", _joined),
    Col("hooks", _joined),
    Col("error", _joined),
)


def cmd_rubrics(args: argparse.Namespace) -> int:
    """List installed rubrics, a derived one with its parent (``id@digest``; JSON: ``{id,
    digest}``); a note on stderr names the broken plugins, whose rubrics are not listed."""
    reg = common._manager().registry
    if reg.broken:
        print(
            f"note: {len(reg.broken)} broken plugin(s) not listed: "
            + ", ".join(sorted(reg.broken))
            + " (kepatuhan plugins shows why)",
            file=sys.stderr,
        )
    items = [reg.rubrics[k] for k in sorted(reg.rubrics)]
    records = [
        {
            "id": r.value.id,
            "year": r.value.year,
            "version": r.value.version,
            "plugin": r.plugin,
            "title": r.value.title,
            "digest": r.value.digest,
            "derived_from": None
            if r.value.derived_from is None
            else {"id": r.value.derived_from.id, "digest": r.value.derived_from.digest},
        }
        for r in items
    ]
    _emit_records(args.format, RUBRIC_COLUMNS, records)
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List plugins with versions and what they provide; broken plugins with their error."""
    pm = common._manager()
    infos = pm.plugins()
    broken = pm.broken
    offered = pm.registry.orphans  # rubric ids a broken plugin registered before it failed
    records: list[dict[str, Any]] = [
        {
            "name": p.name,
            "version": p.version,
            "distribution": p.distribution,
            "rubrics": list(p.rubrics),
            "scales": list(p.scales),
            "aggregators": list(p.aggregators),
            "hooks": list(p.hooks),
            "error": None,
        }
        for p in infos
        if p.name not in broken
    ]
    records += [
        {
            "name": name,
            "version": "BROKEN",
            "distribution": pm.distribution_of(name),
            "rubrics": sorted(r for r, p in offered.items() if p == name),
            "scales": [],
            "aggregators": [],
            "hooks": [],
            "error": error,
        }
        for name, error in sorted(broken.items())
    ]
    _emit_records(args.format, PLUGIN_COLUMNS, records)
    return 0


def _param_text(value: object) -> str:
    """A scale parameter as the rubric file writes it: ``0``, ``2.5``, ``[0, 1, 2]``, ``true``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_param_text(v) for v in value) + "]"
    return str(value)  # a Decimal prints its digits as written (Decimal("2.50") -> 2.50)


def cmd_show(args: argparse.Namespace) -> int:
    """Print a rubric: tree with weights, levels, scales and sources; bands."""
    rubric = _resolve_rubric(args.rubric, common._manager())
    doc = rubric_document(rubric)
    tree = rubric.tree
    rows: list[tuple[str, ...]] = []
    for i in tree.preorder():
        c = tree.nodes[i]
        depth = len(tree.path(i)) - 1
        w = (
            f"{c.points} pts"
            if c.points is not None
            else (str(c.weight) if c.weight is not None else "")
        )
        scale = (
            ""
            if c.scale is None
            else c.scale.name + "".join(f" {k}={_param_text(v)}" for k, v in c.scale.params)
        )
        rows.append(
            (
                "  " * depth + c.id,
                c.label.id,
                w,
                doc["criteria"][len(rows)]["level"],
                str(c.rule) if not tree.is_leaf(i) else scale,
                c.confidence or "",
                c.source or "",
            )
        )
    if args.format == "markdown":
        print(rubric_markdown(rubric), end="")
        return 0
    if args.format != "table":
        _emit(
            args.format,
            rows,
            ("criterion", "label", "weight", "level", "rule/scale", "confidence", "source"),
            doc,
        )
        return 0
    print(f"{rubric.id} — {rubric.title} (version {rubric.version}, {rubric.digest[:19]}…)")
    if rubric.derived_from is not None:
        print(f"derived from {rubric.derived_from.id} ({rubric.derived_from.digest})")
        for earlier in rubric.derived_from.lineage[1:]:  # the parent's parents, back to the first
            print(f"  which is derived from {earlier.id} ({earlier.digest})")
    lv = rubric.levels
    print(
        f"levels: institution = {lv.institution.combine} of units ({lv.institution.weight_by}); "
        f"unit = {lv.unit.combine} of products"
        + (f" ({lv.unit.weight_by})" if lv.unit.weight_by != "equal" else "")
        + f"; missing = {rubric.missing}"
    )
    for c in rubric.criteria:
        if c.not_applicable_for is not None:
            rules = "; ".join(f"{k} {', '.join(v)}" for k, v in c.not_applicable_for.rules())
            print(f"not applicable: {c.id} (with its subtree) for {rules}")
    print()
    print(
        _table(
            rows, ("criterion", "label", "weight", "level", "rule/scale", "confidence", "source")
        )
    )
    if rubric.bands is not None:
        print()
        print(
            _table(
                [
                    (
                        b.id,
                        b.label,
                        b.zone or "",
                        str(b.min),
                        "" if b.max is None else str(b.max),
                        b.confidence or "",
                        b.source or "",
                    )
                    for b in rubric.bands.bands
                ],
                ("band", "label", "zone", "min", "max", "confidence", "source"),
            )
        )
    if rubric.sources:
        print()
        for s in rubric.sources:
            print(f"[{s.id}] {s.title}" + (f" <{s.url}>" if s.url else ""))
    return 0


def cmd_new_rubric(args: argparse.Namespace) -> int:
    """Scaffold a rubric plugin package that passes its own tests."""
    from ..authoring.scaffold import new_rubric_package

    parent, dist = None, None
    ref = getattr(args, "from_rubric", None)
    if ref is not None:
        if is_rubric_file(ref):
            raise InputFileError(
                Problem(
                    "--from takes an installed rubric id (the new plugin extends it by id), "
                    f"found a file: {ref}",
                    expected="an installed rubric id, e.g. ombudsman-2023",
                    found=ref,
                )
            )
        pm = common._manager()
        parent = pm.registry.rubric(ref)
        provider = pm.registry.rubrics[parent.base_id].plugin
        dist = next((p.distribution for p in pm.plugins() if p.name == provider), None)
    root = new_rubric_package(args.name, args.dir, parent=parent, parent_distribution=dist)
    print(f"created {root}")
    print(f'next: cd {root} && python -m pip install -e ".[test]" && python -m pytest')
    return 0


def _validate_one(
    args: argparse.Namespace, path: str, pm: PluginManager
) -> tuple[list[Problem], list[Problem]]:
    """Raise on errors (every error of a rubric file at once); return the lint findings and
    the hints (rubric files only)."""
    from ..authoring.lint import lint_hints, lint_rubric

    p = Path(path)
    rubric_ref = args.rubric
    if p.suffix.lower() == ".toml":
        try:
            data = parse_toml(read_text(path), path)
        except ValueError as exc:
            located = _too_long_number(exc, path)
            if located is None:
                raise
            raise located from None
        if not {"observation", "observations", "institution", "unit", "product"} & set(data):
            rubric, problems = rubric_problems(data, path, pm.registry)
            if problems or rubric is None:
                raise RubricError(problems)
            return (
                [attrs.evolve(f, path=path) for f in lint_rubric(rubric)],
                [attrs.evolve(h, path=path) for h in lint_hints(rubric)],
            )
    table = common._read_table(args, path)
    if rubric_ref is not None:
        from ..engine import score

        score(_resolve_rubric(rubric_ref, pm), table, plugins=pm)
    return [], []


def cmd_validate(args: argparse.Namespace) -> int:
    """Check rubric and observation files, and lint rubrics; exit 1 on any error.

    Every error of a rubric file is reported in one pass. Lint findings (a number without a
    source) are printed as ``lint:`` lines; with ``--strict`` they fail the check too.
    Hints (weights that look like percentages but do not add up to 100) are printed as
    ``hint:`` lines and never fail it.
    """
    pm = common._manager()
    bad = 0
    for path in args.paths:
        try:
            findings, hints = _validate_one(args, path, pm)
        except KepatuhanError as exc:
            bad += 1
            _print_error(exc, path)
            continue
        for f in findings:
            print(f"lint: {f}", file=sys.stderr)
        for h in hints:
            print(f"hint: {h}", file=sys.stderr)
        if findings and args.strict:
            bad += 1
        else:
            notes = [f"{len(findings)} lint findings"] if findings else []
            notes += [f"{len(hints)} hints"] if hints else []
            print(f"ok {path}" + (f" ({', '.join(notes)})" if notes else ""))
    return 1 if bad else 0
