"""Rubric files in TOML: read with exact decimals, write back so the round trip is the identity.

cattrs structures the TOML tables into the attrs classes of :mod:`kepatuhan.rubric`
(unknown keys refused, every problem collected); its exception groups are turned into
one :class:`~kepatuhan.RubricError` whose problems name the file and the key path in the
user's terms (``criterion "proses".weight``), with a did-you-mean for a misspelt key.
"""

from __future__ import annotations

import copy
import os
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import cattrs
import tomli_w
from cattrs.errors import (
    AttributeValidationNote,
    BaseValidationError,
    ForbiddenExtraKeysError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ..bands import BandScheme
from ..decimals import to_decimal
from ..errors import (
    InputFileError,
    KepatuhanError,
    Problem,
    RubricError,
    fmt,
    is_too_many_digits,
    suggest,
    too_many_digits,
)
from ..rubric import Criterion, CriterionTree, Label, Levels, Rubric, ScaleRef, criterion_tree
from .files import read_text

if TYPE_CHECKING:
    from ..plugins import PluginManager, Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # the `tomli` dependency on Python < 3.11

__all__ = [
    "dump_rubric",
    "is_rubric_file",
    "load_rubric",
    "parse_toml",
    "resolve_rubric",
    "rubric_from_dict",
    "rubric_from_toml",
    "rubric_problems",
    "rubric_to_toml",
    "unstructure_rubric",
]

# attrs attribute name -> TOML key, per class (lists of tables read better singular).
# Nested classes first: a class's generated hook captures its fields' hooks when made.
_RENAME: dict[type, dict[str, str]] = {
    BandScheme: {"bands": "band"},
    Rubric: {
        "criteria": "criterion",
        "sources": "source",
        "alternatives": "alternative",
        "flags": "flag",
    },
}


class _Invalid(ValueError):
    """A value of the wrong type or form; the message says what was expected and found."""


def _strict_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, found {fmt(value)}")
    return value


def _strict_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, found {fmt(value)}")
    return value


def _strict_int(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Invalid(f"expected a whole number, found {fmt(value)}")
    return value


def _decimal(value: Any, _: Any) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError as exc:
        raise _Invalid(str(exc)) from None


def _label(value: Any, _: Any) -> Label:
    if isinstance(value, str):
        return Label(value)
    if isinstance(value, Mapping):
        extra = set(value) - {"id", "en"}
        if extra:
            raise _Invalid(f"a label has keys id and en, found {', '.join(sorted(extra))}")
        if not isinstance(value.get("id"), str):
            raise _Invalid(f"expected label.id (Indonesian text), found {fmt(value.get('id'))}")
        en = value.get("en")
        if en is not None and not isinstance(en, str):
            raise _Invalid(f"expected label.en to be text, found {fmt(en)}")
        return Label(value["id"], en)
    raise _Invalid(f'expected a label: "text" or {{ id = "…", en = "…" }}, found {fmt(value)}')


def _param(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, Decimal)):
        return to_decimal(value)
    if isinstance(value, list):
        return tuple(to_decimal(v) for v in value)
    raise _Invalid(
        f"scale parameters are numbers, text, true/false or lists of numbers, found {fmt(value)}"
    )


def _scale(value: Any, _: Any) -> ScaleRef:
    if isinstance(value, str):
        return ScaleRef(value)
    if isinstance(value, Mapping):
        if not isinstance(value.get("name"), str):
            raise _Invalid(
                f"expected scale.name (a registered scale), found {fmt(value.get('name'))}"
            )
        try:
            params = {k: _param(v) for k, v in value.items() if k != "name"}
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
        return ScaleRef(value["name"], tuple(params.items()))
    raise _Invalid(f'expected a scale: "name" or {{ name = "…", … }}, found {fmt(value)}')


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, omit_if_default=True)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(Decimal, _decimal)
    conv.register_structure_hook(Label, _label)
    conv.register_structure_hook(ScaleRef, _scale)
    conv.register_unstructure_hook(Decimal, lambda d: d)
    conv.register_unstructure_hook(
        Label, lambda lab: lab.id if lab.en is None else {"id": lab.id, "en": lab.en}
    )
    conv.register_unstructure_hook(
        ScaleRef,
        lambda s: (
            s.name
            if not s.params
            else {
                "name": s.name,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in s.params},
            }
        ),
    )
    for cls, renames in _RENAME.items():
        kw: dict[str, Any] = {attr: override(rename=key) for attr, key in renames.items()}
        conv.register_structure_hook(
            cls, make_dict_structure_fn(cls, conv, _cattrs_forbid_extra_keys=True, **kw)
        )
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True, **kw)
        )
    return conv


