"""Gazetteer features: which words start or continue a name the news corpus knows, and of what type.

The lists are mined from the unlabelled news (``training/ner/gazetteer.py``)
and shipped beside a model (``gazetteer.json``). They only add indicator
features (``gz:B-PERS``, ``gz:I-LOC``, ...) next to the others; the model
learns how far to trust them, so a listed name in an unusual context is
still the model's call, and an unlisted name is found as before.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from akhbar.lib.ner.canonical import proclitic_forms

MAX_PHRASE = 5


@functools.lru_cache(maxsize=200_000)
def _forms(word: str) -> tuple[str, ...]:
    """The word and its proclitic-stripped forms (cached: the same words recur in every article)."""
    return (word, *proclitic_forms(word))


class Gazetteer:
    """Phrases (tuples of normalized words, ``norm_word``) and their entity type, and single name parts.

    A name part (``parts``: a word -> type) is a word the news uses inside names
    of that type, mostly alone as a surname ("ترامب", "نتنياهو"): it marks a word
    that no listed phrase covers.
    """

    def __init__(self, phrases: Mapping[str, str], parts: Mapping[str, str] | None = None) -> None:
        self.phrases: dict[tuple[str, ...], str] = {tuple(p.split()): t for p, t in phrases.items() if p.strip()}
        self.parts: dict[str, str] = dict(parts or {})
        self.longest = max((len(p) for p in self.phrases), default=0)
        self.first_words = frozenset(p[0] for p in self.phrases)
        self._words: dict[str, tuple[tuple[str, ...], str | None]] = {}

    @classmethod
    def load(cls, path: str | Path) -> Gazetteer:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["phrases"], data.get("parts"))

    @staticmethod
    def save(path: str | Path, phrases: Mapping[str, str], meta: Mapping | None = None,
             parts: Mapping[str, str] | None = None) -> None:
        body = {"meta": dict(meta or {}), "phrases": dict(sorted(phrases.items())), "parts": dict(sorted((parts or {}).items()))}
        Path(path).write_text(json.dumps(body, ensure_ascii=False, indent=0), encoding="utf-8")

    def _word(self, word: str) -> tuple[tuple[str, ...], str | None]:
        """The forms of ``word`` that start a listed phrase, and its name-part key (cached per word)."""
        hit = self._words.get(word)
        if hit is None:
            forms = _forms(word)
            part = next((f"gz:P-{kind}" for kind in map(self.parts.get, forms) if kind is not None), None)
            hit = (tuple(f for f in forms if f in self.first_words), part)
            if len(self._words) >= 200_000:
                self._words.clear()
            self._words[word] = hit
        return hit

    def keys(self, norms: Sequence[str]) -> list[list[str]]:
        """Feature keys of each word: the longest listed phrase starting at each free position (left to right)."""
        out: list[list[str]] = [[] for _ in norms]
        i, n = 0, len(norms)
        while i < n:
            found = None
            firsts, part = self._word(norms[i])  # most words start no listed phrase
            for size in range(min(self.longest, n - i), 0, -1) if firsts else ():
                rest = tuple(norms[i + 1: i + size])
                for first in firsts:
                    kind = self.phrases.get((first, *rest))
                    if kind is not None:
                        found = (size, kind)
                        break
                if found:
                    break
            if found is None:
                if part is not None:
                    out[i].append(part)
                i += 1
                continue
            size, kind = found
            out[i].append(f"gz:B-{kind}")
            for j in range(i + 1, i + size):
                out[j].append(f"gz:I-{kind}")
            i += size
        return out
