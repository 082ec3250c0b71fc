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
- never a country adjective, a name of no single country, or a span that crosses
  punctuation or an entity the NER model found (a place inside "ريال مدريد"
  stays part of that ORG).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from akhbar.core.text import normalize_arabic, proclitic_stems
from akhbar.lib.geo.gazetteer import Gazetteer
from akhbar.lib.geo.names import CUE_WORDS
from akhbar.lib.geo.resolve import Resolver

_WORD = re.compile(r"\w+", re.UNICODE)
_BREAK = re.compile(r"[^\w\s]")


def _heads(gazetteer: Gazetteer) -> frozenset[str]:
    cached = getattr(gazetteer, "_heads", None)
    if cached is None:
        cached = frozenset(k.split(" ", 1)[0] for k in gazetteer.index)
        gazetteer._heads = cached  # built once per loaded gazetteer
    return cached


def _bare(word: str) -> str:
    return word[2:] if word.startswith("ال") and len(word) >= 4 else word


def _could_start(word: str, heads: frozenset[str]) -> bool:
    if _bare(word) in heads:
        return True
    return any(_bare(stem) in heads for stem in proclitic_stems(word, min_stem=2))


def spot_places(text: str, entities: Sequence[dict[str, Any]], resolver: Resolver, min_population: int = 300_000,
                max_words: int = 3) -> list[dict[str, Any]]:
    """New LOC entities (score null) for the place names no entity covers, in text order."""
    heads = _heads(resolver.gazetteer)
    spans = [m.span() for m in _WORD.finditer(text)]
    norms = [normalize_arabic(text[a:b]) for a, b in spans]
    taken = sorted((int(e["start"]), int(e["end"])) for e in entities if e.get("start") is not None)

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in taken)

    found: list[dict[str, Any]] = []
    i = 0
    while i < len(spans):
        if not _could_start(norms[i], heads):
            i += 1
            continue
        step = 1
        for n in range(min(max_words, len(spans) - i), 0, -1):
            a, b = spans[i][0], spans[i + n - 1][1]
            if not free(a, b) or _BREAK.search(text[a:b]):
                continue
            form, places = resolver.lookup(text[a:b])
            if not places or any(p.kind in ("none", "adj") for p in places):
                continue
            letters = len(form.key.replace(" ", ""))
            if form.key in resolver.gazetteer.nospot or form.key in CUE_WORDS:
                continue
            reviewed = form.key in resolver.gazetteer.reviewed and letters >= 3
            major = letters >= 5 and any(p.population >= min_population for p in places)
            if reviewed or major:
                found.append({"text": text[a:b], "type": "LOC", "start": a, "end": b, "score": None})
                step = n
                break
        i += step
    return found
