"""Every rubric difference said for people (:mod:`kepatuhan.present.sentences`): a finished
sentence in Bahasa Indonesia and in English for every kind of change
:func:`~kepatuhan.analysis.compare.diff_rubrics` makes, naming criteria and bands by the
labels the rubrics give (read from the rubrics here, not copied from output); and
``compare`` / ``panel`` showing them in the chosen language while their JSON and CSV stay
byte-identical."""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings

from kepatuhan.analysis.compare import Change, diff_rubrics
from kepatuhan.cli import main
from kepatuhan.io.rubric_toml import load_rubric, rubric_from_toml
from kepatuhan.present.lang import band_label, criterion_label
from kepatuhan.present.sentences import change_sentence
from kepatuhan.rubric import Rubric
from kepatuhan.testing import rubrics

# Rubric A: a weighted mean of six parts; B (EDITS) changes every thing diff_rubrics compares.
A = """id = "a"
title = "a"
year = 2023
missing = "zero"

[levels.institution]
combine = "weighted_mean"
weight_by = "equal"

[bands]
name = "Skema Lama"
[[bands.band]]
id = "merah"
label = "Rendah"
label_en = "Low"
zone = "merah"
min = 0
max = 64.99
[[bands.band]]
id = "hijau"
label = "Tinggi"
label_en = "High"
zone = "hijau"
min = 65
max = 89.99
[[bands.band]]
id = "puncak"
label = "Puncak"
label_en = "Peak"
zone = "hijau"
min = 90
max = 100

[[criterion]]
id = "total"
label = { id = "Nilai", en = "Score" }

[[criterion]]
id = "x"
parent = "total"
label = { id = "Sarana", en = "Facilities" }
weight = 1
scale = "percentage"
level = "unit"

[[criterion]]
id = "y"
parent = "total"
label = { id = "Layanan", en = "Service" }
weight = 1
scale = "percentage"
level = "unit"

[[criterion]]
id = "g"
parent = "total"
label = { id = "Kelompok Lama", en = "Old group" }
weight = 1

[[criterion]]
id = "g1"
parent = "g"
label = { id = "Anak Lama", en = "Old child" }
scale = "percentage"
level = "unit"

[[criterion]]
id = "k"
parent = "total"
label = { id = "Kepatuhan", en = "Compliance" }
weight = 1

[[criterion]]
id = "k1"
parent = "k"
label = { id = "Pertama", en = "First" }
weight = 1
scale = "percentage"
level = "unit"

[[criterion]]
id = "k2"
parent = "k"
label = { id = "Kedua", en = "Second" }
weight = 1
scale = "percentage"
level = "unit"

[[criterion]]
id = "m"
parent = "total"
label = { id = "Berpindah", en = "Moving" }
weight = 1
scale = "percentage"
level = "unit"

[[criterion]]
id = "n"
parent = "total"
label = { id = "Jumlah Poin", en = "Point sum" }
weight = 1
rule = "sum"

[[criterion]]
id = "n1"
parent = "n"
label = { id = "Poin Satu", en = "Points one" }
points = 40
scale = { name = "points", max = 40 }
level = "unit"

[[criterion]]
id = "n2"
parent = "n"
label = { id = "Poin Dua", en = "Points two" }
points = 60
scale = { name = "points", max = 60 }
level = "unit"
"""

