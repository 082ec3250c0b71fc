"""``akhbar eval ner|events|dedup|geo``: score a model on labeled data and print one JSON object."""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace

from akhbar.lib.models import EVENT_MODEL, NEAR_DUP_MODEL, NER_MODEL


def eval_ner(argv: Sequence[str]) -> int:
    from akhbar.lib.evaluation.ner import evaluate, read_conll
    from akhbar.lib.ner.runtime import load_runtime

    ap = argparse.ArgumentParser(prog="akhbar eval ner",
                                 description="Entity-level scores of a NER model on a CoNLL file "
                                             "('token TAG' lines, a blank line between sentences).")
    ap.add_argument("--conll", required=True, help="CoNLL file in the ANERcorp tag set (PERS, LOC, ORG, MISC).")
    ap.add_argument("--model", default=str(NER_MODEL),
                    help="Model folder or Hugging Face model path/hub id (default: the shipped model).")
    ap.add_argument("--onnx_file", default=None,
                    help="ONNX file inside the model folder (e.g. model.int8.onnx; default: the config's).")
    ap.add_argument("--batch_size", type=int, default=64)
    args = ap.parse_args(argv)
    try:
        sentences = read_conll(args.conll)
    except (OSError, ValueError) as exc:
        print(f"akhbar eval ner: {exc}", file=sys.stderr)
        return 2
    if not sentences:
        print(f"akhbar eval ner: no sentences in {args.conll}", file=sys.stderr)
        return 2
    scores = evaluate(sentences, load_runtime(args.model, onnx_file=args.onnx_file), args.batch_size)
    scores.update(model=args.model, onnx_file=args.onnx_file, conll=args.conll)
    print(json.dumps(scores, ensure_ascii=False))
    return 0


def eval_events(argv: Sequence[str]) -> int:
    from akhbar.lib.evaluation.events import evaluate, read_eval_lines

    parser = argparse.ArgumentParser(prog="akhbar eval events",
                                     description="Score an event model on labeled articles.")
    parser.add_argument("--jsonl", required=True, help="labeled lines {title, text, labels, primary?}")
    parser.add_argument("--model", default=str(EVENT_MODEL), help="event model folder (default: shipped)")
    parser.add_argument("--batch_size", type=int, default=32)
    args = parser.parse_args(argv)
    try:
        rows = read_eval_lines(args.jsonl)
    except (OSError, ValueError) as exc:
        print(f"akhbar eval events: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print(f"akhbar eval events: no labeled lines in {args.jsonl}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate(rows, args.model, args.batch_size), ensure_ascii=False))
    return 0


