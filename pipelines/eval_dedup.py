"""``akhbar eval dedup``: score near-duplicate clustering against hand-labeled pairs.

    akhbar eval dedup --docs docs.jsonl --pairs data/neardup/pairs.jsonl

docs lines are ``{docno, src, title, text, time}`` (``python -m
training.neardup.make_docs --out docs.jsonl`` writes them from the shared
corpus); pairs lines are ``{a_docno, b_docno, label: dup|near_dup|distinct}``.

Every document is clustered, exactly as the batch pipeline does, and a pair is
predicted "duplicate" when both documents end up with the same story_id. The
JSON printed has precision/recall/F1 of those decisions (dup + near_dup against
distinct), recall on exact dups alone, false merges among random and hard
negative pairs, for the pair scorer and for the LSH/Jaccard threshold alone.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from typing import Sequence

from transforms.neardup import DEFAULT_MODEL, Fingerprint, MinHasher, NearDupConfig, PairScorer, cluster, fingerprint


def _fingerprints(docs_path: str, config: NearDupConfig) -> list[Fingerprint]:
    from training.neardup.corpus import parse_time, read_docs

    hasher = MinHasher(config.num_perm, config.seed)
    return [
        fingerprint(d["docno"], d["src"], d.get("title"), d["text"], parse_time(d["time"]).timestamp(), config, hasher)
        for d in read_docs(docs_path)
    ]


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def score_pairs(pairs: list[dict], story: dict[str, str]) -> dict:
    """Metrics of same-story decisions on the labeled pairs."""
    tp = fp = fn = 0
    exact_found = exact_total = 0
    random_merged = random_total = hard_merged = hard_total = 0
    for p in pairs:
        same = story[p["a_docno"]] == story[p["b_docno"]]
        gold = p["label"] in ("dup", "near_dup")
        tp += same and gold
        fp += same and not gold
        fn += (not same) and gold
        if p["label"] == "dup":
            exact_total += 1
            exact_found += same
        if p.get("kind", "").startswith("random"):
            random_total += 1
            random_merged += same
        if p.get("hard_negative"):
            hard_total += 1
            hard_merged += same
    out = _prf(tp, fp, fn)
    out["exact_dup_recall"] = round(exact_found / exact_total, 4) if exact_total else None
    out["exact_dups"] = exact_total
    out["random_pairs_false_merges"] = random_merged
    out["random_pairs"] = random_total
    out["hard_negative_false_merges"] = hard_merged
    out["hard_negatives"] = hard_total
    return out


def cross_validated(fps: list[Fingerprint], pairs: list[dict], config: NearDupConfig, docs_path: str,
                    threshold: float) -> dict:
    """Cluster-level numbers on pairs the scorer never saw: one scorer per held-out fold."""
    import numpy as np

    from training.neardup import train
    from training.neardup.corpus import read_docs
    from transforms.neardup import MODEL_FEATURES

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
    out = _prf(totals["tp"], totals["fp"], totals["fn"])
    out["exact_dup_recall"] = round(extra["exact"][0] / extra["exact"][1], 4) if extra["exact"][1] else None
    out["random_pairs_false_merges"] = extra["random"][0]
    out["random_pairs"] = extra["random"][1]
    out["hard_negative_false_merges"] = extra["hard"][0]
    out["hard_negatives"] = extra["hard"][1]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="akhbar eval dedup", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", required=True, help="docs JSONL: docno, src, title, text, time")
    parser.add_argument("--pairs", required=True, help="labeled pairs JSONL")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="pair scorer JSON")
    parser.add_argument("--lsh_threshold", type=float, default=NearDupConfig.lsh_threshold)
    parser.add_argument("--baseline_thresholds", default="0.3,0.5,0.7",
                        help="Jaccard thresholds of the LSH-alone baseline")
    parser.add_argument("--cv", action="store_true",
                        help="also cluster once per fold with a scorer trained on the other folds, and score "
                             "each fold's pairs with the model that never saw them (needs the pairs' 'fold')")
    args = parser.parse_args(argv)
    from training.neardup.pairs import read_pairs

    config = NearDupConfig(lsh_threshold=args.lsh_threshold)
    started = time.monotonic()
    fps = _fingerprints(args.docs, config)
    pairs = read_pairs(args.pairs)
    known = {fp.doc_id for fp in fps}
    missing = sorted({d for p in pairs for d in (p["a_docno"], p["b_docno"]) if d not in known})
    if missing:
        print(f"akhbar eval dedup: {len(missing)} labeled documents are not in {args.docs}, e.g. {missing[:3]}",
              file=sys.stderr)
        return 2
    scorer = PairScorer.load(args.model)
    report: dict = {"documents": len(fps), "pairs": len(pairs)}
    t0 = time.monotonic()
    matches = cluster(fps, config, scorer)
    report["pair_scorer"] = score_pairs(pairs, {k: m.story_id for k, m in matches.items()})
    report["pair_scorer"]["threshold"] = scorer.threshold
    report["pair_scorer"]["stories"] = len({m.story_id for m in matches.values()})
    report["pair_scorer"]["seconds"] = round(time.monotonic() - t0, 1)
    baseline = {}
    for value in [float(v) for v in args.baseline_thresholds.split(",") if v]:
        cfg = replace(config, lsh_only_threshold=value)
        alone = cluster(fps, cfg, None)
        baseline[str(value)] = score_pairs(pairs, {k: m.story_id for k, m in alone.items()})
    report["lsh_jaccard_threshold_alone"] = baseline
    if args.cv:
        report["pair_scorer_out_of_fold"] = cross_validated(fps, pairs, config, args.docs, scorer.threshold)
    report["config"] = {"lsh_threshold": config.lsh_threshold, "num_perm": config.num_perm,
                        "shingle": config.shingle, "max_gap_s": config.max_gap_s}
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
