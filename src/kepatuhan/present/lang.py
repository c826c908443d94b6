"""Words and numbers for people: the one home of the language of every output people read.

Everything a person reads — the score table, ``explain``, ``gap``, the report card, plots,
``panel`` — names entities by their name and criteria by their label, in Bahasa Indonesia
(``"id"``, the default) or English (``"en"``), and may print figures with a decimal comma
(``60,80``) as Indonesian documents do. Machine formats (JSON, CSV) keep ids and dot
decimals whatever the language; they add name and label columns beside the ids.

The default language is Bahasa Indonesia for every rubric: a rubric's primary labels
(``label.id`` of a criterion, ``label`` of a band) are by the rubric format the Bahasa
Indonesia text and the English one is the optional translation, so the default follows the
rubric's own labels. A label without an English text shows its primary text under ``en``.

The API is small and pure (no I/O, no global state):

- :data:`LANGS`, :data:`DEFAULT_LANG`, :func:`check_lang`
- :func:`word` — the message catalogue (column headers, states, zones, report sentences)
- :func:`entity_label`, :func:`entity_name`, :func:`names_by_entity_label` — a name,
  falling back to the id
- :func:`criterion_label`, :func:`band_label`, :func:`band_text`, :func:`opinion_label`,
  :func:`zone_label`, :func:`state_label`
- :func:`counted` — ``1 improvement``, ``3 improvements`` (``3 perbaikan``)
- :func:`format_score`, :func:`format_published` — the one rounding rule
  (:func:`kepatuhan.rounding.publish`), only the decimal separator swapped
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..applicability import ATTRIBUTE_WORDS
from ..rounding import DECIMALS, publish

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..analysis.reasons import Reason
    from ..bands import Band
    from ..observations import ObservationTable
    from ..results import Scores
    from ..rubric import Criterion

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "band_label",
    "band_text",
    "check_lang",
    "counted",
    "criterion_label",
    "entity_label",
    "entity_name",
    "format_published",
    "format_score",
    "na_reason",
    "names_by_entity_label",
    "opinion_label",
    "reason_text",
    "state_label",
    "word",
    "zone_label",
]

#: The languages of the catalogue: Bahasa Indonesia and English.
LANGS = ("id", "en")
#: The language when none is asked for (the language of a rubric's primary labels).
DEFAULT_LANG = "id"

# One entry per word or sentence people read; every key has both languages (a test checks).
_WORDS: Mapping[str, tuple[str, str]] = {
    # column headers and level names
    "level": ("Tingkat", "Level"),
    "institution": ("Instansi", "Institution"),
    "unit": ("Unit layanan", "Service unit"),
    "product": ("Produk layanan", "Service product"),
    "score": ("Nilai", "Score"),
    "band": ("Kategori", "Category"),
    "opinion": ("Predikat", "Rating"),
    "zone": ("Zona", "Zone"),
    "state": ("Keadaan", "State"),
    "criterion": ("Kriteria", "Criterion"),
    "id": ("Kode", "Id"),
    # cell states (states.State labels) and "given"
    "scored": ("dinilai", "scored"),
    "given": ("diberikan", "given"),
    "not_applicable": ("tidak berlaku", "not applicable"),
    "missing_as_zero": ("tidak ada data, dihitung 0", "missing, counted as 0"),
    "not_computed": ("tidak dihitung", "not computed"),
    "missing": ("tidak ada data", "missing"),
    "missing_left_out": (
        "tidak ada data, tidak diikutkan menurut kebijakan nilai hilang rubrik",
        "missing, left out by the rubric's missing-value policy",
    ),
    # zones
    "merah": ("merah", "red"),
    "kuning": ("kuning", "yellow"),
    "hijau": ("hijau", "green"),
    # explain
    "under": ("menurut", "under"),
    "share": ("bagian", "share"),
    "weight_in_total": ("bobot dalam total", "weight in total"),
    "lost": ("poin hilang", "lost"),
    "if_raised_alone": (
        "jika dinaikkan sendiri (dihitung ulang)",
        "if raised alone (re-scored)",
    ),
    "unit_sector": ("sektor unit", "unit sector"),
    "institution_kind": ("jenis instansi", "institution kind"),
    "not_linear": (
        "tidak linear: poin hilang di bawahnya tidak dapat dijumlahkan",
        "not linear: the lost points below do not add up",
    ),
    "strengths": ("keunggulan (poin di atas rekan)", "strengths (points above peers)"),
    "weaknesses": ("kelemahan (poin di bawah rekan)", "weaknesses (points below peers)"),
    # the report card
    "report": ("Rapor", "Report card"),
    "not_official": (
        "Bukan dokumen resmi Ombudsman Republik Indonesia. Angka-angka ini dihitung ulang "
        "dengan perangkat lunak kepatuhan dari data masukan di bawah, menurut metode yang "
        "disusun dari sumber publik; hasil resmi hanya yang diterbitkan Ombudsman RI.",
        "Not an official document of the Ombudsman of the Republic of Indonesia. These "
        "figures were recomputed by the kepatuhan software from the input named below, "
        "under a method assembled from public sources; the only official results are those "
        "the Ombudsman publishes.",
    ),
    "units": ("Unit layanan", "Service units"),
    "lost_title": ("Poin hilang (dari nilai instansi)", "Points lost (of the institution's score)"),
    "where": ("Unit / produk", "Unit / product"),
    "value": ("Nilai kriteria", "Criterion value"),
    "gap": ("Langkah menuju kategori berikutnya", "Steps to the next category"),
    "gap_none": ("Sudah berada pada kategori tertinggi.", "Already in the top category."),
    "gain": ("Tambahan poin", "Points gained"),
    "after": ("Nilai setelahnya", "Score after"),
    "sources": ("Sumber metode", "Sources of the method"),
    "sources_note": (
        "Judul sumber dan catatannya sebagaimana dicatat dalam rubrik.",
        "Source titles, in their own language, and their notes as the rubric records them.",
    ),
    "provenance": ("Asal-usul angka", "Provenance of the numbers"),
    "method": ("Metode", "Method"),
    "rubric": ("rubrik", "rubric"),
    "derived_from": ("diturunkan dari", "derived from"),
    "input": ("data masukan", "input"),
    "version": ("versi", "version"),
    "plugins": ("plugin", "plugins"),
    # gap
    "entity": ("Entitas", "Entity"),
    "now": ("Sekarang", "Now"),
    "to": ("Menjadi", "To"),
    "raise": ("Naik", "Raise"),
    "points": ("Poin", "Points"),
    "just_enough": ("secukupnya", "just enough"),
    "improvement_one": ("perbaikan", "improvement"),
    "improvement_many": ("perbaikan", "improvements"),
    "closed form": ("bentuk tertutup", "closed form"),
    "search": ("pencarian yang dihitung ulang", "re-scored search"),
    "gap_head": (
        "{name}: {score} ({band}) -> {target} mulai {edge} (tercapai pada {threshold} sebelum "
        "dibulatkan, yang diterbitkan sebagai {edge}): {steps} ({method}), dihitung ulang "
        "{achieved}",
        "{name}: {score} ({band}) -> {target} from {edge} (reached at {threshold} unrounded, "
        "which publishes as {edge}): {steps} ({method}), recomputed {achieved}",
    ),
    "gap_top": (
        "{name}: {score} ({band}) sudah berada pada kategori tertinggi",
        "{name}: {score} ({band}) is already in the top band",
    ),
    "gap_short": (
        "kategori berikutnya tidak dapat dicapai: {reason}",
        "the next band cannot be reached: {reason}",
    ),
    # rank
    "group": ("Kelompok", "Group"),
    "rank": ("Peringkat", "Rank"),
    "of": ("Dari", "Of"),
    "on": ("Atas", "On"),
    "published": ("diterbitkan", "published"),
    "rank_on_score": (
        "diperingkat atas nilai sebelum dibulatkan (sama hanya bila sama sampai bit terakhir; "
        "--on published memeringkat angka yang diterbitkan); seri: {ties}",
        "ranked on the unrounded scores (equal only to the last bit; --on published ranks "
        "the printed figures); ties: {ties}",
    ),
    "rank_on_published": (
        "diperingkat atas angka dua desimal yang diterbitkan (sama seperti tercetak berarti "
        "seri); seri: {ties}",
        "ranked on the published two-decimal figures (equal as printed is tied); ties: {ties}",
    ),
    # sensitivity
    "bands": ("Kategori (bagian undian)", "Categories (share of draws)"),
    "rank_p5": ("Peringkat p5", "Rank p5"),
    "rank_p50": ("Peringkat p50", "Rank p50"),
    "rank_p95": ("Peringkat p95", "Rank p95"),
    "sensitivity_head": (
        "{draws} undian ({method}, sebaran {spread}, seed {seed}) atas bobot {children}",
        "{draws} draws ({method}, spread {spread}, seed {seed}) of the weights of {children}",
    ),
    "sensitivity_weights": (
        "; --weights {path}: bagian tiap undian (berjumlah 1)",
        "; --weights {path}: each draw's shares (adding up to 1)",
    ),
    # panel
    "method_changed": ("metodologi berubah", "methodology changed"),
    "change_from": ("Dari", "From"),
    "change_to": ("Ke", "To"),
    "change": ("Perubahan", "Change"),
    # compare
    "compare_rubric": (
        "rubrik {k}: {label} ({digest}…, dari {ref})",
        "rubric {k}: {label} ({digest}…, from {ref})",
    ),
    "difference_one": ("perbedaan", "difference"),
    "difference_many": ("perbedaan", "differences"),
    "compare_no_difference": (
        "Tidak ada perbedaan dalam cara nilai dihitung atau dikategorikan (hanya judul, "
        "sumber atau catatan).",
        "No difference in how scores are made or banded (titles, sources or notes only).",
    ),
    "score_change": ("Perubahan nilai", "Score change"),
    "band_change": ("Perubahan kategori", "Category change"),
    "zone_change": ("Perubahan zona", "Zone change"),
    "rank_change": ("Perubahan peringkat", "Rank change"),
    "missing_values": ("Nilai yang tidak ada", "Missing values"),
    "note": ("catatan", "note"),
    "crosswalk_use": (
        "{mapped} dari {rows} baris dipetakan, {kept} tetap memakai kode kriterianya "
        "(dikenal rubrik)",
        "{mapped} of {rows} rows mapped, {kept} kept their criterion id (known to the rubric)",
    ),
    "points_out_of": ("poin dari {points}", "points out of {points}"),
    "points_reread": (
        "{n} baris memberi nilai kriteria {criterion} secara langsung: dibaca sebagai "
        "{before} menurut rubrik pertama dan sebagai {after} menurut rubrik ini (angka yang "
        "sama, tidak diskalakan ulang).",
        "{n} rows give criterion {criterion} directly: read as {before} under the first "
        "rubric and as {after} under this one (the same numbers, not rescaled).",
    ),
    # the differences between two rubrics (kepatuhan.present.sentences)
    "none": ("tidak ada", "none"),
    "yes": ("ya", "yes"),
    "no": ("tidak", "no"),
    "weight": ("bobot", "weight"),
    "scale": ("skala", "scale"),
    "criterion_one": ("kriteria", "criterion"),
    "criterion_many": ("kriteria", "criteria"),
    "under_parent": ("di bawah {parent}", "under {parent}"),
    "was": ("sebelumnya {how}", "it was {how}"),
    "with_below": (", beserta {n} {criteria} di bawahnya", ", with the {n} {criteria} below it"),
    "criterion_added": (
        "kriteria {what} ditambahkan{how}{tail}.",
        "criterion {what} is added{how}{tail}.",
    ),
    "criterion_removed": (
        "kriteria {what} dihapus{how}{tail}.",
        "criterion {what} is removed{how}{tail}.",
    ),
    "criterion_moved": (
        "kriteria {what} dipindahkan dari bawah {before} ke bawah {after}.",
        "criterion {what} moves from under {before} to under {after}.",
    ),
    "criterion_changed": (
        "kriteria {what}: {field} dari {before} menjadi {after}.",
        "criterion {what}: {field} from {before} to {after}.",
    ),
    "field_weight": ("bobot berubah", "the weight changes"),
    "field_points": ("poin berubah", "the points change"),
    "field_rule": (
        "aturan penggabungan subkriterianya berubah",
        "the rule combining its children changes",
    ),
    "field_scale": ("skala berubah", "the scale changes"),
    "field_level": ("tingkat pengamatannya berubah", "the level it is observed at changes"),
    "field_label": ("label berubah", "the label changes"),
    "field_label_en": ("label bahasa Inggris berubah", "the English label changes"),
    "field_share": ("porsinya dalam nilai total berubah", "its share of the score changes"),
    "field_na_allowed": (
        "izin untuk dinyatakan tidak berlaku berubah",
        "the not-applicable permission changes",
    ),
    "field_not_applicable_for": (
        "aturan kapan kriteria ini tidak berlaku berubah",
        "the rule where it does not apply changes",
    ),
    "field_min": ("batas bawah berubah", "the lower edge changes"),
    "field_max": ("batas atas berubah", "the upper edge changes"),
    "field_zone": ("zona berubah", "the zone changes"),
    "share_not_fixed": (
        "tidak tetap (ada aturan tidak linear di atasnya)",
        "not fixed (a non-linear rule above it)",
    ),
    "rule_leaf": ("tidak ada (sebuah indikator)", "none (an indicator)"),
    "band_added": ("kategori {what} ditambahkan{how}.", "band {what} is added{how}."),
    "band_removed": ("kategori {what} dihapus{how}.", "band {what} is removed{how}."),
    "band_changed": (
        "kategori {what}: {field} dari {before} menjadi {after}.",
        "band {what}: {field} from {before} to {after}.",
    ),
    "band_from_up": ("mulai {low} ke atas", "from {low} up"),
    "band_from_to": ("dari {low} sampai {high}", "from {low} to {high}"),
    "band_starts": ("{band} mulai {low}", "{band} from {low}"),
    "no_bands": ("tanpa kategori", "no bands"),
    "scheme_changed": (
        "{field} dari {before} menjadi {after}.",
        "{field} from {before} to {after}.",
    ),
    "scheme_bands": ("skema kategori berubah", "the band scheme changes"),
    "scheme_name": ("nama skema kategori berubah", "the name of the band scheme changes"),
    "scheme_maximum": (
        "nilai maksimum skema kategori berubah",
        "the band scheme's maximum changes",
    ),
    "rollup": ("{combine} dengan bobot {by}", "{combine} weighted {by}"),
    "rollup_changed": (
        "penggabungan ke tingkat {level} berubah dari {before} menjadi {after}.",
        "the {level} roll-up changes from {before} to {after}.",
    ),
    "missing_changed": (
        "kebijakan nilai yang tidak ada berubah dari {before} menjadi {after}.",
        "the missing-value policy changes from {before} to {after}.",
    ),
    "flags_changed": (
        "penanda rubrik berubah dari {before} menjadi {after}.",
        "the rubric's flags change from {before} to {after}.",
    ),
    # why an analysis gives no answer (kepatuhan.analysis.reasons.Reason; the English is
    # the library's own sentence, a test checks)
    "gap_capped": (
        "dengan setiap nilai pada batas terbaik yang diizinkan skalanya (dan batas aturan), "
        "nilai hanya mencapai {got_figure}, di bawah {edge_figure}",
        "with every value at the best its scale (and the rules' caps) allow, the score "
        "reaches only {got_figure}, below {edge_figure}",
    ),
    "gap_stuck": (
        "tidak ada lagi satu perbaikan pun yang menaikkan nilai (menurut aturan seperti "
        "minimum, nilai-nilai yang sama-sama terendah harus naik bersama); kepatuhan tidak "
        "mencari kombinasi: nilai tetap {stays_figure}",
        "no single improvement raises the score any more (under a rule such as the minimum, "
        "values tied at the bottom must rise together); kepatuhan does not search "
        "combinations: the score stays at {stays_figure}",
    ),
    "gap_best": (
        "dengan setiap nilai pada batas terbaiknya, nilai hanya mencapai {got_figure}",
        "with every value at its best the score reaches only {got_figure}",
    ),
    "gap_bug": (
        "rencana yang dihitung ulang tidak mencapai target (sebuah bug: mohon laporkan)",
        "the re-scored plan falls short of the target (a bug: please report it)",
    ),
    "r_few": (
        "kurang dari {min} entitas memiliki kedua nilai",
        "fewer than {min} entities have both values",
    ),
    "r_constant": (
        "{c0_criterion} bernilai tetap ({v0_figure}) pada {n} entitas yang memiliki kedua nilai",
        "{c0_criterion} is constant ({v0_figure}) on the {n} entities with both values",
    ),
    "r_constant_both": (
        "{c0_criterion} bernilai tetap ({v0_figure}) dan {c1_criterion} bernilai tetap "
        "({v1_figure}) pada {n} entitas yang memiliki kedua nilai",
        "{c0_criterion} is constant ({v0_figure}) and {c1_criterion} is constant "
        "({v1_figure}) on the {n} entities with both values",
    ),
    # the pictures (kepatuhan.present.plots)
    "plot_published_score": (
        "nilai (dua desimal, seperti diterbitkan)",
        "score (two decimals, as published)",
    ),
    "plot_institutions": ("jumlah instansi", "institutions"),
    "plot_distribution": ("Sebaran nilai {n} instansi", "Scores of {n} institutions"),
    "plot_unscored": ("{n} tanpa nilai", "{n} without a score"),
    "plot_waterfall": (
        "poin yang hilang per indikator, dari {top} ke {score}",
        "points lost at each indicator, from {top} down to {score}",
    ),
    "plot_next_band": ("batas {band}: {edge}", "{band} starts at {edge}"),
    "plot_top_band": ("sudah pada kategori tertinggi", "already in the top band"),
    "plot_your_score": ("nilai {score}", "score {score}"),
    "plot_other": ("lainnya ({n} indikator)", "other ({n} indicators)"),
    "plot_ranks_title": (
        "{rubric}: peringkat bila bobot {children} diubah",
        "{rubric}: ranks when the weights of {children} move",
    ),
    "plot_ranks_how_uniform": (
        "{draws} undian, tiap bobot × (1 ± {spread})",
        "{draws} draws, each weight × (1 ± {spread})",
    ),
    "plot_ranks_how_dirichlet": (
        "{draws} undian Dirichlet di sekitar bobot resmi",
        "{draws} Dirichlet draws around the published weights",
    ),
    "plot_ranks_how": ("{draws} undian bobot", "{draws} weight draws"),
    "plot_ranks_axis": (
        "peringkat dalam jenis instansi (titik: median; garis: persentil 5–95)",
        "rank within the kind of institution (dot: median; line: 5th–95th percentile)",
    ),
    "plot_group": ("{kind}: {shown} dari {n} instansi", "{kind}: {shown} of {n} institutions"),
    "plot_no_kind": ("tanpa jenis", "no kind"),
    "plot_all_kinds": ("semua, peringkat dalam jenisnya", "all, ranked within their kinds"),
    "plot_trajectories": ("Nilai per tahun", "Scores by year"),
    "plot_changed": ("garis tegak: metodologi berubah", "vertical line: the methodology changed"),
    "plot_year": ("tahun", "year"),
    # describe
    "institution_one": ("instansi", "institution"),
    "institution_many": ("instansi", "institutions"),
    "unit_one": ("unit", "unit"),
    "unit_many": ("unit", "units"),
    "product_one": ("produk", "product"),
    "product_many": ("produk", "products"),
    "describe_rows": (
        "{rubric}: {rows} baris ({used} dipakai, {overridden} ditimpa, {empty} kosong, "
        "{excluded} dikecualikan)",
        "{rubric}: {rows} rows ({used} used, {overridden} overridden, {empty} empty, "
        "{excluded} excluded)",
    ),
    "describe_missing": (
        "{n} nilai yang diperlukan tidak ada (kebijakan: {policy}; kolom «Tidak ada data» di "
        "bawah juga menghitung setiap kriteria di bawah nilai yang tidak ada)",
        "{n} needed values missing (policy: {policy}; the Missing column below also counts "
        "each criterion under a missing value)",
    ),
    "describe_pearson": (
        "r Pearson antara {dims} di tingkat {levels} (n: {levels} yang kedua nilainya dinilai)",
        "Pearson's r between {dims} across {levels} (n: {levels} with both values scored)",
    ),
    "undefined": ("tak terdefinisi", "undefined"),
    "entities": ("Entitas", "Entities"),
    "computed": ("dihitung", "computed"),
}


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGS`; ``ValueError`` naming the choices otherwise."""
    if lang not in LANGS:
        raise ValueError(f"expected a language {' or '.join(LANGS)}, found {lang!r}")
    return lang


