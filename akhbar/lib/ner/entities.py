"""Entities of whole texts: words with offsets, overlapping windows, BIO spans back to characters."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from akhbar.core.metrics import bio_spans
from akhbar.core.text import arabic_ratio
from akhbar.lib.ner.canonical import KnownForms, add_canonical_forms
from akhbar.lib.ner.dateline import apply_dateline_rule
from akhbar.lib.ner.features import split_words
from akhbar.lib.ner.runtime import TagRuntime


@dataclass(frozen=True)
class Window:
    doc: int
    start: int  # first word
    words: list[str]


def windows(n_words: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) word ranges of overlapping windows that cover 0..n_words."""
    if n_words <= size:
        return [(0, n_words)] if n_words else []
    step = max(1, size - overlap)
    starts = list(range(0, n_words - size, step)) + [n_words - size]
    return [(s, s + size) for s in starts]


def tag_words(sentences: Sequence[Sequence[str]], runtime: TagRuntime, batch_size: int = 32,
              overlap: int = 16) -> list[list[tuple[str, float]]]:
    """(tag, probability) per word of each word list, reading long lists in overlapping windows."""
    jobs: list[Window] = []
    for d, words in enumerate(sentences):
        for s, e in windows(len(words), runtime.max_words, overlap):
            jobs.append(Window(d, s, list(words[s:e])))
    best: list[list[tuple[int, str, float]]] = [[(-1, "O", 0.0)] * len(words) for words in sentences]
    for i in range(0, len(jobs), batch_size):
        chunk = jobs[i: i + batch_size]
        for job, tags in zip(chunk, runtime.tag([j.words for j in chunk])):
            slots = best[job.doc]
            last = len(tags) - 1
            for k, (tag, prob) in enumerate(tags):
                margin = min(k, last - k)
                if margin > slots[job.start + k][0]:
                    slots[job.start + k] = (margin, tag, prob)
    return [[(tag, prob) for _, tag, prob in slots] for slots in best]


def find_entities(texts: Sequence[str], runtime: TagRuntime, batch_size: int = 32, overlap: int = 16,
                  min_arabic: float = 0.2, outlets: Sequence[str | None] | None = None,
                  known: KnownForms | None = None) -> list[list[dict[str, Any]]]:
    """Entities of each text with character offsets, ``norm`` and ``canonical``; too little Arabic: none.

    The dateline rule (``akhbar.lib.ner.dateline``) runs on each text, with its
    outlet's name where ``outlets`` gives one; ``known`` (default: the
    runtime's vocabulary, if it has one) decides which proclitics ``norm`` strips.
    """
    if known is None:
        known = getattr(runtime, "known_forms", None) or KnownForms()
    spans = [split_words(t) if t and arabic_ratio(t) >= min_arabic else [] for t in texts]
    tagged = tag_words([[t[a:b] for a, b in sp] for t, sp in zip(texts, spans)], runtime, batch_size, overlap)
    result = []
    for text, sp, tags in zip(texts, spans, tagged):
        entities = []
        for kind, first, stop in bio_spans([tag for tag, _ in tags]):
            start, end = sp[first][0], sp[stop - 1][1]
            score = float(np.mean([p for _, p in tags[first:stop]]))
            entities.append({"text": text[start:end], "type": kind, "start": start, "end": end, "score": round(score, 4)})
        outlet = outlets[len(result)] if outlets is not None else None
        result.append(add_canonical_forms(apply_dateline_rule(text, entities, outlet), known))
    return result


