"""A rubric difference as a finished sentence for people, in Bahasa Indonesia or English.

:class:`kepatuhan.analysis.compare.Change` is data (ids, fields, values as text) with an
English :attr:`~kepatuhan.analysis.compare.Change.sentence` for the library and the machine
outputs. :func:`change_sentence` says the same change for a person: criteria named by their
label in the chosen language (the id in backticks after it only where two criteria of the
rubric share that label, or where the label itself is what changed), bands by their label,
level names, zones, states and the words of every field from the catalogue of
:mod:`kepatuhan.present.lang`, figures as the rubric writes them (a decimal comma when
asked). Rubric keywords (rule, scale and policy names, flag ids) are kept as written in
backticks: they are what a rubric file says. Pure: values in, text out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rounding import publish
from .lang import (
    band_label,
    check_lang,
    criterion_label,
    format_published,
    na_reason,
    word,
    zone_label,
)

if TYPE_CHECKING:
    from ..analysis.compare import Change
    from ..bands import Band
    from ..rubric import Criterion, Rubric

__all__ = ["change_sentence", "quoted"]

#: A quoted label: « » in Bahasa Indonesia, “ ” in English.
_QUOTES = {"id": ("«", "»"), "en": ("“", "”")}


def quoted(text: str, lang: str) -> str:
    """A label quoted as the language quotes it: ``«Dimensi Input»``, ``“Input dimension”``."""
    left, right = _QUOTES[check_lang(lang)]
    return f"{left}{text}{right}"


_q = quoted


def _unquote(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _node(rubric: Rubric, cid: str) -> Criterion | None:
    k = rubric.tree.index.get(cid)
    return None if k is None else rubric.tree.nodes[k]


def _criterion(rubric: Rubric, cid: str, lang: str) -> str:
    """``«Dimensi Input»``; ``«Input» (`input`)`` when another criterion of ``rubric`` has
    the same label in ``lang``; the id in backticks when ``rubric`` lacks it."""
    node = _node(rubric, cid)
    if node is None:
        return f"`{cid}`"
    text = criterion_label(node, lang)
    twins = sum(
        1 for c in rubric.criteria if criterion_label(c, lang).casefold() == text.casefold()
    )
    return _q(text, lang) + (f" (`{cid}`)" if twins > 1 or not text else "")


def _band(rubric: Rubric, band_id: str, lang: str) -> str:
    """``«C — Kualitas Sedang»``; a band that is its zone, or is only its id, by its label."""
    band = rubric.bands.get(band_id) if rubric.bands is not None else None
    if band is None:
        return f"`{band_id}`"
    text = band_label(band, lang)
    return _q(text if text == band.id or band.id == band.zone else f"{band.id} — {text}", lang)


def _fig(text: str, decimal_comma: bool) -> str:
    return format_published(text, decimal_comma)


def _none(text: str | None, lang: str) -> str | None:
    return word("none", lang) if text is None or text == "none" else None


def _level(name: str, lang: str) -> str:
    return word(name, lang).lower() if name in ("institution", "unit", "product") else name


def _band_range(band: Band, lang: str, decimal_comma: bool) -> str:
    low = _fig(publish(float(band.min)), decimal_comma)
    if band.max is None:
        span = word("band_from_up", lang, low=low)
    else:
        span = word(
            "band_from_to", lang, low=low, high=_fig(publish(float(band.max)), decimal_comma)
        )
    return span + (f", {word('zone', lang).lower()} {_zone(band.zone, lang)}" if band.zone else "")


def _zone(zone: str | None, lang: str) -> str:
    return zone_label(zone, lang) if zone else word("none", lang)


def _described(rubric: Rubric, c: Criterion, lang: str, decimal_comma: bool) -> str:
    """Where an added or removed criterion sits and what it weighs."""
    from ..analysis.compare import scale_text, written

    bits = []
    if c.parent is not None:
        bits.append(word("under_parent", lang, parent=_criterion(rubric, c.parent, lang)))
    if c.points is not None:
        bits.append(
            f"{word('points', lang).lower()} {_fig(written(c.points) or '', decimal_comma)}"
        )
    if c.weight is not None:
        bits.append(f"{word('weight', lang)} {_fig(written(c.weight) or '', decimal_comma)}")
    if c.scale is not None:
        bits.append(f"{word('scale', lang)} `{scale_text(c)}`")
    return ", ".join(bits)


def _value(field: str, text: str | None, rubric: Rubric, lang: str, decimal_comma: bool) -> str:
    """One before or after value of a changed criterion or band, for people."""
    nothing = _none(text, lang)
    if nothing is not None or text is None:
        return nothing or ""
    if field in ("weight", "points", "min", "max", "maximum"):
        return _fig(text, decimal_comma)
    if field == "share":
        if text.endswith(" %"):
            return _fig(text, decimal_comma)
        return word("share_not_fixed", lang)
    if field == "rule":
        from ..analysis.compare import LEAF_RULE

        return word("rule_leaf", lang) if text == LEAF_RULE else f"`{text}`"
    if field == "level":
        return _level(text, lang)
    if field == "na_allowed":
        return word("yes" if text == "true" else "no", lang)
    if field == "not_applicable_for":
        return "; ".join(na_reason(part, lang) for part in text.split("; "))
    if field == "parent":
        return _criterion(rubric, _unquote(text), lang)
    if field in ("label", "label_en", "name"):
        return _q(_unquote(text), lang)
    if field == "zone":
        return _zone(text, lang)
    return f"`{text}`"


def _scheme(rubric: Rubric, lang: str, decimal_comma: bool) -> str:
    if rubric.bands is None:
        return word("no_bands", lang)
    return " / ".join(
        word(
            "band_starts",
            lang,
            band=_band(rubric, b.id, lang),
            low=_fig(publish(float(b.min)), decimal_comma),
        )
        for b in rubric.bands.bands
    )


def _finish(text: str) -> str:
    return text[0].upper() + text[1:]


def change_sentence(
    change: Change, a: Rubric, b: Rubric, lang: str, *, decimal_comma: bool = False
) -> str:
    """``change`` (a difference from rubric ``a`` to rubric ``b``, as
    :func:`kepatuhan.analysis.compare.diff_rubrics` made it) as one finished sentence in
    ``lang``: ``Kriteria «Dimensi Input»: poin berubah dari 21.85 menjadi 25.85.``"""
    lang = check_lang(lang)
    before, after = change.before, change.after
    if change.section == "criterion":
        if change.kind in ("added", "removed"):
            rubric = b if change.kind == "added" else a
            node = _node(rubric, change.subject)
            what = _criterion(rubric, change.subject, lang)
            how = "" if node is None else _described(rubric, node, lang, decimal_comma)
            if how and change.kind == "removed":
                how = word("was", lang, how=how)
            how = f" ({how})" if how else ""
            below = len(change.ids) - 1
            tail = (
                ""
                if below <= 0
                else word(
                    "with_below",
                    lang,
                    n=below,
                    criteria=word("criterion_one" if below == 1 else "criterion_many", lang),
                )
            )
            return _finish(word(f"criterion_{change.kind}", lang, what=what, how=how, tail=tail))
        field = change.field or ""
        relabel = field in ("label", "label_en")
        # a label that changes names the criterion by its id (the label is what differs)
        what = f"`{change.subject}`" if relabel else _criterion(b, change.subject, lang)
        if field == "parent":
            return _finish(
                word(
                    "criterion_moved",
                    lang,
                    what=_criterion(b, change.subject, lang),
                    before=_value("parent", before, a, lang, decimal_comma),
                    after=_value("parent", after, b, lang, decimal_comma),
                )
            )
        return _finish(
            word(
                "criterion_changed",
                lang,
                what=what,
                field=word(f"field_{field}", lang),
                before=_value(field, before, a, lang, decimal_comma),
                after=_value(field, after, b, lang, decimal_comma),
            )
        )
    if change.section == "band":
        if change.kind in ("added", "removed"):
            rubric = b if change.kind == "added" else a
            band = rubric.bands.get(change.subject) if rubric.bands is not None else None
            how = "" if band is None else _band_range(band, lang, decimal_comma)
            if how and change.kind == "removed":
                how = word("was", lang, how=how)
            how = f" ({how})" if how else ""
            return _finish(
                word(
                    f"band_{change.kind}",
                    lang,
                    what=_band(rubric, change.subject, lang),
                    how=how,
                )
            )
        field = change.field or ""
        relabel = field in ("label", "label_en")
        return _finish(
            word(
                "band_changed",
                lang,
                what=f"`{change.subject}`" if relabel else _band(b, change.subject, lang),
                field=word(f"field_{field}", lang),
                before=_value(field, before, a, lang, decimal_comma),
                after=_value(field, after, b, lang, decimal_comma),
            )
        )
    if change.section == "bands":
        field = change.field or ""
        if field == "bands":
            x, y = _scheme(a, lang, decimal_comma), _scheme(b, lang, decimal_comma)
        else:
            x = _value(field, before, a, lang, decimal_comma)
            y = _value(field, after, b, lang, decimal_comma)
        return _finish(
            word("scheme_changed", lang, field=word(f"scheme_{field}", lang), before=x, after=y)
        )
    if change.section == "levels":
        ra, rb = a.levels.rule(change.subject), b.levels.rule(change.subject)
        return _finish(
            word(
                "rollup_changed",
                lang,
                level=_level(change.subject, lang),
                before=word("rollup", lang, combine=f"`{ra.combine}`", by=f"`{ra.weight_by}`"),
                after=word("rollup", lang, combine=f"`{rb.combine}`", by=f"`{rb.weight_by}`"),
            )
        )
    # the rubric as a whole: the missing-value policy, the flags
    key = "missing_changed" if change.field == "missing" else "flags_changed"

    def listed(text: str | None) -> str:
        nothing = _none(text, lang)
        if nothing is not None or text is None:
            return nothing or ""
        return ", ".join(f"`{x}`" for x in text.split(", "))

    return _finish(word(key, lang, before=listed(before), after=listed(after)))