def word(key: str, lang: str = DEFAULT_LANG, **fields: object) -> str:
    """The catalogue's text for ``key`` in ``lang``, its ``{field}`` places filled from
    ``fields`` when any are given; ``KeyError`` for a key it lacks (a bug in the caller, not
    bad input)."""
    ind, eng = _WORDS[key]
    text = eng if check_lang(lang) == "en" else ind
    return text.format(**fields) if fields else text


def counted(n: int, key: str, lang: str = DEFAULT_LANG) -> str:
    """``n`` things of ``key`` in ``lang``: ``1 improvement``, ``3 improvements`` (the
    catalogue's ``KEY_one`` and ``KEY_many``; Bahasa Indonesia does not change the noun:
    ``3 perbaikan``)."""
    return f"{n} {word(key + ('_one' if n == 1 else '_many'), lang)}"


def entity_label(name: str | None, id: str) -> str:
    """What people call an entity: its name, falling back to its id when it has none."""
    return name.strip() if name and name.strip() else id


def entity_name(table: ObservationTable, level: int, index: int, *, full: bool = False) -> str:
    """The name (else id) of entity ``index`` of ``level`` (0 institution, 1 unit,
    2 product) in ``table``; ``full`` puts a product's unit before it (``Dinas X / Layanan
    Y``: products of different units may share an id such as ``p1``)."""
    if level == 0:
        inst = table.institutions[index]
        return entity_label(inst.name, inst.id)
    if level == 1:
        u = table.units[index]
        return entity_label(u.name, u.id)
    p = table.products[index]
    own = entity_label(p.name, p.id)
    if not full:
        return own
    return f"{entity_name(table, 1, int(table.product_unit[index]))} / {own}"


