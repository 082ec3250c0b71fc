"""The labeled pairs: reading, writing and the deterministic cross-validation folds.

Folds are assigned per connected component of the labeled pairs (a story and
everything labeled against it stays in one fold), by a hash of the component's
smallest docno, so a scorer is never evaluated on a story it was trained on.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

REPO_ROOT = Path(__file__).resolve().parents[2]
PAIRS = REPO_ROOT / "data" / "neardup" / "pairs.jsonl"
LABELS = ("dup", "near_dup", "distinct")
N_FOLDS = 5


def read_pairs(path: str | Path = PAIRS) -> list[dict]:
    pairs = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            pair = json.loads(line)
            if pair.get("label") not in LABELS or not pair.get("a_docno") or not pair.get("b_docno"):
                raise ValueError(f"{path}:{n}: bad pair {line.strip()[:200]!r}")
            pairs.append(pair)
    return pairs


def is_duplicate(pair: dict) -> bool:
    return pair["label"] in ("dup", "near_dup")


def assign_folds(pairs: Iterable[dict], n_folds: int = N_FOLDS) -> dict[str, int]:
    """docno -> fold, constant on each connected component of the pair graph."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        ra, rb = find(p["a_docno"]), find(p["b_docno"])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    folds = {}
    for doc in list(parent):
        root = find(doc)
        folds[doc] = int(hashlib.sha1(root.encode()).hexdigest(), 16) % n_folds
    return folds


def fold_of(pair: dict, folds: dict[str, int]) -> int:
    return folds[pair["a_docno"]]
