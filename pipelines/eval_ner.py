"""``akhbar eval ner --conll FILE [--model PATH]``: entity-level scores of a NER model on a CoNLL file.

Prints one JSON object: micro and per-type precision/recall/F1 (seqeval
conventions) and entity counts. The file holds 'token TAG' lines in the
ANERcorp tag set (O, B-/I- of PERS, LOC, ORG, MISC) and a blank line between
sentences. Words go through the same windowing as the pipeline
(``transforms.ner.tag_words``), so the score is the pipeline's.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Sequence

from transforms.ner import DEFAULT_MODEL, load_runtime, tag_words

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


def ner_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Micro and per-type precision/recall/F1 (in %) and entity counts."""
    from seqeval.metrics import classification_report

    report = classification_report(list(map(list, gold)), list(map(list, pred)), output_dict=True, zero_division=0)
    per_type = {
        k: {"precision": round(100 * v["precision"], 2), "recall": round(100 * v["recall"], 2),
            "f1": round(100 * v["f1-score"], 2), "support": int(v["support"])}
        for k, v in report.items() if k in ("PERS", "LOC", "ORG", "MISC")
    }
    micro = report["micro avg"]
    return {
        "micro": {"precision": round(100 * micro["precision"], 2), "recall": round(100 * micro["recall"], 2),
                  "f1": round(100 * micro["f1-score"], 2), "support": int(micro["support"])},
        "per_type": per_type,
        "sentences": len(gold),
        "tokens": sum(len(s) for s in gold),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="akhbar eval ner", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conll", required=True, help="CoNLL file: 'token TAG' lines, blank line between sentences.")
    ap.add_argument("--model", default=str(DEFAULT_MODEL),
                    help="Model folder or Hugging Face model path/hub id (default: the shipped model).")
    ap.add_argument("--backend", choices=["auto", "onnx", "torch"], default="auto")
    ap.add_argument("--onnx_file", default=None,
                    help="ONNX file inside the model folder (e.g. model.onnx for fp32; default: the config's).")
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
    runtime = load_runtime(args.model, args.backend, onnx_file=args.onnx_file)
    started = time.monotonic()
    tagged = tag_words([tokens for tokens, _ in sentences], runtime, batch_size=args.batch_size)
    seconds = time.monotonic() - started
    scores = ner_scores([tags for _, tags in sentences], [[t for t, _ in row] for row in tagged])
    scores.update(model=args.model, backend=args.backend, onnx_file=args.onnx_file, conll=args.conll,
                  seconds=round(seconds, 2))
    print(json.dumps(scores, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