def eval_dedup(argv: Sequence[str]) -> int:
    from akhbar.lib.evaluation.dedup import fingerprints, read_pairs, score_pairs
    from akhbar.lib.neardup import NearDupConfig, PairScorer, cluster

    parser = argparse.ArgumentParser(prog="akhbar eval dedup",
                                     description="Score near-duplicate clustering against hand-labeled pairs.")
    parser.add_argument("--docs", required=True, help="docs JSONL: docno, src, title, text, time")
    parser.add_argument("--pairs", required=True, help="labeled pairs JSONL")
    parser.add_argument("--model", default=str(NEAR_DUP_MODEL), help="pair scorer JSON")
    parser.add_argument("--lsh_threshold", type=float, default=NearDupConfig.lsh_threshold)
    parser.add_argument("--baseline_thresholds", default="0.3,0.5,0.7",
                        help="Jaccard thresholds of the LSH-alone baseline")
    args = parser.parse_args(argv)
    config = NearDupConfig(lsh_threshold=args.lsh_threshold)
    started = time.monotonic()
    try:
        fps = fingerprints(args.docs, config)
        pairs = read_pairs(args.pairs)
        scorer = PairScorer.load(args.model)
    except (OSError, ValueError) as exc:
        print(f"akhbar eval dedup: {exc}", file=sys.stderr)
        return 2
    known = {fp.doc_id for fp in fps}
    missing = sorted({d for p in pairs for d in (p["a_docno"], p["b_docno"]) if d not in known})
    if missing:
        print(f"akhbar eval dedup: {len(missing)} labeled documents are not in {args.docs}, e.g. {missing[:3]}",
              file=sys.stderr)
        return 2
    report: dict = {"documents": len(fps), "pairs": len(pairs)}
    t0 = time.monotonic()
    matches = cluster(fps, config, scorer)
    report["pair_scorer"] = score_pairs(pairs, {k: m.story_id for k, m in matches.items()})
    report["pair_scorer"]["threshold"] = scorer.threshold
    report["pair_scorer"]["stories"] = len({m.story_id for m in matches.values()})
    report["pair_scorer"]["seconds"] = round(time.monotonic() - t0, 1)
    baseline = {}
    for value in [float(v) for v in args.baseline_thresholds.split(",") if v]:
        alone = cluster(fps, replace(config, lsh_only_threshold=value), None)
        baseline[str(value)] = score_pairs(pairs, {k: m.story_id for k, m in alone.items()})
    report["lsh_jaccard_threshold_alone"] = baseline
    report["config"] = {"lsh_threshold": config.lsh_threshold, "num_perm": config.num_perm,
                        "shingle": config.shingle, "max_gap_s": config.max_gap_s}
    report["seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(report, indent=2))
    return 0


def eval_geo(argv: Sequence[str]) -> int:
    from akhbar.lib.evaluation.geo import evaluate, read_labels, read_texts
    from akhbar.settings import settings

    parser = argparse.ArgumentParser(prog="akhbar eval geo",
                                     description="Score geocoding (countries, coordinates, event locations) on "
                                                 "hand-labeled articles; texts are read by docno from --data.")
    parser.add_argument("--jsonl", required=True, help="labels: data/geo/labels.jsonl or a file in its format")
    parser.add_argument("--data", default=None,
                        help="the shared data folder holding ant/ and ant_multisource/ "
                             "(default: $AKHBAR_SHARED_DATA, else ../shared/data beside the checkout)")
    parser.add_argument("--ner_model", default=str(NER_MODEL), help="NER model folder (default: shipped)")
    parser.add_argument("--event_model", default=str(EVENT_MODEL),
                        help="event model folder, or 'none' to choose event locations without the event type")
    parser.add_argument("--errors", type=int, default=0, help="list this many errors per mode")
    args = parser.parse_args(argv)
    data = args.data or settings().shared_data
    if data is None:
        print("akhbar eval geo: pass --data (the folder holding ant/ and ant_multisource/)", file=sys.stderr)
        return 2
    try:
        labels = read_labels(args.jsonl)
        texts = read_texts(data, [(r["corpus"], r["docno"]) for r in labels])
    except (OSError, ValueError) as exc:
        print(f"akhbar eval geo: {exc}", file=sys.stderr)
        return 2
    if not labels:
        print(f"akhbar eval geo: no labeled articles in {args.jsonl}", file=sys.stderr)
        return 2
    event_model = None if args.event_model == "none" else args.event_model
    print(json.dumps(evaluate(labels, texts, args.ner_model, event_model, show_errors=args.errors),
                     ensure_ascii=False, indent=2))
    return 0


KINDS = {"ner": eval_ner, "events": eval_events, "dedup": eval_dedup, "geo": eval_geo}


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: akhbar eval {{{','.join(KINDS)}}} [...]  (akhbar eval KIND --help)",
              file=sys.stderr if not argv else sys.stdout)
        return 0 if argv else 2
    kind, rest = argv[0], list(argv[1:])
    if kind not in KINDS:
        print(f"akhbar eval: unknown kind {kind!r}; expected one of {', '.join(KINDS)}", file=sys.stderr)
        return 2
    return KINDS[kind](rest)
