"""``rank``: on the unrounded scores by default, or on the published figures (``--on``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kepatuhan import KepatuhanError, ObservationTable, score
from kepatuhan.analysis.rank import rank
from kepatuhan.cli import main
from kepatuhan.results import Scores

#: 53.745 is stored as 53.74499…, below 53.75, yet publishes as 53.75 (half away from zero);
#: 77.694 and 77.686 both publish as 77.69.
TOTALS = {"kab-a": 53.745, "kab-b": 53.75, "kab-c": 77.694, "kab-d": 77.686, "kab-e": 77.70}


def rows() -> list[dict[str, object]]:
    return [
        dict(institution=i, institution_kind="kabupaten", criterion="total", value=v)
        for i, v in TOTALS.items()
    ]


def scored() -> Scores:
    return score("ombudsman-2023", ObservationTable.from_records(rows()))


def test_the_default_ranks_the_unrounded_scores() -> None:
    got = {r.id: (r.rank, r.on) for r in rank(scored())}
    assert got == {
        "kab-e": (1, "score"),
        "kab-c": (2, "score"),
        "kab-d": (3, "score"),
        "kab-b": (4, "score"),
        "kab-a": (5, "score"),
    }


@pytest.mark.parametrize(("ties", "expected"), [("min", (2, 2, 4, 4)), ("dense", (2, 2, 3, 3))])
def test_on_published_what_is_printed_equal_is_tied(
    ties: str, expected: tuple[int, int, int, int]
) -> None:
    got = {r.id: r.rank for r in rank(scored(), on="published", ties=ties)}
    assert got["kab-e"] == 1
    assert (got["kab-c"], got["kab-d"], got["kab-a"], got["kab-b"]) == expected
    pub = {r.id: r.published for r in rank(scored(), on="published")}
    assert pub["kab-a"] == pub["kab-b"] == "53.75" and pub["kab-c"] == pub["kab-d"] == "77.69"


def test_ordinal_on_published_breaks_printed_ties_by_id() -> None:
    got = {r.id: r.rank for r in rank(scored(), on="published", ties="ordinal")}
    assert (got["kab-c"], got["kab-d"], got["kab-a"], got["kab-b"]) == (2, 3, 4, 5)


def test_an_unknown_basis_is_refused() -> None:
    with pytest.raises(KepatuhanError, match="expected on in score, published, found 'rounded'"):
        rank(scored(), on="rounded")


def test_the_cli_says_what_it_ranked_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    lines = ["institution,institution_kind,unit,product,criterion,value"]
    lines += [f"{i},kabupaten,,,total,{v:.4f}" for i, v in TOTALS.items()]
    data.write_text("\n".join(lines) + "\n")
    base = ["rank", str(data), "--rubric", "ombudsman-2023"]
    assert main(base) == 0
    out, err = capsys.readouterr()
    assert err.startswith("diperingkat atas nilai sebelum dibulatkan")  # Bahasa by default
    words = ["Kelompok", "Peringkat", "Dari", "Instansi", "Nilai", "Atas", "Kode"]
    assert out.splitlines()[0].split() == words
    assert main([*base, "--lang", "en"]) == 0
    assert capsys.readouterr().err.startswith("ranked on the unrounded scores")
    assert main([*base, "--on", "published", "--format", "json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert {r["on"] for r in recs} == {"published"}
    assert [r["rank"] for r in recs if r["id"] in ("kab-a", "kab-b")] == [4, 4]
    assert main([*base, "--on", "published", "--lang", "en"]) == 0
    assert capsys.readouterr().err.startswith("ranked on the published two-decimal figures")
