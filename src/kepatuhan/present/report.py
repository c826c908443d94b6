"""A report card: one self-contained HTML page for an institution (``kepatuhan report``).

What an Ombudsman office or a regional government hands out: the score and its band, each
unit, where the points were lost, the improvements that reach the next band, the sources of
the method and the provenance of the numbers. Entities are named by their names and criteria
by their labels (:mod:`kepatuhan.present.lang`), in Bahasa Indonesia by default or English
with ``lang="en"``; figures with a decimal comma when ``decimal_comma``. The page says
plainly that it is not an official Ombudsman document, carries the edition's own name (the
rubric's title: *Penilaian Kepatuhan*, *Penilaian Maladministrasi* 2025), and names its
input by file name only, never by a path of the user's machine. No scripts, no external
files: the page can be mailed or printed as is.
"""

from __future__ import annotations

import html
from pathlib import PurePath

from ..analysis.gap import gap
from ..plugins import PluginManager
from ..results import ExplainNode, Scores
from ..rubric import LEVELS, short_digest
from . import lang as L

__all__ = ["report_card"]

_CSS = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}
h1{font-size:1.5rem}h1 small{display:block;font-size:1rem;font-weight:normal;color:#444}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
.big{font-size:2.5rem;font-weight:bold}.hijau{color:#1a7f37}.kuning{color:#9a6700}
.merah{color:#cf222e}small{color:#666}
.note{border:1px solid #9a6700;background:#fff8e5;padding:.5rem .75rem;margin:1rem 0}"""


def _e(x: object) -> str:
    return html.escape("" if x is None else str(x))


def _where(scores: Scores, node: ExplainNode) -> str:
    """Who a node of the explanation is about: the unit's name, or ``unit / product``
    (products of different units may share an id such as ``p1``)."""
    return L.entity_name(scores.table, LEVELS.index(node.level), node.entity_index, full=True)


def _lost_rows(scores: Scores, node: ExplainNode, out: list[tuple[str, str, ExplainNode]]) -> None:
    for child in (*node.entities, *node.children):
        if not child.children and not child.entities and child.lost > 0.005:
            out.append((_where(scores, child), child.criterion, child))
        _lost_rows(scores, child, out)


def report_card(
    scores: Scores,
    institution: str,
    *,
    lang: str = L.DEFAULT_LANG,
    decimal_comma: bool = False,
    plugins: PluginManager | None = None,
) -> str:
    """The HTML page of one institution's report card, in ``lang`` (``"id"`` or ``"en"``),
    figures with a decimal comma when ``decimal_comma``."""
    L.check_lang(lang)

    def t(key: str) -> str:
        return _e(L.word(key, lang))

    def num(x: float | None) -> str:
        return _e(L.format_score(x, decimal_comma))

    def pub(text: str | None) -> str:
        return _e(L.format_published(text, decimal_comma))

    def label(cid: str) -> str:
        return _e(L.criterion_label(scores.rubric.criterion(cid), lang))

    def band_text(band_id: str | None) -> str:
        """A band as people read it (:func:`kepatuhan.present.lang.band_text`)."""
        scheme = scores.rubric.bands
        band = None if band_id is None or scheme is None else scheme.get(band_id)
        return _e(L.band_text(band, lang))

    i = scores.institution_index(institution)
    card = scores.card(institution)
    name = L.entity_label(card.name, card.id)
    title = scores.rubric.title
    band = card.band
    zone = (band.zone or "") if band else ""
    opinion = "" if band is None else L.opinion_label(band, card.opinion, lang)
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{t('report')}: {_e(name)} — {_e(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{t('report')}: {_e(name)}<small>{_e(title)}</small></h1>",
        f"<p class='note'>{t('not_official')}</p>",
        f"<p><span class='big {_e(zone)}'>{pub(card.published)}</span> &nbsp; {t('band')} "
        f"<b>{_e(band.id + ' — ' if band and band.id != band.zone else '')}{_e(opinion)}</b>"
        " &nbsp; "
        f"{t('zone')} <b class='{_e(zone)}'>{_e(L.zone_label(zone, lang))}</b></p>",
    ]
    if card.children:
        parts.append(
            f"<h2>{t('units')}</h2><table><tr><th>{t('unit')}</th><th>{t('score')}</th>"
            f"<th>{t('band')}</th><th>{t('zone')}</th></tr>"
        )
    for u in card.children:
        ub = u.band
        uz = (ub.zone or "") if ub else ""
        parts.append(
            f"<tr><td>{_e(L.entity_label(u.name, u.id))}</td><td>{pub(u.published)}</td>"
            f"<td>{band_text(ub.id if ub else None)}</td>"
            f"<td class='{_e(uz)}'>{_e(L.zone_label(uz, lang))}</td></tr>"
        )
    if card.children:
        parts.append("</table>")
    rows: list[tuple[str, str, ExplainNode]] = []
    _lost_rows(scores, scores.explain(institution), rows)
    rows.sort(key=lambda r: -r[2].lost)
    if rows:
        parts.append(
            f"<h2>{t('lost_title')}</h2><table><tr><th>{t('where')}</th>"
            f"<th>{t('criterion')}</th><th>{t('value')}</th><th>−</th></tr>"
        )
    for who, crit, node in rows[:15]:
        val = "" if node.value is None else f"{num(node.value)} / {pub(f'{node.maximum:g}')}"
        parts.append(
            f"<tr><td>{_e(who)}</td><td>{label(crit)}</td><td>{val}</td>"
            f"<td>{num(node.lost)}</td></tr>"
        )
    if rows:
        parts.append("</table>")
    plan = gap(scores, institution, plugins=plugins)
    parts.append(f"<h2>{t('gap')}</h2>")
    if plan.target is None:
        parts.append(f"<p>{t('gap_none')}</p>")
    else:
        names = L.names_by_entity_label(scores, i)
        parts.append(
            f"<p>{band_text(plan.band.id if plan.band else None)} → "
            f"<b>{band_text(plan.target.id)}</b> (≥ {pub(f'{plan.target.min:.2f}')})</p>"
            f"<table><tr><th>{t('where')}</th><th>{t('criterion')}</th><th>{t('gain')}</th>"
            f"<th>{t('after')}</th></tr>"
        )
        for s in plan.steps:
            parts.append(
                f"<tr><td>{_e(names.get(s.entity, s.entity))}</td><td>{label(s.criterion)}</td>"
                f"<td>+{num(s.points)}</td><td>{num(s.cumulative)}</td></tr>"
            )
        parts.append("</table>")
    parts.append(f"<h2>{t('sources')}</h2><p><small>{t('sources_note')}</small></p><ul>")
    for src in scores.rubric.sources:
        link = f" <a href='{_e(src.url)}'>{_e(src.url)}</a>" if src.url else ""
        parts.append(f"<li>{_e(src.title)}{link}</li>")
    p = scores.provenance
    source = scores.table.source
    # the file's name only: a path would show the user's machine (a home folder, a user name)
    shown_source = PurePath(source.replace("\\", "/")).name if source else ""
    # a variant says which rubric it changed: a result of it is never mistaken for the edition's
    derived = (
        ""
        if p.derived_from_id is None
        else f"<br>{t('derived_from')} {_e(p.derived_from_id)} "
        f"({_e(short_digest(p.derived_from_digest or ''))})"
    )
    parts.append(
        f"</ul><h2>{t('provenance')}</h2><p><small>{t('rubric')} {_e(p.rubric_id)} "
        f"{t('version')} {_e(p.rubric_version)} {_e(p.rubric_digest)}{derived}<br>{t('input')} "
        f"{_e(shown_source)} {_e(p.input_digest)}<br>kepatuhan {_e(p.kepatuhan_version)}; "
        f"{t('plugins')} {_e(', '.join(f'{k} {v}' for k, v in p.plugins.items()))}"
        "</small></p></body></html>"
    )
    return "\n".join(parts)