_CONVERTER = _make_converter()


def _fields_of(cls: type | None) -> list[str]:
    if cls is None or not attrs.has(cls):
        return []
    renames = _RENAME.get(cls, {})
    return [renames.get(a.name, a.name) for a in attrs.fields(cls)]


def _key_name(cls: type | None, attr: str) -> str:
    return _RENAME.get(cls, {}).get(attr, attr) if cls is not None else attr


def _render_path(segments: list[Any], data: Any) -> str:
    """``["criterion", 3, "weight"]`` → ``criterion "proses".weight`` (ids looked up in data)."""
    out = ""
    node = data
    for seg in segments:
        if isinstance(seg, int):
            item = node[seg] if isinstance(node, list) and 0 <= seg < len(node) else None
            ident = item.get("id") if isinstance(item, Mapping) else None
            out += f' "{ident}"' if isinstance(ident, str) else f"[{seg}]"
            node = item
        else:
            out += f".{seg}" if out else str(seg)
            node = node.get(seg) if isinstance(node, Mapping) else None
    return out


#: Where a structural problem is: the raw key path into the parsed data (TOML keys and list
#: indices) and whether setting the spot aside loses nothing (an unknown key is ignored
#: anyway) or loses a value that a later check may depend on.
_Spot = tuple[list[Any], bool]


def _located(
    exc: BaseException, segments: list[Any], cls: type | None, data: Any
) -> list[tuple[Problem, _Spot]]:
    """Each problem of a cattrs exception group, with the spot in the data it is about."""
    if isinstance(exc, BaseValidationError):
        out: list[tuple[Problem, _Spot]] = []
        sub_cls = getattr(exc, "cl", None)
        for sub in exc.exceptions:
            seg: list[Any] = []
            sub_type: Any = None
            for note in getattr(sub, "__notes__", []):
                if isinstance(note, AttributeValidationNote):
                    seg = [_key_name(sub_cls, note.name)]
                    sub_type = note.type
                elif isinstance(note, IterableValidationNote):
                    seg = [note.index]
                    sub_type = note.type
            inner_cls = sub_type if isinstance(sub_type, type) and attrs.has(sub_type) else None
            out.extend(_located(sub, segments + seg, inner_cls or sub_cls, data))
        return out
    key = _render_path(segments, data)
    if isinstance(exc, ForbiddenExtraKeysError):
        known = _fields_of(exc.cl)
        return [
            (
                Problem(
                    f'unknown key "{k}"'
                    + (suggest(k, known) or f"; known keys: {', '.join(known)}"),
                    key_path=f"{key}.{k}" if key else k,
                    expected="one of " + ", ".join(known),
                    found=f'"{k}"',
                ),
                ([*segments, k], True),
            )
            for k in sorted(exc.extra_fields)
        ]
    spot: _Spot = (segments, False)
    if isinstance(exc, KeyError):
        missing = Problem("required key missing", key_path=key, expected="a value", found="nothing")
        return [(missing, spot)]
    if isinstance(exc, KepatuhanError):
        return [
            (
                attrs.evolve(
                    p, key_path=f"{key}.{p.key_path}" if key and p.key_path else p.key_path or key
                ),
                spot,
            )
            for p in exc.problems
        ]
    if isinstance(exc, _Invalid):
        return [(Problem(str(exc), key_path=key), spot)]
    table_wanted = cls is not None and attrs.has(cls) and bool(segments)
    if isinstance(exc, (TypeError, AttributeError)) and table_wanted:
        # cattrs read a table (a criterion, a band, …) from something that is not one
        value = _value_at(segments, data)
        if isinstance(segments[-1], int) and not isinstance(value, (Mapping, str)):
            return [(_not_a("a table", value, key), spot)]
    if isinstance(exc, (TypeError, ValueError)):
        return [(Problem(f"invalid value: {exc}", key_path=key), spot)]
    if isinstance(exc, AttributeError):  # cattrs read a table from something that is not one
        outer = _value_at(segments[:-1], data)
        if segments and isinstance(segments[-1], int) and isinstance(outer, str):
            # `criterion = "abc"`: each letter would be a table; say it once, of the list
            where = _render_path(segments[:-1], data)
            return [(_not_a("a list of tables", outer, where), (segments[:-1], False))]
        value = _value_at(segments, data)
        if not isinstance(value, Mapping):
            return [(_not_a("a table", value, key), spot)]
    raise exc


