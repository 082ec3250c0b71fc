"""Near-duplicate clustering scored against hand-labeled pairs (``akhbar eval dedup``).

docs lines are ``{docno, src, title, text, time}`` (``python -m
training.neardup.make_docs --out docs.jsonl`` writes them from the shared
corpus); pairs lines are ``{a_docno, b_docno, label: dup|near_dup|distinct}``.

Every document is clustered, exactly as the batch pipeline does, and a pair is
predicted "duplicate" when both documents end up with the same story_id. The
result has precision/recall/F1 of those decisions (dup + near_dup against
distinct), recall on exact dups alone, false merges among random and hard
negative pairs, for the pair scorer and for the LSH/Jaccard threshold alone.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from akhbar.core.metrics import prf
from akhbar.lib.evaluation import read_jsonl
from akhbar.lib.neardup import Fingerprint, MinHasher, NearDupConfig, fingerprint

PAIR_LABELS = ("dup", "near_dup", "distinct")


def parse_time(value: str) -> datetime:
    """RSS pubDate (``Sun, 18 Feb 2018 21:35:43 +0400``) or ISO-8601, as an aware UTC datetime."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"unreadable document time {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def read_docs(path: str | Path) -> Iterator[dict]:
    """Docs JSONL (``make_docs`` output, or any file with docno/src/title/text/time)."""

    def check(doc: dict) -> str | None:
        missing = [k for k in ("docno", "src", "text", "time") if k not in doc]
        return f"document lacks {missing}" if missing else None

    return read_jsonl(path, check)


def read_pairs(path: str | Path) -> list[dict]:
    """Labeled pairs ``{a_docno, b_docno, label}``, checked."""

    def check(pair: dict) -> str | None:
        ok = pair.get("label") in PAIR_LABELS and pair.get("a_docno") and pair.get("b_docno")
        return None if ok else "bad pair"

    return list(read_jsonl(path, check))


def fingerprints(docs_path: str | Path, config: NearDupConfig) -> list[Fingerprint]:
    hasher = MinHasher(config.num_perm, config.seed)
    return [
        fingerprint(d["docno"], d["src"], d.get("title"), d["text"], parse_time(d["time"]).timestamp(), config, hasher)
        for d in read_docs(docs_path)
    ]


def scores_dict(tp: int, fp: int, fn: int) -> dict:
    s = prf(tp, fp, fn)
    return {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
            "tp": tp, "fp": fp, "fn": fn}


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
    out = scores_dict(tp, fp, fn)
    out["exact_dup_recall"] = round(exact_found / exact_total, 4) if exact_total else None
    out["exact_dups"] = exact_total
    out["random_pairs_false_merges"] = random_merged
    out["random_pairs"] = random_total
    out["hard_negative_false_merges"] = hard_merged
    out["hard_negatives"] = hard_total
    return out