def names_by_entity_label(scores: Scores, institution: int) -> dict[str, str]:
    """``{entity label: name shown}`` for institution ``institution`` (an index), its units
    and their products (``full`` names), so that a view naming entities by
    :meth:`ObservationTable.entity_label` (``institution "x" unit "y"``, as a gap step does)
    can show the names instead."""
    t = scores.table
    out = {t.entity_label(0, institution): entity_name(t, 0, institution)}
    for u in scores.children(0, institution).tolist():
        out[t.entity_label(1, u)] = entity_name(t, 1, u)
        for p in scores.children(1, u).tolist():
            out[t.entity_label(2, p)] = entity_name(t, 2, p, full=True)
    return out


def criterion_label(criterion: Criterion, lang: str = DEFAULT_LANG) -> str:
    """A criterion's label in ``lang`` (the primary label where it has no English one)."""
    return criterion.label.text(check_lang(lang))


def band_label(band: Band, lang: str = DEFAULT_LANG) -> str:
    """A band's label in ``lang``: ``label_en`` for English where it exists, else ``label``."""
    return band.label_en if check_lang(lang) == "en" and band.label_en else band.label


def band_text(band: Band | None, lang: str = DEFAULT_LANG) -> str:
    """A band as people read it: its label in ``lang``, after its id where the id is not
    its zone (``C — Kualitas Sedang``; a 2021 band ``kuning`` is its label alone); no band
    is the empty string."""
    if band is None:
        return ""
    text = band_label(band, lang)
    return text if band.id == band.zone or text == band.id else f"{band.id} — {text}"