def _value_at(segments: list[Any], data: Any) -> Any:
    node = data
    for seg in segments:
        try:
            node = node[seg]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _not_a(expected: str, value: Any, key: str) -> Problem:
    found = fmt(value)
    return Problem(
        f"expected {expected}, found {found}", key_path=key, expected=expected, found=found
    )


#: Stand-ins for a required value that is missing or unreadable, so that the checks of the
#: rest of the file can run; what they would say about the stand-in itself is not reported.
_STAND_IN: dict[str, Any] = {"id": "unreadable", "title": "?", "label": "?", "min": Decimal(0)}
#: The top-level lists of tables, whose entries own the problems found inside them.
_LISTS = ("criterion", "source", "alternative", "flag")


class _CannotSetAside(Exception):
    """A spot with no stand-in (the criteria themselves): the later checks cannot run."""


def _set_aside(data: Any, spots: list[_Spot]) -> Any:
    """A copy of ``data`` without the values at ``spots`` (stand-ins where one is required)."""
    out = copy.deepcopy(data)
    drops: list[tuple[list[Any], int]] = []
    for n, (segments, _) in enumerate(spots):
        if not segments or segments == ["criterion"]:
            raise _CannotSetAside
        node = out
        for seg in segments[:-1]:
            try:
                node = node[seg]
            except (KeyError, IndexError, TypeError):
                break
        else:
            last = segments[-1]
            if isinstance(node, list) and isinstance(last, int):
                drops.append((node, last))
            elif isinstance(node, dict):
                if last in _STAND_IN:
                    node[last] = f"unreadable-{n}" if last == "id" else _STAND_IN[last]
                else:
                    node.pop(last, None)
    for items, index in sorted(drops, key=lambda d: -d[1]):  # from the end: indices hold
        if 0 <= index < len(items):
            del items[index]
    return out


def _owners(spots: list[_Spot], data: Any) -> list[str]:
    """The key paths whose later problems may only echo a value set aside: the criterion,
    table or band scheme that held it, and the parent of a criterion whose points, weight,
    parent or whole entry was set aside (and, for a parent or an entry, the tree's own
    problems, keyed ``criterion``: one root, no criteria)."""
    owners: list[str] = []
    for segments, lossless in spots:
        if lossless or not segments:
            continue
        head = segments[:2] if segments[0] in _LISTS and len(segments) > 1 else segments[:1]
        owners.append(_render_path(head, data))
        entry = segments[0] == "criterion" and len(segments) > 1 and isinstance(segments[1], int)
        if entry and (len(segments) == 2 or segments[2] in ("points", "weight", "parent", "id")):
            items = data.get("criterion")
            ok = isinstance(items, list) and 0 <= segments[1] < len(items)
            item = items[segments[1]] if ok else None
            parent = item.get("parent") if isinstance(item, Mapping) else None
            if isinstance(parent, str):
                owners.append(f'criterion "{parent}"')
            if len(segments) == 2 or segments[2] in ("parent", "id"):
                owners.append(_WHOLE_TREE)
    return owners


