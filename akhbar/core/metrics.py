"""Precision, recall and F1: the one implementation every evaluation and training script uses.

``entity_scores`` scores BIO-tagged sequences at the entity level with the
conlleval/seqeval conventions (an entity starts at ``B-`` or at an ``I-`` that
does not continue the previous entity; a test checks it against seqeval).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int

    @property
    def support(self) -> int:
        """Gold positives."""
        return self.tp + self.fn

    def as_dict(self, percent: bool = False, digits: int = 4) -> dict:
        scale = 100.0 if percent else 1.0
        out = asdict(self)
        for key in ("precision", "recall", "f1"):
            out[key] = round(scale * out[key], digits)
        return out


def prf(tp: int, fp: int, fn: int) -> Scores:
    """Scores from counts of true positives, false positives and false negatives (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp, fp, fn)


def bio_spans(tags: Iterable[str]) -> list[tuple[str, int, int]]:
    """(type, first word, last word + 1) of each entity in a BIO sequence; a stray I- starts an entity."""
    spans: list[tuple[str, int, int]] = []
    current: list | None = None
    for i, tag in enumerate([*tags, "O"]):
        kind = tag[2:] if tag[:2] in ("B-", "I-") else None
        if current is not None and (kind != current[0] or tag.startswith("B-")):
            spans.append((current[0], current[1], i))
            current = None
        if kind is not None and current is None:
            current = [kind, i]
    return spans


def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict:
    """Micro and per-type precision/recall/F1 (in %) of entity spans, and entity counts."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sequences but {len(pred)} predicted")
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    for g, p in zip(gold, pred):
        if len(g) != len(p):
            raise ValueError(f"a gold sequence of {len(g)} tags has {len(p)} predicted tags")
        gold_spans, pred_spans = set(bio_spans(g)), set(bio_spans(p))
        for kind, *_ in gold_spans:
            n_gold[kind] += 1
        for kind, *_ in pred_spans:
            n_pred[kind] += 1
        for kind, *_ in gold_spans & pred_spans:
            tp[kind] += 1

    def scores(t: int, g: int, p: int) -> dict:
        s = prf(t, p - t, g - t)
        return {"precision": round(100 * s.precision, 2), "recall": round(100 * s.recall, 2),
                "f1": round(100 * s.f1, 2), "support": g}

    types = sorted(set(n_gold) | set(n_pred))
    return {
        "micro": scores(sum(tp.values()), sum(n_gold.values()), sum(n_pred.values())),
        "per_type": {k: scores(tp[k], n_gold[k], n_pred[k]) for k in types},
        "sentences": len(gold),
        "tokens": sum(len(s) for s in gold),
    }
