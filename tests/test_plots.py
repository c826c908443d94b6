"""Pictures render headless to PNG and SVG files (the plot extra)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.colors import to_rgba

import kepatuhan
from kepatuhan.analysis.panel import Panel, PanelRow, Series
from kepatuhan.analysis.rank import rank
from kepatuhan.analysis.sensitivity import sensitivity
from kepatuhan.authoring.synthetic import synthetic_campaign
from kepatuhan.bands import Band, BandScheme
from kepatuhan.cli import main
from kepatuhan.errors import KepatuhanError
from kepatuhan.io.observations_io import read_observations, read_observations_text
from kepatuhan.plugins import default_manager
from kepatuhan.present import plots
from kepatuhan.results import Scores

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "maluku-tenggara-2023.csv"
CASES = ROOT / "plugins" / "kepatuhan-ombudsman" / "tests" / "cases"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("distribution", [str(CASES / "final-2024.csv"), "--rubric", "ombudsman-2024"]),
        (
            "waterfall",
            [str(EXAMPLE), "--rubric", "ombudsman-2023", "--institution", "kab-maluku-tenggara"],
        ),
        ("ranks", [str(CASES / "final-2023.csv"), "--rubric", "ombudsman-2023", "--draws", "50"]),
    ],
)
def test_pictures_render_to_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, extra: list[str]
) -> None:
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, *extra, "--output", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 5000


def test_trajectories_render_to_svg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = []
    for year in (2022, 2023, 2024):
        assert (
            main(
                [
                    "score",
                    str(CASES / f"final-{year}.csv"),
                    "--rubric",
                    f"ombudsman-{year}",
                    "--format",
                    "json",
                ]
            )
            == 0
        )
        p = tmp_path / f"{year}.json"
        p.write_text(capsys.readouterr().out)
        json.loads(p.read_text())
        results.append(str(p))
    out = tmp_path / "trajectories.svg"
    assert main(["plot", "trajectories", *results, "--output", str(out)]) == 0
    svg = out.read_text()
    # the legend names the institutions as the results do; each change of edition is marked
    assert svg.lstrip().startswith("<?xml") and "Kota Magelang" in svg
    assert "ombudsman-2022 → ombudsman-2023" in svg and "ombudsman-2023 → ombudsman-2024" in svg


def test_a_wrong_output_type_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "plot",
        "distribution",
        str(EXAMPLE),
        "--rubric",
        "ombudsman-2023",
        "--output",
        str(tmp_path / "x.pdf"),
    ]
    assert main(argv) == 1
    assert "png or .svg" in capsys.readouterr().err


# -- what the pictures say and where they draw it ------------------------------------------


def _scored(path: Path | str, rubric_id: str) -> Scores:
    pm = default_manager()
    return kepatuhan.score(pm.registry.rubric(rubric_id), read_observations(path), plugins=pm)


def _scored_text(text: str, rubric_id: str) -> Scores:
    pm = default_manager()
    table = read_observations_text(text, "csv")
    return kepatuhan.score(pm.registry.rubric(rubric_id), table, plugins=pm)


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def _texts(fig: Any) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_band_bins_put_a_bin_edge_on_every_band_edge() -> None:
    scheme = default_manager().registry.rubric("ombudsman-2024").bands
    assert scheme is not None
    edges = plots.band_bins(scheme)
    # bands 0 / 32 / 54 / 78 / 88 / 100: widths 32, 22, 24, 10, 12 share 2 points at most
    assert edges == [float(x) for x in range(0, 101, 2)]
    zones = BandScheme(
        [Band("merah", "r", 0), Band("kuning", "k", 51), Band("hijau", "h", 81)]
    )  # widths 51, 30, 19: only 1 point divides them all
    assert plots.band_bins(zones) == [float(x) for x in range(101)]
    odd = BandScheme([Band("a", "a", 0), Band("b", "b", Decimal("33.33")), Band("c", "c", 50)])
    # no common width of a point or more: one bin per band, the edges exactly
    assert plots.band_bins(odd) == [0.0, 33.33, 50.0, 100.0]


def test_distribution_bins_are_the_band_edges_and_bars_have_zone_colours() -> None:
    res = _scored(CASES / "final-2024.csv", "ombudsman-2024")
    scheme = res.rubric.bands
    assert scheme is not None
    fig = plots.distribution(res)
    ax = fig.axes[0]
    bars = ax.patches
    lefts = [p.get_x() for p in bars]
    assert lefts == plots.band_bins(scheme)[:-1]
    for b in scheme.bands:
        assert float(b.min) in lefts  # every band starts a bar
    for p in bars:
        x0, x1 = p.get_x(), p.get_x() + p.get_width()
        (band,) = [
            b for b in scheme.bands if float(b.min) <= x0 and x1 <= float(b.max or 100) + 0.01
        ]  # no bar straddles a band edge
        assert p.get_facecolor() == to_rgba(plots.ZONE_COLOURS[band.zone or ""])
    # the bars of each band hold exactly the institutions the cards put in that band
    per_band = Counter(c.band.id for c in res.cards() if c.band is not None)
    lows = [float(b.min) for b in scheme.bands]
    drawn: Counter[str] = Counter()
    for p in bars:
        k = max(i for i, lo in enumerate(lows) if lo <= p.get_x())
        drawn[scheme.bands[k].id] += int(p.get_height())
    assert drawn == per_band and sum(drawn.values()) == 51
    # band names on the axis, the edges as numbers, Indonesian words
    names = [t.get_text().split("\n") for t in ax.get_xticklabels(minor=True)]
    assert [n[0] for n in names] == ["E", "D", "C", "B", "A"]
    assert " ".join(names[2][1:]) == "Kualitas Sedang"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "32", "54", "78", "88", "100"]
    assert ax.get_xlabel() == "nilai (dua desimal, seperti diterbitkan)"
    assert ax.get_ylabel() == "jumlah instansi"
    assert ax.get_title().startswith("Sebaran nilai 51 instansi")
    assert f"A: {per_band['A']} (" in " ".join(_texts(fig))


def test_distribution_in_english() -> None:
    res = _scored(CASES / "final-2024.csv", "ombudsman-2024")
    ax = plots.distribution(res, lang="en").axes[0]
    names = [t.get_text().split("\n") for t in ax.get_xticklabels(minor=True)]
    assert " ".join(names[0][1:]) == "Lowest quality"
    assert ax.get_ylabel() == "institutions" and ax.get_title().startswith("Scores of 51")


def test_distribution_bins_published_scores_as_the_bands_do() -> None:
    # 53.995 is published 54.00 (band C), 31.995 is 32.00 (D): each lands in the bar of the
    # band it gets, not the bar below the edge; 53.99 stays in D
    text = (
        "institution,unit,product,criterion,value\n"
        "a,,,total,53.9950\nb,,,total,53.99\nc,,,total,31.9950\n"
    )
    res = _scored_text(text, "ombudsman-2024")
    assert [c.band.id for c in res.cards() if c.band] == ["C", "D", "D"]
    ax = plots.distribution(res).axes[0]
    heights = {p.get_x(): p.get_height() for p in ax.patches}
    assert heights[54.0] == 1 and heights[52.0] == 1 and heights[32.0] == 1
    assert sum(heights.values()) == 3


def test_waterfall_writes_the_losses_and_draws_the_next_band_edge() -> None:
    res = _scored(EXAMPLE, "ombudsman-2023")
    fig = plots.waterfall(res, "kab-maluku-tenggara")
    ax = fig.axes[0]
    # the published record: Kab. Maluku Tenggara 2023, 60.80, kategori C (kualitas sedang)
    title = ax.get_title()
    assert title.startswith("Kabupaten Maluku Tenggara (2023): 60.80 — C (Kualitas Sedang)")
    widths = [p.get_width() for p in ax.patches]  # negative: each bar goes down
    assert sum(-w for w in widths) == pytest.approx(100 - 60.80, abs=0.005)
    values = [t for t in _texts(fig) if t.strip().startswith("−")]
    assert [v.strip() for v in values] == [f"−{-w:.2f}" for w in widths]
    # the edge of the next band up, B at 78.00, is a vertical line at x = 78
    verticals = [ln.get_xdata() for ln in ax.get_lines()]
    assert any(list(x) == [78.0, 78.0] for x in verticals)
    assert any(t.strip() == "batas B: 78.00" for t in _texts(fig))
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    assert "Puskesmas Watdek: Dimensi Proses" in labels
    en = plots.waterfall(res, "kab-maluku-tenggara", lang="en").axes[0]
    labels = [t.get_text().replace("\n", " ") for t in en.get_yticklabels()]
    assert "Puskesmas Watdek: Process dimension" in labels


def test_waterfall_of_the_top_band_draws_no_next_edge() -> None:
    res = _scored(CASES / "final-2023.csv", "ombudsman-2023")
    ax = plots.waterfall(res, "kemlu").axes[0]
    assert "sudah pada kategori tertinggi" in ax.get_title()  # the catalogue: band = kategori
    assert not [t for t in ax.texts if t.get_text().strip().startswith("batas")]


def test_rank_intervals_are_grouped_by_kind_and_equal_the_ranks_without_spread() -> None:
    data = CASES / "final-2023.csv"
    res = _scored(data, "ombudsman-2023")
    with open(data, encoding="utf-8") as f:
        kinds = Counter(r["institution_kind"] for r in csv.DictReader(f))
    sens = sensitivity(res, draws=5, spread=0.0)
    fig = plots.rank_intervals(sens, res, top=3, method="uniform", spread=0.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    headers = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert headers == [f"{k}: {min(3, n)} dari {n} instansi" for k, n in sorted(kinds.items())]
    assert "ombudsman-2023" in ax.get_title() and "5 undian" in ax.get_title()
    # with no spread every draw is the published weighting: the interval is the rank itself
    by_name = {inst.name: inst.id for inst in res.table.institutions}
    ranks = {r.id: r.rank for r in rank(res)}
    rows = [y for y, lab in enumerate(labels) if lab not in headers]
    drawn = [ln for ln in ax.get_lines() if list(ln.get_ydata()) in ([y, y] for y in rows)]
    assert len(drawn) == len(rows) == sum(min(3, n) for n in kinds.values())
    for y, lab in enumerate(labels):
        if lab in headers:
            continue
        line = next(ln for ln in ax.get_lines() if list(ln.get_ydata()) == [y, y])
        assert list(line.get_xdata()) == [ranks[by_name[lab]]] * 2


def test_trajectories_mark_each_change_of_methodology() -> None:
    rubric = {2021: "old", 2022: "old", 2023: "new"}
    scores = {2021: (50.0, "50.00", "C"), 2022: (60.0, "60.00", "C"), 2023: (90.0, "90.00", "A")}
    p = Panel(
        series=tuple(
            Series(label=f"{r}-{y}", year=y, rubric_id=r, digest=r, path=f"{y}.json")
            for y, r in rubric.items()
        ),
        rows=tuple(
            PanelRow(
                institution="x",
                year=y,
                series=f"{rubric[y]}-{y}",
                edition=rubric[y],
                digest=rubric[y],
                score=v,
                published=pub,
                band=band,
                zone=None,
                rank=1,
                of=1,
                percentile=None,
                state="scored",
            )
            for y, (v, pub, band) in scores.items()
        ),
        changes=(),
    )
    fig = plots.trajectories(p, names={"x": "Kota X"})
    ax = fig.axes[0]
    lines = ax.get_lines()
    changes = [ln for ln in lines if ln.get_linestyle() == "--"]
    assert [list(ln.get_xdata()) for ln in changes] == [[2022.5, 2022.5]]
    assert any(t.strip() == "old → new" for t in _texts(fig))
    # solid within one methodology, dotted across the change
    solid = [
        list(ln.get_xdata()) for ln in lines if ln.get_linestyle() == "-" and len(ln.get_xdata())
    ]
    dotted = [list(ln.get_xdata()) for ln in lines if ln.get_linestyle() == ":"]
    assert sorted(solid) == [[2021, 2022], [2023]] and dotted == [[2022, 2023]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Kota X"]
    assert ax.get_ylabel() == "nilai" and ax.get_xlabel() == "tahun"


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--method", "dirichlet", "--draws", "20", "--top", "3"], "20 undian Dirichlet"),
        (
            ["--method", "uniform", "--spread", "0.3", "--draws", "20", "--lang", "en"],
            "20 draws, each weight × (1 ± 0.3)",
        ),
    ],
)
def test_plot_ranks_passes_the_sensitivity_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], said: str
) -> None:
    out = tmp_path / "ranks.svg"
    argv = ["plot", "ranks", str(CASES / "final-2023.csv"), "--rubric", "ombudsman-2023"]
    assert main([*argv, *extra, "--output", str(out)]) == 0
    assert said in out.read_text()


def test_plot_waterfall_in_english_writes_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w.png"
    argv = ["plot", "waterfall", str(EXAMPLE), "--rubric", "ombudsman-2023"]
    argv += ["--institution", "kab-maluku-tenggara", "--lang", "en", "--output", str(out)]
    assert main(argv) == 0 and out.read_bytes().startswith(PNG)


def test_plot_waterfall_needs_one_institution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["plot", "waterfall", str(EXAMPLE), "--rubric", "ombudsman-2023"]
    assert main([*argv, "--output", str(tmp_path / "w.png")]) == 1
    assert "one --institution" in capsys.readouterr().err


def test_a_waterfall_without_a_score_is_refused() -> None:
    res = _scored_text("institution,unit,product,criterion,value\na,,,total,na\n", "ombudsman-2024")
    with pytest.raises(KepatuhanError, match="no score"):
        plots.waterfall(res, "a")


EDITIONS = [
    "ombudsman-2016",
    "ombudsman-2019:kl",
    "ombudsman-2021",
    "ombudsman-2023",
    "ombudsman-2024",
    "ombudsman-2025",
]


@pytest.mark.parametrize("rubric_id", EDITIONS)
@pytest.mark.parametrize("by", ["entity", "criterion"])
def test_the_waterfall_bars_add_up_to_the_top_of_the_scale_minus_the_score(
    rubric_id: str, by: str
) -> None:
    rubric = kepatuhan.get_rubric(rubric_id)
    res = kepatuhan.score(rubric, synthetic_campaign(rubric, 3, seed=7))
    for card in res.cards():
        assert card.score is not None
        ax = plots.waterfall(res, card.id, top=5, by=by).axes[0]
        lost = sum(-p.get_width() for p in ax.patches)
        assert lost == pytest.approx(res.maximum - card.score, abs=1e-6)
        assert ax.patches[0].get_x() == res.maximum  # the first bar starts at the top
        labels = [t.get_text() for t in ax.get_yticklabels()]
        if by == "criterion":
            assert len(set(labels)) == len(labels)  # one bar per indicator
        plt.close("all")


def test_a_waterfall_does_not_split_points_the_rubric_does_not_split() -> None:
    # 2025 adds the four dimensions' points without publishing how the 70 divide among them:
    # the bars stop at the 70-point node of each unit instead of inventing a dimension's loss
    rubric = kepatuhan.get_rubric("ombudsman-2025")
    res = kepatuhan.score(rubric, synthetic_campaign(rubric, 2, seed=3))
    ax = plots.waterfall(res, "i0", top=100).axes[0]
    crits = {t.get_text().replace("\n", " ").split(": ", 1)[1] for t in ax.get_yticklabels()}
    dims = {c.label.text() for c in rubric.criteria if c.parent == "dimensi"}
    assert dims and not crits & dims
    assert next(c.label.text() for c in rubric.criteria if c.id == "dimensi") in crits


def test_an_institution_without_a_score_has_no_rank_interval_but_counts_in_its_group() -> None:
    text = (CASES / "final-2023.csv").read_text(encoding="utf-8")
    text = text.rstrip("\n") + "\nkab-x,,,total,na,Kab. X,kabupaten,,\n"
    res = _scored_text(text, "ombudsman-2023")
    ax = plots.rank_intervals(sensitivity(res, draws=5), res, top=100).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "Kab. X" not in labels
    kab = sum(i.kind == "kabupaten" for i in res.table.institutions)
    assert f"kabupaten: {kab - 1} dari {kab} instansi" in labels


def test_a_distribution_without_bands_still_draws_the_scores() -> None:
    rubric = kepatuhan.get_rubric("ombudsman-2023")
    res = kepatuhan.score(attrs.evolve(rubric, bands=None), synthetic_campaign(rubric, 5, seed=1))
    ax = plots.distribution(res).axes[0]
    assert sum(p.get_height() for p in ax.patches) == 5
    assert not ax.get_xticklabels(minor=True)


def test_rank_intervals_from_a_sensitivity_run_alone_show_ids_in_one_group() -> None:
    res = _scored(CASES / "final-2023.csv", "ombudsman-2023")
    ax = plots.rank_intervals(sensitivity(res, draws=5), top=2).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    n = len(res.table.institutions)
    assert labels[0] == f"semua, peringkat dalam jenisnya: 2 dari {n} instansi"
    assert len(labels) == 3
    assert set(labels[1:]) <= {i.id for i in res.table.institutions}


def _results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    out = []
    for year in (2022, 2023):
        data = str(CASES / f"final-{year}.csv")
        assert main(["score", data, "--rubric", f"ombudsman-{year}", "--format", "json"]) == 0
        p = tmp_path / f"{year}.json"
        p.write_text(capsys.readouterr().out)
        out.append(str(p))
    return out


def test_plot_trajectories_draws_the_institutions_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _results(tmp_path, capsys)
    out = tmp_path / "t.svg"
    argv = ["plot", "trajectories", *results, "--institution", "kota-magelang"]
    argv += ["--institution", "kemlu", "--lang", "en", "--output", str(out)]
    assert main(argv) == 0
    svg = out.read_text()
    assert "Kota Magelang" in svg and "Kemlu" in svg and "Kota Ambon" not in svg
    assert "Scores by year" in svg and "ombudsman-2022 → ombudsman-2023" in svg
    bad = ["plot", "trajectories", *results, "--institution", "kota-atlantis"]
    assert main([*bad, "--output", str(out)]) == 1
    assert "kota-atlantis" in capsys.readouterr().err
