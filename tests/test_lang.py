"""What people read: names and labels in Bahasa Indonesia or English, figures with a decimal
comma on request; machine formats (json, csv) keep ids and dot decimals whatever is asked.

The expected names and labels are read from the data file and the rubric, not copied from a
run of the code; the report card's figures are worked out by hand in the comments."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import kepatuhan
from kepatuhan.cli import build_parser, main
from kepatuhan.present import lang
from kepatuhan.rounding import publish, round_half_away

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "maluku-tenggara-2023.csv"
R23 = ["--rubric", "ombudsman-2023"]
INST = ["--institution", "kab-maluku-tenggara"]


def cells(line: str) -> list[str]:
    """The cells of a table line (columns are separated by two spaces or more)."""
    return re.split(r"\s{2,}", line.strip())


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


# -- the module --------------------------------------------------------------------------------
def test_every_catalogue_entry_has_both_languages() -> None:
    for key, (ind, eng) in lang._WORDS.items():
        assert ind.strip() and eng.strip(), key
        assert lang.word(key, "id") == ind and lang.word(key, "en") == eng


def test_an_unknown_language_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="expected a language id or en, found 'fr'"):
        lang.word("score", "fr")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_format_score_is_the_published_figure_with_only_the_separator_swapped(x: float) -> None:
    dot, comma = lang.format_score(x), lang.format_score(x, decimal_comma=True)
    assert dot == publish(x)
    assert comma == dot.replace(".", ",") and "." not in comma
    # read back, the comma form is the one rounding of x (never rounded a second time)
    assert float(comma.replace(",", ".")) == round_half_away(x)


def test_a_name_falls_back_to_the_id() -> None:
    assert lang.entity_label("Kota Bima", "kota-bima") == "Kota Bima"
    assert lang.entity_label(None, "kota-bima") == "kota-bima"
    assert lang.entity_label("  ", "kota-bima") == "kota-bima"


def test_labels_follow_the_language_and_fall_back_to_the_primary_text() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    crit = rubric.criterion("input")
    assert lang.criterion_label(crit, "id") == crit.label.id == "Dimensi Input"
    assert lang.criterion_label(crit, "en") == crit.label.en == "Input dimension"
    no_en = kepatuhan.Criterion(id="x", label="Hanya Indonesia")
    assert lang.criterion_label(no_en, "en") == "Hanya Indonesia"
    assert rubric.bands is not None
    c = rubric.bands.get("C")
    assert c is not None
    assert lang.band_label(c, "id") == c.label and lang.band_label(c, "en") == c.label_en
    assert lang.zone_label("kuning", "en") == "yellow" and lang.zone_label("kuning") == "kuning"


# -- score -------------------------------------------------------------------------------------
def _names() -> tuple[str, list[str]]:
    """The institution's name and every unit's name, as the example data writes them."""
    table = kepatuhan.read_observations(EXAMPLE)
    return table.institutions[0].name or "", [u.name or "" for u in table.units]


@pytest.mark.parametrize(
    ("code", "header", "zone"), [("id", "Instansi", "kuning"), ("en", "Institution", "yellow")]
)
def test_the_score_table_names_entities_and_bands_in_the_language(
    capsys: pytest.CaptureFixture[str], code: str, header: str, zone: str
) -> None:
    out = run(["score", str(EXAMPLE), *R23, "--units", "--lang", code], capsys)
    band = kepatuhan.get_rubric("ombudsman-2023").bands.get("C")  # type: ignore[union-attr]
    assert band is not None
    inst, units = _names()
    assert inst == "Kabupaten Maluku Tenggara" and len(units) == 7 and all(units)
    lines = out.splitlines()
    assert header in cells(lines[0])
    first = next(x for x in lines if inst in x)
    label = band.label_en if code == "en" else band.label
    assert label is not None
    for cell in ("60.80", "C", label, zone, "kab-maluku-tenggara"):
        assert cell in cells(first), (cell, first)
    unit_word = "service unit" if code == "en" else "unit layanan"
    for name in units:
        assert any(x.startswith(unit_word) and name in cells(x) for x in lines), name


def test_print_decimal_comma_prints_60_80_as_60_comma_80(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run(["score", str(EXAMPLE), *R23, "--print-decimal-comma"], capsys)
    assert "60,80" in out and "60.80" not in out
    out = run(["explain", str(EXAMPLE), *R23, *INST, "--print-decimal-comma"], capsys)
    assert ": 60,80" in out and "8,72/21,85" in out and "60.80" not in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_machine_formats_do_not_change_with_the_language_or_the_separator(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    base = ["score", str(EXAMPLE), *R23, "--units", "--format", fmt]
    plain = run(base, capsys)
    assert run([*base, "--lang", "en", "--print-decimal-comma"], capsys) == plain
    assert "60.80" in plain and "60,80" not in plain and "kab-maluku-tenggara" in plain
    if fmt == "csv":
        head, first = plain.splitlines()[:2]
        assert head.split(",")[:7] == [
            "level", "institution", "unit", "score", "band", "zone", "state"
        ]  # fmt: skip
        assert head.endswith("institution_name,unit_name,band_label,band_label_en,opinion")
        assert first.endswith(
            "Kabupaten Maluku Tenggara,,Kualitas Sedang,Medium quality,Kualitas Sedang"
        )
    else:
        inst = json.loads(plain)["institutions"][0]
        assert inst["id"] == "kab-maluku-tenggara" and inst["published"] == "60.80"
        assert inst["name"] == "Kabupaten Maluku Tenggara"


DATA_2025 = (
    "institution,unit,product,criterion,value,institution_name,unit_name\n"
    "kota-x,dinsos,,total,62.57,Kota X,Dinas Sosial\n"
    "kota-x,,,tanpa_maladministrasi,ya,,\n"
)


@pytest.mark.parametrize("code", ["id", "en"])
def test_the_score_table_shows_the_2025_opinion_with_its_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    data = tmp_path / "d.csv"
    data.write_text(DATA_2025, encoding="utf-8")
    argv = ["score", str(data), "--rubric", "ombudsman-2025", "--units", "--lang", code]
    lines = run(argv, capsys).splitlines()
    band = kepatuhan.get_rubric("ombudsman-2025").bands.get("C")  # type: ignore[union-attr]
    assert band is not None and band.label_en is not None
    label = band.label_en if code == "en" else band.label
    inst = cells(next(x for x in lines if "Kota X" in x))
    unit = cells(next(x for x in lines if "Dinas Sosial" in x))
    # the flag is the institution's: its opinion gains the words, the unit's does not
    assert f"{label} Tanpa Maladministrasi" in inst and label in unit
    assert not any("Tanpa" in c for c in unit)
    out = run(["score", str(data), "--rubric", "ombudsman-2025", "--format", "csv"], capsys)
    res = kepatuhan.score("ombudsman-2025", kepatuhan.read_observations(data))
    card = res.card("kota-x")
    assert card.opinion == "Kualitas Sedang Tanpa Maladministrasi"  # the cards' own rule
    assert out.splitlines()[1].endswith(f",{card.opinion}")
    assert res.opinion_suffixes(0) == ("Tanpa Maladministrasi",)
    assert res.opinion_suffixes(1) == ("",)


# -- explain -----------------------------------------------------------------------------------
@pytest.mark.parametrize("code", ["id", "en"])
def test_explain_uses_criterion_labels_and_unit_names(
    capsys: pytest.CaptureFixture[str], code: str
) -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    out = run(["explain", str(EXAMPLE), *R23, *INST, "--lang", code], capsys)
    for cid in ("input", "proses", "output", "pengaduan"):
        text = rubric.criterion(cid).label.text(code)
        assert f"{text} @ Puskesmas Watdek: " in out, text
    assert out.startswith("Kabupaten Maluku Tenggara ") and rubric.title in out.splitlines()[0]
    assert "puskesmas-watdek" not in out and "input @" not in out
    assert ("weight in total" if code == "en" else "bobot dalam total") in out


def test_explain_csv_and_json_keep_ids_and_add_names_and_labels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = ["explain", str(EXAMPLE), *R23, *INST, "--unit", "puskesmas-watdek"]
    doc = json.loads(run([*base, "--format", "json", "--print-decimal-comma"], capsys))
    child = doc["children"][0]
    assert child["criterion"] == "input" and child["entity_name"] == "Puskesmas Watdek"
    assert child["label"] == "Dimensi Input" and child["label_en"] == "Input dimension"
    assert child["value"] == pytest.approx(8.72)  # a number, not a "8,72" string
    lines = run([*base, "--format", "csv", "--lang", "en"], capsys).splitlines()
    assert lines[0].endswith(",entity_name,label,label_en")
    row = next(x for x in lines if ",input," in x)
    assert row.endswith(",Puskesmas Watdek,Dimensi Input,Input dimension") and ",8.72," in row


# -- the report card ---------------------------------------------------------------------------
# A 2021 city: two units, and a product id "p1" in both (products are numbered per unit).
DATA_2021 = """institution,unit,product,criterion,value,institution_name,unit_name,product_name
kota-contoh,dukcapil,p1,total,70,Kota Contoh,Dinas Kependudukan,Layanan KTP
kota-contoh,dukcapil,p2,total,90,Kota Contoh,Dinas Kependudukan,Layanan KK
kota-contoh,perizinan,p1,total,40,Kota Contoh,Dinas Perizinan,Izin Usaha
"""


@pytest.mark.parametrize("code", ["id", "en"])
def test_the_2021_report_names_units_and_products_not_product_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str
) -> None:
    data = tmp_path / "kota-contoh-2021.csv"
    data.write_text(DATA_2021, encoding="utf-8")
    page_file = tmp_path / "rapor.html"
    argv = ["report", str(data), "--rubric", "ombudsman-2021", "--institution", "kota-contoh"]
    run([*argv, "--output", str(page_file), "--lang", code], capsys)
    page = page_file.read_text(encoding="utf-8")
    assert "<td>p1</td>" not in page and "/ p1" not in page  # never a bare product id
    # 2021 averages over all products: (70 + 90 + 40) / 3 = 66.67, kuning (51.00–80.99);
    # each product weighs 1/3, so Izin Usaha loses (100 − 40) / 3 = 20.00 points, Layanan KTP
    # 10.00, Layanan KK 3.33. hijau starts at 81.00, reached at 80.995 unrounded: the gap is
    # 80.995 − 66.6667 = 14.3283 points, i.e. Izin Usaha raised by 3 × 14.3283 = 42.985 to
    # 82.985 (the largest gain per point, so the one step), and the card shows +14.33 → 81.00.
    assert "66.67" in page and "<td>Dinas Perizinan</td><td>40.00</td>" in page
    assert "<td>Dinas Perizinan / Izin Usaha</td>" in page
    assert "<td>10.00</td>" in page and "<td>3.33</td>" in page
    label = kepatuhan.get_rubric("ombudsman-2021").criterion("total").label.text(code)
    step = f"<td>Dinas Perizinan / Izin Usaha</td><td>{label}</td><td>+14.33</td><td>81.00</td>"
    assert step in page  # the gap step, by name and label
    note = "Not an official document of the Ombudsman" if code == "en" else "Bukan dokumen resmi"
    assert note in page
    assert str(tmp_path) not in page and "kota-contoh-2021.csv" in page  # no path of the machine


def test_explaining_a_product_names_its_unit_and_institution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text(DATA_2021, encoding="utf-8")
    argv = ["explain", str(data), "--rubric", "ombudsman-2021", "--institution", "kota-contoh"]
    out = run([*argv, "--unit", "perizinan", "--product", "p1"], capsys)
    assert out.startswith("Kota Contoh / Dinas Perizinan / Izin Usaha menurut ")
    assert out.splitlines()[0].endswith(": 40.00")


def test_names_by_entity_label_maps_message_labels_to_names(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text(DATA_2021, encoding="utf-8")
    res = kepatuhan.score("ombudsman-2021", kepatuhan.read_observations(data))
    names = lang.names_by_entity_label(res, res.institution_index("kota-contoh"))
    i = 'institution "kota-contoh"'
    assert names == {
        i: "Kota Contoh",
        f'{i} unit "dukcapil"': "Dinas Kependudukan",
        f'{i} unit "dukcapil" product "p1"': "Dinas Kependudukan / Layanan KTP",
        f'{i} unit "dukcapil" product "p2"': "Dinas Kependudukan / Layanan KK",
        f'{i} unit "perizinan"': "Dinas Perizinan",
        f'{i} unit "perizinan" product "p1"': "Dinas Perizinan / Izin Usaha",
    }


def test_the_2025_report_carries_the_editions_own_name_and_figures_with_a_comma(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.csv"
    data.write_text(DATA_2025, encoding="utf-8")
    out = tmp_path / "r.html"
    argv = ["report", str(data), "--rubric", "ombudsman-2025", "--institution", "kota-x"]
    run([*argv, "--output", str(out), "--print-decimal-comma"], capsys)
    page = out.read_text(encoding="utf-8")
    title = page.split("<title>")[1].split("</title>")[0]
    h1 = page.split("<h1>")[1].split("</h1>")[0]
    assert "Penilaian Maladministrasi 2025" in title and "Penilaian Maladministrasi 2025" in h1
    assert "Kota X" in title and "Penilaian Kepatuhan" not in page
    # 62.57 is C (54.00–77.99) and the flag adds its words to the opinion
    assert "62,57" in page and "62.57" not in page
    assert "C — Kualitas Sedang Tanpa Maladministrasi" in page
    assert "<td>Dinas Sosial</td>" in page and str(tmp_path) not in page


# -- the options -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["gap", "d.csv", *R23, *INST],
        ["rank", "d.csv", *R23],
        ["sensitivity", "d.csv", *R23],
        ["panel", "r.json"],
        ["plot", "distribution", "d.csv", "--output", "x.svg"],
    ],
)
def test_every_command_people_read_takes_the_language_options(argv: list[str]) -> None:
    args = build_parser().parse_args([*argv, "--lang", "en", "--print-decimal-comma"])
    assert args.lang == "en" and args.print_decimal_comma is True
    assert build_parser().parse_args(argv).lang == "id"


def test_reading_with_a_decimal_comma_does_not_print_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--decimal-comma is how DATA is written; what is printed is --print-decimal-comma."""
    data = tmp_path / "d.csv"
    data.write_text("institution;unit;product;criterion;value\nkab-x;u;;total;60,8\n")
    out = run(["score", str(data), *R23, "--decimal-comma", "--delimiter", ";"], capsys)
    assert "60.80" in out and "60,80" not in out
    out = run(["score", str(data), *R23, "--decimal-comma", "--print-decimal-comma"], capsys)
    assert "60,80" in out


