"""Rubric files in TOML: read with exact decimals, write back so the round trip is the identity.

cattrs structures the TOML tables into the attrs classes of :mod:`kepatuhan.rubric`
(unknown keys refused, every problem collected); its exception groups are turned into
one :class:`~kepatuhan.RubricError` whose problems name the file and the key path in the
user's terms (``criterion "proses".weight``), with a did-you-mean for a misspelt key.
"""

from __future__ import annotations

import contextvars
import copy
import os
import re
import sys
import typing
from collections.abc import Callable, Mapping
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
from ..rubric import (
    DERIVE_CHANGES,
    NOT_APPLICABLE_KEYS,
    Criterion,
    CriterionTree,
    Label,
    Levels,
    NotApplicableFor,
    Rubric,
    RuleRef,
    ScaleRef,
    criterion_tree,
)
from .files import read_text

if TYPE_CHECKING:
    from ..plugins import PluginManager, Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # the `tomli` dependency on Python < 3.11

__all__ = [
    "derived_rubric",
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


def _rule(value: Any, _: Any) -> RuleRef:
    if isinstance(value, str):
        return RuleRef(value)
    if isinstance(value, Mapping):
        if not isinstance(value.get("name"), str):
            raise _Invalid(
                f"expected rule.name (a registered aggregator), found {fmt(value.get('name'))}"
            )
        try:
            params = {k: _param(v) for k, v in value.items() if k != "name"}
        except ValueError as exc:
            raise _Invalid(str(exc).replace("scale parameters", "rule parameters")) from None
        return RuleRef(value["name"], tuple(params.items()))
    raise _Invalid(f'expected a rule: "name" or {{ name = "…", … }}, found {fmt(value)}')


def _unstructure_ref(ref: ScaleRef | RuleRef) -> Any:
    """``"name"`` without parameters, else an inline table ``{ name = "…", … }``."""
    if not ref.params:
        return ref.name
    return {"name": ref.name, **{k: list(v) if isinstance(v, tuple) else v for k, v in ref.params}}


def _not_applicable_for(value: Any, _: Any) -> NotApplicableFor:
    """``{ unit_sector = ["kesehatan"] }``: known keys only (with a did-you-mean), each a
    list of strings (a bare string is refused: it is not read as its letters)."""
    if not isinstance(value, Mapping):
        raise _Invalid(
            f'expected a table such as {{ unit_sector = ["kesehatan"] }}, found {fmt(value)}'
        )
    problems: list[Problem] = []
    known = list(NOT_APPLICABLE_KEYS)
    for k, v in value.items():
        if k not in NOT_APPLICABLE_KEYS:
            problems.append(
                Problem(
                    f'unknown key "{k}"'
                    + (suggest(k, known) or f"; known keys: {', '.join(known)}"),
                    key_path=str(k),
                    expected="one of " + ", ".join(known),
                    found=f'"{k}"',
                )
            )
        elif not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            problems.append(
                Problem(
                    f"expected a list of strings, found {fmt(v)}",
                    key_path=str(k),
                    expected='a list such as ["kesehatan"]',
                    found=fmt(v),
                )
            )
    if problems:
        raise RubricError(problems)
    return NotApplicableFor(**{k: tuple(v) for k, v in value.items()})


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, omit_if_default=True)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)
    conv.register_structure_hook(int, _strict_int)
    conv.register_structure_hook(Decimal, _decimal)
    conv.register_structure_hook(Label, _label)
    conv.register_structure_hook(ScaleRef, _scale)
    conv.register_structure_hook(NotApplicableFor, _not_applicable_for)
    conv.register_unstructure_hook(
        NotApplicableFor, lambda r: {name: list(values) for name, values in r.rules()}
    )
    conv.register_unstructure_hook(Decimal, lambda d: d)
    conv.register_unstructure_hook(
        Label, lambda lab: lab.id if lab.en is None else {"id": lab.id, "en": lab.en}
    )
    conv.register_structure_hook(RuleRef, _rule)
    conv.register_unstructure_hook(ScaleRef, _unstructure_ref)
    conv.register_unstructure_hook(RuleRef, _unstructure_ref)
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
    if "extends" in data or "remove" in data:
        try:  # a derived rubric is validated as a whole once its parent's tables are merged
            return rubric_from_dict(data, path), []
        except KepatuhanError as exc:
            return None, [
                p if p.path is not None else attrs.evolve(p, path=path) for p in exc.problems
            ]
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


