"""Where the article's primary event happened (GDELT's ActionGeo), chosen among its resolved places.

News puts the place of the event up front: in the dateline ("بيروت - (رويترز)"),
in the headline, in the first sentence, after a locative ("في", "بمدينة",
"قرب"), and next to the words that report the event itself ("مظاهرة في ...",
"غارة على ..."). Each resolved mention scores on those signals plus how often its
place recurs; the best wins, and a city or region beats its own country when
both are strong (the most specific place). An article with no resolved place has
no event location.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from akhbar.core.text import normalize_arabic, strip_proclitic
from akhbar.lib.geo.names import bare, name_forms, stems, words_of
from akhbar.lib.geo.resolve import Mention

# Word beginnings (normalized, proclitics stripped) that report an event of each type: cues, not rules.
EVENT_CUES: dict[str, tuple[str, ...]] = {
    "PROTEST": ("مظاهر", "تظاهر", "متظاهر", "احتجاج", "احتج", "محتج", "اضراب", "اعتصام", "معتصم", "مسيره", "وقفه"),
    "ARMED_CONFLICT": ("قصف", "غاره", "غارات", "اشتباك", "هجوم", "هاجم", "تفجير", "انفجار", "قتل", "مقتل", "قتلى",
                       "استهداف", "صاروخ", "معارك", "معركه", "توغل", "انتحاري", "عبوه", "اغتيال", "مسلح", "كمين"),
    "ARREST_LEGAL": ("اعتقال", "اعتقل", "ايقاف", "قبض", "محاكم", "حكم", "سجن", "تحقيق", "مداهم", "حجز", "ضبط", "احتجاز"),
    "DIPLOMACY": ("زياره", "زار", "التقى", "لقاء", "اجتماع", "قمه", "محادثات", "مباحثات", "مؤتمر", "وصل", "استقبل",
                  "مفاوضات", "اتفاق"),
    "STATEMENT": ("صرح", "تصريح", "قال", "اكد", "دعا", "طالب", "ندد", "نفى", "اتهم", "بيان", "اعلن", "حذر"),
    "AID_COOPERATION": ("مساعد", "قرض", "منحه", "تعاون", "اتفاقي", "دعم", "شحنه"),
    "MILITARY_POSTURE": ("مناور", "تدريب", "عرض", "تجربه", "حشد", "تهديد", "هدد", "نشر"),
    "SANCTIONS": ("عقوب", "حظر", "طرد", "مقاطع", "قطع"),
    "POLITICS_GOVERNANCE": ("انتخاب", "تعيين", "استقال", "برلمان", "حكومه", "بلدي", "اقتراع", "تصويت", "مجلس"),
    "DISASTER_ACCIDENT": ("زلزال", "هزه", "فيضان", "سيول", "حريق", "حادث", "اصطدام", "انقلاب", "غرق", "وباء",
                          "امطار", "عاصف", "انهيار", "اعصار", "ضحايا"),
    "ECONOMY": ("اسعار", "سوق", "بورصه", "تصدير", "استثمار", "انتاج", "مشروع", "ميزانيه", "معرض", "صادرات"),
    "OTHER": ("مباراه", "مهرجان", "بطوله", "دوري", "ملعب", "حفل", "معرض", "تظاهره", "فاز", "عرض"),
}
_LOCATIVES = frozenset({"في", "بمدينه", "بولايه", "بمحافظه", "بمنطقه", "قرب", "داخل", "على", "الى", "بالقرب",
                        "بلده", "مدينه", "ولايه", "محافظه", "منطقه", "بمعتمديه", "معتمديه", "امام"})
# Words after which a mention with the clitic ل names a destination: "زيارته للقاهرة", "وصل لبغداد".
_MOTION = ("زيار", "زار", "وصول", "وصل", "توجه", "رحل", "سفر", "عاد")
_DASH_AFTER = re.compile(r"^[^.!?\n]{0,60}?\s[-–—]\s|^\s*[-–—:]")
_SENTENCE_END = re.compile(r"[.!?؟\n]")


@dataclass(frozen=True)
class EventLocationConfig:
    dateline: float = 2.5
    title: float = 2.5
    first_sentence: float = 1.5
    locative: float = 2.0
    trigger: float = 1.5
    repeats: float = 0.7  # per doubling of the place's mentions
    specific: float = 0.5  # a city or region rather than a country
    adjective: float = -1.5  # an adjective rarely names where something happened
    position: float = 1.0  # lost from the start of the text to its end
    trigger_window: int = 8  # words before a mention searched for the event's cue words
    prefer_specific_within: float = 2.0  # a city this close to its country's best score wins


def _cue_hit(words: list[str], cues: tuple[str, ...]) -> bool:
    for word in words:
        stem = strip_proclitic(word)
        if any(word.startswith(c) or stem.startswith(c) for c in cues):
            return True
    return False


def title_keys(title: str | None) -> set[str]:
    """Every key of every 1-3 word span of the headline, to match mentions against."""
    words = words_of(title or "")
    keys: set[str] = set()
    for n in (1, 2, 3):
        for i in range(len(words) - n + 1):
            rest = " ".join(bare(w) for w in words[i + 1:i + n])
            for first in [bare(words[i])] + [bare(s) for s in stems(words[i])]:
                keys.add(f"{first} {rest}" if rest else first)
    return keys


def _place_id(m: Mention) -> tuple:
    p = m.place
    return (p.country, p.geonameid, p.lat, p.lon) if p.kind in ("city", "region") else (p.country,)


def choose_event_location(text: str, title: str | None, mentions: Sequence[Mention],
                          event_codes: Sequence[str] = (), config: EventLocationConfig | None = None,
                          ) -> tuple[Mention | None, dict[int, float]]:
    """The mention naming where the primary event happened (or None), and every candidate's score."""
    c = config or EventLocationConfig()
    resolved = [m for m in mentions if m.place is not None]
    if not resolved:
        return None, {}
    first_end = _SENTENCE_END.search(text, 20)
    first_end = first_end.start() if first_end else len(text)
    in_title = title_keys(title)
    counts = Counter(_place_id(m) for m in resolved)
    country_counts = Counter(m.place.country for m in resolved)
    cues = tuple(cue for code in event_codes for cue in EVENT_CUES.get(code, ()))
    n = max(1, len(text))
    scores: dict[int, float] = {}
    for m in resolved:
        s = 0.0
        before = text[:m.start]
        if m.start < 40 and not _SENTENCE_END.search(before) and _DASH_AFTER.search(text[m.end:m.end + 80]):
            s += c.dateline
        if m.key in in_title or any(f.key in in_title for f in name_forms(m.text)):
            s += c.title
        if m.start <= first_end:
            s += c.first_sentence
        previous = words_of(text[max(0, m.start - 40):m.start])
        norm = normalize_arabic(m.text)
        clitic = norm[:1] if m.form is not None and m.form.stripped else ""
        if (previous and previous[-1] in _LOCATIVES) or clitic == "ب" or (
                clitic == "ل" and previous and _cue_hit(previous[-1:], _MOTION)):
            s += c.locative
        if cues:
            window = previous[-c.trigger_window:]
            sentence_start = max((i for i, w in enumerate(window) if _SENTENCE_END.search(w)), default=-1)
            if _cue_hit(window[sentence_start + 1:], cues):
                s += c.trigger
        mentions_of_place = counts[_place_id(m)] if m.place.kind != "country" else country_counts[m.place.country]
        s += c.repeats * math.log2(1 + mentions_of_place)
        if m.place.kind in ("city", "region"):
            s += c.specific
        elif m.place.kind == "adj":
            s += c.adjective
        s -= c.position * m.start / n
        scores[m.index] = s
    best = max(resolved, key=lambda m: (scores[m.index], -m.start))
    if best.place.kind in ("country", "adj"):
        inside = [m for m in resolved if m.place.kind in ("city", "region") and m.place.country == best.place.country]
        if inside:
            city = max(inside, key=lambda m: (scores[m.index], -m.start))
            if scores[city.index] >= scores[best.index] - c.prefer_specific_within:
                best = city
    return best, scores


def event_location_fields(m: Mention | None) -> dict[str, Any] | None:
    """The ``event_location`` struct of the chosen mention."""
    if m is None or m.place is None:
        return None
    p = m.place
    located = p.kind in ("city", "region")
    return {
        "text": m.text,
        "start": m.start,
        "end": m.end,
        "country": p.country,
        "geonameid": p.geonameid if p.kind == "city" else None,
        "lat": p.lat if located else None,
        "lon": p.lon if located else None,
    }
