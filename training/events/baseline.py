"""A cheap, strong baseline: TF-IDF character n-grams + logistic regression, saved as an event model folder.

Same data, same held-out split and threshold tuning, same decision rules as
the transformer (``train.py``); scored on the held-out split and, through the
saved folder and ``EventModel`` (numpy only), on the dev set.

    python -m training.events.baseline --config training/events/configs/tfidf.json   # -> models/events-ar-small
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from akhbar.lib.events.decision import EVENT_TYPES, decide
from akhbar.lib.events.features import LINEAR_MODEL_TYPE, TfidfFeatures, char_ngrams, linear_document
from training.events.train import (
    TrainConfig,
    assemble,
    dev_metrics,
    repo_path,
    scores_of,
    seed_everything,
)

NGRAM_RANGE = (2, 5)


def vectorizer_for(max_features: int):
    """scikit-learn's TF-IDF over ``char_ngrams``: what ``TfidfFeatures`` computes at inference."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=lambda doc: char_ngrams(doc, *NGRAM_RANGE), min_df=2, sublinear_tf=True,
                           max_features=max_features, dtype=np.float32)


def tfidf_features(vectorizer) -> TfidfFeatures:
    """A fitted vectorizer as the numpy featurizer the model folders carry."""
    grams = [""] * len(vectorizer.vocabulary_)
    for gram, column in vectorizer.vocabulary_.items():
        grams[column] = gram
    return TfidfFeatures(grams, vectorizer.idf_.astype(np.float32), NGRAM_RANGE)


@dataclass
class Linear:
    """A fitted TF-IDF vectorizer and the logistic regressions' weights as arrays (what the folder stores)."""

    vectorizer: object
    type_w: np.ndarray
    type_b: np.ndarray
    primary_w: np.ndarray
    primary_b: np.ndarray

    def scores(self, examples) -> tuple[np.ndarray, np.ndarray]:
        m = self.vectorizer.transform([linear_document(e.title, e.text) for e in examples])
        logits = np.asarray(m @ self.primary_w) + self.primary_b
        probs = np.exp(logits - logits.max(1, keepdims=True))
        return 1 / (1 + np.exp(-(np.asarray(m @ self.type_w) + self.type_b))), probs / probs.sum(1, keepdims=True)


def fit_linear(train, c: float, max_features: int) -> Linear:
    """One balanced logistic regression per type and a multinomial one for the primary type."""
    from sklearn.linear_model import LogisticRegression

    vectorizer = vectorizer_for(max_features)
    x = vectorizer.fit_transform([linear_document(e.title, e.text) for e in train])
    weights = np.array([e.weight for e in train])
    type_w = np.zeros((x.shape[1], len(EVENT_TYPES)), np.float32)
    type_b = np.full(len(EVENT_TYPES), -10.0, np.float32)  # a type with no training example is never on
    for j, code in enumerate(EVENT_TYPES):
        y = np.array([code in e.labels for e in train])
        if 0 < y.sum() < len(y):
            model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(x, y, sample_weight=weights)
            type_w[:, j], type_b[j] = model.coef_[0], model.intercept_[0]
    primary = LogisticRegression(C=c, max_iter=2000).fit(x, [e.primary for e in train], sample_weight=weights)
    primary_w = np.zeros((x.shape[1], len(EVENT_TYPES)), np.float32)
    primary_b = np.full(len(EVENT_TYPES), -30.0, np.float32)
    for k, code in enumerate(primary.classes_):
        primary_w[:, EVENT_TYPES.index(code)], primary_b[EVENT_TYPES.index(code)] = primary.coef_[k], primary.intercept_[k]
    return Linear(vectorizer, type_w, type_b, primary_w, primary_b)


def run(cfg: TrainConfig, model_out: Path, c: float = 4.0, max_features: int = 150_000) -> dict:
    from safetensors.numpy import save_file

    seed_everything(cfg.seed)
    started = time.monotonic()
    data = assemble(cfg)
    tuned = data.fit_and_tune(cfg, lambda examples, name: fit_linear(examples, c, max_features),
                              lambda linear, examples: linear.scores(examples))
    linear, thresholds, heldout = tuned.model, tuned.thresholds, data.heldout
    held_s, held_p = tuned.calibrated(linear.scores(heldout))
    held = scores_of(decide(held_s, held_p, [thresholds[c_] for c_ in EVENT_TYPES]), heldout)

    model_out.mkdir(parents=True, exist_ok=True)
    features = tfidf_features(linear.vectorizer)
    save_file({"idf": features.idf, "type_weights": linear.type_w.astype(np.float16), "type_bias": linear.type_b,
               "primary_weights": linear.primary_w.astype(np.float16), "primary_bias": linear.primary_b},
              str(model_out / "linear.safetensors"))
    features.save_vocabulary(model_out)
    config = {
        "model_type": LINEAR_MODEL_TYPE,
        "labels": list(EVENT_TYPES),
        "thresholds": thresholds,
        "primary_bias": tuned.primary_bias,
        "thresholds_tuned_on": tuned.tuned_on,
        "ngram_range": list(NGRAM_RANGE),
        "features": len(features.grams),
        "C": c,
        "train_config": dataclasses.asdict(cfg),
        "data": {"train": len(data.train), "gold": len(data.gold), "gold_folds": cfg.gold_folds,
                 "heldout": len(heldout), "tune": len(tuned.tune_examples),
                 "train_by_origin": {o: sum(e.origin == o for e in data.train) for o in ("written", "weak", "sample")},
                 "train_primary": {code: sum(e.primary == code for e in data.train) for code in EVENT_TYPES},
                 "gold_primary": {code: sum(e.primary == code for e in data.gold) for code in EVENT_TYPES}},
        "train_seconds": round(time.monotonic() - started, 1),
    }
    (model_out / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    from akhbar.lib.events.model import EventModel

    saved, _ = EventModel(model_out).scores([(e.title, e.text) for e in heldout[:64]])
    drift = float(np.abs(saved - held_s[:64]).max()) if len(saved) else 0.0
    if drift > 0.02:  # the numpy scorer must compute what scikit-learn computed (fp16 weights aside)
        raise RuntimeError(f"saved linear model disagrees with the trained one by {drift:.4f}")
    gold_tune = (scores_of(decide(*tuned.calibrated(tuned.tune_scores), [thresholds[c_] for c_ in EVENT_TYPES]),
                           tuned.tune_examples) if tuned.tune_scores is not None else None)
    result = {"model": "tfidf-char-lr", "folder": str(model_out), "heldout": held, "gold_tune": gold_tune,
              "dev": dev_metrics(model_out) if cfg.evaluate_dev else None,
              "seconds": round(time.monotonic() - started, 1)}
    metrics = {"heldout": held, "gold_tune": gold_tune, "dev": result["dev"]}
    (model_out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="training/events/configs/tfidf.json")
    parser.add_argument("--C", type=float, default=4.0)
    parser.add_argument("--no_weak", action="store_true", help="written data only")
    parser.add_argument("--weak_max_per_primary", type=int, help="override the config's cap of weak examples per type")
    parser.add_argument("--model_out", help="the saved model folder (default: the config's out)")
    parser.add_argument("--out", help="also write the scores here (the model card reads build/events/baseline.json)")
    args = parser.parse_args(argv)
    cfg = TrainConfig.from_file(args.config)
    if args.no_weak:
        cfg.weak = False
    if args.weak_max_per_primary:
        cfg.weak_max_per_primary = args.weak_max_per_primary
    result = run(cfg, repo_path(args.model_out or cfg.out), args.C)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