# (old, new) edits turning A into B; each makes one or more kinds of change
EDITS = [
    ('id = "a"\ntitle = "a"', 'id = "b"\ntitle = "b"'),
    ('missing = "zero"', 'missing = "not_applicable"'),
    ('weight_by = "equal"', 'weight_by = "products"'),
    ('name = "Skema Lama"', 'name = "Skema Baru"'),
    (
        'label = "Rendah"\nlabel_en = "Low"\nzone = "merah"\nmin = 0\nmax = 64.99',
        'label = "Kurang"\nlabel_en = "Weak"\nzone = "merah"\nmin = 0\nmax = 49.99',
    ),
    ('zone = "hijau"\nmin = 65\nmax = 89.99', 'zone = "kuning"\nmin = 50\nmax = 79.99'),
    (
        'id = "puncak"\nlabel = "Puncak"\nlabel_en = "Peak"\nzone = "hijau"\nmin = 90',
        'id = "atas"\nlabel = "Istimewa"\nlabel_en = "Excellent"\nzone = "hijau"\nmin = 80',
    ),
    (
        'label = { id = "Sarana", en = "Facilities" }\nweight = 1\nscale = "percentage"\n'
        'level = "unit"',
        'label = { id = "Sarana Baru", en = "New facilities" }\nweight = 3\n'
        'scale = { name = "points", max = 4 }\nlevel = "product"\nna_allowed = false\n'
        'not_applicable_for = { unit_sector = ["kesehatan"] }',
    ),
    (
        'id = "g"\nparent = "total"\nlabel = { id = "Kelompok Lama", en = "Old group" }',
        'id = "h"\nparent = "total"\nlabel = { id = "Kelompok Baru", en = "New group" }',
    ),
    (
        'id = "g1"\nparent = "g"\nlabel = { id = "Anak Lama", en = "Old child" }',
        'id = "h1"\nparent = "h"\nlabel = { id = "Anak Baru", en = "New child" }',
    ),
    (
        'label = { id = "Kepatuhan", en = "Compliance" }\nweight = 1',
        'label = { id = "Kepatuhan", en = "Compliance" }\nweight = 1\nrule = "minimum"',
    ),
    ('id = "m"\nparent = "total"', 'id = "m"\nparent = "h"'),
    (
        'points = 40\nscale = { name = "points", max = 40 }',
        'points = 50\nscale = { name = "points", max = 50 }',
    ),
    (
        'points = 60\nscale = { name = "points", max = 60 }',
        'points = 50\nscale = { name = "points", max = 50 }',
    ),
    (
        '[[criterion]]\nid = "total"',
        '[[flag]]\nid = "tanpa_maladministrasi"\nlevel = "institution"\n'
        'suffix = "Tanpa Maladministrasi"\nlabel = "Tanpa maladministrasi"\n\n'
        '[[criterion]]\nid = "total"',
    ),
]


def edited(text: str, edits: Sequence[tuple[str, str]]) -> str:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


RA = rubric_from_toml(A, "a.toml")
RB = rubric_from_toml(edited(A, EDITS), "b.toml")
# A without its bands: the scheme as a whole changes
NO_BANDS = rubric_from_toml(
    re.sub(r"\[bands\].*?(?=\[\[criterion\]\])", "", A, flags=re.S), "nobands.toml"
)

#: Every kind of change diff_rubrics makes: (section, kind, field).
KINDS = {
    ("criterion", "added", None),
    ("criterion", "removed", None),
    *(
        ("criterion", "changed", f)
        for f in (
            "parent",
            "weight",
            "points",
            "rule",
            "scale",
            "level",
            "na_allowed",
            "not_applicable_for",
            "label",
            "label_en",
            "share",
        )
    ),
    ("band", "added", None),
    ("band", "removed", None),
    *(("band", "changed", f) for f in ("min", "max", "label", "label_en", "zone")),
    ("bands", "changed", "name"),
    ("bands", "changed", "bands"),
    ("levels", "changed", "combine"),
    ("rubric", "changed", "missing"),
    ("rubric", "changed", "flags"),
}

# English words a sentence in Bahasa Indonesia must not contain (outside backticks, where
# rubric keywords such as `weighted_mean` stand as a rubric file writes them)
ENGLISH = re.compile(
    r"\b(the|is|are|added|removed|changes?|from|to|weight|points|criterion|criteria|band|"
    r"under|none|and|with|below|it|was|scheme|rule|share|level|zone|edge|upper|lower|"
    r"moves|roll-up|policy|flags|yes|no|not|fixed|up|of|its)\b",
    re.I,
)


def all_changes() -> list[tuple[Change, Rubric, Rubric]]:
    out = [(c, RA, RB) for c in diff_rubrics(RA, RB).changes]
    out += [(c, RA, NO_BANDS) for c in diff_rubrics(RA, NO_BANDS).changes if c.section == "bands"]
    return out


