"""The streamed writers give the same documents as the reference views (cards, to_dict).

``Scores.to_dict`` builds every score card and is the reference definition of the JSON
document; ``score --format json`` streams the same document from the columns, one
institution per line. These tests hold the two equal on random rubrics and tables and on the
published cases, and hold the table and CSV rows of ``score`` equal to the cards'.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given

import kepatuhan
from kepatuhan import ObservationTable, Rubric
from kepatuhan.cli import _summary_rows, main
from kepatuhan.io.result_json import _ENCODER, RESULT_FORMAT, write_result_json
from kepatuhan.testing import fresh_manager, rubrics, table_records

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "plugins" / "kepatuhan-ombudsman" / "tests" / "cases"
PM = fresh_manager()


def streamed(res: kepatuhan.Scores, chunk: int = 3) -> dict[str, Any]:
    """The document the writers stream (the JSON text path), parsed; the text path must
    also give the same bytes as encoding the dict path."""
    texts = list(res.iter_institution_json(chunk=chunk))
    assert texts == [_ENCODER.encode(d) for d in res.iter_institution_dicts(chunk=chunk + 1)]
    buf = io.StringIO()
    write_result_json(buf, res.document_header(), iter(texts))
    text = buf.getvalue()
    # one institution per line, between the header line and the closing line
    assert text.count("\n") == len(res.table.institutions) + 2
    doc: dict[str, Any] = json.loads(text)
    assert doc.pop("format") == RESULT_FORMAT
    return doc


def card_rows(res: kepatuhan.Scores, units: bool) -> list[tuple[Any, ...]]:
    """The rows ``score`` printed in 0.1, from the cards, then the names and band labels."""
    rows: list[tuple[Any, ...]] = []
    for card in res.cards():
        for c, unit in [(card, ""), *((u, u.id) for u in (card.children if units else ()))]:
            b = c.band
            rows.append(
                (
                    c.level,
                    card.id,
                    unit,
                    c.published,
                    b.id if b else "",
                    (b.zone or "") if b else "",
                    c.state,
                    card.name or "",
                    (c.name or "") if unit else "",
                    b.label if b else "",
                    (b.label_en or "") if b else "",
                    c.opinion or "",
                )
            )
    return rows


@given(rubrics().flatmap(lambda r: table_records(r, PM.registry).map(lambda t: (r, t))))
def test_the_streamed_document_equals_the_cards_on_random_tables(
    case: tuple[Rubric, list[dict[str, Any]]],
) -> None:
    rubric, recs = case
    try:
        res = kepatuhan.score(rubric, ObservationTable.from_records(recs), plugins=PM)
    except kepatuhan.KepatuhanError:
        assume(False)
        return
    assert streamed(res) == res.to_dict()
    for units in (False, True):
        assert _summary_rows(res, units) == card_rows(res, units)


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in CASES.glob("*.csv") if p.name != "known-differences.csv"),
)
def test_the_streamed_document_equals_the_cards_on_the_published_cases(name: str) -> None:
    text = (CASES / name).read_text(encoding="utf-8")
    rubric = _rubric_for(name, text)
    res = kepatuhan.score(rubric, kepatuhan.read_observations(CASES / name))
    assert streamed(res, chunk=2) == res.to_dict()
    assert _summary_rows(res, True) == card_rows(res, True)


def _rubric_for(name: str, text: str) -> str:
    """The edition of a published-cases file: named by its year (``-kl`` uses 0–110)."""
    year = next(part for part in name.replace(".", "-").split("-") if part.isdigit())
    return f"ombudsman-{year}" + (":kl" if "-kl" in name else "")


def test_score_json_on_stdout_and_in_a_file_are_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = CASES / "maluku-tenggara-2023.csv"
    out = tmp_path / "r.json"
    argv = ["score", str(data), "--rubric", "ombudsman-2023", "--format", "json"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert main([*argv, "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == printed
    doc = json.loads(printed)
    assert doc["format"] == RESULT_FORMAT
    assert doc["institutions"][0]["published"] == "60.80"


# -- export rows: band, zone, published, name, kind, given and origin on every row ------------
def _row_entity(res: kepatuhan.Scores, row: dict[str, Any]) -> Any:
    if row["level"] == "institution":
        return next(x for x in res.table.institutions if x.id == row["institution"])
    if row["level"] == "unit":
        return next(
            x
            for x in res.table.units
            if x.id == row["unit"] and x.institution == row["institution"]
        )
    return next(
        x
        for x in res.table.products
        if x.id == row["product"] and x.unit == row["unit"] and x.institution == row["institution"]
    )


@given(rubrics().flatmap(lambda r: table_records(r, PM.registry).map(lambda t: (r, t))))
def test_every_export_row_says_its_band_published_figure_entity_and_origin(
    case: tuple[Rubric, list[dict[str, Any]]],
) -> None:
    rubric, recs = case
    try:
        res = kepatuhan.score(rubric, ObservationTable.from_records(recs), plugins=PM)
    except kepatuhan.KepatuhanError:
        assume(False)
        return
    cols = res.record_columns()
    assert list(cols) == list(kepatuhan.results.RECORD_COLUMNS)
    cards = {c.id: c for c in res.cards()}
    missing = {(m.level, m.institution, m.unit, m.product, m.criterion) for m in res.missing()}
    for row in res.to_records():
        ent = _row_entity(res, row)
        assert row["name"] == ent.name
        assert row["kind"] == (getattr(ent, "kind", None) or getattr(ent, "sector", None))
        key = (row["level"], row["institution"], row["unit"], row["product"], row["criterion"])
        # exactly one origin, agreeing with the given flag and the missing list
        assert (row["origin"] == "given") == row["given"]
        assert (row["origin"] == "missing") == (key in missing)
        assert row["origin"] in ("given", "computed", "not_applicable", "missing")
        # not applicable and neither given nor filled in: said so, never "computed"
        assert (row["origin"] == "not_applicable") == (
            row["state"] == "not_applicable" and not row["given"] and key not in missing
        )
        if row["value"] is None:
            assert row["published"] is None
        else:
            assert row["published"] == kepatuhan.publish(row["value"])
        if row["criterion"] != rubric.tree.nodes[rubric.tree.root_index].id:
            assert row["band"] is None and row["zone"] is None
        elif row["level"] == "institution":
            b = cards[row["institution"]].band
            assert row["band"] == (b.id if b else None) and row["zone"] == (b.zone if b else None)


def test_csv_jsonl_and_parquet_exports_carry_the_same_rows(tmp_path: Path) -> None:
    import csv

    import pyarrow.parquet as pq

    example = ROOT / "examples" / "maluku-tenggara-2023.csv"
    out = {}
    for ext in ("csv", "jsonl", "parquet"):
        out[ext] = tmp_path / f"r.{ext}"
        argv = ["export", str(example), "--rubric", "ombudsman-2023", "--output", str(out[ext])]
        assert main(argv) == 0
    with open(out["csv"], newline="", encoding="utf-8") as f:
        csv_rows = list(csv.DictReader(f))
    lines = [json.loads(x) for x in out["jsonl"].read_text(encoding="utf-8").splitlines()]
    parquet = pq.read_table(out["parquet"]).to_pylist()
    assert len(csv_rows) == len(lines) == len(parquet) == 16
    wanted = ("band", "zone", "published", "name", "kind", "given", "origin")
    for c, j, p in zip(csv_rows, lines, parquet, strict=True):
        for k in wanted:
            assert c[k] == ("" if j[k] is None else str(j[k])) and p[k] == j[k]
        assert isinstance(j["score"], float) and j["rubric_id"] == "ombudsman-2023"
    inst = lines[0]
    assert (inst["level"], inst["band"], inst["zone"], inst["published"]) == (
        "institution",
        "C",
        "kuning",
        "60.80",
    )
    assert inst["name"] == "Kabupaten Maluku Tenggara" and inst["origin"] == "computed"
    # five of the seven units were published as totals only: given, not computed
    totals = [j for j in lines if j["level"] == "unit" and j["criterion"] == "total"]
    assert sorted(j["origin"] for j in totals) == ["computed"] * 2 + ["given"] * 5
