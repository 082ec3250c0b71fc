"""Feature CRF baseline (sklearn-crfsuite): the peer the transformer must beat.

    python -m training.ner.crf_baseline [--c1 0.05 --c2 0.05 --iters 150]

Prints one JSON object with seqeval micro and per-type scores on ANERcorp test.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from akhbar.core.metrics import entity_scores as ner_scores
from akhbar.core.text import proclitic_stems
from akhbar.lib.ner.features import norm_word, shape_id
from training.ner.data import ANERCORP, read_conll


def word_features(nw: str, word: str, prefix: str) -> dict[str, object]:
    f: dict[str, object] = {
        f"{prefix}w": nw,
        f"{prefix}p2": nw[:2], f"{prefix}p3": nw[:3], f"{prefix}s2": nw[-2:], f"{prefix}s3": nw[-3:],
        f"{prefix}shape": shape_id(word),
    }
    for stem in proclitic_stems(nw)[:2]:
        f[f"{prefix}stem:{stem}"] = 1.0
    return f


def sentence_features(tokens: list[str]) -> list[dict[str, object]]:
    """Affix, clitic, shape features of each word and its neighbours (±2)."""
    norms = [norm_word(t) for t in tokens]
    feats = []
    for i, (word, nw) in enumerate(zip(tokens, norms)):
        f: dict[str, object] = {"bias": 1.0, "len": min(len(nw), 10), "p1": nw[:1], "s1": nw[-1:], "p4": nw[:4], "s4": nw[-4:]}
        f.update(word_features(nw, word, ""))
        for off in (-2, -1, 1, 2):
            j = i + off
            if 0 <= j < len(tokens):
                f.update(word_features(norms[j], tokens[j], f"{off}:"))
            else:
                f[f"{off}:edge"] = 1.0
        if i > 0:
            f["bigram-1"] = norms[i - 1] + "|" + nw
        if i + 1 < len(tokens):
            f["bigram+1"] = nw + "|" + norms[i + 1]
        feats.append(f)
    return feats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--c1", type=float, default=0.05)
    ap.add_argument("--c2", type=float, default=0.05)
    ap.add_argument("--iters", type=int, default=150)
    args = ap.parse_args(argv)
    import sklearn_crfsuite

    train = read_conll(ANERCORP / "train.txt")
    test = read_conll(ANERCORP / "test.txt")
    started = time.monotonic()
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=args.c1, c2=args.c2, max_iterations=args.iters,
                               all_possible_transitions=True)
    crf.fit([sentence_features(t) for t, _ in train], [y for _, y in train])
    pred = crf.predict([sentence_features(t) for t, _ in test])
    scores = ner_scores([y for _, y in test], pred)
    scores["train_seconds"] = round(time.monotonic() - started, 1)
    scores["config"] = vars(args)
    print(json.dumps(scores, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