def kind(c: Change) -> tuple[str, str, str | None]:
    return (c.section, c.kind, c.field)


def test_the_fixture_makes_every_kind_of_change() -> None:
    assert {kind(c) for c, _, _ in all_changes()} == KINDS


def names(c: Change, a: Rubric, b: Rubric, lang: str) -> list[str]:
    """The labels (or ids) a sentence about ``c`` must show, read from the rubrics."""
    if c.section == "criterion":
        if c.field in ("label", "label_en"):
            x, y = a.criterion(c.subject).label, b.criterion(c.subject).label
            if c.field == "label":
                return [c.subject, x.id, y.id]
            return [c.subject, x.en or "?", y.en or "?"]
        r = a if c.kind == "removed" else b
        got = [criterion_label(r.criterion(c.subject), lang)]
        if c.field == "parent":
            pa, pb = a.criterion(c.subject).parent, b.criterion(c.subject).parent
            assert pa is not None and pb is not None
            got += [criterion_label(a.criterion(pa), lang), criterion_label(b.criterion(pb), lang)]
        return got
    if c.section == "band":
        if c.field in ("label", "label_en"):
            assert a.bands is not None and b.bands is not None
            x, y = a.bands.get(c.subject), b.bands.get(c.subject)
            assert x is not None and y is not None
            pair = (x.label, y.label) if c.field == "label" else (x.label_en, y.label_en)
            return [c.subject, *(p or "?" for p in pair)]
        r = a if c.kind == "removed" else b
        assert r.bands is not None
        band = r.bands.get(c.subject)
        assert band is not None
        return [band_label(band, lang)]
    if c.section == "bands" and c.field == "bands":
        assert a.bands is not None
        return [band_label(x, lang) for x in a.bands.bands]
    return []


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_change_is_a_finished_sentence_naming_its_labels(lang: str) -> None:
    for c, a, b in all_changes():
        text = change_sentence(c, a, b, lang)
        assert text[0].isupper() and text.endswith("."), text
        for name in names(c, a, b, lang):
            assert name in text, (kind(c), name, text)
        if c.section == "criterion" and c.field not in ("label", "label_en"):
            # a criterion is named by its label, not its id (no two labels collide here)
            assert f"`{c.subject}`" not in text and f'"{c.subject}"' not in text, text
        assert change_sentence(c, a, b, lang) != c.sentence or lang == "en"


def test_the_indonesian_sentences_have_no_english_words() -> None:
    for c, a, b in all_changes():
        text = change_sentence(c, a, b, "id")
        # rubric keywords in backticks and quoted labels (an English label is English by
        # design) are left out of the check
        prose = re.sub(r"`[^`]*`|«[^»]*»", "", text)
        assert not ENGLISH.search(prose), (kind(c), text)
        # and the check can fail: the English sentence has such words
        assert ENGLISH.search(re.sub(r"`[^`]*`|“[^”]*”", "", change_sentence(c, a, b, "en")))


def by_kind(k: tuple[str, str, str | None], subject: str) -> Change:
    return next(c for c, _, _ in all_changes() if kind(c) == k and c.subject == subject)


