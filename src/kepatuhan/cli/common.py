"""What every command shares: the plugin manager, rubric references, reading
observation files with their options, output checks and atomic writes, table/CSV/JSON
rendering, and the argument types and parent parsers."""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import attrs

from ..analysis.reasons import Reason
from ..analysis.verify import (
    load_result,
    read_options,
    result_document,
    write_result,
)
from ..bands import BandScheme
from ..errors import (
    InputFileError,
    KepatuhanError,
    ObservationError,
    Problem,
    RubricError,
    is_too_many_digits,
    too_many_digits,
)
from ..io.files import check_output, write_text_atomic
from ..io.observations_io import read_observations
from ..io.rubric_toml import is_rubric_file, resolve_rubric
from ..observations import ObservationTable
from ..plugins import PluginManager, default_manager
from ..present import lang
from ..present.lang import DEFAULT_LANG, LANGS
from ..results import Scores
from ..rounding import publish
from ..rubric import Rubric

FORMATS = ("table", "json", "csv")


def _manager() -> PluginManager:
    return default_manager()


def _checked(rubric: Rubric, path: str, pm: PluginManager) -> Rubric:
    """The rubric read from ``path``, after checking its scale and aggregator names."""
    problems = pm.registry.check(rubric)
    if problems:
        raise RubricError(problems).with_path(path)
    return rubric


def _too_long_number(exc: ValueError, path: str) -> InputFileError | None:
    """A located error for Python's limit on digits in an integer (JSON/TOML readers)."""
    return too_many_digits(path) if is_too_many_digits(exc) else None


def _resolve_rubric(ref: str, pm: PluginManager) -> Rubric:
    """The rubric ``--rubric`` names (:func:`kepatuhan.io.rubric_toml.resolve_rubric`)."""
    return resolve_rubric(ref, pm)


def _unicode_check(table: ObservationTable, path: str) -> None:
    """Refuse a name that is not valid Unicode (a JSON ``\\udc80`` escape, a lone surrogate):
    it can be neither hashed into the input digest nor printed."""
    names: list[str | None] = list(table.criterion_ids)
    for ents in (table.institutions, table.units, table.products):
        for e in ents:
            names.extend((e.id, e.name, getattr(e, "kind", None), getattr(e, "sector", None)))
    for name in names:
        if name is None:
            continue
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = f"\\u{ord(name[exc.start]):04x}"
            raise ObservationError(
                Problem(
                    f"the name {name!a} has a lone surrogate {code} "
                    "(an escape that is no character)",
                    path=path,
                    expected="Unicode text",
                    found=code,
                )
            ) from None


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """How observation files are read (``--decimal-comma``, ``--delimiter``)."""
    return read_options(
        bool(getattr(args, "decimal_comma", False)), getattr(args, "delimiter", None)
    )