# -- gap, rank, sensitivity, panel, compare, describe ------------------------------------------
def _example_names() -> dict[str, str]:
    """Every entity's id → name, as the example data writes them."""
    table = kepatuhan.read_observations(EXAMPLE)
    out = {i.id: i.name or "" for i in table.institutions}
    out.update({u.id: u.name or "" for u in table.units})
    assert all(out.values()) and len(out) == 8
    return out


@pytest.fixture
def results(tmp_path: Path) -> list[str]:
    """The example scored under 2023 and 2024, as result documents (a panel's input)."""
    paths = []
    for rid in ("ombudsman-2023", "ombudsman-2024"):
        path = tmp_path / f"{rid}.json"
        argv = ["score", str(EXAMPLE), "--rubric", rid, "--format", "json"]
        assert main([*argv, "--output", str(path)]) == 0
        paths.append(str(path))
    return paths


def _argv(command: str, results: list[str]) -> list[str]:
    """A run of ``command`` on the example (``panel`` on its results)."""
    e = str(EXAMPLE)
    return {
        "gap": ["gap", e, *R23, *INST],
        "rank": ["rank", e, *R23, "--level", "unit", "--by", "institution"],
        "sensitivity": ["sensitivity", e, *R23, "--draws", "20"],
        "panel": ["panel", *results],
        "compare": ["compare", e, "--rubric", "ombudsman-2022", *R23, "--units"],
        "describe": ["describe", e, *R23],
    }[command]


