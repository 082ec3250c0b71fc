"""Place names the NER model missed, found by the gazetteer (conservatively) so they can be geocoded too.

The shipped NER model finds about two thirds of the place mentions of real
news (docs/geo.md); a name it misses cannot be geocoded, counted or chosen as
the event's location. This pass reads the words that no entity covers and
adds a ``LOC`` entity, with a null ``score`` (so it is told apart from the
model's), where a span of one to three words is a name the gazetteer knows
and is unlikely to be an everyday word:

- a name from the reviewed sources (the ISO catalogue, akhbar's alias list) of
  three letters or more, unless the alias list marks it ``nospot`` (a place name
  that is also an everyday word: "صور" Tyre / pictures, "كيف" Kyiv / how);
- a GeoNames-only name of ``min_population`` inhabitants or more and five letters
  or more (GeoNames' Arabic names include everyday words for small places);
- never a name that is also a country adjective ("السعودية" after a noun), a name of no single country, or a span that crosses
  punctuation or an entity the NER model found (a place inside "ريال مدريد"
  stays part of that ORG).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from akhbar.core.text import normalize_arabic
from akhbar.lib.geo.gazetteer import Gazetteer
from akhbar.lib.geo.names import CUE_WORDS, bare, stems
from akhbar.lib.geo.resolve import Resolver

_WORD = re.compile(r"\w+", re.UNICODE)
_BREAK = re.compile(r"[^\w\s]")


def _spottable(gazetteer: Gazetteer, min_population: int) -> tuple[frozenset[str], frozenset[str]]:
    """The keys that may be spotted, and their first words; computed once per loaded gazetteer."""
    cache = gazetteer.__dict__.setdefault("_spottable", {})
    if min_population not in cache:
        keys = set()
        for key, slots in gazetteer.index.items():
            places = [gazetteer.places[i] for i in slots]
            # A key that is also an adjective ("السعودية", "السورية") is an adjective after a noun far more often.
            if key in gazetteer.nospot or key in CUE_WORDS or any(p.kind in ("none", "adj") for p in places):
                continue
            letters = len(key.replace(" ", ""))
            reviewed = key in gazetteer.reviewed and letters >= 3
            major = letters >= 5 and any(p.population >= min_population for p in places)
            if reviewed or major:
                keys.add(key)
        cache[min_population] = (frozenset(keys), frozenset(k.split(" ", 1)[0] for k in keys))
    return cache[min_population]


@lru_cache(maxsize=200_000)
def _norm(word: str) -> str:
    return normalize_arabic(word).lower()


@lru_cache(maxsize=200_000)
def _first_forms(word: str) -> tuple[str, ...]:
    """A normalized first word as a key's first word: as written, then without each proclitic (words repeat: cached)."""
    return (bare(word), *(bare(stem) for stem in stems(word)))


def spot_places(text: str, entities: Sequence[dict[str, Any]], resolver: Resolver, min_population: int = 300_000,
                max_words: int = 3) -> list[dict[str, Any]]:
    """New LOC entities (score null) for the place names no entity covers, in text order."""
    gazetteer = resolver.gazetteer
    spottable, heads = _spottable(gazetteer, min_population)
    spans = [m.span() for m in _WORD.finditer(text)]
    norms = [_norm(text[a:b]) for a, b in spans]
    taken = sorted((int(e["start"]), int(e["end"])) for e in entities if e.get("start") is not None)

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in taken)

    found: list[dict[str, Any]] = []
    i = 0
    while i < len(spans):
        firsts = [f for f in _first_forms(norms[i]) if f in heads]
        if not firsts:
            i += 1
            continue
        step = 1
        for n in range(min(max_words, len(spans) - i), 0, -1):
            rest = " ".join(bare(w) for w in norms[i + 1:i + n])
            keys = [f"{f} {rest}" if rest else f for f in firsts]
            if not any(k in spottable for k in keys):
                continue
            a, b = spans[i][0], spans[i + n - 1][1]
            if not free(a, b) or _BREAK.search(text[a:b]):
                continue
            form, _places = resolver.lookup(text[a:b])
            if form is not None and form.key in spottable:  # the name as the resolver will read it
                found.append({"text": text[a:b], "type": "LOC", "start": a, "end": b, "score": None})
                step = n
                break
        i += step
    return found