def rubric_from_dict(
    data: Mapping[str, Any],
    path: str | None = None,
    *,
    installed: Callable[[str], Rubric] | None = None,
) -> Rubric:
    """A rubric from parsed TOML (a dict with Decimal numbers); RubricError on any problem.

    A table with ``extends = "…"`` is derived from that rubric (see :func:`derived_rubric`);
    ``installed`` resolves an installed id there (default:
    :func:`kepatuhan.plugins.installed_rubric`).
    """
    if not isinstance(data, Mapping):
        raise RubricError(Problem(f"expected a table, found {fmt(data)}", path=path))
    if "extends" in data:
        return derived_rubric(data, path, installed=installed)
    if "remove" in data:
        raise RubricError(
            Problem(
                '"remove" drops criteria of the rubric a file extends; this file has no extends',
                path=path,
                key_path="remove",
                expected='extends = "RUBRIC-ID" beside it',
                found="no extends",
            )
        )
    rubric, problems = rubric_problems(data, path)
    if problems or rubric is None:
        raise RubricError(problems)
    return rubric


# -- extends: a rubric derived from another -------------------------------------------------
#: What is being derived in this thread, outermost first (``id:…`` and ``file:…`` keys with
#: the name shown), so ``A extends B extends A`` is a located error, not a recursion.
_DERIVING: contextvars.ContextVar[tuple[tuple[frozenset[str], str], ...]] = contextvars.ContextVar(
    "kepatuhan_deriving", default=()
)
#: Keys of a file that extends another, beside the rubric's own fields.
_DERIVE_KEYS = ("extends", "remove")


def _at_key(problems: list[Problem], path: str | None, key: str) -> RubricError:
    return RubricError([attrs.evolve(p, path=path, key_path=key) for p in problems])


def _problems(
    exc: BaseException, segments: list[Any], cls: type | None, data: Any
) -> list[Problem]:
    """The problems of a cattrs exception group, without their spots."""
    return [p for p, _ in _located(exc, segments, cls, data)]


def _parent_rubric(
    ref: str, path: str | None, child: str, installed: Callable[[str], Rubric] | None
) -> Rubric:
    """The rubric ``extends = ref`` names: a file (relative to the extending file's folder)
    or an installed id; a cycle or a missing parent is a RubricError at ``extends``."""
    if is_rubric_file(ref):
        base = Path(path).parent if path else Path.cwd()
        target = Path(ref) if Path(ref).is_absolute() else base / ref
        key, shown = f"file:{os.path.abspath(target)}", str(target)
    else:
        key, shown = f"id:{ref}", f'"{ref}"'
    chain = (*_DERIVING.get(), _being_derived(child, path))
    for at, (keys, _) in enumerate(chain):
        if key in keys:
            raise _at_key(
                [
                    Problem(
                        "rubrics extend each other in a cycle: "
                        + " extends ".join([*(name for _, name in chain[at:]), shown]),
                        expected="a chain of rubrics that ends",
                        found=f"{shown} again",
                    )
                ],
                path,
                "extends",
            )
    token = _DERIVING.set(chain)
    try:
        if key.startswith("file:"):
            if not Path(target).is_file():
                raise _at_key(
                    [
                        Problem(
                            f"no rubric file {target} to extend",
                            expected="the path of a rubric file, relative to this file's folder",
                            found=fmt(ref),
                        )
                    ],
                    path,
                    "extends",
                )
            return load_rubric(target, installed=installed)
        from ..plugins import installed_rubric

        try:
            return (installed or installed_rubric)(ref)
        except KepatuhanError as exc:
            if isinstance(exc, RubricError) and any(p.path for p in exc.problems):
                raise  # a problem inside the parent's own file: located there
            raise _at_key(
                [attrs.evolve(p, message=f"cannot extend: {p.message}") for p in exc.problems],
                path,
                "extends",
            ) from None
    finally:
        _DERIVING.reset(token)


