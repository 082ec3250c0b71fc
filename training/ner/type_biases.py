"""A tag bias for every entity type, chosen on the dev set by coordinate ascent, then scored on the test sets.

    python -m training.ner.type_biases models/ner-ar-small

Starts from the model's shipped PERS bias (the others 0), tries each type's bias
in {0, 0.5, ..., 2} with the others fixed, keeps a change that raises dev micro
F1 by more than 0.05, for two rounds. Prints every step and the chosen biases'
scores on ANERcorp test, Wojood val and the news paragraphs (the model card's
"per-type biases" line). Nothing is written.
"""
from __future__ import annotations

import argparse
import json

import numpy as np

from akhbar.lib.evaluation.ner import evaluate
from akhbar.lib.ner.runtime import WordModelRuntime
from training.ner.crf_baseline import score_all
from training.ner.train import LABELS, RecipeConfig, gold_data

TYPES = ("PERS", "LOC", "ORG", "MISC")
VALUES = (0.0, 0.5, 1.0, 1.5, 2.0)


def bias_vector(biases: dict[str, float]) -> np.ndarray:
    return np.asarray([0.0 if label == "O" else biases[label[2:]] for label in LABELS], np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="A model folder of ours (models/ner-ar-small).")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    runtime = WordModelRuntime(args.model)
    dev = gold_data(RecipeConfig(wojood=True))[1]
    shipped = runtime.tag_bias if runtime.tag_bias is not None else np.zeros(len(LABELS), np.float32)
    biases = {t: 0.0 for t in TYPES} | {"PERS": float(shipped[LABELS.index("B-PERS")])}

    def dev_f1(candidate: dict[str, float]) -> float:
        runtime.tag_bias = bias_vector(candidate)
        return evaluate(dev, runtime)["micro"]["f1"]

    best = dev_f1(biases)
    print(f"start {biases} dev F1 {best:.2f}", flush=True)
    for round_ in range(args.rounds):
        for kind in TYPES:
            for value in VALUES:
                candidate = biases | {kind: value}
                if candidate == biases:
                    continue
                f1 = dev_f1(candidate)
                print(f"round {round_ + 1}: {kind} {value}: dev F1 {f1:.2f}", flush=True)
                if f1 > best + 0.05:
                    best, biases = f1, candidate
    runtime.tag_bias = bias_vector(biases)
    scores = score_all(runtime)
    print(json.dumps({"chosen": biases, "dev_f1": best,
                      "test_f1": {name: s["micro"]["f1"] for name, s in scores.items()}}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
