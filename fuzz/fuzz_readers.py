"""Coverage-guided fuzzing of the readers with atheris (``nox -s fuzz``).

Feeds arbitrary bytes to the CSV, TOML and JSON observation readers and to the rubric
reader; any exception that is not a ``KepatuhanError`` is a crash. Not part of the test
suite (it runs until stopped); the hypothesis fuzz tests in ``tests/test_fuzz.py`` are.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from kepatuhan import KepatuhanError, rubric_from_toml
    from kepatuhan.io.files import decode
    from kepatuhan.io.observations_io import read_observations_text


def test_one_input(data: bytes) -> None:
    """One fuzz input: the first byte picks the reader."""
    if not data:
        return
    kind, blob = data[0] % 4, data[1:]
    try:
        text = decode(blob, "fuzz")
        if kind == 3:
            rubric_from_toml(text, "fuzz")
        else:
            read_observations_text(text, ("csv", "toml", "json")[kind], "fuzz")
    except KepatuhanError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
