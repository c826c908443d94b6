"""``kepatuhan new-rubric NAME``: a plugin package that passes its own tests straight away.

The package has a ``pyproject.toml`` with the ``kepatuhan`` entry point, a rubric TOML
shipped as package data (a small four-dimension example with sources and confidences to
replace), a hook module, and tests that use the library's pytest fixtures,
:func:`kepatuhan.testing.extreme_records` and :func:`kepatuhan.testing.check_rubric_laws`.
The tests derive every expectation from the rubric when they run, so they keep passing
while the designer edits the TOML, and fail when an edit breaks a law.
``--from RUBRIC-ID`` writes instead a rubric that ``extends`` an installed edition with one
override to edit, and tests that check it is registered, lawful, records its parent, and
scores like the parent until a number changes.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputFileError, Problem
from ..rubric import Rubric

__all__ = ["new_rubric_package"]

_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

PYPROJECT = """[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "kepatuhan-{name}"
version = "0.1.0"
description = "The {name} methodology as a kepatuhan rubric plugin."
requires-python = ">=3.10"
dependencies = ["kepatuhan"]

[project.optional-dependencies]
test = ["pytest", "hypothesis"]

[project.entry-points.kepatuhan]
{name} = "{package}.plugin"

[tool.hatch.build.targets.wheel]
packages = ["src/{package}"]
"""

INIT = '''"""The {name} methodology as a kepatuhan rubric plugin."""

RUBRIC_ID = "{name}"
'''

PLUGIN = '''"""Hook implementations: register the rubric shipped with this package."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files

from kepatuhan import Rubric, hookimpl, load_rubric


@hookimpl
def kepatuhan_register_rubrics(register: Callable[[Rubric], None]) -> None:
    """Register rubrics/{name}.toml."""
    register(load_rubric(files("{package}") / "rubrics" / "{name}.toml"))
'''

RUBRIC = """# {name}: replace this example with your methodology. Every number cites a [[source]].
id = "{name}"
title = "{name}"
year = 2026
version = "0.1.0"
missing = "zero"

[levels.institution]
combine = "weighted_mean"
weight_by = "equal"
source = "method"
confidence = "assumed"
note = "An institution is the plain mean of its units."

[levels.unit]
combine = "weighted_mean"
weight_by = "equal"
source = "method"
confidence = "assumed"
note = "A unit is the plain mean of its service products (for indicators observed per product)."

[bands]
name = "Opini"
[[bands.band]]
id = "C"
label = "Kualitas Sedang"
zone = "kuning"
min = 0
max = 77.99
source = "method"
confidence = "assumed"
[[bands.band]]
id = "B"
label = "Kualitas Tinggi"
zone = "hijau"
min = 78
max = 87.99
source = "method"
confidence = "assumed"
[[bands.band]]
id = "A"
label = "Kualitas Tertinggi"
zone = "hijau"
min = 88
max = 100
source = "method"
confidence = "assumed"

[[source]]
id = "method"
title = "Describe the document your numbers come from"

[[criterion]]
id = "total"
label = {{ id = "Nilai", en = "Score" }}
rule = "sum"
source = "method"
confidence = "assumed"

[[criterion]]
id = "layanan"
label = {{ id = "Standar pelayanan", en = "Service standard" }}
parent = "total"
points = 60
scale = "percentage"
level = "unit"
source = "method"
confidence = "assumed"

[[criterion]]
id = "pengaduan"
label = {{ id = "Pengelolaan pengaduan", en = "Complaint handling" }}
parent = "total"
points = 40
scale = {{ name = "ordinal", points = [0, 1, 2, 3] }}
level = "unit"
source = "method"
confidence = "assumed"
"""

TESTS = '''"""Tests of the {name} plugin, derived from the rubric itself.

Nothing here repeats a number of rubrics/{name}.toml: the expectations are computed from the
rubric at test time (every indicator at its best scores the top, at its worst zero, and the
aggregation laws hold on random data), so the tests still pass after you change weights,
add criteria or change scales, and fail when an edit breaks one of these rules.
"""

from __future__ import annotations

import pytest
from kepatuhan import ObservationTable, score
from kepatuhan.testing import check_rubric_laws, extreme_records

from {package} import RUBRIC_ID, plugin


@pytest.fixture
def manager(register_plugin):
    """The built-in plugin and this one, for one test."""
    return register_plugin(plugin)


@pytest.fixture
def rubric(manager):
    """This plugin's rubric, as registered (a broken rubric file fails here, with its error)."""
    return manager.registry.rubric(RUBRIC_ID)


def top_score(rubric):
    """The highest score: the root's points if it has any, else 100."""
    root = rubric.tree.nodes[rubric.tree.root_index]
    return float(root.points) if root.points is not None else 100.0


def card_for(rubric, manager, *, best):
    records = extreme_records(rubric, best=best, registry=manager.registry)
    return score(rubric, ObservationTable.from_records(records), plugins=manager).card("i")


def test_the_rubric_is_registered(manager):
    assert RUBRIC_ID in manager.registry.rubrics


def test_every_indicator_at_its_best_scores_the_top(rubric, manager):
    card = card_for(rubric, manager, best=True)
    assert card.score == pytest.approx(top_score(rubric))
    if rubric.bands is not None:
        assert card.band == rubric.bands.bands[-1]


def test_every_indicator_at_its_worst_scores_zero(rubric, manager):
    card = card_for(rubric, manager, best=False)
    assert card.score == pytest.approx(0.0), (
        "every indicator at the bottom of its scale should score 0; a scale whose lowest "
        "value is worth points (ordinal points starting above 0?) gives " + str(card.score)
    )
    if rubric.bands is not None:
        assert card.band == rubric.bands.bands[0]


def test_the_rubric_obeys_the_aggregation_laws(rubric, manager):
    check_rubric_laws(rubric, plugins=manager, max_examples=25)
'''

DERIVED_INIT = '''"""The {name} methodology, derived from {parent}, as a kepatuhan rubric plugin."""

RUBRIC_ID = "{name}"
PARENT_ID = "{parent}"
'''

DERIVED_RUBRIC = """# {name}: derived from {parent}. Write here only what differs from it:
# a [[criterion]] with an inherited id replaces only the keys it gives (labels, scales and
# sources are inherited); a new id adds a criterion; remove = ["id"] drops a subtree;
# [levels.*], [bands], [[flag]] are inherited unless given; [[source]] tables are added.
# Points under a "sum" must still add up: a change that breaks the total names the
# siblings to change. Cite a [[source]] for every number you change.
extends = "{parent}"
id = "{name}"
title = "{name} (derived from {parent})"
version = "0.1.0"

[[criterion]]
id = "{first}"
# Edit this override, e.g. points = … with source = "…" (a [[source]] you add here).
note = "As in {parent}: nothing changed yet."
"""

DERIVED_TESTS = '''"""Tests of the {name} plugin: registered, lawful, and derived from {parent}.

Apart from the last test (true until you change a number), nothing here repeats a number of
the rubric: every indicator at its best scores the top, at its worst zero, computed from the
rubric at test time, so these tests keep passing while you edit the TOML.
"""

from __future__ import annotations

import numpy as np
import pytest
from kepatuhan import ObservationTable, PluginManager, score
from kepatuhan.testing import check_rubric_laws, extreme_records, synthetic_campaign

from {package} import PARENT_ID, RUBRIC_ID, plugin


@pytest.fixture
def pm(kepatuhan_manager: PluginManager) -> PluginManager:
    """The installed plugins (the parent edition's among them), and this one if it is not
    installed yet."""
    if RUBRIC_ID not in kepatuhan_manager.registry.rubrics:
        kepatuhan_manager.register(plugin, "{name}")
    return kepatuhan_manager


def test_the_rubric_is_registered_and_records_its_parent(pm):
    rubric, parent = pm.registry.rubric(RUBRIC_ID), pm.registry.rubric(PARENT_ID)
    assert rubric.derived_from is not None
    assert (rubric.derived_from.id, rubric.derived_from.digest) == (parent.id, parent.digest)
    assert rubric.digest != parent.digest


def card_for(pm, *, best):
    rubric = pm.registry.rubric(RUBRIC_ID)
    records = extreme_records(rubric, best=best, registry=pm.registry)
    return score(rubric, ObservationTable.from_records(records), plugins=pm).card("i")


def test_every_indicator_at_its_best_scores_the_top(pm):
    rubric = pm.registry.rubric(RUBRIC_ID)
    root = rubric.tree.nodes[rubric.tree.root_index]
    top = float(root.points) if root.points is not None else 100.0
    card = card_for(pm, best=True)
    assert card.score == pytest.approx(top)
    if rubric.bands is not None:
        assert card.band == rubric.bands.bands[-1]


def test_every_indicator_at_its_worst_scores_zero(pm):
    rubric = pm.registry.rubric(RUBRIC_ID)
    card = card_for(pm, best=False)
    assert card.score == pytest.approx(0.0)
    if rubric.bands is not None:
        assert card.band == rubric.bands.bands[0]


def test_the_rubric_obeys_the_aggregation_laws(pm):
    check_rubric_laws(pm.registry.rubric(RUBRIC_ID), plugins=pm, max_examples=25)


def test_it_scores_like_its_parent_until_a_number_changes(pm):
    # True as generated (the override changes a note only). Once you change a number,
    # replace this test by a worked example: a unit whose score you computed by hand.
    rubric, parent = pm.registry.rubric(RUBRIC_ID), pm.registry.rubric(PARENT_ID)
    table = synthetic_campaign(parent, 20, registry=pm.registry)
    mine = score(rubric, table, plugins=pm).columns(0)
    theirs = score(parent, table, plugins=pm).columns(0)
    np.testing.assert_array_equal(mine.score, theirs.score)
'''

README = """# kepatuhan-{name}

A kepatuhan rubric plugin. Edit `src/{package}/rubrics/{name}.toml`, then:

```bash
python -m pip install -e ".[test]" && python -m pytest
kepatuhan rubrics          # lists {name}
kepatuhan show {name}
```
"""


def new_rubric_package(
    name: str,
    where: str | Path = ".",
    *,
    parent: Rubric | None = None,
    parent_distribution: str | None = None,
) -> Path:
    """Write the package ``kepatuhan-NAME`` under ``where``; returns its folder.

    With ``parent`` (an installed rubric), the rubric file ``extends`` it (one override to
    edit, the new plugin's own version) and the package depends on ``parent_distribution``
    (the distribution that provides the parent, when known).
    """
    if not _NAME.match(name):
        raise InputFileError(
            Problem(
                f"expected a name of lower-case letters, digits and dashes, found {name!r}",
                expected="e.g. contoh-2026",
                found=name,
            )
        )
    package = "kepatuhan_" + name.replace("-", "_")
    root = Path(where) / f"kepatuhan-{name}"
    if root.exists():
        raise InputFileError(
            Problem("already exists; choose another name or folder", path=str(root))
        )
    values = {"name": name, "package": package}
    pyproject = PYPROJECT
    if parent is None:
        init, rubric, tests = INIT, RUBRIC, TESTS
    else:
        init, rubric, tests = DERIVED_INIT, DERIVED_RUBRIC, DERIVED_TESTS
        tree = parent.tree
        kids = tree.children[tree.root_index]
        values["parent"] = parent.id
        values["first"] = tree.nodes[kids[0] if kids else tree.root_index].id
        if parent_distribution:
            pyproject = PYPROJECT.replace(
                'dependencies = ["kepatuhan"]',
                f'dependencies = ["kepatuhan", "{parent_distribution}"]',
            )
    files = {
        "pyproject.toml": pyproject,
        "README.md": README,
        f"src/{package}/__init__.py": init,
        f"src/{package}/plugin.py": PLUGIN,
        f"src/{package}/rubrics/{name}.toml": rubric,
        f"tests/test_{package}.py": tests,
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values), encoding="utf-8")
    return root
