"""The labeled pairs: reading, writing and the deterministic cross-validation folds.

Folds are assigned per connected component of the labeled pairs (a story and
everything labeled against it stays in one fold), by a hash of the component's
smallest docno, so a scorer is never evaluated on a story it was trained on.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

from akhbar.lib.evaluation.dedup import PAIR_LABELS as LABELS  # noqa: F401
from akhbar.lib.evaluation.dedup import read_pairs  # noqa: F401
from training.paths import REPO_ROOT

PAIRS = REPO_ROOT / "data" / "neardup" / "pairs.jsonl"
N_FOLDS = 5


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