def _read_table(args: argparse.Namespace, path: str) -> ObservationTable:
    """Read an observation file with the command's reading options."""
    try:
        opts = _options(args)
        table = read_observations(
            path, decimal_comma=opts["decimal_comma"], delimiter=opts["delimiter"]
        )
    except ValueError as exc:
        located = _too_long_number(exc, path)
        if located is None:
            raise
        raise located from None
    _unicode_check(table, path)
    return table


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    cells = [[("" if c is None else str(c)) for c in r] for r in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _csv(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows([["" if c is None else c for c in r] for r in rows])
    return buf.getvalue().rstrip("\n")


def _render(fmt: str, rows: Sequence[Sequence[Any]], header: Sequence[str], data: Any) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if fmt == "csv":
        return _csv(rows, header)
    return _table(rows, header)


def _emit(fmt: str, rows: Sequence[Sequence[Any]], header: Sequence[str], data: Any) -> None:
    print(_render(fmt, rows, header, data))


@attrs.frozen
class Col:
    """One column of a command's output: its name heads the table and the CSV and is the
    JSON key; ``text`` renders a value for the table and the CSV (JSON keeps the value)."""

    name: str
    text: Callable[[Any], str] = attrs.field(default=lambda v: "" if v is None else str(v))
    table: bool = True
    """Shown in the table too (a wide record keeps its detail columns for CSV and JSON)."""


def _emit_records(fmt: str, cols: Sequence[Col], records: Sequence[Mapping[str, Any]]) -> None:
    """Print records through one column spec: the table, the CSV and the JSON carry the same
    columns under the same names (JSON values stay numbers where they are numbers)."""
    if fmt == "json":
        out = [{c.name: r[c.name] for c in cols} for r in records]
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
        return
    shown = cols if fmt == "csv" else [c for c in cols if c.table]
    rows = [[c.text(r[c.name]) for c in shown] for r in records]
    print(_render(fmt, rows, [c.name for c in shown], None))


def _signed(x: float) -> str:
    """A published figure with its sign (``+1.25``, ``-0.40``)."""
    text = publish(x)
    return text if text.startswith("-") else "+" + text


# -- files ---------------------------------------------------------------------------------
def _inputs(args: argparse.Namespace) -> list[str]:
    """Every file the command reads (an output must not be one of them)."""
    out: list[str] = []
    for key in ("data", "cases", "result"):
        if isinstance(getattr(args, key, None), str):
            out.append(getattr(args, key))
    for key in ("inputs", "results", "paths"):
        out.extend(getattr(args, key, None) or [])
    ref = getattr(args, "rubric", None)
    if isinstance(ref, str) and is_rubric_file(ref):
        out.append(ref)
    return out


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse every output path of the command before anything is computed or written."""
    outs = [getattr(args, k, None) for k in ("output", "weights")]
    inputs = _inputs(args)
    for out in outs:
        if out is not None:
            check_output(out, inputs)


def _write_text(path: str, text: str) -> None:
    write_text_atomic(path, text if text.endswith("\n") else text + "\n")


def _score(args: argparse.Namespace, data: str | None = None) -> Scores:
    """Score the command's observation file (``data``, else ``args.data``) under its
    ``--rubric``, after checking its outputs; ``args`` is read, never changed."""
    from ..engine import score

    _check_outputs(args)
    pm = _manager()
    rubric = _resolve_rubric(args.rubric, pm)
    table = _read_table(args, args.data if data is None else data)
    return score(rubric, table, plugins=pm)


def _document(res: Scores, args: argparse.Namespace) -> dict[str, Any]:
    """The result document, with what ``kepatuhan verify`` needs to score it again."""
    return result_document(res, rubric_ref=args.rubric, data_path=args.data, options=_options(args))


def _write_to(path: Path, emit: Callable[[TextIO], None]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        emit(f)


def _write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    w.writerows(["" if c is None else c for c in r] for r in rows)


# -- plumbing ------------------------------------------------------------------------------
#: The most weight draws (an institutions × draws matrix is held in memory).
MAX_DRAWS = 1_000_000


def _whole_number(text: str, low: int, high: int, what: str) -> int:
    """A whole number from ``low`` to ``high`` (an argparse type); ``what`` names it."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text[:40]!r}") from None
    if not low <= n <= high:
        raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, found {n}")
    return n


def _draws(text: str) -> int:
    """``--draws``: a whole number from 1 to :data:`MAX_DRAWS`."""
    return _whole_number(text, 1, MAX_DRAWS, "draws")


def _seed(text: str) -> int:
    """``--seed``: a whole number from 0 to 2**64 - 1 (numpy's seeds are non-negative)."""
    return _whole_number(text, 0, 2**64 - 1, "a seed")


def _top(text: str) -> int:
    """``--top``: a whole number from 1 to 1000 (rows of a picture)."""
    return _whole_number(text, 1, 1000, "a count")


def _spread(text: str) -> float:
    """``--spread``: a finite number from 0 up to (not including) 1, so weights stay > 0."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text[:40]!r}") from None
    if not (math.isfinite(x) and 0 <= x < 1):
        raise argparse.ArgumentTypeError(
            f"expected a number from 0 to below 1 (each weight × (1 ± spread)), found {text[:40]}"
        )
    return x


def _delimiter(text: str) -> str:
    """``--delimiter``: one character (``tab`` or ``\\t`` for a tab), not a quote or newline."""
    ch = "\t" if text in ("tab", "\\t") else text
    if len(ch) != 1 or ch in '"\r\n' or ch.isalnum():
        raise argparse.ArgumentTypeError(
            f"expected one character such as ; or , or tab, found {text[:40]!r}"
        )
    return ch


def _scored_options() -> _Parser:
    """``DATA --rubric REF``: what every command that scores a file takes (a parent parser)."""
    parent = _Parser(add_help=False)
    parent.add_argument("data", help="observation file (CSV, TOML or JSON)")
    parent.add_argument(
        "--rubric",
        required=True,
        help="an installed rubric id (ombudsman-2023, ombudsman-2021:unit-mean) or a rubric "
        "TOML file (a path ending in .toml or with a /)",
    )
    return parent


def _data_options() -> _Parser:
    """The options of every command that reads an observation file (a parent parser)."""
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("reading observation files")
    group.add_argument(
        "--decimal-comma",
        action="store_true",
        help="values are written 85,5 (an Indonesian spreadsheet); fields are then usually "
        "separated by ;",
    )
    group.add_argument(
        "--delimiter",
        type=_delimiter,
        help="the CSV field separator (default: , or sniffed); one character, or tab",
    )
    return parent


def _people_options() -> _Parser:
    """The options of every command whose output people read (a parent parser): the
    language and the decimal separator of what is shown. Machine formats (json, csv) are
    the same under every choice: ids, name and label columns, dot decimals."""
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("output for people")
    group.add_argument(
        "--lang",
        choices=LANGS,
        default=DEFAULT_LANG,
        help="the language of headers, states, zones, criterion and band labels: Bahasa "
        "Indonesia (id, the default: the language of a rubric's primary labels) or English "
        "(en)",
    )
    group.add_argument(
        "--print-decimal-comma",
        action="store_true",
        help="show figures as 60,80 (Indonesian documents) in tables, text and pages; json "
        "and csv keep 60.80. Not --decimal-comma, which is how DATA is read",
    )
    return parent


@attrs.frozen
class Shown:
    """How a command shows things to people: ``--lang`` and ``--print-decimal-comma``."""

    lang: str = DEFAULT_LANG
    decimal_comma: bool = False

    def word(self, key: str, **fields: object) -> str:
        """The catalogue's word for ``key``, its places filled from ``fields``
        (:func:`kepatuhan.present.lang.word`)."""
        return lang.word(key, self.lang, **fields)

    def num(self, x: float | None) -> str:
        """A score published and shown (:func:`kepatuhan.present.lang.format_score`)."""
        return lang.format_score(x, self.decimal_comma)

    def pub(self, text: str | None) -> str:
        """An already published figure shown (:func:`kepatuhan.present.lang.format_published`)."""
        return lang.format_published(text, self.decimal_comma)

    def band(self, scheme: BandScheme | None, band_id: str | None) -> str:
        """Band ``band_id`` of ``scheme`` as people read it (``C — Kualitas Sedang``,
        :func:`kepatuhan.present.lang.band_text`); an id the scheme lacks is shown as
        written, no band as the empty string."""
        if not band_id:
            return ""
        band = None if scheme is None else scheme.get(band_id)
        return band_id if band is None else lang.band_text(band, self.lang)

    def zone(self, zone: str | None) -> str:
        """A zone's word (:func:`kepatuhan.present.lang.zone_label`)."""
        return lang.zone_label(zone, self.lang)

    def reason(self, reason: Reason, rubric: Rubric) -> str:
        """Why an analysis gives no answer, in the language, criteria by their labels
        (:func:`kepatuhan.present.lang.reason_text`)."""
        return lang.reason_text(
            reason, self.lang, self.decimal_comma, lambda cid: self.label(rubric, cid)
        )

    def label(self, rubric: Rubric, criterion: str) -> str:
        """Criterion ``criterion``'s label in the language; an id the rubric lacks is shown
        as written."""
        try:
            return lang.criterion_label(rubric.criterion(criterion), self.lang)
        except RubricError:
            return criterion


def _shown(args: argparse.Namespace) -> Shown:
    """The command's :class:`Shown` (defaults for a command without the options)."""
    return Shown(
        getattr(args, "lang", None) or DEFAULT_LANG,
        bool(getattr(args, "print_decimal_comma", False)),
    )


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # usage errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _print_error(exc: KepatuhanError, default_path: str | None = None) -> None:
    for prob in exc.problems:
        if prob.path is None and default_path is not None:
            prob = Problem(prob.message, path=default_path, line=prob.line, key_path=prob.key_path)
        print(str(prob), file=sys.stderr)


def _check_result_for_panel(path: str) -> None:
    """Refuse a result file the panel cannot line up, with the key that is wrong."""
    from ..analysis.panel import check_result_document

    check_result_document(load_result(path), path)


def _institution_names(results: Sequence[str]) -> dict[str, str]:
    """``{institution id: name}`` from result documents (the names a panel shows; an
    institution without a name is not in it)."""
    names: dict[str, str] = {}
    for path in results:
        for inst in load_result(path).get("institutions", []):
            if isinstance(inst, dict) and isinstance(inst.get("name"), str) and inst["name"]:
                names[str(inst["id"])] = inst["name"]
    return names


def _result_writer(res: Scores, args: argparse.Namespace) -> Callable[[TextIO], None]:
    """Writes the result document (``score --format json``, ``export FILE.json``) to a
    stream, recording what ``verify`` needs to score it again."""
    return functools.partial(
        write_result,
        scores=res,
        rubric_ref=args.rubric,
        data_path=args.data,
        options=_options(args),
    )
