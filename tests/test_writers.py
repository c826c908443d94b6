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
