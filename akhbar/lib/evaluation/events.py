"""Event model scores on labeled articles (``akhbar eval events --jsonl FILE [--model PATH]``).

FILE holds one JSON object per line: ``{"title", "text", "labels": [...],
"primary"?}`` with codes from ``../shared/spec/event-taxonomy.md``. The
result is one JSON object: micro and macro F1 over the types, precision,
recall, F1 and support per type, and primary accuracy (over the lines that
carry a primary). Build the real dev set as such a file with
``python -m training.events.make_dev_jsonl --out /tmp/dev.jsonl``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from akhbar.core.metrics import prf
from akhbar.lib.evaluation import read_jsonl
from akhbar.lib.events.decision import EVENT_TYPES


def event_scores(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    gold_primary: Sequence[str | None] = (),
    predicted_primary: Sequence[str] = (),
    labels: Sequence[str] = EVENT_TYPES,
) -> dict:
    """Micro/macro F1 and per-type P/R/F1 of label sets; primary accuracy where gold has one.

    Macro F1 averages the types that occur in the gold labels or the predictions
    (a type absent from both says nothing about the model).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold label sets but {len(predicted)} predictions")
    per_type = {}
    total = [0, 0, 0]
    for code in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if code in g and code in p)
        fp = sum(1 for g, p in zip(gold, predicted) if code not in g and code in p)
        fn = sum(1 for g, p in zip(gold, predicted) if code in g and code not in p)
        s = prf(tp, fp, fn)
        precision, recall, f1 = s.precision, s.recall, s.f1
        per_type[code] = {
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": tp + fn, "predicted": tp + fp,
        }
        total = [total[0] + tp, total[1] + fp, total[2] + fn]
    micro = prf(*total)
    micro_p, micro_r, micro_f1 = micro.precision, micro.recall, micro.f1
    present = [code for code in labels if per_type[code]["support"] or per_type[code]["predicted"]]
    macro_f1 = sum(per_type[c]["f1"] for c in present) / len(present) if present else 0.0
    pairs = [(g, p) for g, p in zip(gold_primary, predicted_primary) if g]
    result = {
        "articles": len(gold),
        "micro_precision": round(micro_p, 4),
        "micro_recall": round(micro_r, 4),
        "micro_f1": round(micro_f1, 4),
        "macro_f1": round(macro_f1, 4),
        "primary_accuracy": round(sum(g == p for g, p in pairs) / len(pairs), 4) if pairs else None,
        "primary_articles": len(pairs),
        "exact_match": round(sum(set(g) == set(p) for g, p in zip(gold, predicted)) / len(gold), 4) if gold else None,
        "per_type": per_type,
    }
    return result


def _check_event_row(row: dict) -> str | None:
    labels = row.get("labels")
    if not isinstance(labels, list) or any(code not in EVENT_TYPES for code in labels):
        return f"bad labels {labels!r}; expected a list of {list(EVENT_TYPES)}"
    if row.get("primary") is not None and row["primary"] not in EVENT_TYPES:
        return f"unknown primary {row['primary']!r}"
    return None


def read_eval_lines(path: str | Path) -> list[dict]:
    """Labeled articles ``{title, text, labels, primary?}``, checked."""
    return list(read_jsonl(path, _check_event_row))


def evaluate(rows: Sequence[dict], model_path: str | Path, batch_size: int = 32) -> dict:
    from akhbar.lib.events.model import EventModel

    model = EventModel(model_path)
    predictions = []
    started = time.monotonic()
    for i in range(0, len(rows), batch_size):
        batch = rows[i : i + batch_size]
        predictions.extend(model.predict([(r.get("title") or "", r.get("text") or "") for r in batch]))
    seconds = time.monotonic() - started
    result = event_scores(
        [r["labels"] for r in rows],
        [p.codes for p in predictions],
        [r.get("primary") for r in rows],
        [p.primary for p in predictions],
        labels=model.labels,
    )
    result["model"] = str(model_path)
    result["seconds"] = round(seconds, 2)
    return result
