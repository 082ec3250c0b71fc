"""NER scores on a CoNLL file (``akhbar eval ner --conll FILE [--model PATH]``).

Micro and per-type precision/recall/F1 (conlleval/seqeval conventions,
``akhbar.core.metrics.entity_scores``) and entity counts. The file holds 'token TAG' lines in the
ANERcorp tag set (O, B-/I- of PERS, LOC, ORG, MISC) and a blank line between
sentences. Words go through the same windowing as the pipeline
(``akhbar.lib.ner.entities.tag_words``), so the score is the pipeline's.
"""
from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from pathlib import Path

from akhbar.core.metrics import bio_spans, entity_scores
from akhbar.lib.evaluation import read_jsonl
from akhbar.lib.ner.entities import tag_words
from akhbar.lib.ner.features import split_words
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


# Wojood's 21 types onto ANERcorp's four. ANERcorp tags places of every kind as LOC and
# currencies, events and products as MISC (its most frequent MISC is "دولار"); nationality
# adjectives are O there, so NORP is O here, as are dates, numbers, occupations and the rest.
WOJOOD_TYPES = {"PERS": "PERS", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "ORG": "ORG",
                "EVENT": "MISC", "PRODUCT": "MISC", "CURR": "MISC"}
WOJOOD_SEGMENT_END = "$#$"


def flatten_nested(n_tokens: int, tag_sets: Sequence[Sequence[str]], type_map: dict[str, str]) -> list[str]:
    """Nested BIO tags (any number per token) -> one flat BIO sequence in the mapped types.

    Each source type gets its own BIO sequence (a token's ``I-`` wins over ``B-``
    of the same type, so the outer entity continues); its spans are mapped, the
    unmapped dropped, and the longest span wins an overlap (outermost first),
    so an ORG nested inside an unmapped OCC survives while a GPE nested inside
    an ORG does not.
    """
    spans: list[tuple[str, int, int]] = []
    for source in sorted({t[2:] for tags in tag_sets for t in tags if t[:2] in ("B-", "I-")}):
        mapped = type_map.get(source)
        if mapped is None:
            continue
        seq = []
        for tags in tag_sets:
            mine = {t[:2] for t in tags if t[2:] == source}
            seq.append(f"I-{source}" if "I-" in mine else f"B-{source}" if "B-" in mine else "O")
        spans.extend((mapped, a, b) for _, a, b in bio_spans(seq))
    flat = ["O"] * n_tokens
    taken = [False] * n_tokens
    for kind, a, b in sorted(spans, key=lambda s: (-(s[2] - s[1]), s[1])):
        if any(taken[a:b]):
            continue
        for i in range(a, b):
            flat[i] = ("B-" if i == a else "I-") + kind
            taken[i] = True
    return flat