COMMANDS = ("gap", "rank", "sensitivity", "panel", "compare", "describe")


@pytest.mark.parametrize("code", ["id", "en"])
@pytest.mark.parametrize("command", COMMANDS)
def test_every_table_names_entities_and_criteria_in_the_language(
    capsys: pytest.CaptureFixture[str], results: list[str], command: str, code: str
) -> None:
    capsys.readouterr()
    assert main([*_argv(command, results), "--lang", code]) == 0
    out, err = capsys.readouterr()
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    assert rubric.bands is not None
    names = _example_names()
    inst = names["kab-maluku-tenggara"]
    lines = out.splitlines()
    header = cells(next(lines[k - 1] for k, x in enumerate(lines) if x.startswith("---")))
    if command == "gap":
        # the steps, read from the plan itself: each unit by name, each criterion by label
        assert main([*_argv("gap", results), "--format", "json"]) == 0
        plan = json.loads(capsys.readouterr().out)
        assert plan["steps"]
        for step in plan["steps"]:
            unit = step["entity"].split('"')[-2]
            label = rubric.criterion(step["criterion"]).label.text(code)
            line = next(x for x in out.splitlines() if x.startswith(names[unit] + "  "))
            assert label in cells(line) and unit not in line
        target = rubric.bands.get(plan["target"]["id"])
        assert target is not None
        target_label = target.label_en if code == "en" else target.label
        assert f"-> {target.id} — {target_label} " in out.splitlines()[0]
        assert out.startswith(inst)
        assert (f"{len(plan['steps'])} improvements" in out) == (code == "en")
    elif command == "rank":
        for uid, name in names.items():
            if uid != "kab-maluku-tenggara":
                line = next(x for x in out.splitlines() if x.endswith("  " + uid))
                assert name in cells(line) and inst in cells(line)
    elif command == "sensitivity":
        line = next(x for x in out.splitlines() if x.endswith("  kab-maluku-tenggara"))
        assert cells(line)[0] == inst
        kids = [c for c in rubric.criteria if c.parent == rubric.tree.root.id]
        assert all(c.label.text(code) in err for c in kids)
    elif command == "panel":
        line = next(x for x in out.splitlines() if x.endswith("  kab-maluku-tenggara"))
        zone = "yellow" if code == "en" else "kuning"
        assert cells(line)[0] == inst and cells(line).count(f"60.80 C {zone}") == 2
    elif command == "compare":
        r22 = kepatuhan.get_rubric("ombudsman-2022").bands
        assert r22 is not None
        for r in (rubric.bands, r22):
            c = r.get("C")
            assert c is not None
            assert f"C — {c.label_en if code == 'en' else c.label}" in out
        for uid, name in names.items():
            assert any(x.startswith(inst) and name in cells(x) for x in out.splitlines()), uid
    else:  # describe: every criterion by its label in the coverage table
        for c in rubric.criteria:
            assert any(c.label.text(code) in cells(x) for x in out.splitlines()), c.id
    words = {"gap": "entity", "describe": "criterion"}
    first = lang.word(words.get(command, "institution"), code)
    assert first.lower() in [h.lower() for h in header], (first, header)


