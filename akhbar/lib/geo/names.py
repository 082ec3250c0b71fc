"""Lookup keys of Arabic place names, and the words around a name that say what kind of place it is.

Every spelling of a place folds to one key through the project's one text
module (``akhbar.core.text``): normalised letters, no marks, and no definite
article on any word, so "المنستير" and "منستير", "الإمارات" and "امارات" meet.
A mention is tried as written, then with its proclitics (و ف ب ك ل and their
combinations with ال) stripped from the first word, shortest first, so
"وبيروت", "بالعراق" and "للسعودية" find their places while "لبنان" and
"بنغازي" are never cut.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from akhbar.core.text import MARK_CHARS, PROCLITICS, normalize_arabic

ARTICLE = "ال"
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_NON_WORD_KEEP_MARKS = re.compile(rf"[^\w{MARK_CHARS}]+", re.UNICODE)

# Words before (or after) a name that say which kind of place it names, in normalized spelling.
CITY_CUES = frozenset({"مدينه", "بلده", "قريه", "عاصمه", "بلديه", "معتمديه", "حي", "مخيم", "ميناء"})
REGION_CUES = frozenset({"ولايه", "محافظه", "اقليم", "منطقه", "مقاطعه", "جزيره", "شبه"})
COUNTRY_CUES = frozenset({"دوله", "جمهوريه", "مملكه", "سلطنه", "بلاد"})
# Parts of a place that locate an event in it: "شمال سوريا", "ريف دمشق", "ضواحي تونس".
DIRECTION_WORDS = frozenset({
    "شمال", "جنوب", "شرق", "غرب", "شمالي", "جنوبي", "شرقي", "غربي", "وسط", "ريف", "ضواحي", "اطراف",
})
CUE_WORDS = CITY_CUES | REGION_CUES | COUNTRY_CUES


def bare(word: str) -> str:
    """A normalized word without its definite article (kept when too little would remain)."""
    return word[2:] if word.startswith(ARTICLE) and len(word) >= 4 else word


_MARK = re.compile(f"[{MARK_CHARS}]")


def marked_key(name: str) -> str | None:
    """A name as written, marks kept ("عمّان"), or None when it has no marks to tell it apart."""
    if not _MARK.search(name):
        return None
    return " ".join(_NON_WORD_KEEP_MARKS.sub(" ", name).split())


def marked_forms(text: str) -> list[str]:
    """A mention as written and without each leading proclitic, marks kept, for ``Gazetteer.lookup_marked``."""
    if not _MARK.search(text):
        return []
    written = " ".join(_NON_WORD_KEEP_MARKS.sub(" ", text).split())
    return [written] + [written[len(p):] for p in PROCLITICS if written.startswith(p) and len(written) > len(p) + 2]


def words_of(text: str) -> list[str]:
    """Normalized words of ``text``: letters folded, punctuation as spaces, Latin lower-cased."""
    return _NON_WORD.sub(" ", normalize_arabic(text).lower()).split()


def key_of_words(words: list[str]) -> str:
    return " ".join(bare(w) for w in words)


def place_key(name: str) -> str:
    """The lookup key of a name as a gazetteer stores it: "الدار البيضاء" -> "دار بيضاء"."""
    return key_of_words(words_of(name))


@dataclass(frozen=True)
class NameForm:
    """One way to read a mention: its key, how much was stripped, and the cue word dropped, if any."""

    key: str
    stripped: int  # letters of proclitics removed (0: as written)
    cue: str | None  # "city", "region", "country" or "direction"


def _cue_kind(word: str) -> str | None:
    w = bare(word)
    if w in CITY_CUES:
        return "city"
    if w in REGION_CUES:
        return "region"
    if w in COUNTRY_CUES:
        return "country"
    if w in DIRECTION_WORDS:
        return "direction"
    return None


_PROCLITIC_SET = frozenset(PROCLITICS)
_PROCLITIC_LENGTHS = tuple(sorted({len(p) for p in PROCLITICS}))


def stems(word: str, min_stem: int = 2) -> list[str]:
    """``word`` (normalized) without each of its proclitic strings, shortest strip first.

    The same strings and rule as ``akhbar.core.text.proclitic_stems``, by set lookups: this runs on every word.
    """
    return [word[k:] for k in _PROCLITIC_LENGTHS if len(word) - k >= min_stem and word[:k] in _PROCLITIC_SET]


def _with_stems(words: list[str]) -> Iterator[tuple[list[str], int]]:
    """The words as written, then with each proclitic of the first word stripped, shortest first."""
    yield words, 0
    first = words[0]
    for stem in stems(first):
        yield [stem, *words[1:]], len(first) - len(stem)


def name_forms(text: str) -> Iterator[NameForm]:
    """Keys to try for a mention, most faithful first (as written, proclitics stripped, cue words dropped)."""
    words = words_of(text)
    if not words:
        return
    seen: set[str] = set()
    for variant, stripped in _with_stems(words):
        key = key_of_words(variant)
        if key not in seen:
            seen.add(key)
            yield NameForm(key, stripped, None)
    # "مدينة صفاقس", "ولاية سوسة", "شمال سوريا", "الجزائر العاصمة": drop the cue, remember its kind.
    for variant, stripped in _with_stems(words):
        rest = variant
        cue = None
        while len(rest) > 1 and _cue_kind(rest[0]):
            cue = cue or _cue_kind(rest[0])
            rest = rest[1:]
        if len(rest) > 1 and _cue_kind(rest[-1]) == "city":
            cue = cue or "city"
            rest = rest[:-1]
        if rest is not variant:
            key = key_of_words(rest)
            if key not in seen:
                seen.add(key)
                yield NameForm(key, stripped, cue)


def cue_before(text: str, start: int, window: int = 24) -> str | None:
    """The kind cue of the word just before a mention ("مدينة" صفاقس, "ولاية" سوسة), if any."""
    words = words_of(text[max(0, start - window):start])
    if not words:
        return None
    kind = _cue_kind(words[-1])
    return kind if kind in ("city", "region", "country") else None


def cue_after(text: str, end: int, window: int = 16) -> str | None:
    """"العاصمة" right after a mention ("تونس العاصمة") marks the city."""
    words = words_of(text[end:end + window])
    return "city" if words and bare(words[0]) == "عاصمه" else None
