"""Readers for the training data: CoNLL NER files and the shared news text (never copied into the repo)."""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

from akhbar.lib.evaluation.ner import LABELS, MULTISOURCE_FILE, read_conll, read_news_paragraphs, read_wojood
from training.paths import REPO_ROOT, SHARED_DATA

ANERCORP = SHARED_DATA / "anercorp"
WOJOOD = SHARED_DATA / "wojood_sample"
NEWS_FILES = (SHARED_DATA / "ant" / "ant.jsonl.gz", SHARED_DATA / "ant_multisource" / "multisource.jsonl.gz")
NEWS_GOLD = REPO_ROOT / "data" / "ner" / "news_gold.jsonl"
# The last Wojood train segments: an out-of-domain dev set that is neither trained on nor the val set.
WOJOOD_DEV_SEGMENTS = 200
# The last ANERcorp train sentences: the in-domain dev set (early stopping, the ensemble weight, the tag bias).
ANERCORP_DEV_SENTENCES = 300

__all__ = ["ANERCORP", "ANERCORP_DEV_SENTENCES", "LABELS", "NEWS_FILES", "NEWS_GOLD", "WOJOOD", "eval_sets", "news_texts", "read_conll",
           "read_wojood", "anercorp_train_dev", "wojood_train_dev"]


def news_texts(files=NEWS_FILES, limit: int | None = None, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    """Title + text of each article in the shared news JSONL files (``skip``: docnos left out)."""
    for title, text in news_articles(files, limit, skip):
        yield "\n".join(x for x in (title, text) if x)


def news_articles(files=NEWS_FILES, limit: int | None = None, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """(title, text) of each article, the held-out ones (``skip``) left out."""
    n = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("docno") in skip:
                    continue
                yield rec.get("title") or "", rec.get("text") or ""
                n += 1
                if limit is not None and n >= limit:
                    return


def anercorp_train_dev(dev_sentences: int = ANERCORP_DEV_SENTENCES, limit: int | None = None):
    """ANERcorp's train split: (train, dev), dev being its last ``dev_sentences`` (``limit``: train sentences kept)."""
    sentences = read_conll(ANERCORP / "train.txt")
    if limit:
        sentences = sentences[: limit + dev_sentences]
    return sentences[:-dev_sentences], sentences[-dev_sentences:]


def wojood_train_dev():
    """Wojood's train split in the four types: (train, dev), dev being its last segments."""
    sentences = read_wojood(WOJOOD / "train.txt")
    return sentences[:-WOJOOD_DEV_SEGMENTS], sentences[-WOJOOD_DEV_SEGMENTS:]


def eval_sets() -> dict:
    """The three evaluation sets: ANERcorp test, Wojood val (mapped), the hand-labelled news paragraphs."""
    return {
        "anercorp_test": read_conll(ANERCORP / "test.txt"),
        "wojood_val": read_wojood(WOJOOD / "val.txt"),
        "news_gold": read_news_paragraphs(NEWS_GOLD, SHARED_DATA / MULTISOURCE_FILE),
    }


def held_out_docs(min_overlap: float = 0.3) -> frozenset[str]:
    """Articles that no training stage may read: those of the labelled news paragraphs and their copies.

    A copy is any article of the multi-source corpus published within two months of a
    labelled one (docnos end in the date) that holds at least ``min_overlap`` of
    a labelled paragraph's word 4-grams: another outlet's or a later write-up of
    it. (ANT's Tunisian radio, 2013-2017, shares no story with these 2018 articles.)
    Cached in build/ner-held-out-HASH.json (the labels file's hash names the cache).
    """
    import hashlib
    from datetime import date, timedelta

    from akhbar.core.text import text_key

    digest = hashlib.sha1(NEWS_GOLD.read_bytes()).hexdigest()[:12]
    cache = REPO_ROOT / "build" / f"ner-held-out-{digest}.json"
    if cache.exists():
        return frozenset(json.loads(cache.read_text()))

    def grams(text: str) -> set[tuple[str, ...]]:
        words = text_key(text).split()
        return {tuple(words[i: i + 4]) for i in range(max(0, len(words) - 3))}

    gold = [grams(text) for text, _ in read_news_paragraphs(NEWS_GOLD, SHARED_DATA / MULTISOURCE_FILE)]
    index: dict[tuple[str, ...], list[int]] = {}
    for i, g in enumerate(gold):
        for gram in g:
            index.setdefault(gram, []).append(i)
    held = {json.loads(line)["docno"] for line in NEWS_GOLD.read_text(encoding="utf-8").splitlines() if line.strip()}

    def day(docno: str) -> date | None:
        try:
            return date(int(docno[-8:-4]), int(docno[-4:-2]), int(docno[-2:]))
        except ValueError:
            return None

    near = {d + timedelta(days=k) for d in map(day, held) if d for k in range(-60, 61)}
    for path in NEWS_FILES[1:]:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if day(rec["docno"]) not in near:
                    continue
                hits: dict[int, int] = {}
                for gram in grams("\n".join(x for x in (rec.get("title"), rec.get("text")) if x)):
                    for i in index.get(gram, ()):
                        hits[i] = hits.get(i, 0) + 1
                if any(n >= min_overlap * len(gold[i]) for i, n in hits.items()):
                    held.add(rec["docno"])
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(sorted(held)))
    return frozenset(held)