def test_sample_sentences_read_as_written_by_hand() -> None:
    # x's weight 1 -> 3; its label in B is "Sarana Baru" / "New facilities"
    w = by_kind(("criterion", "changed", "weight"), "x")
    assert change_sentence(w, RA, RB, "id") == (
        "Kriteria «Sarana Baru»: bobot berubah dari 1 menjadi 3."
    )
    assert change_sentence(w, RA, RB, "en") == (
        "Criterion “New facilities”: the weight changes from 1 to 3."
    )
    # shares (A: six equal parts, 1/6 = 16.67 %; B: x weighs 3 of 7 = 42.86 %), decimal comma
    s = by_kind(("criterion", "changed", "share"), "x")
    assert change_sentence(s, RA, RB, "id", decimal_comma=True) == (
        "Kriteria «Sarana Baru»: porsinya dalam nilai total berubah dari 16,67 % menjadi 42,86 %."
    )
    # g and its one child are removed, from under the total "Nilai", weight 1
    g = by_kind(("criterion", "removed", None), "g")
    assert change_sentence(g, RA, RB, "id") == (
        "Kriteria «Kelompok Lama» dihapus (sebelumnya di bawah «Nilai», bobot 1), beserta 1 "
        "kriteria di bawahnya."
    )
    m = by_kind(("criterion", "changed", "parent"), "m")
    assert change_sentence(m, RA, RB, "id") == (
        "Kriteria «Berpindah» dipindahkan dari bawah «Nilai» ke bawah «Kelompok Baru»."
    )
    z = by_kind(("band", "changed", "zone"), "hijau")
    assert change_sentence(z, RA, RB, "en").endswith("the zone changes from green to yellow.")
    assert change_sentence(z, RA, RB, "id").endswith("zona berubah dari hijau menjadi kuning.")
    na = by_kind(("criterion", "changed", "not_applicable_for"), "x")
    assert change_sentence(na, RA, RB, "id").endswith(
        "berubah dari tidak ada menjadi sektor unit kesehatan."
    )
    # the band "puncak" of A, 90.00 up to 100.00, is gone
    p = by_kind(("band", "removed", None), "puncak")
    assert change_sentence(p, RA, RB, "id") == (
        "Kategori «puncak — Puncak» dihapus (sebelumnya dari 90.00 sampai 100.00, zona hijau)."
    )


def test_two_criteria_with_one_label_are_told_apart_by_id() -> None:
    twin = A.replace(
        'label = { id = "Kedua", en = "Second" }', 'label = { id = "Pertama", en = "First" }'
    )
    ra = rubric_from_toml(twin, "a.toml")
    k1 = 'id = "k1"\nparent = "k"\nlabel = { id = "Pertama", en = "First" }\nweight = '
    rb = rubric_from_toml(edited(twin, [('id = "a"', 'id = "b"'), (k1 + "1", k1 + "2")]), "b.toml")
    (w,) = [c for c in diff_rubrics(ra, rb).changes if c.field == "weight"]
    assert change_sentence(w, ra, rb, "id") == (
        "Kriteria «Pertama» (`k1`): bobot berubah dari 1 menjadi 2."
    )


# -- the commands ------------------------------------------------------------------------------
EXAMPLE = str(Path(__file__).resolve().parent.parent / "examples" / "maluku-tenggara-2023.csv")


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    """The 2023 method and a draft of it whose input points differ (21.85 -> 25.85; the
    process points 32.37 -> 28.37, so that the total stays 100)."""
    text = (files("kepatuhan_ombudsman") / "rubrics" / "ombudsman-2023.toml").read_text("utf-8")
    draft = edited(
        text, [("points = 21.85", "points = 25.85"), ("points = 32.37", "points = 28.37")]
    )
    path = tmp_path / "draft.toml"
    path.write_text(draft, encoding="utf-8")
    return "ombudsman-2023", str(path)


