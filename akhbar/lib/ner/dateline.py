"""Datelines and source credits: outlet and agency names are never persons.

An article often opens with a dateline, ``عمّان - الوسط نيوز:``,
``بيروت، 25 نوفمبر (المشرق) -``, ``(CNN)--`` or ``القاهرة - الساحل اليوم (عن
المشرق):``, and may close on a credit line such as ``(رويترز)`` or
``المصدر: وكالات``. The model reads these as sentences and tags the outlet's
name as a person or a place. The rule here:

* inside a dateline's or credit line's *credit* part (the parenthesised
  group, or the words between the dash and the colon), no entity is kept;
  the place part keeps its LOC entities and drops the rest;
* anywhere else, the article's own outlet name and the known news agencies
  are an organisation where they are part of the sentence ("قالت وكالة
  رويترز إن ..."): an entity that covers one is typed ORG, never PERS.

The rule only removes or retypes entities; it never invents one.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from akhbar.core.text import TATWEEL, normalize_arabic, strip_proclitic

# Wire services and broadcasters that credit Arabic news copy (written forms; compared normalized).
NEWS_AGENCIES = (
    "رويترز", "فرانس برس", "فرانس بريس", "أ ف ب", "أ.ف.ب", "أسوشيتد برس", "اسوشيتد برس", "أسوشييتد برس",
    "د ب أ", "د.ب.أ", "الأناضول", "سبوتنيك", "تاس", "إيتار تاس", "شينخوا", "يونهاب", "كونا", "واس", "وام",
    "قنا", "بنا", "سانا", "واع", "وفا", "معا", "بترا", "العمانية", "وات", "واج", "ومع", "الأنباء الألمانية",
    "CNN", "BBC", "AFP", "Reuters", "AP", "بي بي سي", "سي إن إن", "الجزيرة نت", "وكالات",
)

_DASH = "\\-\u2013\u2014" + TATWEEL  # hyphen, en dash, em dash, tatweel (used as a dash in wire copy)
# The start of a paragraph, up to its first dash, parenthesis or colon.
_PLACE = r"[^\n.!?؟«»\"“”()\[\]:" + _DASH + r"]{0,60}?"
_CREDIT_WORDS = r"[^\n.!?؟«»\"“”()\[\]:" + _DASH + r"]{1,40}?"
_DATELINE = re.compile(
    rf"^[ \t]*(?P<place>{_PLACE})[ \t]*"
    rf"(?:"
    # "(المشرق) -", "(CNN)--", "- (أ ف ب) -": a credit in parentheses, then a dash or colon
    rf"(?:[{_DASH}]+[ \t]*)?\((?P<paren>[^()\n]{{1,40}})\)[ \t]*[{_DASH}:]+"
    # "- الوسط نيوز:", "- الساحل اليوم (عن المشرق):", "- رويترز -": a dash, the outlet, an optional (source)
    rf"|[{_DASH}]+[ \t]*(?P<outlet>{_CREDIT_WORDS})[ \t]*(?:\((?P<via>[^()\n]{{1,40}})\)[ \t]*)?(?P<end>:|[{_DASH}]+)"
    rf")",
    re.M,
)
# Words that name a news source in a "place - credit:" dateline whose outlet is not known to akhbar.
_CREDIT_CUES = re.compile(r"نيوز|اليوم|وكال|برس|الأنباء|الانباء|نت\b|تايمز|بوست|موقع|صحيف|قناة|مراسل|خاص|news|\d", re.I)
# A closing credit: a paragraph that is only "(رويترز)" or "المصدر: ..." / "المصدر - ...".
_CREDIT_LINE = re.compile(rf"^[ \t]*(?:\((?P<paren>[^()\n]{{1,40}})\)|(?:المصدر|المصادر)[ \t]*[:{_DASH}][ \t]*(?P<source>[^\n]{{1,60}}))[ \t]*\.?[ \t]*$", re.M)


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    credit: bool  # True: the credit part (no entity kept); False: the place part (LOC kept)


def dateline_regions(text: str, outlet: str | None = None, head_paragraphs: int = 3) -> list[Region]:
    """Place and credit parts of the dateline and of the closing credit lines of ``text``.

    A dateline opens one of the first ``head_paragraphs`` paragraphs (the
    headline or a standfirst may come first) and its place part has at most
    six words; in the "place - credit:" form the credit must also be short.
    """
    regions = []
    head_end = _paragraph_end(text, head_paragraphs)
    for m in _DATELINE.finditer(text, 0, head_end):
        place = m.group("place")
        if len(place.split()) > 6:
            continue  # a sentence that happens to hold a dash, not a dateline
        credit = m.group("outlet")
        if credit is not None:
            known = is_credit_name(credit, outlet)
            if m.group("end") != ":" and not known:
                continue  # "X - Y - ..." is a dateline only when Y is a known source
            if not known and (len(credit.split()) > 4 or (m.start() > 0 and not _CREDIT_CUES.search(credit))):
                continue  # "وأضاف ترامب - في تغريدة:" is a sentence, not a dateline
        if m.start("place") < m.end("place"):
            regions.append(Region(m.start("place"), m.end("place"), credit=False))
        regions.append(Region(m.end("place"), m.end(), credit=True))
    for m in _CREDIT_LINE.finditer(text):
        regions.append(Region(m.start(), m.end(), credit=True))
    return regions


def _paragraph_end(text: str, paragraphs: int) -> int:
    """Offset of the end of the first ``paragraphs`` non-blank lines of ``text``."""
    seen = 0
    for m in re.finditer(r"[^\n]*\S[^\n]*", text):
        seen += 1
        if seen == paragraphs:
            return m.end()
    return len(text)


def _key(name: str) -> str:
    return " ".join(normalize_arabic(name).lower().replace(".", " ").split())


def _keys(name: str) -> set[str]:
    """The name's key, and its key with a proclitic stripped from the first word ("لرويترز" -> "رويترز")."""
    key = _key(name)
    words = key.split()
    if not words:
        return set()
    return {key, " ".join([strip_proclitic(words[0], 2), *words[1:]])}


_AGENCY_KEYS = frozenset(_key(a) for a in NEWS_AGENCIES)


def is_credit_name(name: str, outlet: str | None = None) -> bool:
    """Whether ``name`` (a proclitic allowed: "لرويترز") is a news agency or the article's own outlet."""
    keys = _keys(name)
    return bool(keys & _AGENCY_KEYS) or (bool(outlet and outlet.strip()) and _key(outlet or "") in keys)


def _outlet_spans(text: str, outlet: str | None) -> list[tuple[int, int]]:
    if not outlet or not outlet.strip():
        return []
    return [m.span() for m in re.finditer(re.escape(outlet.strip()), text)]


def apply_dateline_rule(text: str, entities: Sequence[dict[str, Any]], outlet: str | None = None) -> list[dict[str, Any]]:
    """``entities`` with the dateline rule applied (see the module docstring); offsets untouched."""
    regions = dateline_regions(text, outlet)
    outlet_spans = _outlet_spans(text, outlet)
    kept = []
    for entity in entities:
        start, end = entity["start"], entity["end"]
        inside = [r for r in regions if start < r.end and end > r.start]
        if any(r.credit for r in inside):
            continue
        if inside and entity["type"] != "LOC":
            continue
        if entity["type"] != "ORG" and (
            is_credit_name(entity["text"], outlet) or any(start < b and end > a for a, b in outlet_spans)
        ):
            entity = {**entity, "type": "ORG"}
        kept.append(entity)
    return kept
