"""Reproducing published figures: recompute each case from its observations and compare.

A cases file (TOML ``[[case]]`` tables, or CSV with the same columns) lists published
figures: ``entity`` (institution id), optional ``unit``, ``rubric``, ``data`` (the
observation file, relative to the cases file), ``published`` (the two-decimal figure as
printed), optional ``band``, ``source`` and ``expect`` (``exact``, ``rounding``,
``band`` or ``differs``). Each is recomputed and given a verdict: *exact* (the same two
decimals), *within rounding* (one hundredth apart: published components were rounded
before they were added), or *different*.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from ..errors import InputFileError, KepatuhanError, Problem, UnknownNameError
from ..io.files import read_text
from ..io.observations_io import read_observations
from ..io.rubric_toml import is_rubric_file, resolve_rubric
from ..plugins import PluginManager, default_manager
from ..rounding import publish
from ..rubric import LEVELS
from ..states import RowClass

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Reproduction", "read_cases", "reproduce", "reproduce_published"]

EXPECTS = ("exact", "rounding", "band", "differs")
_KEYS = ("entity", "unit", "rubric", "data", "published", "band", "source", "expect", "note")


@attrs.frozen
class Reproduction:
    """One case: what was published, what kepatuhan computes, and the verdict.

    ``expect`` is the case's expectation (``exact``, ``rounding``, ``band``, ``differs``),
    or ``none`` on the rows of a rubric's other alternatives, which are shown, not judged.
    ``basis`` says what was computed: ``recomputed`` (the figure was computed from lower
    nodes; ``inputs`` says from how many rows at which levels) or ``restated`` (the figure
    itself was an input, so matching it proves nothing: never counted as a reproduction).
    """

    entity: str
    unit: str | None
    rubric: str
    published: str
    recomputed: float | None
    recomputed_published: str | None
    difference: float | None
    band_published: str | None
    band_recomputed: str | None
    verdict: str
    expect: str
    source: str | None
    basis: str = "recomputed"
    inputs: str = ""

    @property
    def reproduced(self) -> bool:
        """A recomputed figure (not restated) that gives the published two decimals."""
        return self.basis == "recomputed" and self.verdict in ("exact", "within rounding")

    @property
    def band_match(self) -> bool | None:
        """Whether the recomputed band equals the published one (None if none published)."""
        if self.band_published is None:
            return None
        return self.band_published == self.band_recomputed

    @property
    def as_expected(self) -> bool:
        """Whether the verdict is what the case expects."""
        if self.expect == "exact":
            return self.verdict == "exact"
        if self.expect == "rounding":
            return self.verdict in ("exact", "within rounding")
        if self.expect == "band":
            return self.band_match is True
        if self.expect == "none":
            return True
        return self.verdict == "different"


def read_cases(path: str | Path) -> list[dict[str, Any]]:
    """The cases of a TOML or CSV cases file, each checked for its keys."""
    text = read_text(path)
    where = str(path)
    if where.endswith(".toml"):
        try:
            raw = tomllib.loads(text).get("case", [])
        except tomllib.TOMLDecodeError as exc:
            raise InputFileError(Problem(f"invalid TOML: {exc}", path=where)) from None
    else:
        raw = list(csv.DictReader(io.StringIO(text)))
    if not isinstance(raw, list) or not raw:
        raise InputFileError(
            Problem("expected [[case]] tables (or CSV rows), found none", path=where)
        )
    cases = []
    for i, c in enumerate(raw):
        key = f"case[{i}]"
        if not isinstance(c, Mapping):
            raise InputFileError(Problem("expected a table", path=where, key_path=key))
        unknown = [k for k in c if k not in _KEYS]
        missing = [k for k in ("entity", "rubric", "data", "published") if not c.get(k)]
        if unknown or missing:
            what = (
                f"unknown key {unknown[0]!r}" if unknown else f"required key {missing[0]!r} missing"
            )
            raise InputFileError(
                Problem(f"{what}; a case has {', '.join(_KEYS)}", path=where, key_path=key)
            )
        expect = str(c.get("expect") or "band")
        if expect not in EXPECTS:
            raise InputFileError(
                Problem(
                    f"expected one of {', '.join(EXPECTS)}, found {expect!r}",
                    path=where,
                    key_path=f"{key}.expect",
                )
            )
        cases.append(
            {
                **{k: (str(v) if v not in (None, "") else None) for k, v in c.items()},
                "expect": expect,
            }
        )
    return cases


def _verdict(published: str, value: float) -> str:
    diff = abs(Decimal(publish(value)) - Decimal(published))
    if diff == 0:
        return "exact"
    if diff <= Decimal("0.01"):
        return "within rounding"
    return "different"


def reproduce(
    cases_path: str | Path,
    *,
    alternatives: bool = False,
    plugins: PluginManager | None = None,
) -> list[Reproduction]:
    """Recompute every case of a cases file; with ``alternatives`` also under each named
    alternative of its rubric (``rubric:alternative`` rows)."""
    from ..engine import score

    pm = plugins or default_manager()
    base = Path(cases_path).resolve().parent
    out: list[Reproduction] = []
    cache: dict[tuple[str, str], Any] = {}
    for case in read_cases(cases_path):
        rubric = resolve_rubric(case["rubric"], pm, base=base)
        variants = [rubric.id]
        if alternatives and not is_rubric_file(case["rubric"]):
            base_id = rubric.base_id
            every = [base_id] + [
                f"{base_id}:{a.id}" for a in pm.registry.rubric(base_id).alternatives
            ]
            variants += [v for v in every if v != rubric.id]
        for rid in variants:
            key = (rid, case["data"])
            if key not in cache:
                try:
                    this = rubric if rid == rubric.id else pm.registry.rubric(rid)
                    cache[key] = score(this, read_observations(base / case["data"]), plugins=pm)
                except KepatuhanError as exc:
                    if rid == rubric.id:
                        raise
                    cache[key] = exc  # an alternative that does not apply to these data
            res = cache[key]
            if isinstance(res, KepatuhanError):
                out.append(
                    Reproduction(
                        case["entity"],
                        case.get("unit"),
                        rid,
                        case["published"],
                        None,
                        None,
                        None,
                        case.get("band"),
                        None,
                        f"refused: {res.problems[0].message}",
                        "none",
                        case.get("source"),
                    )
                )
                continue
            out.append(_judge(res, case, rid, rubric.id))
    return out


def _judge(res: Any, case: Mapping[str, Any], rid: str, main_id: str) -> Reproduction:
    """One case against a result: the entity's figure, its verdict and its basis."""
    card = res.card(case["entity"])
    i = res.institution_index(case["entity"])
    level, e = 0, i
    if case.get("unit"):
        units = [u for u in card.children if u.id == case["unit"]]
        if not units:
            raise UnknownNameError(f'institution "{case["entity"]}" has no unit "{case["unit"]}"')
        card = units[0]
        level, e = 1, res._unit_index(i, case["unit"])
    value = card.score
    basis, inputs = _basis(res, level, e)
    return Reproduction(
        entity=case["entity"],
        unit=case.get("unit"),
        rubric=rid,
        published=case["published"],
        recomputed=value,
        recomputed_published=card.published,
        difference=None
        if value is None
        else float(Decimal(publish(value)) - Decimal(case["published"])),
        band_published=case.get("band"),
        band_recomputed=None if card.band is None else card.band.id,
        verdict="not scored" if value is None else _verdict(case["published"], value),
        # an alternative is shown, not judged: the case's expectation is its rubric's
        expect=case["expect"] if rid == main_id else "none",
        source=case.get("source"),
        basis=basis,
        inputs=inputs,
    )