def test_compare_says_the_differences_in_the_chosen_language(
    pair: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    label = load_rubric(pair[1]).criterion("input").label
    argv = ["compare", EXAMPLE, "--rubric", pair[0], "--rubric", pair[1]]
    code, out, _ = run(argv, capsys)
    assert code == 0
    lines = out.splitlines()
    assert f"  - Kriteria «{label.id}»: poin berubah dari 21.85 menjadi 25.85." in lines
    assert "Criterion" not in out and "changes from" not in out
    code, out, _ = run([*argv, "--print-decimal-comma"], capsys)
    assert f"Kriteria «{label.id}»: poin berubah dari 21,85 menjadi 25,85." in out
    code, out, _ = run([*argv, "--lang", "en"], capsys)
    assert f"  - Criterion “{label.en}”: the points change from 21.85 to 25.85." in out
    # the machine outputs keep the English sentence naming ids, the same under every --lang
    for fmt in ("json", "csv"):
        outs = {run([*argv, "--format", fmt, "--lang", lg], capsys)[1] for lg in ("id", "en")}
        assert len(outs) == 1
    doc = run([*argv, "--format", "json"], capsys)[1]
    assert 'Criterion \\"input\\": the points change from 21.85 to 25.85.' in doc


def test_panel_says_the_method_changes_in_the_chosen_language(
    pair: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = []
    for k, ref in enumerate(pair):
        out = tmp_path / f"r{k}.json"
        argv = ["score", EXAMPLE, "--rubric", ref, "--format", "json", "--output", str(out)]
        assert main(argv) == 0
        results.append(str(out))
    capsys.readouterr()
    label = load_rubric(pair[1]).criterion("input").label
    code, _, err = run(["panel", *results], capsys)
    assert code == 0
    said = f"Kriteria «{label.id}»: poin berubah dari 21.85 menjadi 25.85."
    assert any(
        ln.startswith("metodologi berubah: 2023 -> 2023") and ln.endswith(said)
        for ln in err.splitlines()
    ), err
    code, _, err = run(["panel", *results, "--lang", "en"], capsys)
    assert f"Criterion “{label.en}”: the points change from 21.85 to 25.85." in err
    code, out, _ = run(["panel", *results, "--changes"], capsys)
    assert said in out and "Criterion" not in out
    assert out.split()[:3] == ["Dari", "Ke", "Perubahan"]  # the headers in the language too
    code, out, _ = run(["panel", *results, "--changes", "--lang", "en"], capsys)
    assert out.split()[:3] == ["From", "To", "Change"]
    assert f"Criterion “{label.en}”: the points change from 21.85 to 25.85." in out
    # --changes as CSV and JSON: the same bytes under every --lang, the sentence in English
    for fmt in ("csv", "json"):
        outs = {
            run(["panel", *results, "--changes", "--format", fmt, "--lang", lg], capsys)[1]
            for lg in ("id", "en")
        }
        assert len(outs) == 1
        text = next(iter(outs)).replace('\\"', '"').replace('""', '"')
        assert 'Criterion "input": the points change from 21.85 to 25.85.' in text


# -- why gap and describe give no answer ---------------------------------------------------
# Five institutions given their 2023 dimension points; pengaduan is 8 everywhere, so each r
# with it is undefined: "pengaduan is constant (8) on the 5 entities with both values".
HAND = """institution,unit,product,criterion,value
i1,,,input,5
i1,,,proses,7.5
i1,,,output,20
i1,,,pengaduan,8
i2,,,input,10
i2,,,proses,15
i2,,,output,10
i2,,,pengaduan,8
i3,,,input,15
i3,,,proses,22.5
i3,,,output,20
i3,,,pengaduan,8
i4,,,input,20
i4,,,proses,30
i4,,,output,10
i4,,,pengaduan,8
i5,,,input,12
i5,,,proses,18
i5,,,output,15
i5,,,pengaduan,8
"""

# A minimum of two percentages with a tie at the bottom (40, 40): no single raise lifts it.
TIED = """id = "t"
title = "t"
missing = "zero"
[bands]
[[bands.band]]
id = "D"
label = "Kurang"
min = 0
max = 53.99
[[bands.band]]
id = "C"
label = "Cukup"
min = 54
max = 100

[[criterion]]
id = "total"
label = "Nilai"
rule = "minimum"

[[criterion]]
id = "a"
parent = "total"
label = { id = "Pertama", en = "First" }
scale = "percentage"
level = "institution"

[[criterion]]
id = "b"
parent = "total"
label = { id = "Kedua", en = "Second" }
scale = "percentage"
level = "institution"
"""


def test_the_reasons_in_english_are_the_librarys_sentences_and_indonesian_is_plain() -> None:
    import kepatuhan
    from kepatuhan.analysis.coverage import describe_data
    from kepatuhan.analysis.gap import gap
    from kepatuhan.io.observations_io import read_observations, read_observations_text
    from kepatuhan.observations import ObservationTable
    from kepatuhan.present.lang import reason_text

    r23 = kepatuhan.get_rubric("ombudsman-2023")
    hand = kepatuhan.score(r23, read_observations_text(HAND, "csv"))
    example = kepatuhan.score(r23, read_observations(EXAMPLE))  # two units: too few pairs
    tied = rubric_from_toml(TIED, "t.toml")
    rows = [dict(institution="x", criterion=c, value=40.0) for c in ("a", "b")]
    plan = gap(kepatuhan.score(tied, ObservationTable.from_records(rows)), "x")
    pairs = [*describe_data(hand).correlations, *describe_data(example).correlations]
    reasons = [(p.reason, p.why) for p in pairs if p.r is None] + [(plan.reason, plan.why)]
    assert {w.key for _, w in reasons if w is not None} == {"r_constant", "r_few", "gap_stuck"}
    for text, why in reasons:
        assert why is not None and text == why.text
        assert reason_text(why, "en") == text  # the catalogue's English is the library's
        said = reason_text(why, "id", name=lambda cid: f"«{cid}»")
        assert not ENGLISH.search(re.sub(r"«[^»]*»", "", said).replace("kepatuhan", "")), said
    const = next(w for _, w in reasons if w is not None and w.key == "r_constant")
    assert reason_text(const, "id", name=lambda cid: cid.upper()) == (
        "PENGADUAN bernilai tetap (8) pada 5 entitas yang memiliki kedua nilai"
    )


def test_describe_and_gap_say_why_in_the_chosen_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "hand.csv"
    data.write_text(HAND)
    base = ["describe", str(data), "--rubric", "ombudsman-2023"]
    pengaduan = load_rubric(
        str(files("kepatuhan_ombudsman") / "rubrics" / "ombudsman-2023.toml")
    ).criterion("pengaduan")
    out = run(base, capsys)[1]
    assert f"{pengaduan.label.id} bernilai tetap (8) pada 5 entitas yang memiliki kedua" in out
    assert "is constant" not in out
    out = run([*base, "--lang", "en"], capsys)[1]
    assert f"{pengaduan.label.en} is constant (8) on the 5 entities with both values" in out
    docs = {run([*base, "--format", "json", "--lang", lg], capsys)[1] for lg in ("id", "en")}
    assert len(docs) == 1 and "pengaduan is constant (8)" in docs.pop()
    rubric = tmp_path / "t.toml"
    rubric.write_text(TIED)
    obs = tmp_path / "x.csv"
    obs.write_text("institution,unit,product,criterion,value\nx,,,a,40\nx,,,b,40\n")
    gap_argv = ["gap", str(obs), "--rubric", str(rubric), "--institution", "x"]
    code, out, err = run(gap_argv, capsys)
    assert code == 0, err
    said = (out + err).replace("\n", " ")
    assert "kategori berikutnya tidak dapat dicapai: tidak ada lagi satu perbaikan pun" in said
    assert "nilai tetap 40.00" in said and "no single improvement" not in said
    said = " ".join(run([*gap_argv, "--lang", "en", "--print-decimal-comma"], capsys)[1:3])
    assert "no single improvement raises the score" in said and "stays at 40,00" in said
    docs = {run([*gap_argv, "--format", "json", "--lang", lg], capsys)[1] for lg in ("id", "en")}
    assert len(docs) == 1 and "no single improvement raises the score" in docs.pop()


@settings(max_examples=40, deadline=None)
@given(rubrics(), rubrics())
def test_any_two_rubrics_differences_are_said_in_both_languages(a: Rubric, b: Rubric) -> None:
    """Law: every change between two generated rubrics is one finished sentence in each
    language, with no Python None leaking in, no English prose in the Bahasa Indonesia one,
    and each criterion both rubrics label named by its label."""
    for c in diff_rubrics(a, b).changes:
        for lang in ("id", "en"):
            text = change_sentence(c, a, b, lang)
            assert text[0].isupper() and text.endswith("."), text
            assert "None" not in text and "{" not in text, text
        text = change_sentence(c, a, b, "id")
        prose = re.sub(r"`[^`]*`|«[^»]*»", "", text)
        assert not ENGLISH.search(prose), (kind(c), text)
        if c.section == "criterion" and c.field not in ("label", "label_en"):
            r = a if c.kind == "removed" else b
            assert f"«{criterion_label(r.criterion(c.subject), 'id')}»" in text, text
