"""Rubric files: reading, writing, and errors that point at the exact key."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from kepatuhan import InputFileError, RubricError, load_rubric, rubric_from_toml, rubric_to_toml

HEAD = 'id = "r"\ntitle = "t"\n'
ROOT = '[[criterion]]\nid = "total"\nlabel = "Nilai"\nrule = "sum"\n'


def leaf(cid: str, parent: str = "total", extra: str = "") -> str:
    return (
        f'[[criterion]]\nid = "{cid}"\nlabel = "{cid}"\nparent = "{parent}"\n'
        f'scale = "percentage"\nlevel = "unit"\n{extra}\n'
    )


def test_demo_rubric_reads_back_equal_after_writing(demo_rubric_path: Path) -> None:
    r = load_rubric(demo_rubric_path)
    assert rubric_from_toml(rubric_to_toml(r)) == r
    assert r.digest.startswith("sha256:") and len(r.digest) == 71


def test_weights_that_add_up_in_decimal_are_accepted() -> None:
    text = (
        HEAD
        + ROOT
        + "".join(
            leaf(c, extra=f"points = {p}")
            for c, p in [("a", "21.85"), ("b", "32.37"), ("c", "24.24"), ("d", "21.54")]
        )
    )
    r = rubric_from_toml(text)
    assert sum((c.points for c in r.criteria if c.points is not None), Decimal(0)) == 100


def test_points_that_do_not_add_up_name_the_parent_and_both_totals() -> None:
    text = HEAD + ROOT + leaf("a", extra="points = 21.85") + leaf("b", extra="points = 78.14")
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text, "r.toml")
    msg = str(e.value)
    assert 'r.toml: criterion "total"' in msg and "99.99" in msg and "100" in msg


def test_a_misspelt_key_is_named_with_a_suggestion() -> None:
    text = HEAD + ROOT + leaf("a", extra="wieght = 2")
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text, "r.toml")
    assert 'criterion "a".wieght' in str(e.value)
    assert 'did you mean "weight"' in str(e.value)


def test_a_number_written_with_a_comma_is_refused_at_its_key() -> None:
    text = HEAD + ROOT + leaf("a", extra='weight = "32,37"')
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text, "r.toml")
    assert e.value.key_path == 'criterion "a".weight'
    assert '"32,37"' in str(e.value)


def test_every_problem_is_reported_at_once() -> None:
    text = HEAD + ROOT + leaf("a", extra="weight = -1") + leaf("a") + leaf("b", parent="nope")
    with pytest.raises(RubricError) as e:
        rubric_from_toml(text)
    msgs = [p.message for p in e.value.problems]
    assert any("duplicate criterion id" in m for m in msgs)
    assert any("orphan" in m for m in msgs)


def test_cycle_is_reported() -> None:
    text = (
        HEAD + ROOT + leaf("a", parent="b") + '[[criterion]]\nid = "b"\nlabel = "b"\nparent = "a"\n'
    )
    with pytest.raises(RubricError, match=r"cycle|orphan|root"):
        rubric_from_toml(text)


def test_leaf_without_scale_is_reported() -> None:
    text = (
        HEAD
        + '[[criterion]]\nid = "total"\nlabel = "x"\n'
        + '[[criterion]]\nid = "a"\nlabel = "a"\nparent = "total"\nlevel = "unit"\n'
    )
    with pytest.raises(RubricError, match=r'criterion "a".scale'):
        rubric_from_toml(text)


def test_a_tree_1000_levels_deep_is_refused_clearly() -> None:
    parts = [HEAD, '[[criterion]]\nid = "total"\nlabel = "x"\n']
    for i in range(1000):
        parent = "total" if i == 0 else f"n{i - 1}"
        parts.append(f'[[criterion]]\nid = "n{i}"\nlabel = "x"\nparent = "{parent}"\n')
    parts.append('scale = "percentage"\nlevel = "unit"\n')
    with pytest.raises(RubricError, match=r"too deep"):
        rubric_from_toml("".join(parts))


@pytest.mark.parametrize(
    ("bands", "fragment"),
    [
        (
            '[[bands.band]]\nid="a"\nlabel="a"\nmin=0\nmax=50\n[[bands.band]]\nid="b"\nlabel="b"\nmin=51\n',
            "gap",
        ),
        (
            '[[bands.band]]\nid="a"\nlabel="a"\nmin=0\nmax=50\n[[bands.band]]\nid="b"\nlabel="b"\nmin=50\n',
            "overlap",
        ),
        ('[[bands.band]]\nid="a"\nlabel="a"\nmin=5\n', "must start at 0"),
        (
            '[[bands.band]]\nid="a"\nlabel="a"\nmin=0\n[[bands.band]]\nid="b"\nlabel="b"\nmin=120\n',
            "within 0",
        ),
    ],
)
def test_band_gaps_overlaps_and_range_are_reported(bands: str, fragment: str) -> None:
    text = HEAD + "[bands]\n" + bands + ROOT.replace('rule = "sum"\n', "") + leaf("a")
    with pytest.raises(RubricError, match=fragment):
        rubric_from_toml(text)


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "broken.toml"
    p.write_text('id = "x"\n[[criterion]\nweight = \n')
    with pytest.raises(InputFileError) as e:
        load_rubric(p)
    assert e.value.path == str(p) and e.value.line == 2


def test_a_directory_is_not_a_rubric(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"directory"):
        load_rubric(tmp_path)


def test_non_utf8_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "latin1.toml"
    p.write_bytes('id = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(InputFileError, match=r"not UTF-8"):
        load_rubric(p)