def _basis(res: Any, level: int, e: int) -> tuple[str, str]:
    """``restated`` when the entity's overall score was itself given; else ``recomputed``,
    with the rows used below it counted per level (``7 unit rows``)."""
    if res.given_at(level)[res.root, e]:
        return "restated", "the figure itself"
    t = res.table
    unit_of = np.full(len(t), -1, dtype=np.intp)
    inst_of = np.full(len(t), -1, dtype=np.intp)
    for lv in range(3):
        rows = np.flatnonzero(t.level == lv)
        ent = t.entity[rows]
        unit = ent if lv == 1 else (t.product_unit[ent] if lv == 2 else np.full(len(ent), -1))
        unit_of[rows] = unit
        inst_of[rows] = ent if lv == 0 else t.unit_institution[unit]
    mine = (inst_of == e) if level == 0 else (unit_of == e)
    used = mine & (res.row_class == RowClass.USED)
    counts = np.bincount(t.level[used], minlength=3)
    parts = [f"{int(c)} {LEVELS[lv]} rows" for lv, c in enumerate(counts) if c]
    return "recomputed", ", ".join(parts) or "no rows"


def reproduce_published(
    *, year: int | None = None, plugins: PluginManager | None = None
) -> list[Reproduction]:
    """Recompute every reproducible figure of the published record the plugins ship.

    An institution total is recomputed from its units' printed totals where the source
    prints *all* its units (``unit_set = all``); a unit total from its printed dimension
    points. Each row is judged as ``exact``, ``within rounding`` or ``different`` and shown,
    not asserted (``expect = none``): a difference is a finding about the record (Kampar
    2021's official 99.70 is not the mean of its article's units).
    """
    from .. import published
    from ..engine import score

    pm = plugins or default_manager()
    records = [r for r in published(year=year, plugins=pm) if r.edition and r.value]
    groups: dict[tuple[int, str, str], list[Any]] = {}
    for r in records:
        groups.setdefault((r.year, r.edition or "", r.institution_id), []).append(r)
    out: list[Reproduction] = []
    for (yr, edition, inst), recs in sorted(groups.items()):
        rubric = pm.registry.rubric(edition)
        # one source that prints every unit with its total: the institution's figures
        # (from any source: Kampar 2021's article and its official figure) are judged on it
        by_source: dict[str, list[Any]] = {}
        for r in recs:
            if r.unit and r.criterion == "total" and r.unit_set == "all" and not r.product:
                by_source.setdefault(r.source.id, []).append(r)
        totals = max(by_source.values(), key=len, default=[])
        if totals:
            rows = [
                dict(institution=inst, unit=_slug(r.unit), criterion="total", value=r.value)
                for r in totals
            ]
            for whole in (r for r in recs if not r.unit and r.criterion == "total"):
                out.append(_judge_records(score, rubric, rows, inst, None, whole, pm, yr))
        for u in sorted({r.unit for r in recs if r.unit}):
            parts = [r for r in recs if r.unit == u and r.criterion != "total" and not r.product]
            whole_u = next((r for r in recs if r.unit == u and r.criterion == "total"), None)
            if parts and whole_u is not None:
                rows = [
                    dict(institution=inst, unit=_slug(u), criterion=r.criterion, value=r.value)
                    for r in parts
                ]
                out.append(_judge_records(score, rubric, rows, inst, _slug(u), whole_u, pm, yr))
    return out


