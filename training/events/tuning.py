"""Per-type thresholds, and how the hand-labeled gold articles are split between training and tuning.

The thresholds must come from a split that is not the dev set, and they are
best tuned on real articles labeled by reading (the gold set) rather than on
the rules' labels. Gold is scarce, so it is used twice by cross-fitting: with
``gold_folds`` = k, k models are each trained without one fold of gold and
score that fold; the thresholds are tuned on those out-of-fold scores of all
gold articles, and the shipped model is then trained on all of it. With
``gold_folds`` < 2 a fixed share of gold is set aside instead (cheaper, and
less gold is trained on). Types with too few gold positives fall back to the
threshold tuned on the held-out split of the written + weak data.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from akhbar.core.metrics import prf
from akhbar.core.text import text_hash
from akhbar.lib.events.decision import EVENT_TYPES, calibrate_primary
from training.events import dataset

THRESHOLD_GRID = [round(0.05 * i, 2) for i in range(1, 20)]
MIN_GOLD_SUPPORT = 5  # gold positives a type needs for its threshold to be tuned on gold
PRIMARY_BIAS_L2 = 0.01

Model = TypeVar("Model")
Scores = tuple[np.ndarray, np.ndarray]  # per-type sigmoid scores, primary probabilities


def gold_matrix(examples: Sequence[dataset.Example]) -> np.ndarray:
    """0/1 matrix [examples, types] of the examples' labels."""
    return np.array([[code in e.labels for code in EVENT_TYPES] for e in examples],
                    dtype=np.float32).reshape(-1, len(EVENT_TYPES))


def tune_thresholds(scores: np.ndarray, gold: np.ndarray, min_support: int = 3,
                    fallback: dict[str, float] | None = None) -> dict[str, float]:
    """Per type, the grid threshold with the best F1 on a split that is not the dev set.

    A type with fewer than ``min_support`` positives there keeps its ``fallback`` threshold (else 0.5).
    """
    thresholds = {}
    for j, code in enumerate(EVENT_TYPES):
        positives = int(gold[:, j].sum())
        if positives < min_support:
            thresholds[code] = (fallback or {}).get(code, 0.5)
            continue
        best = (-1.0, 0.5)
        for t in THRESHOLD_GRID:
            predicted = scores[:, j] >= t
            tp = int((predicted & (gold[:, j] > 0)).sum())
            f1 = prf(tp, int(predicted.sum()) - tp, positives - tp).f1
            if f1 > best[0] + 1e-9:
                best = (f1, t)
        thresholds[code] = best[1]
    return thresholds


def gold_splits(gold: Sequence[dataset.Example], folds: int, tune_fraction: float,
                seed: int) -> list[tuple[list[dataset.Example], list[dataset.Example]]]:
    """(gold to train on, gold to score) pairs: ``folds`` cross-fitting folds, or one fixed split.

    Folds are cut by headline key, so copies of one story stay in one fold.
    """
    if folds < 2:
        train, tune = dataset.split_heldout(gold, tune_fraction, seed)
        return [(train, tune)]
    groups: dict[str, list[dataset.Example]] = {}
    for example in gold:
        groups.setdefault(text_hash(example.title or example.text), []).append(example)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    fold_of = {key: i % folds for i, key in enumerate(keys)}
    return [
        ([e for k in keys if fold_of[k] != i for e in groups[k]], [e for k in keys if fold_of[k] == i for e in groups[k]])
        for i in range(folds)
    ]