def _being_derived(child: str, path: str | None) -> tuple[frozenset[str], str]:
    """The ``_DERIVING`` entry of a rubric being derived: its keys (id, file) and its name."""
    if path is None:
        return frozenset({f"id:{child}"}), f'"{child}"'
    return frozenset({f"id:{child}", f"file:{os.path.abspath(path)}"}), f'{path} ("{child}")'


def derived_rubric(
    data: Mapping[str, Any],
    path: str | None = None,
    *,
    installed: Callable[[str], Rubric] | None = None,
) -> Rubric:
    """The rubric of a table with ``extends = "RUBRIC-ID"`` (an installed id or a file path).

    ``[[criterion]]`` tables naming an inherited id replace only the keys they give; other
    ids add criteria; ``remove = ["id", …]`` drops subtrees; ``[levels.institution]`` or
    ``[levels.unit]`` replace only the keys they give; ``[[source]]`` tables are added (the same id
    replaces one); ``bands``, ``flag``, ``alternative``, ``missing``, ``year`` and
    ``description`` replace the parent's when given. The whole is built by
    :meth:`Rubric.derive`: validated as one rubric, with its own version (``"1"`` unless
    given) and digest, and ``derived_from`` naming the parent's id and digest.
    """
    problems: list[Problem] = []
    ref = data["extends"]
    if not isinstance(ref, str) or not ref:
        raise RubricError(
            Problem(
                f"expected the id of an installed rubric or the path of a rubric file, "
                f"found {fmt(ref)}",
                path=path,
                key_path="extends",
            )
        )
    known = [*_fields_of(Rubric), *_DERIVE_KEYS]
    for key in data:
        if key == "derived_from":
            problems.append(
                Problem(
                    '"derived_from" is written for a rubric that was derived; a file that '
                    "extends another gets it from its parent",
                    key_path=key,
                    expected="no derived_from beside extends",
                    found='"derived_from"',
                )
            )
        elif key not in known:
            problems.append(
                Problem(
                    f'unknown key "{key}"'
                    + (suggest(key, known) or f"; known keys: {', '.join(known)}"),
                    key_path=key,
                    expected="one of " + ", ".join(known),
                    found=f'"{key}"',
                )
            )
    if not isinstance(data.get("id"), str):
        problems.append(
            Problem(
                "required key missing"
                if "id" not in data
                else f"expected a string, found {fmt(data['id'])}",
                key_path="id",
                expected="the derived rubric's own id",
                found="nothing" if "id" not in data else fmt(data["id"]),
            )
        )
    for key in ("title", "version"):
        if key in data and not isinstance(data[key], str):
            problems.append(Problem(f"expected a string, found {fmt(data[key])}", key_path=key))
    remove = data.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(x, str) for x in remove):
        problems.append(
            Problem(
                f"expected a list of criterion ids, found {fmt(remove)}",
                key_path="remove",
                expected='remove = ["id", …]',
                found=fmt(remove),
            )
        )
    tables = data.get("criterion", [])
    if not isinstance(tables, list):
        problems.append(
            Problem(f"expected an array of tables, found {fmt(tables)}", key_path="criterion")
        )
        tables = []
    if problems:
        raise RubricError(problems).with_path(path)
    parent = _parent_rubric(ref, path, data["id"], installed)
    inherited = {c["id"]: c for c in unstructure_rubric(parent).get("criterion", [])}
    criteria: list[Criterion] = []
    for i, table in enumerate(tables):
        if not isinstance(table, Mapping) or not isinstance(table.get("id"), str):
            problems.append(
                Problem(
                    "expected a table with an id (an inherited criterion to change, or a new one)",
                    key_path=f"criterion[{i}].id",
                    found=fmt(table),
                )
            )
            continue
        merged = {**inherited.get(table["id"], {}), **table}
        try:
            criteria.append(_CONVERTER.structure(merged, Criterion))
        except Exception as exc:  # every problem of every table is collected
            problems.extend(_problems(exc, ["criterion", i], Criterion, data))
    hints = typing.get_type_hints(Rubric)
    attr_of = {key: attr for attr, key in _RENAME[Rubric].items()}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        attr = attr_of.get(key, key)
        if attr not in DERIVE_CHANGES:
            continue
        if attr == "levels" and isinstance(value, Mapping):
            # a level's table replaces only the keys it gives, as a criterion's does: a table
            # holding a note alone must not reset the parent's weight_by or combine
            inherited = _CONVERTER.unstructure(parent.levels)
            value = {
                **inherited,
                **{
                    lvl: {**inherited.get(lvl, {}), **rule} if isinstance(rule, Mapping) else rule
                    for lvl, rule in value.items()
                },
            }
        try:
            changes[attr] = _CONVERTER.structure(value, hints[attr])
        except Exception as exc:  # as for the criteria
            problems.extend(_problems(exc, [key], None, data))
    if problems:
        raise RubricError(problems).with_path(path)
    try:
        return parent.derive(
            data["id"],
            title=data.get("title"),
            version=data.get("version", "1"),
            remove=remove,
            criteria=criteria,
            **changes,
        )
    except RubricError as exc:
        raise RubricError(exc.problems).with_path(path) from None


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