def read_wojood(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """Wojood's nested CoNLL ('token TAG [TAG ...]') as flat sentences in the ANERcorp tag set.

    The ``$#$`` segment-end marker is dropped; types map by ``WOJOOD_TYPES``.
    """
    sentences: list[tuple[list[str], list[str]]] = []
    tokens: list[str] = []
    tag_sets: list[list[str]] = []

    def close() -> None:
        if tokens:
            sentences.append((list(tokens), flatten_nested(len(tokens), tag_sets, WOJOOD_TYPES)))
        tokens.clear()
        tag_sets.clear()

    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                close()
                continue
            if len(parts) < 2:
                raise ValueError(f"{path}:{lineno}: expected 'token TAG [TAG ...]', got {line.rstrip()!r}")
            bad = [t for t in parts[1:] if t != "O" and t[:2] not in ("B-", "I-")]
            if bad:
                raise ValueError(f"{path}:{lineno}: {bad[0]!r} is not a BIO tag")
            if parts[0] == WOJOOD_SEGMENT_END:
                continue
            tokens.append(parts[0])
            tag_sets.append([t for t in parts[1:] if t != "O"])
    close()
    return sentences


# The hand-labelled news paragraphs point into this file of the shared data (ids and offsets only).
MULTISOURCE_FILE = "ant_multisource/multisource.jsonl.gz"
_PARAGRAPH = re.compile(r"[^\n]+")


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line of ``text``, surrounding spaces excluded."""
    spans = []
    for m in _PARAGRAPH.finditer(text):
        a, b = m.span()
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            spans.append((a, b))
    return spans


def spans_to_bio(text: str, entities: Sequence[Sequence]) -> tuple[list[str], list[str]]:
    """Words of ``text`` (``split_words``) and their BIO tags from character spans [start, end, type]."""
    words = split_words(text)
    tags = ["O"] * len(words)
    first = {a: i for i, (a, _) in enumerate(words)}
    last = {b: i for i, (_, b) in enumerate(words)}
    for start, end, kind in entities:
        if start not in first or end not in last:
            raise ValueError(f"entity {text[start:end]!r} at {start}:{end} does not start and end on word edges")
        i, j = first[start], last[end]
        tags[i: j + 1] = [f"B-{kind}"] + [f"I-{kind}"] * (j - i)
    return [text[a:b] for a, b in words], tags


def read_news_paragraphs(labels: str | Path, source: str | Path) -> list[tuple[str, list[list]]]:
    """The labelled news paragraphs: (text, [[start, end, type], ...]) read back from the shared corpus.

    ``labels`` holds ``{id, docno, start, end, sha1, entities}`` per line; the
    text comes from ``source`` (the ANT multi-source JSONL) and must hash to ``sha1``.
    """
    wanted = {}
    for row in read_jsonl(labels, _check_gold_row):
        wanted.setdefault(row["docno"], []).append(row)
    texts: dict[str, str] = {}
    for doc in read_jsonl(source):
        if doc.get("docno") in wanted:
            texts[doc["docno"]] = doc.get("text") or ""
    out = []
    for docno, rows in wanted.items():
        if docno not in texts:
            raise ValueError(f"{labels}: article {docno} is not in {source}")
        for row in rows:
            text = texts[docno][row["start"]: row["end"]]
            if hashlib.sha1(text.encode("utf-8")).hexdigest()[: len(row["sha1"])] != row["sha1"]:
                raise ValueError(f"{labels}: {row['id']}: the text at {docno}[{row['start']}:{row['end']}] "
                                 "is not the labelled paragraph (another copy of the corpus?)")
            out.append((row["id"], text, [list(e) for e in row["entities"]]))
    return [(text, ents) for _, text, ents in sorted(out)]


def _check_gold_row(row: dict) -> str | None:
    missing = [k for k in ("id", "docno", "start", "end", "sha1", "entities") if k not in row]
    if missing:
        return f"missing {', '.join(missing)}"
    for e in row["entities"]:
        if len(e) != 3 or e[2] not in ("PERS", "LOC", "ORG", "MISC"):
            return f"entity {e!r} is not [start, end, PERS|LOC|ORG|MISC]"
    return None


def read_news_gold(labels: str | Path, source: str | Path) -> list[tuple[list[str], list[str]]]:
    """The labelled news paragraphs as (words, BIO tags) sentences."""
    return [spans_to_bio(text, ents) for text, ents in read_news_paragraphs(labels, source)]


def evaluate(sentences: Sequence[tuple[list[str], list[str]]], runtime: TagRuntime, batch_size: int = 64) -> dict:
    """Entity-level scores of ``runtime`` on (tokens, tags) sentences, read through the pipeline's windowing."""
    started = time.monotonic()
    tagged = tag_words([tokens for tokens, _ in sentences], runtime, batch_size=batch_size)
    scores = entity_scores([tags for _, tags in sentences], [[t for t, _ in row] for row in tagged])
    scores["seconds"] = round(time.monotonic() - started, 2)
    return scores


def evaluate_texts(paragraphs: Sequence[tuple[str, Sequence[Sequence]]], runtime: TagRuntime, batch_size: int = 64) -> dict:
    """Entity-level scores of whole texts read by the pipeline's own ``find_entities`` (rules included).

    ``paragraphs`` are (text, gold [start, end, type] spans); both sides are
    turned into BIO tags over the same words, so the score counts whole entities.
    """
    from akhbar.lib.ner.entities import find_entities

    started = time.monotonic()
    texts = [text for text, _ in paragraphs]
    found = find_entities(texts, runtime, batch_size=batch_size)
    gold, pred = [], []
    for (text, entities), predicted in zip(paragraphs, found):
        gold.append(spans_to_bio(text, entities)[1])
        pred.append(spans_to_bio(text, [(e["start"], e["end"], e["type"]) for e in predicted])[1])
    scores = entity_scores(gold, pred)
    scores["seconds"] = round(time.monotonic() - started, 2)
    return scores
