"""The exception hierarchy: every error kepatuhan raises is a :class:`KepatuhanError`.

Each error carries its place as data (``path``, ``line``, ``key_path``) together with what
was ``expected`` and what was ``found``, so a notebook or a GUI can show it its own way;
``str(error)`` gives the one-line form ``file:line-or-key: what was expected, what was found``.
An error that gathers several problems (a rubric with three mistakes) keeps every one of
them in ``problems``, so the user fixes the file once, not three times.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TypeVar

import attrs

_E = TypeVar("_E", bound="KepatuhanError")

__all__ = [
    "DuplicateNameError",
    "DuplicateObservationError",
    "InputFileError",
    "KepatuhanError",
    "ObservationError",
    "PluginError",
    "Problem",
    "ProblemLog",
    "RubricError",
    "UnknownNameError",
    "fmt",
    "id_key",
    "listed",
    "suggest",
]


@attrs.frozen
class Problem:
    """One thing wrong with an input, and where it is.

    ``path`` is the file (or ``None`` for an in-memory object), ``line`` a 1-based line of
    that file, ``key_path`` a dotted TOML/JSON key path such as ``criterion "proses".weight``.
    """

    message: str
    path: str | None = None
    line: int | None = None
    key_path: str | None = None
    expected: str | None = None
    found: str | None = None

    def location(self) -> str:
        """The ``file:line`` / ``file: key`` prefix of the one-line form (may be empty)."""
        parts = []
        if self.path is not None:
            parts.append(self.path if self.line is None else f"{self.path}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.key_path:
            parts.append(self.key_path)
        return ": ".join(parts)

    def __str__(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message


def _problem_text(problem: Problem) -> str:
    return str(problem)


class KepatuhanError(Exception):
    """Root of every error kepatuhan raises on purpose.

    Catch this one class to handle any bad rubric, observation file, plugin or argument.
    ``problems`` lists every problem found (at least one); the attributes ``path``,
    ``line``, ``key_path``, ``expected`` and ``found`` are those of the first.
    """

    def __init__(self, problems: Problem | str | Sequence[Problem]) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            self.problems = (Problem("unspecified error"),)
        super().__init__("\n".join(_problem_text(p) for p in self.problems))

    @property
    def path(self) -> str | None:
        """The file of the first problem."""
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        """The 1-based line of the first problem, if it is about a line."""
        return self.problems[0].line

    @property
    def key_path(self) -> str | None:
        """The key path of the first problem, if it is about a key."""
        return self.problems[0].key_path

    @property
    def expected(self) -> str | None:
        """What was expected at the first problem's place."""
        return self.problems[0].expected

    @property
    def found(self) -> str | None:
        """What was found at the first problem's place."""
        return self.problems[0].found

    def with_path(self: _E, path: str | None) -> _E:
        """The same error (same class) with ``path`` filled in where it was missing.

        The one place a file is prefixed to problems found without knowing the file (a
        parsed table checked in memory, then reported against the file it came from).
        ``None`` returns the error unchanged.
        """
        if path is None or all(p.path is not None for p in self.problems):
            return self
        fixed = [p if p.path is not None else attrs.evolve(p, path=path) for p in self.problems]
        return type(self)(fixed)


class InputFileError(KepatuhanError):
    """A file cannot be read: missing, a directory, not UTF-8, not valid TOML/CSV/JSON, too big."""


class RubricError(KepatuhanError):
    """A rubric is invalid: wrong types, unknown keys, bad tree, weights, bands or scales."""


class ObservationError(KepatuhanError):
    """An observation is invalid: unknown criterion or entity, value outside its scale, …"""


class DuplicateObservationError(ObservationError):
    """The same entity and criterion are observed more than once."""


class PluginError(KepatuhanError):
    """A plugin misbehaved: raised, returned the wrong type, or failed to load."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same rubric id, aggregator or scale name."""


class UnknownNameError(KepatuhanError):
    """A rubric, aggregator or scale name that no installed plugin provides."""


def listed(problems: Sequence[Problem], total: int, kind: str = "") -> list[Problem]:
    """The problems an error lists: ``problems`` (the first found), then, when ``total`` is
    larger, one closing line ``… and N more problems`` (``kind``: `` of the same kind``).

    The one rule for "the first problems and a count of the rest", used by the engine's
    checks and by the observation readers (:class:`ProblemLog`).
    """
    out = list(problems)
    if total > len(out):
        out.append(Problem(f"… and {total - len(out)} more problems{kind}"))
    return out


class ProblemLog:
    """Problems gathered across a whole file, kept in the order they were found.

    At most ``limit`` are kept; the rest are only counted, so a file with a million bad rows
    does not hold a million problems. :meth:`raise_if_any` raises them together at the end.
    """

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self.kept: list[Problem] = []
        self.total = 0

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, error: KepatuhanError) -> None:
        """Record every problem of ``error`` (those past the limit are counted only)."""
        for p in error.problems:
            self.total += 1
            if len(self.kept) < self.limit:
                self.kept.append(p)

    def error(
        self, cls: type[KepatuhanError] = ObservationError, also: Problem | None = None
    ) -> KepatuhanError:
        """Every problem recorded (then ``also``, a last one that stopped the reading) as one
        ``cls``: the first :attr:`limit` and a closing count of the rest."""
        problems = listed(self.kept, self.total)
        return cls(problems if also is None else [*problems, also])

    def raise_if_any(self, cls: type[KepatuhanError] = ObservationError) -> None:
        """Raise :meth:`error` when a problem was recorded; nothing otherwise."""
        if self:
            raise self.error(cls)


def fmt(value: object) -> str:
    """Render a found value for a message: strings quoted, others as ``repr``."""
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


def id_key(ident: str) -> str:
    """What two spellings of one id share: ``Kab-X`` and ``kab-x`` are one institution.

    Two ids of one place with one key are refused (a spreadsheet's autocorrect must not split
    one unit into two): criteria of a rubric (:class:`kepatuhan.Rubric`), entities within one
    observation file (the reader), an institution across the results of a panel
    (:func:`kepatuhan.analysis.panel.panel`).
    """
    return ident.lower() if ident.isascii() else unicodedata.normalize("NFC", ident.casefold())


def suggest(name: str, known: Iterable[str]) -> str:
    """The did-you-mean hint for a misspelt ``name``: `` (did you mean "x"?)`` or ``""``.

    The one rule for every "unknown …" message: the closest of ``known`` by
    :func:`difflib.get_close_matches` (cutoff 0.6), quoted, with a leading space so the
    caller appends it straight after the unknown name.
    """
    close = difflib.get_close_matches(name, list(known), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


#: Python's limit on the digits of an integer read from text (``sys.int_info``).
MAX_DIGITS = 4300


def too_many_digits(path: str | None, what: str = "a number") -> InputFileError:
    """The located error for a number of more than :data:`MAX_DIGITS` digits, which Python's
    readers (JSON, TOML, int()) refuse with a bare ``ValueError``; ``what`` names the file
    kind in the message (``invalid JSON: a number …``)."""
    return InputFileError(
        Problem(
            f"{what} with more than {MAX_DIGITS} digits; expected a score or a weight",
            path=path,
            expected=f"a number of at most {MAX_DIGITS} digits",
            found="a longer number",
        )
    )


def is_too_many_digits(exc: ValueError) -> bool:
    """Whether ``exc`` is Python's refusal of an integer with too many digits."""
    return "integer string conversion" in str(exc)
