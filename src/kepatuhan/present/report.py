"""A report card: one self-contained HTML page for an institution (``kepatuhan report``).

What an Ombudsman office or a regional government hands out: the score and its band, each
unit, where the points were lost, the improvements that reach the next band, the sources of
the method and the provenance of the numbers. Bahasa Indonesia by default, English with
``lang="en"``. No scripts, no external files: the page can be mailed or printed as is.
"""

from __future__ import annotations

import html

from ..analysis.gap import gap
from ..plugins import PluginManager
from ..results import ExplainNode, Scores
from ..rounding import publish

__all__ = ["report_card"]

_T = {
    "id": {
        "title": "Rapor Kepatuhan Pelayanan Publik",
        "score": "Nilai",
        "band": "Kategori",
        "zone": "Zona",
        "units": "Unit layanan",
        "unit": "Unit",
        "lost": "Poin hilang (dari nilai institusi)",
        "criterion": "Kriteria",
        "value": "Nilai kriteria",
        "gap": "Langkah menuju kategori berikutnya",
        "gap_none": "Sudah berada pada kategori tertinggi.",
        "gain": "Tambahan poin",
        "after": "Nilai setelahnya",
        "sources": "Sumber metode",
        "provenance": "Asal-usul angka",
        "method": "Metode",
    },
    "en": {
        "title": "Public Service Compliance Report Card",
        "score": "Score",
        "band": "Category",
        "zone": "Zone",
        "units": "Service units",
        "unit": "Unit",
        "lost": "Points lost (of the institution's score)",
        "criterion": "Criterion",
        "value": "Criterion value",
        "gap": "Steps to the next category",
        "gap_none": "Already in the top category.",
        "gain": "Points gained",
        "after": "Score after",
        "sources": "Sources of the method",
        "provenance": "Provenance of the numbers",
        "method": "Method",
    },
}

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}
h1{font-size:1.5rem}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
.big{font-size:2.5rem;font-weight:bold}.hijau{color:#1a7f37}.kuning{color:#9a6700}
.merah{color:#cf222e}small{color:#666}"""


def _e(x: object) -> str:
    return html.escape("" if x is None else str(x))


def _lost_rows(node: ExplainNode, out: list[tuple[str, str, str, float]]) -> None:
    for child in (*node.entities, *node.children):
        if not child.children and not child.entities and child.lost > 0.005:
            who = child.entity.split('"')[-2] if '"' in child.entity else child.entity
            val = "" if child.value is None else f"{publish(child.value)} / {child.maximum:g}"
            out.append((who, child.criterion, val, child.lost))
        _lost_rows(child, out)


def report_card(
    scores: Scores, institution: str, *, lang: str = "id", plugins: PluginManager | None = None
) -> str:
    """The HTML page of one institution's report card."""
    t = _T["en" if lang == "en" else "id"]
    card = scores.card(institution)
    band = card.band
    zone = (band.zone or "") if band else ""
    label = (band.label_en or band.label) if band and lang == "en" else (band.label if band else "")
    parts = [
        "<!doctype html><html lang='"
        + ("en" if lang == "en" else "id")
        + "'><head><meta charset='utf-8'>",
        f"<title>{_e(t['title'])} — {_e(card.name or card.id)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(t['title'])}: {_e(card.name or card.id)}</h1>",
        f"<p><small>{_e(t['method'])}: {_e(scores.rubric.title)}</small></p>",
        f"<p><span class='big {zone}'>{_e(card.published)}</span> &nbsp; {_e(t['band'])} "
        f"<b>{_e(band.id if band else '')}</b> — {_e(card.opinion or label)} &nbsp; "
        f"{_e(t['zone'])} <b class='{zone}'>{_e(zone)}</b></p>",
        f"<h2>{_e(t['units'])}</h2><table><tr><th>{_e(t['unit'])}</th><th>{_e(t['score'])}</th>"
        f"<th>{_e(t['band'])}</th></tr>",
    ]
    for u in card.children:
        ub = u.band
        parts.append(
            f"<tr><td>{_e(u.name or u.id)}</td><td>{_e(u.published)}</td>"
            f"<td class='{_e(ub.zone if ub else '')}'>{_e(ub.id if ub else '')}</td></tr>"
        )
    parts.append("</table>")
    rows: list[tuple[str, str, str, float]] = []
    _lost_rows(scores.explain(institution), rows)
    rows.sort(key=lambda r: -r[3])
    parts.append(
        f"<h2>{_e(t['lost'])}</h2><table><tr><th>{_e(t['unit'])}</th><th>{_e(t['criterion'])}</th>"
        f"<th>{_e(t['value'])}</th><th>−</th></tr>"
    )
    for who, crit, val, lost in rows[:15]:
        parts.append(
            f"<tr><td>{_e(who)}</td><td>{_e(crit)}</td><td>{_e(val)}</td><td>{publish(lost)}</td></tr>"
        )
    parts.append("</table>")
    plan = gap(scores, institution, plugins=plugins)
    parts.append(f"<h2>{_e(t['gap'])}</h2>")
    if plan.target is None:
        parts.append(f"<p>{_e(t['gap_none'])}</p>")
    else:
        parts.append(
            f"<p>{_e(plan.band.id if plan.band else '')} → <b>{_e(plan.target.id)}</b> "
            f"(≥ {_e(plan.target.min)})</p><table><tr><th>{_e(t['unit'])}</th>"
            f"<th>{_e(t['criterion'])}</th><th>{_e(t['gain'])}</th><th>{_e(t['after'])}</th></tr>"
        )
        for s in plan.steps:
            who = s.entity.split('"')[-2] if '"' in s.entity else s.entity
            parts.append(
                f"<tr><td>{_e(who)}</td><td>{_e(s.criterion)}</td><td>+{publish(s.points)}</td>"
                f"<td>{publish(s.cumulative)}</td></tr>"
            )
        parts.append("</table>")
    parts.append(f"<h2>{_e(t['sources'])}</h2><ul>")
    for src in scores.rubric.sources:
        link = f" <a href='{_e(src.url)}'>{_e(src.url)}</a>" if src.url else ""
        parts.append(f"<li>{_e(src.title)}{link}</li>")
    p = scores.provenance
    parts.append(
        f"</ul><h2>{_e(t['provenance'])}</h2><p><small>rubric {_e(p.rubric_id)} "
        f"{_e(p.rubric_version)} {_e(p.rubric_digest)}<br>input {_e(scores.table.source)} "
        f"{_e(p.input_digest)}<br>kepatuhan {_e(p.kepatuhan_version)}; plugins "
        f"{_e(', '.join(f'{k} {v}' for k, v in p.plugins.items()))}</small></p></body></html>"
    )
    return "\n".join(parts)