#: The key path of problems about the criteria as a whole (matched exactly, not as a prefix).
_WHOLE_TREE = "criterion"


def _echo(problem: Problem, owners: list[str]) -> bool:
    key = problem.key_path or ""
    return any(
        key == o or (o != _WHOLE_TREE and key.startswith((o + ".", o + " "))) for o in owners
    )


def _tree_and_levels(data: Any) -> tuple[CriterionTree, Levels] | None:
    """The criterion tree and roll-up rules of a file whose rubric could not be built."""
    try:
        criteria = _CONVERTER.structure(data.get("criterion", []), tuple[Criterion, ...])
        levels = _CONVERTER.structure(data.get("levels", {}), Levels)
    except (BaseValidationError, KepatuhanError, TypeError, ValueError, AttributeError):
        return None
    tree = criterion_tree(criteria)
    return None if tree is None else (tree, levels)


def rubric_problems(
    data: Mapping[str, Any], path: str | None = None, registry: Registry | None = None
) -> tuple[Rubric | None, list[Problem]]:
    """Every problem of a parsed rubric file, found in one pass, and the rubric if built.

    Structural problems (unknown keys, values of the wrong type or form, required keys
    missing) come first; then, with those values set aside, the rubric's own checks run on
    the rest (the tree, points that must add up, bands, sources), so a misspelt key, a bad
    number and a sum that does not add up are reported together. A later problem that may
    only follow from a value set aside (on the same criterion, or on its parent when its
    points or weight were unreadable) is not reported. Returns ``(rubric, [])`` for a valid
    file; otherwise the problems, each with ``path``, and the rubric built from the rest
    when that was possible, else ``None``. With a ``registry``, the names of scales and
    aggregators (and scale parameters) are checked too, even when the rest has problems.
    """
    if not isinstance(data, Mapping):
        return None, [Problem(f"expected a table, found {fmt(data)}", path=path)]
    found: list[Problem] = []
    rubric: Rubric | None = None
    rest: Any = data
    owners: list[str] = []
    try:
        rubric = _CONVERTER.structure(dict(data), Rubric)
    except KepatuhanError as exc:
        found.extend(exc.problems)
    except BaseValidationError as exc:
        located = _located(exc, [], Rubric, data)
        for p, _ in located:
            if p not in found:
                found.append(p)
        spots = [s for _, s in located]
        owners = _owners(spots, data)
        try:  # the same file with what could not be read set aside: the later checks
            rest = _set_aside(data, spots)
            rubric = _CONVERTER.structure(rest, Rubric)
        except _CannotSetAside:
            rest = None
        except KepatuhanError as again:
            found.extend(p for p in again.problems if not _echo(p, owners))
        except BaseValidationError as again:  # only a stand-in can fail here
            more = [p for p, _ in _located(again, [], Rubric, data)]
            found.extend(p for p in more if p not in found and not _echo(p, owners))
    if registry is not None:
        parts = (rubric.tree, rubric.levels) if rubric is not None else _tree_and_levels(rest)
        if parts is not None:
            named = registry.check_tree(*parts)
            found.extend(p for p in named if p not in found and not _echo(p, owners))
    problems = [p if p.path is not None else attrs.evolve(p, path=path) for p in found]
    return rubric, problems


def rubric_from_dict(data: Mapping[str, Any], path: str | None = None) -> Rubric:
    """A rubric from parsed TOML (a dict with Decimal numbers); RubricError on any problem."""
    rubric, problems = rubric_problems(data, path)
    if problems or rubric is None:
        raise RubricError(problems)
    return rubric