def opinion_label(band: Band, opinion: str | None, lang: str = DEFAULT_LANG) -> str:
    """An opinion (:attr:`kepatuhan.ScoreCard.opinion`: the band's label, then the words of
    every flag that is yes, ``Kualitas Sedang Tanpa Maladministrasi``) in ``lang``: the
    band's label in that language, the flags' words as the rubric writes them (an official
    qualifier, not translated)."""
    text = opinion or band.label
    suffix = text[len(band.label) :].strip() if text.startswith(band.label) else ""
    return " ".join(filter(None, (band_label(band, lang), suffix)))


def zone_label(zone: str | None, lang: str = DEFAULT_LANG) -> str:
    """A zone's word in ``lang`` (``kuning`` → ``yellow``); a zone the catalogue does not
    know is shown as written; no zone is the empty string."""
    if not zone:
        return ""
    return word(zone, lang) if zone in ("merah", "kuning", "hijau") else zone


def state_label(state: str, lang: str = DEFAULT_LANG) -> str:
    """A cell state's words in ``lang`` (``not_applicable`` → ``tidak berlaku``); the
    names are those of :class:`kepatuhan.states.State` plus ``given``."""
    return word(state, lang) if state in _WORDS else state


def format_published(text: str | None, decimal_comma: bool = False) -> str:
    """A figure already published by :func:`kepatuhan.rounding.publish` (``"60.80"``) with
    its decimal point made a comma when ``decimal_comma``; ``None`` is the empty string."""
    if text is None:
        return ""
    return text.replace(".", ",") if decimal_comma else text


