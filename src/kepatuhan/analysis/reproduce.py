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

from ..errors import InputFileError, KepatuhanError, Problem, UnknownNameError
from ..io.files import read_text
from ..io.observations_io import read_observations
from ..io.rubric_toml import is_rubric_file, resolve_rubric
from ..plugins import PluginManager, default_manager
from ..rounding import publish

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["Reproduction", "read_cases", "reproduce"]

EXPECTS = ("exact", "rounding", "band", "differs")
_KEYS = ("entity", "unit", "rubric", "data", "published", "band", "source", "expect", "note")


@attrs.frozen
class Reproduction:
    """One case: what was published, what kepatuhan computes, and the verdict.

    ``expect`` is the case's expectation (``exact``, ``rounding``, ``band``, ``differs``),
    or ``none`` on the rows of a rubric's other alternatives, which are shown, not judged.
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
            card = res.card(case["entity"])
            if case.get("unit"):
                units = [u for u in card.children if u.id == case["unit"]]
                if not units:
                    raise UnknownNameError(
                        f'institution "{case["entity"]}" has no unit "{case["unit"]}"'
                    )
                card = units[0]
            value = card.score
            out.append(
                Reproduction(
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
                    expect=case["expect"] if rid == rubric.id else "none",
                    source=case.get("source"),
                )
            )
    return out