def _judge_records(
    score: Any,
    rubric: Any,
    rows: list[dict[str, Any]],
    inst: str,
    unit: str | None,
    record: Any,
    pm: PluginManager,
    year: int,
) -> Reproduction:
    from ..observations import ObservationTable

    table = ObservationTable.from_records(rows, source=f"published {year}")
    # the edition first, then its alternatives: a rule that needs what the record does not
    # print (2021 weighs units by their products) gives way to one that does not
    variants = [rubric, *(pm.registry.rubric(f"{rubric.id}:{a.id}") for a in rubric.alternatives)]
    res, used, refusal = None, rubric, ""
    for variant in variants:
        try:
            res, used = score(variant, table, plugins=pm), variant
            break
        except KepatuhanError as exc:
            refusal = refusal or exc.problems[0].message
    case = {
        "entity": inst,
        "unit": unit,
        "published": record.value,
        "band": None,
        "expect": "none",
        "source": f"{record.source.publisher} ({record.source.date}) {record.source.url or ''}"
        + ("" if record.official else " — not an official result"),
    }
    if res is None:
        return Reproduction(
            inst,
            unit,
            rubric.id,
            record.value,
            None,
            None,
            None,
            None,
            None,
            f"refused: {refusal}",
            "none",
            case["source"],
            "recomputed",
            "",
        )
    return _judge(res, case, used.id, used.id)


def _slug(name: str) -> str:
    """A unit id from its printed name (``Puskesmas Watdek`` → ``puskesmas-watdek``)."""
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())