def format_score(x: float | None, decimal_comma: bool = False, decimals: int = DECIMALS) -> str:
    """A score as people read it: :func:`kepatuhan.rounding.publish` (half away from zero,
    two decimals; never rounded a second time), with a decimal comma when asked
    (``60,80``); ``None`` is the empty string."""
    if x is None:
        return ""
    return format_published(publish(x, decimals), decimal_comma)


def na_reason(reason: str, lang: str = DEFAULT_LANG) -> str:
    """Why a criterion does not apply, in ``lang``: the engine's ``"unit sector kesehatan"``
    (attribute words, then the value as the data writes it) with the attribute words
    translated; the value is kept as written. ``"missing"`` (a value the rubric's
    ``missing = "not_applicable"`` policy left out) reads as such."""
    if reason == "missing":  # results.MISSING_REASON: left out by the missing policy
        return word("missing_left_out", lang)
    for key, words in ATTRIBUTE_WORDS.items():
        if reason.startswith(words + " "):
            return word(key, lang) + reason[len(words) :]
    return reason


def reason_text(
    reason: Reason,
    lang: str = DEFAULT_LANG,
    decimal_comma: bool = False,
    name: Callable[[str], str] | None = None,
) -> str:
    """Why an analysis gives no answer (:class:`kepatuhan.analysis.reasons.Reason`) in
    ``lang``: its catalogue sentence with each criterion id named by ``name`` (its label,
    say; the id itself without one) and each figure with the chosen separator."""
    fields: dict[str, str] = {}
    for key, value in reason.fields:
        if key.endswith("criterion"):
            value = name(value) if name is not None else value
        elif key.endswith("figure"):
            value = format_published(value, decimal_comma)
        fields[key] = value
    return word(reason.key, lang, **fields)
