"""Cluster-level near-dup scores on pairs the scorer never saw: one scorer per held-out fold.

    python -m training.neardup.evaluate --docs /tmp/docs.jsonl [--pairs data/neardup/pairs.jsonl]

The shipped scorer saw every labeled pair, so ``akhbar eval dedup`` on the
same pairs is optimistic; here each fold's pairs are scored by clustering with
a scorer fitted on the other folds (the folds of ``pairs.assign_folds``).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np

from akhbar.lib.evaluation.dedup import fingerprints, read_docs, read_pairs, score_pairs, scores_dict
from akhbar.lib.models import NEAR_DUP_MODEL
from akhbar.lib.neardup import MODEL_FEATURES, Fingerprint, NearDupConfig, PairScorer, cluster
from training.neardup import train
from training.neardup.pairs import PAIRS


def cross_validated(fps: list[Fingerprint], pairs: list[dict], config: NearDupConfig, docs_path: str,
                    threshold: float) -> dict:
    """Pair-level scores of the clustering, each fold judged by a scorer trained without it."""
    wanted = {d for p in pairs for d in (p["a_docno"], p["b_docno"])}
    docs = {d["docno"]: d for d in read_docs(docs_path) if d["docno"] in wanted}
    x = train.feature_matrix(pairs, docs, config)
    y = np.array([1 if p["label"] != "distinct" else 0 for p in pairs])
    folds = np.array([p["fold"] for p in pairs])
    totals = {"tp": 0, "fp": 0, "fn": 0}
    extra = {"exact": [0, 0], "random": [0, 0], "hard": [0, 0]}
    for k in sorted(set(folds.tolist())):
        model = train.fit_logistic(x[folds != k], y[folds != k], l2=train.L2)
        scorer = PairScorer(features=MODEL_FEATURES, weights=tuple(model["weights"]), bias=model["bias"],
                            mean=tuple(model["mean"]), scale=tuple(model["scale"]), threshold=threshold)
        held_out = [p for p, f in zip(pairs, folds) if f == k]
        part = score_pairs(held_out, {m.doc_id: m.story_id for m in cluster(fps, config, scorer).values()})
        for key in totals:
            totals[key] += part[key]
        extra["exact"][0] += round((part["exact_dup_recall"] or 0) * part["exact_dups"])
        extra["exact"][1] += part["exact_dups"]
        extra["random"][0] += part["random_pairs_false_merges"]
        extra["random"][1] += part["random_pairs"]
        extra["hard"][0] += part["hard_negative_false_merges"]
        extra["hard"][1] += part["hard_negatives"]
    out = scores_dict(totals["tp"], totals["fp"], totals["fn"])
    out["exact_dup_recall"] = round(extra["exact"][0] / extra["exact"][1], 4) if extra["exact"][1] else None
    out["random_pairs_false_merges"] = extra["random"][0]
    out["random_pairs"] = extra["random"][1]
    out["hard_negative_false_merges"] = extra["hard"][0]
    out["hard_negatives"] = extra["hard"][1]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True, help="docs JSONL: docno, src, title, text, time")
    parser.add_argument("--pairs", default=str(PAIRS), help="labeled pairs JSONL with each pair's 'fold'")
    args = parser.parse_args(argv)
    config = NearDupConfig()
    pairs = read_pairs(args.pairs)
    if any("fold" not in p for p in pairs):
        print(f"{args.pairs}: every pair needs its 'fold'", file=sys.stderr)
        return 2
    threshold = PairScorer.load(NEAR_DUP_MODEL).threshold
    report = cross_validated(fingerprints(args.docs, config), pairs, config, args.docs, threshold)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