def fit_primary_bias(probs: np.ndarray, examples: Sequence[dataset.Example], l2: float = PRIMARY_BIAS_L2,
                     steps: int = 500, lr: float = 1.0) -> dict[str, float]:
    """Per-type additive biases on the primary head's log-probabilities, fitted on gold articles.

    The primary head learns the type mix of its training data, mostly the rules'
    labels; the real mix differs (more STATEMENT and ARREST_LEGAL primaries, for
    one). Twelve biases, fitted by L2-regularized log-likelihood on scores of
    articles the model did not train on, shift the head to the real mix
    (``akhbar.lib.events.model.calibrate_primary`` applies them).
    """
    log_p = np.log(np.clip(probs, 1e-9, 1.0))
    onehot = np.eye(len(EVENT_TYPES))[[EVENT_TYPES.index(e.primary) for e in examples]]
    bias = np.zeros(len(EVENT_TYPES))
    for _ in range(steps):
        z = log_p + bias
        q = np.exp(z - z.max(1, keepdims=True))
        q /= q.sum(1, keepdims=True)
        bias -= lr * ((q - onehot).mean(0) + 2 * l2 * bias)
    return {code: round(float(b), 4) for code, b in zip(EVENT_TYPES, bias)}


@dataclass
class Tuned(Generic[Model]):
    """The model to ship, its thresholds and primary biases, where they were tuned, and the gold scored for them.

    ``tune_scores`` are the raw (uncalibrated) scores of ``tune_examples``.
    """

    model: Model
    thresholds: dict[str, float]
    primary_bias: dict[str, float]
    tuned_on: str
    tune_examples: list[dataset.Example]
    tune_scores: Scores | None

    def calibrated(self, scores: Scores) -> Scores:
        """Scores as the shipped model gives them: the primary probabilities shifted by ``primary_bias``."""
        bias = np.array([self.primary_bias[code] for code in EVENT_TYPES], dtype=np.float32)
        return scores[0], calibrate_primary(scores[1], bias)


def fit_and_tune(
    train: Sequence[dataset.Example],
    heldout: Sequence[dataset.Example],
    gold: Sequence[dataset.Example],
    train_fn: Callable[[list[dataset.Example], str], Model],
    score_fn: Callable[[Model, Sequence[dataset.Example]], Scores],
    folds: int,
    tune_fraction: float,
    seed: int,
    calibrate: bool = True,
) -> Tuned[Model]:
    """Train the model to ship (``train_fn(examples, name)``) and tune its thresholds (see the module doc)."""
    splits = gold_splits(gold, folds, tune_fraction, seed) if gold else []
    tune_examples: list[dataset.Example] = []
    parts: list[Scores] = []
    if len(splits) > 1:
        for i, (gold_train, gold_scored) in enumerate(splits, 1):
            fold_model = train_fn([*train, *gold_train], f"gold fold {i}/{len(splits)}")
            tune_examples += gold_scored
            parts.append(score_fn(fold_model, gold_scored))
        model = train_fn([*train, *gold], "final model")
    else:
        gold_train, gold_scored = splits[0] if splits else ([], [])
        model = train_fn([*train, *gold_train], "final model")
        if gold_scored:
            tune_examples = list(gold_scored)
            parts.append(score_fn(model, gold_scored))
    held = tune_thresholds(score_fn(model, heldout)[0], gold_matrix(heldout))
    where = "the held-out split of the written + weak training data"
    if not tune_examples:
        return Tuned(model, held, {code: 0.0 for code in EVENT_TYPES}, where, [], None)
    scores = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    matrix = gold_matrix(tune_examples)
    thresholds = tune_thresholds(scores[0], matrix, min_support=MIN_GOLD_SUPPORT, fallback=held)
    on_gold = [code for j, code in enumerate(EVENT_TYPES) if matrix[:, j].sum() >= MIN_GOLD_SUPPORT]
    how = (f"out-of-fold scores of {folds} models each trained without that fold" if len(splits) > 1
           else "a model not trained on them")
    tuned_on = f"{len(tune_examples)} hand-labeled real (gold) articles, {how}, " + (
        "for every type" if len(on_gold) == len(EVENT_TYPES)
        else f"for {', '.join(on_gold)}; {where} for the other types")
    bias = fit_primary_bias(scores[1], tune_examples) if calibrate else {code: 0.0 for code in EVENT_TYPES}
    return Tuned(model, thresholds, bias, tuned_on, tune_examples, scores)