def rubric_from_toml(
    text: str, path: str | None = None, *, installed: Callable[[str], Rubric] | None = None
) -> Rubric:
    """A rubric from TOML text (``installed``: see :func:`rubric_from_dict`)."""
    return rubric_from_dict(parse_toml(text, path), path, installed=installed)


def load_rubric(
    path: str | os.PathLike[str] | Any, *, installed: Callable[[str], Rubric] | None = None
) -> Rubric:
    """Read a rubric TOML file (a path, or a ``importlib.resources`` Traversable).

    Raises :class:`~kepatuhan.InputFileError` if the file cannot be read or parsed and
    :class:`~kepatuhan.RubricError` listing every problem of its content. Scale and
    aggregator names are checked when the rubric is registered or used, not here.

    A file with ``extends = "…"`` is derived from that rubric: a path is taken from this
    file's folder; an installed id is resolved by ``installed`` (default
    :func:`kepatuhan.plugins.installed_rubric`, which also works inside a
    ``kepatuhan_register_rubrics`` hook).
    """
    if isinstance(path, (str, os.PathLike)):
        return rubric_from_toml(read_text(path), str(path), installed=installed)
    try:  # importlib.resources.abc.Traversable (package data of a plugin)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(Problem(f"cannot read: {exc}", path=str(path))) from None
    return rubric_from_toml(text, str(path), installed=installed)


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
        "derived_from",
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
    """Write ``rubric`` to ``path`` as TOML.

    A derived rubric is written flattened — every criterion, band and source, no
    ``extends`` — with a ``[derived_from]`` table naming its parent's id and digest: the file
    stands alone (it reads back equal, with the same digest, without the parent installed).
    """
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
    from ..plugins import default_manager, installed_rubric

    pm = plugins or default_manager()
    if not is_rubric_file(ref):
        return pm.registry.rubric(ref)
    path = Path(ref) if base is None or Path(ref).is_absolute() else base / ref
    try:
        rubric = load_rubric(path, installed=lambda rid: installed_rubric(rid, plugins=pm))
    except ValueError as exc:  # Python's limit on the digits of an integer
        if not is_too_many_digits(exc):
            raise
        raise too_many_digits(str(path)) from None
    problems = pm.registry.check(rubric)
    if problems:
        raise RubricError(problems).with_path(str(path))
    return rubric
