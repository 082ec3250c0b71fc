"""Silver NER data: the unlabelled news tagged by a teacher (model x feature CRF), confident sentences kept.

    python -m training.ner.silver --teacher models/ner-ar-small --crf build/ner/crf.npz \
        --articles 8000 --out build/ner/silver.jsonl

The teacher is the model and the feature CRF as one product CRF (their
emissions and transitions added, ``WordModelRuntime(crf_weight=...)``).
Every sentence of the sampled articles is written with its Viterbi tags, the
smallest marginal probability of a tag on its path (``conf``) and whether the
model alone and the CRF alone each find the same entities (``agree``). The
student keeps sentences by ``conf`` and ``agree``; the gazetteer miner
(``training/ner/gazetteer.py``) reads all of them. Articles of the labelled
news paragraphs (and their copies) are never read.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from akhbar.core.metrics import bio_spans
from akhbar.core.text import arabic_ratio
from akhbar.lib.ner.crf import forward_backward
from akhbar.lib.ner.features import split_words
from akhbar.lib.ner.runtime import WordModelRuntime, viterbi
from akhbar.lib.progress import Progress
from training.ner.data import NEWS_FILES, held_out_docs, news_articles

LOG = logging.getLogger("silver")
_SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|\n+")


def sentences_of(text: str, max_words: int = 64, min_words: int = 5) -> Iterator[list[str]]:
    """Word lists of the sentences of ``text`` (long ones cut into ``max_words`` pieces)."""
    for piece in _SENTENCE_END.split(text):
        if arabic_ratio(piece) < 0.5:
            continue
        words = [piece[a:b] for a, b in split_words(piece)]
        for i in range(0, len(words), max_words):
            chunk = words[i: i + max_words]
            if len(chunk) >= min_words:
                yield chunk


def sample_articles(n: int, seed: int, limit: int | None = None) -> list[tuple[int, str]]:
    """(index, title + text) of ``n`` articles drawn without replacement from both corpora, held-out ones excluded.

    ``limit``: draw from the first ``limit`` articles only (the tiny test configuration).
    """
    articles = list(news_articles(NEWS_FILES, limit=limit, skip=held_out_docs()))
    rng = random.Random(seed)
    picked = sorted(rng.sample(range(len(articles)), min(n, len(articles))))
    return [(i, "\n".join(x for x in articles[i] if x)) for i in picked]


def label(teacher: WordModelRuntime, words: list[list[str]]) -> list[dict]:
    """Teacher tags, path confidence and member agreement of each word list."""
    out = []
    crf, weight = teacher.feature_crf, teacher.crf_weight
    transitions, start, end = teacher.crf
    nn_em = teacher.emissions(teacher.featurizer.encode(words))
    zeros = np.zeros(len(teacher.labels), np.float32)
    for i, sent in enumerate(words):
        em = nn_em[i, : len(sent)]
        both_em, both_tr = em, transitions
        crf_em = None
        if crf is not None:
            crf_em = crf.emissions(sent)
            both_em, both_tr = em + weight * crf_em, transitions + weight * crf.transitions
        path = viterbi(both_em, both_tr, start, end)
        marg = forward_backward(both_em, both_tr, start, end)
        tags = [teacher.labels[t] for t in path]
        agree = None
        if crf_em is not None:
            spans = set(bio_spans(tags))
            nn_tags = [teacher.labels[t] for t in viterbi(em, transitions, start, end)]
            crf_tags = [teacher.labels[t] for t in viterbi(crf_em, crf.transitions, zeros, zeros)]
            agree = set(bio_spans(nn_tags)) == spans and set(bio_spans(crf_tags)) == spans
        conf = float(marg[np.arange(len(path)), path].min())
        out.append({"tokens": sent, "tags": tags, "conf": round(conf, 4), "agree": agree})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", required=True, help="model folder (akhbar word model)")
    ap.add_argument("--crf", default=None, help="feature CRF weights (.npz) to join the teacher")
    ap.add_argument("--crf_weight", type=float, default=0.5)
    ap.add_argument("--articles", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--news_articles", type=int, default=0, help="draw from the first N articles only (0: all)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    teacher = WordModelRuntime(args.teacher, crf_weight=0.0)
    if args.crf:
        from akhbar.lib.ner.crf import FeatureCrf

        teacher.feature_crf = FeatureCrf.load(args.crf)
        teacher.crf_weight = args.crf_weight
    started = time.monotonic()
    docs = sample_articles(args.articles, args.seed, args.news_articles or None)
    kept = total = 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f, Progress("silver", total=len(docs), unit="articles") as progress:
        for doc, text in docs:
            sents = list(sentences_of(text, teacher.max_words))
            for i in range(0, len(sents), 32):
                for row in label(teacher, sents[i: i + 32]):
                    row["doc"] = doc
                    total += 1
                    kept += bool(row["agree"]) and row["conf"] >= 0.9
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
            progress.advance()
    LOG.info("%d sentences from %d articles (%d agreed with conf >= 0.9) in %.0fs", total, len(docs), kept,
             time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