_TOML_POS = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_toml(text: str, path: str | None = None) -> dict[str, Any]:
    """Parse TOML with floats as exact Decimals; InputFileError with the line on bad syntax."""
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _TOML_POS.search(msg)
        line = int(m.group(1)) if m else None
        raise InputFileError(
            Problem(f"invalid TOML: {_TOML_POS.sub('', msg).strip()}", path=path, line=line)
        ) from None
    except RecursionError:
        raise InputFileError(
            Problem("invalid TOML: nested too deeply to read", path=path)
        ) from None


def rubric_from_toml(text: str, path: str | None = None) -> Rubric:
    """A rubric from TOML text."""
    return rubric_from_dict(parse_toml(text, path), path)


def load_rubric(path: str | os.PathLike[str] | Any) -> Rubric:
    """Read a rubric TOML file (a path, or a ``importlib.resources`` Traversable).

    Raises :class:`~kepatuhan.InputFileError` if the file cannot be read or parsed and
    :class:`~kepatuhan.RubricError` listing every problem of its content. Scale and
    aggregator names are checked when the rubric is registered or used, not here.
    """
    if isinstance(path, (str, os.PathLike)):
        return rubric_from_toml(read_text(path), str(path))
    try:  # importlib.resources.abc.Traversable (package data of a plugin)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(Problem(f"cannot read: {exc}", path=str(path))) from None
    return rubric_from_toml(text, str(path))


def unstructure_rubric(rubric: Rubric) -> dict[str, Any]:
    """The rubric as plain TOML-ready data (defaults omitted)."""
    data: dict[str, Any] = _CONVERTER.unstructure(rubric)
    return data


def rubric_to_toml(rubric: Rubric) -> str:
    """The rubric as TOML text; ``rubric_from_toml(rubric_to_toml(r)) == r``."""
    data = unstructure_rubric(rubric)
    # Scalars first, then tables: tomli-w keeps key order, and this reads best by hand.
    order = [
        "id",
        "title",
        "year",
        "version",
        "description",
        "missing",
        "levels",
        "alternative",
        "bands",
        "source",
        "criterion",
    ]
    ordered = {k: data[k] for k in order if k in data}
    ordered.update({k: v for k, v in data.items() if k not in ordered})
    return tomli_w.dumps(ordered, multiline_strings=True)


def dump_rubric(rubric: Rubric, path: str | os.PathLike[str]) -> None:
    """Write ``rubric`` to ``path`` as TOML."""
    Path(path).write_text(rubric_to_toml(rubric), encoding="utf-8")


# -- a rubric reference: the one place that says what --rubric X means ----------------------
def is_rubric_file(ref: str) -> bool:
    """Whether a rubric reference names a file: it ends in ``.toml`` or has a separator.

    Anything else is an installed rubric id (``ombudsman-2023``, or an alternative such as
    ``ombudsman-2021:unit-mean``), even if a file of that name happens to be in the working
    directory: a stray file must not shadow the official edition.
    """
    return ref.endswith(".toml") or "/" in ref or os.sep in ref


def resolve_rubric(
    ref: str, plugins: PluginManager | None = None, *, base: Path | None = None
) -> Rubric:
    """The rubric a reference names: an installed id, ``id:alternative``, or a TOML file.

    A file is read and checked against the installed scales and aggregators (errors name
    the file); a relative file path is taken from ``base`` when given (the folder of the
    result or cases file that recorded it). Every command, ``verify``, ``panel`` and
    ``reproduce`` resolve a reference here, so whatever ``score`` accepted they accept too.
    """
    from ..plugins import default_manager

    pm = plugins or default_manager()
    if not is_rubric_file(ref):
        return pm.registry.rubric(ref)
    path = Path(ref) if base is None or Path(ref).is_absolute() else base / ref
    try:
        rubric = load_rubric(path)
    except ValueError as exc:  # Python's limit on the digits of an integer
        if not is_too_many_digits(exc):
            raise
        raise too_many_digits(str(path)) from None
    problems = pm.registry.check(rubric)
    if problems:
        raise RubricError(problems).with_path(str(path))
    return rubric