@pytest.mark.parametrize("command", ["gap", "rank", "sensitivity", "panel", "compare"])
def test_print_decimal_comma_reaches_every_table(
    capsys: pytest.CaptureFixture[str], results: list[str], command: str
) -> None:
    capsys.readouterr()
    assert main([*_argv(command, results), "--print-decimal-comma"]) == 0
    out = capsys.readouterr().out
    # the regency's published 60.80 (or, ranking units, Dinas Kesehatan's 74.82)
    figure = "74,82" if command == "rank" else "60,80"
    assert figure in out and figure.replace(",", ".") not in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("command", COMMANDS)
def test_machine_formats_of_every_command_are_the_same_bytes_in_every_language(
    capsys: pytest.CaptureFixture[str], results: list[str], command: str, fmt: str
) -> None:
    capsys.readouterr()
    outs = []
    for extra in ([], ["--lang", "en"], ["--print-decimal-comma"], ["--lang", "id"]):
        assert main([*_argv(command, results), "--format", fmt, *extra]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] and all(o == outs[0] for o in outs)
    # figures with a dot (describe's coverage counts are whole numbers), never 60,80
    assert re.search(r"\d\.\d\d", outs[0]) or command == "describe"
    assert "60,80" not in outs[0] and "74,82" not in outs[0]


