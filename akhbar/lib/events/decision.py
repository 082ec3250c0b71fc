"""The event taxonomy's codes and the rules that turn model scores into an article's types.

Every caller (the pipeline, evaluation, training's tuning) decides through
``decide``, so the taxonomy's rules hold everywhere.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# The taxonomy's codes, in the order of the models' output columns.
EVENT_TYPES: tuple[str, ...] = (
    "DIPLOMACY",
    "STATEMENT",
    "AID_COOPERATION",
    "MILITARY_POSTURE",
    "SANCTIONS",
    "PROTEST",
    "ARREST_LEGAL",
    "ARMED_CONFLICT",
    "POLITICS_GOVERNANCE",
    "DISASTER_ACCIDENT",
    "ECONOMY",
    "OTHER",
)
OTHER = "OTHER"
@dataclass(frozen=True)
class EventPrediction:
    """The thresholded types (with their scores, best first) and the primary type of one article."""

    types: tuple[tuple[str, float], ...]
    primary: str

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.types]


def decide(
    type_scores: np.ndarray, primary_probs: np.ndarray, thresholds: Sequence[float], labels: Sequence[str] = EVENT_TYPES
) -> list[EventPrediction]:
    """Scores -> predictions: a type is on when its score reaches its threshold.

    The taxonomy's rules are applied here, so every caller agrees on them: the
    primary type is one of the article's types, and OTHER never combines with
    another type (when real types pass their thresholds, OTHER is dropped and
    the primary is the most likely of them).
    """
    thresholds_arr = np.asarray(thresholds, dtype=np.float32)
    other = list(labels).index(OTHER)
    predictions = []
    for scores, probs in zip(type_scores, primary_probs):
        on = scores >= thresholds_arr
        on[other] = False
        if on.any():
            primary = int(np.argmax(np.where(on, probs, -1.0)))
            if probs.argmax() != other and not on[probs.argmax()]:
                # The primary head is confident in a type the sigmoid head missed: trust it, add the type.
                primary = int(probs.argmax())
                on[primary] = True
        else:
            primary = int(probs.argmax())
            on[primary] = True
        chosen = sorted(np.flatnonzero(on), key=lambda i: -float(scores[i]))
        predictions.append(
            EventPrediction(types=tuple((labels[i], round(float(scores[i]), 4)) for i in chosen), primary=labels[primary])
        )
    return predictions


def calibrate_primary(primary_probs: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Shift the primary head's log-probabilities by per-type biases (fitted on hand-labeled real
    articles at training time, ``training/events/tuning.py``) and renormalize."""
    if not bias.any():
        return primary_probs
    shifted = np.log(np.clip(primary_probs, 1e-9, 1.0)) + bias
    shifted = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(primary_probs.dtype)


