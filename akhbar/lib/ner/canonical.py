"""Entities analysts can count: a folded form per mention (``norm``) and one name per person per article (``canonical``).

* ``norm``: the mention through ``akhbar.core.text`` (hamza/alef, ya and ta
  marbuta folded, tatweel, tashkeel and invisible marks removed, lower case,
  punctuation as spaces), with a leading proclitic (و ف ب ك ل, "لل" -> "ال")
  stripped from the first word only where the rest is a known form: a word of
  the model's vocabulary (the 30k most frequent words of the news corpus) that
  is more frequent than the word as written, or another mention's first word
  in the same article. "للأمم المتحدة" -> "الامم المتحده", "وروسيا" -> "روسيا",
  but "لبنان", "فرنسا", "بوتين" stay whole.
* ``canonical``: within one article, a person mention resolves to the longest
  person name whose words contain its own in order, ending on the same word
  (the family name) or being a single word of it: "بوتين", "الرئيس بوتين" and
  "فلاديمير بوتين" all become "فلاديمير بوتين". Titles ("الرئيس", "الشيخ") are
  not part of a name. A mention that fits two different longer names stays
  itself. Other types resolve by ``norm`` only ("كوريا" is not "كوريا الشمالية").

``text``, ``start`` and ``end`` are never changed.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from akhbar.core.text import PROCLITICS, text_key

# Titles and roles that may open a person mention but are not part of the name (normalized forms).
TITLES = frozenset(text_key(t) for t in (
    "الرئيس", "رئيس", "الملك", "الملكة", "الأمير", "الأميرة", "الشيخ", "الشيخة", "السيد", "السيدة", "الآنسة",
    "الدكتور", "الدكتورة", "د", "المهندس", "الأستاذ", "الأستاذة", "البروفيسور", "الإمام", "البابا", "الحاخام",
    "القس", "الأب", "المطران", "السلطان", "الأمير", "ولي", "العهد", "العاهل", "الزعيم", "القائد", "المرشد",
    "الجنرال", "اللواء", "العميد", "العقيد", "الرائد", "النقيب", "المشير", "الفريق", "الوزير", "الوزيرة",
    "وزير", "وزيرة", "المستشار", "المستشارة", "النائب", "النائبة", "السفير", "السفيرة", "المتحدث", "المتحدثة",
    "القاضي", "المحامي", "اللاعب", "اللاعبة", "المدرب", "النجم", "النجمة", "الفنان", "الفنانة", "الممثل",
    "الممثلة", "المطرب", "المطربة", "الكاتب", "الكاتبة", "الشاعر", "الصحفي", "الصحفية", "الحاكم", "المحافظ",
    "سمو", "صاحب", "السمو", "الملكي", "فخامة", "معالي", "سعادة", "جلالة",
))
def norm_words(text: str) -> list[str]:
    """The folded words of a mention (``akhbar.core.text.text_key``)."""
    return text_key(text).split()


@functools.lru_cache(maxsize=1 << 16)
def proclitic_forms(word: str) -> tuple[str, ...]:
    """The word without a leading conjunction or preposition, longest first; the article stays.

    "والقاهره" -> "القاهره", "للامم" (ل + الامم) -> "الامم", "وروسيا" -> "روسيا"; "القاهره" is left whole.
    """
    out = []
    for p in PROCLITICS:
        if p == "ال" or not word.startswith(p) or len(word) - len(p) < 2:
            continue
        article = "ال" if p.endswith("ال") or p.endswith("لل") else ""
        out.append(article + word[len(p):])
    return tuple(out)


class KnownForms:
    """Word frequency ranks (0 = most frequent) that decide whether a proclitic may be stripped."""

    def __init__(self, ranked: Iterable[str] = ()) -> None:
        self.rank: dict[str, int] = {}
        for i, word in enumerate(ranked):
            self.rank.setdefault(word, i)

    @classmethod
    def from_vocab(cls, words: Sequence[str]) -> KnownForms:
        """A model vocabulary, most frequent first (its special tokens skipped)."""
        return cls(w for w in words if not w.startswith("["))

    def strip(self, word: str, also_known: Iterable[str] = ()) -> str:
        """``word`` without its proclitic where the rest is known and commoner than ``word``, else ``word``."""
        known_here = set(also_known)
        own = self.rank.get(word)
        for rest in proclitic_forms(word):
            if rest in known_here:
                return rest
            r = self.rank.get(rest)
            if r is not None and (own is None or r < own):
                return rest
        return word


def entity_norm(text: str, known: KnownForms, also_known: Iterable[str] = ()) -> str:
    """The folded form of one mention, a proclitic stripped from its first word where the rest is known."""
    words = norm_words(text)
    if not words:
        return ""
    words[0] = known.strip(words[0], also_known)
    return " ".join(words)


def _name_words(norm: str) -> list[str]:
    words = norm.split()
    while len(words) > 1 and words[0] in TITLES:
        words = words[1:]
    return words


def _is_part(short: list[str], full: list[str]) -> bool:
    """``short`` is ``full``'s words in order and ends on its last word, or is one word of it."""
    if len(short) >= len(full):
        return False
    if len(short) == 1:
        return short[0] in full
    if short[-1] != full[-1]:
        return False
    it = iter(full)
    return all(w in it for w in short)


def add_canonical_forms(entities: Sequence[Mapping[str, Any]], known: KnownForms) -> list[dict[str, Any]]:
    """Each entity of one article with ``norm`` and ``canonical`` added (nothing else changed)."""
    first_words = {w[0] for e in entities if (w := norm_words(e["text"]))}
    out = [dict(e, norm=entity_norm(e["text"], known, first_words)) for e in entities]
    persons = {e["norm"]: _name_words(e["norm"]) for e in out if e["type"] == "PERS" and e["norm"]}
    names = {" ".join(w) for w in persons.values() if w}
    resolved: dict[str, str] = {}
    for name in names:
        words = name.split()
        longer = [other for other in names if _is_part(words, other.split())]
        # The longest names that contain this one; a name inside another candidate is not a rival.
        maximal = [c for c in longer if not any(_is_part(c.split(), d.split()) for d in longer)]
        resolved[name] = maximal[0] if len(maximal) == 1 else name
    for e in out:
        if e["type"] == "PERS" and e["norm"]:
            e["canonical"] = resolved.get(" ".join(persons[e["norm"]]), e["norm"])
        else:
            e["canonical"] = e["norm"]
    return out
