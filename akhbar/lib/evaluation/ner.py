"""NER scores on a CoNLL file (``akhbar eval ner --conll FILE [--model PATH]``).

Micro and per-type precision/recall/F1 (conlleval/seqeval conventions,
``akhbar.core.metrics.entity_scores``) and entity counts. The file holds 'token TAG' lines in the
ANERcorp tag set (O, B-/I- of PERS, LOC, ORG, MISC) and a blank line between
sentences. Words go through the same windowing as the pipeline
(``akhbar.lib.ner.entities.tag_words``), so the score is the pipeline's.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from akhbar.core.metrics import entity_scores
from akhbar.lib.ner.entities import tag_words
from akhbar.lib.ner.runtime import TagRuntime

LABELS = ["O", "B-PERS", "I-PERS", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]


def read_conll(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """Sentences of (tokens, tags) from a 'token TAG' file with blank lines between sentences."""
    sentences: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                if tokens:
                    sentences.append((tokens, tags))
                    tokens, tags = [], []
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}:{lineno}: expected 'token TAG', got {line.rstrip()!r}")
            tag = parts[-1]
            if tag != "O" and tag[2:] not in ("PERS", "LOC", "ORG", "MISC"):
                raise ValueError(f"{path}:{lineno}: tag {tag!r} is not in the ANERcorp tag set {LABELS}")
            tokens.append(parts[0])
            tags.append(tag)
    if tokens:
        sentences.append((tokens, tags))
    return sentences


def evaluate(sentences: Sequence[tuple[list[str], list[str]]], runtime: TagRuntime, batch_size: int = 64) -> dict:
    """Entity-level scores of ``runtime`` on (tokens, tags) sentences, read through the pipeline's windowing."""
    started = time.monotonic()
    tagged = tag_words([tokens for tokens, _ in sentences], runtime, batch_size=batch_size)
    scores = entity_scores([tags for _, tags in sentences], [[t for t, _ in row] for row in tagged])
    scores["seconds"] = round(time.monotonic() - started, 2)
    return scores
