"""Feature CRF baseline (sklearn-crfsuite): the peer the neural model must beat, exported for numpy inference.

    python -m training.ner.crf_baseline [--c1 0.05 --c2 0.05 --iters 150] [--wojood] [--save build/ner/crf.npz]

Trains on ANERcorp train less its dev part (``--wojood``: plus Wojood's
train split mapped to the four types, less its dev segments; the dev set
stays unseen, as in training/ner/train.py), exports the weights (``akhbar.lib.ner.crf.FeatureCrf``) and
prints one JSON object: micro and per-type scores of the exported CRF, scored
in numpy through the pipeline's windowing, on ANERcorp test, Wojood val and
the hand-labelled news paragraphs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from akhbar.lib.evaluation.ner import evaluate, evaluate_texts
from akhbar.lib.ner.crf import FeatureCrf, sentence_features
from training.ner.data import LABELS, anercorp_train_dev, eval_sets, wojood_train_dev


def train_crf(sentences, c1: float = 0.05, c2: float = 0.05, iters: int = 150) -> FeatureCrf:
    import sklearn_crfsuite

    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=c1, c2=c2, max_iterations=iters, all_possible_transitions=True)
    crf.fit([sentence_features(t) for t, _ in sentences], [y for _, y in sentences])
    return FeatureCrf.from_crfsuite(crf, LABELS)


def score_all(runtime) -> dict:
    """Micro/per-type scores of a runtime on the three evaluation sets."""
    out = {}
    for name, data in eval_sets().items():
        scores = evaluate_texts(data, runtime) if name == "news_gold" else evaluate(data, runtime)
        out[name] = {"micro": scores["micro"], "per_type": scores["per_type"]}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--c1", type=float, default=0.05)
    ap.add_argument("--c2", type=float, default=0.05)
    ap.add_argument("--iters", type=int, default=150)
    ap.add_argument("--wojood", action="store_true", help="Train on ANERcorp + Wojood train (mapped) too.")
    ap.add_argument("--save", default=None, help="Write the exported weights (.npz) here.")
    args = ap.parse_args(argv)
    train = anercorp_train_dev()[0]
    if args.wojood:
        train = train + wojood_train_dev()[0]
    started = time.monotonic()
    crf = train_crf(train, args.c1, args.c2, args.iters)
    seconds = round(time.monotonic() - started, 1)
    if args.save:
        Path(args.save).parent.mkdir(parents=True, exist_ok=True)
        crf.save(args.save)
    report = {"train_seconds": seconds, "attributes": len(crf.attrs), "config": vars(args), "sets": score_all(crf)}
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
