"""Sessions: tests, lint (ruff), typing (mypy --strict), docs, bench."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typing"]
PLUGIN = "./plugins/kepatuhan-ombudsman"
EXAMPLE = "./docs/examples/kepatuhan-example"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (HYPOTHESIS_PROFILE=nightly for the thorough laws)."""
    session.install("-e", ".[test]", "-e", PLUGIN, "-e", EXAMPLE)
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    paths = ["src", "tests", "plugins", "benchmarks", "fuzz", "docs", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the library and the plugin."""
    # tomli: mypy checks the Python 3.10 branch of the TOML import too
    session.install("mypy", "tomli", "-e", ".[test]", "-e", PLUGIN)
    session.run("mypy", "--strict", "src/kepatuhan", "plugins/kepatuhan-ombudsman/src")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the site with Sphinx (warnings are errors); run the sync tests and doctests."""
    session.install("sphinx", "myst-parser", "furo", "-e", ".[test]", "-e", PLUGIN, "-e", EXAMPLE)
    session.run("pytest", "tests/test_docs.py", "docs")
    # -W: a broken internal link or reference is an error. External links (the sources'
    # URLs) need the web; run `sphinx-build -b linkcheck docs docs/_build/linkcheck` where
    # it can be reached.
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks: ratios against baselines measured in the same run (engine, then CLI).

    ``nox -s bench -- --quick`` runs both 10× smaller; other options go to bench_cli.py
    (``--shapes a,b``, ``--profile``).
    """
    session.install("-e", ".[test]", "-e", PLUGIN)
    quick = ["--quick"] if "--quick" in session.posargs else []
    session.run("python", "benchmarks/bench_score.py", *quick)
    session.run("python", "benchmarks/bench_cli.py", *session.posargs)


@nox.session
def fuzz(session: nox.Session) -> None:
    """atheris on the readers; pass libFuzzer options, e.g. ``-- -max_total_time=60``."""
    session.install("atheris", "-e", ".")
    session.run("python", "fuzz/fuzz_readers.py", *(session.posargs or ["-max_total_time=60"]))