def test_gap_names_a_product_by_its_unit_and_counts_one_improvement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "kota-contoh-2021.csv"
    data.write_text(DATA_2021, encoding="utf-8")
    argv = ["gap", str(data), "--rubric", "ombudsman-2021", "--institution", "kota-contoh"]
    # as worked out for the report card above: one step, Izin Usaha (Dinas Perizinan's p1)
    # raised so the score reaches 81.00 (hijau), +14.33 points
    for code, one in (("id", "1 perbaikan"), ("en", "1 improvement ")):
        out = run([*argv, "--lang", code], capsys)
        assert one in out.splitlines()[0]
        label = kepatuhan.get_rubric("ombudsman-2021").criterion("total").label.text(code)
        (step,) = [x for x in out.splitlines() if x.startswith("Dinas Perizinan / Izin Usaha")]
        assert label in cells(step) and "+14.33" in cells(step) and "81.00" in cells(step)
        assert "  p1  " not in out
    lines = run([*argv, "--format", "csv"], capsys).splitlines()
    assert lines[0].endswith(",entity_name,label,label_en")
    assert lines[1].startswith("p1,total,") and ",Dinas Perizinan / Izin Usaha," in lines[1]


def test_the_pictures_take_their_words_and_names_from_the_one_catalogue(tmp_path: Path) -> None:
    from kepatuhan.present import plots

    for key, texts in plots.WORDS.items():
        assert texts == {c: lang.word("plot_" + key, c) for c in lang.LANGS}
    data = tmp_path / "d.csv"
    data.write_text(DATA_2021, encoding="utf-8")
    res = kepatuhan.score("ombudsman-2021", kepatuhan.read_observations(data))
    ax = plots.waterfall(res, "kota-contoh", lang="en", decimal_comma=True).axes[0]
    ticks = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    label = res.rubric.criterion("total").label.text("en")
    # Izin Usaha loses (100 − 40) / 3 = 20.00 points, the largest bar
    assert ticks[0] == f"Dinas Perizinan / Izin Usaha: {label}"
    assert any(t.get_text().strip() == "−20,00" for t in ax.texts)
    assert "66,67" in ax.get_title() and "66.67" not in ax.get_title()


def test_the_published_table_names_each_institution_beside_its_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    records = kepatuhan.published(year=2023)
    named = [r for r in records if r.institution_name]
    assert named
    lines = run(["published", "--year", "2023"], capsys).splitlines()
    for r in named:
        assert any(
            r.institution_id in cells(x) and r.institution_name in cells(x) for x in lines
        ), r.institution_id
