"""The pair scorer: is a later article the same story as an earlier one?

Overlap alone misleads: same-outlet follow-ups repeat the earlier text under a
new lead, and templated reports share most of their words while reporting a
different story. A small logistic model over the pair's similarities (body
Jaccard, containment both ways, lead and headline similarity, numbers, names,
time gap, same outlet) decides; its weights ship as JSON
(``models/neardup/pair_scorer.json``, trained by ``training/neardup``).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from akhbar.lib.neardup.sketch import Fingerprint, NearDupConfig, _sampled


def _jaccard(a, b) -> float:
    """Jaccard of two sets, or of two sorted unique hash arrays."""
    if not len(a) and not len(b):
        return 0.0
    inter = _overlap(a, b)
    return inter / (len(a) + len(b) - inter)


def _overlap(a, b) -> int:
    if isinstance(a, np.ndarray):
        return len(np.intersect1d(a, b, assume_unique=True))
    return len(a & b)


def _containment(a, b) -> float:
    """Share of ``a`` found in ``b``."""
    return _overlap(a, b) / len(a) if len(a) else 0.0


FEATURES = (
    "body_jaccard",
    "contain_max",
    "contain_min",
    "lead_jaccard",
    "title_jaccard",
    "names_jaccard",
    "numbers_jaccard",
    "new_numbers",
    "log_gap_h",
    "same_outlet",
    "length_ratio",
    "lead_in_other_min",
    "lead_in_other_max",
    "title_in_lead",
)


def pair_features(a: Fingerprint, b: Fingerprint) -> dict[str, float]:
    """The similarities the scorer weighs, the same for (a, b) and (b, a): ``b`` is the later article."""
    if (b.time, b.doc_id) < (a.time, a.doc_id):
        a, b = b, a
    c_ab, c_ba = _containment(a.body, b.body), _containment(b.body, a.body)
    later_numbers = b.numbers
    lead_a_in_b = _containment(_sampled(a.lead, a.sample_mod), b.body)
    lead_b_in_a = _containment(_sampled(b.lead, b.sample_mod), a.body)
    return {
        "body_jaccard": _jaccard(a.body, b.body),
        "contain_max": max(c_ab, c_ba),
        "contain_min": min(c_ab, c_ba),
        "lead_jaccard": _jaccard(a.lead, b.lead),
        "title_jaccard": _jaccard(a.title, b.title),
        "names_jaccard": _jaccard(a.names, b.names),
        "numbers_jaccard": _jaccard(a.numbers, b.numbers),
        # Numbers the later article adds (a new toll, a new score): the mark of a follow-up or template.
        "new_numbers": len(later_numbers - a.numbers) / len(later_numbers) if later_numbers else 0.0,
        "log_gap_h": math.log1p(abs(b.time - a.time) / 3600.0),
        "same_outlet": 1.0 if a.outlet == b.outlet else 0.0,
        "length_ratio": min(a.length, b.length) / max(a.length, b.length, 1),
        # Is each lead found in the other body? A follow-up's new lead is not in the earlier article.
        "lead_in_other_min": min(lead_a_in_b, lead_b_in_a),
        "lead_in_other_max": max(lead_a_in_b, lead_b_in_a),
        "title_in_lead": max(_containment(a.title, b.names), _containment(b.title, a.names)),
    }


# The scorer's inputs: every feature, and every feature gated by same_outlet, so the model can
# weigh lead and headline similarity differently for a same-outlet pair (follow-ups) than across outlets.
MODEL_FEATURES = FEATURES + tuple(f"same_outlet*{f}" for f in FEATURES if f != "same_outlet")


def feature_value(features: dict[str, float], name: str) -> float:
    """A named model input: a feature, or a product ``a*b`` of features."""
    value = 1.0
    for part in name.split("*"):
        value *= features[part]
    return value


@dataclass(frozen=True)
class PairScorer:
    """Logistic regression over standardized ``MODEL_FEATURES``; weights come from JSON."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float = 0.5

    @classmethod
    def load(cls, path: str | Path) -> PairScorer:
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the near-dup pair scorer {str(path)!r}: {exc}") from exc
        names = tuple(spec.get("features", ()))
        unknown = [n for n in names if any(part not in FEATURES for part in n.split("*"))]
        if not names or unknown or not len(names) == len(spec["weights"]) == len(spec["mean"]) == len(spec["scale"]):
            raise ValueError(f"pair scorer {str(path)!r} does not fit this code (unknown features {unknown})")
        return cls(
            features=names,
            weights=tuple(spec["weights"]),
            bias=float(spec["bias"]),
            mean=tuple(spec["mean"]),
            scale=tuple(spec["scale"]),
            threshold=float(spec.get("threshold", 0.5)),
        )

    def score(self, features: dict[str, float]) -> float:
        z = self.bias
        for name, w, m, s in zip(self.features, self.weights, self.mean, self.scale):
            z += w * (feature_value(features, name) - m) / s
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Match:
    """The decision for one article: the story it joins, the earlier article it duplicates."""

    doc_id: str
    story_id: str
    duplicate_of: str | None
    score: float | None


def decide(a: Fingerprint, b: Fingerprint, config: NearDupConfig, scorer: PairScorer | None) -> float:
    """Duplicate score of a pair in [0, 1]: the scorer's probability, or the Jaccard alone without one."""
    feats = pair_features(a, b)
    if feats["body_jaccard"] >= config.exact_jaccard:
        return 1.0
    if scorer is None:
        return feats["body_jaccard"]
    return scorer.score(feats)


def threshold_of(config: NearDupConfig, scorer: PairScorer | None) -> float:
    """The decision threshold: the config's, else the one shipped with the model, else the Jaccard baseline's."""
    if scorer is None:
        return config.lsh_only_threshold
    return config.score_threshold if config.score_threshold is not None else scorer.threshold


