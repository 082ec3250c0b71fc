"""Reproducible sample of real articles for the hand-labeled event *training* set (gold).

The weak labels teach the model the keyword rules' blind spots; a few hundred real
articles labeled by reading, drawn from the same corpora as the dev set but never
overlapping it, teach it the real distribution, and a part of them tunes the
per-type thresholds (never the dev set). Same draw as ``dev_sample`` with its own
seed and larger quotas, after removing every dev article and any article sharing a
dev article's body or headline; rare types get a larger cue-retrieved top-up,
since this set trains rather than measures.

    python -m training.events.gold_sample --list            # index, source, folder, docno, stratum
    python -m training.events.gold_sample --show 0 10       # title + head of text, for reading
"""
from __future__ import annotations

import json
from pathlib import Path

from akhbar.core.text import text_hash
from training.events.dev_sample import (
    ANT_PATH,
    MULTISOURCE_PATH,
    cue_topup,
    interleave,
    mark_sources,
    random_strata,
    read_jsonl_gz,
    sample_cli,
    title_key,
    unique_articles,
)

SEED = 20261130
DEV_LABELS = Path(__file__).resolve().parent / "data" / "dev_labels.jsonl"
GOLD_LABELS = Path(__file__).resolve().parent / "data" / "gold_labels.jsonl"

ANT_QUOTAS: dict[str, int] = {
    "internationalNews": 70,
    "localNews": 70,
    "society": 50,
    "politic": 40,
    "diverse": 25,
    "economy": 30,
    "sport": 15,
    "culture": 12,
    "technology": 8,
}
MULTISOURCE_QUOTAS: dict[str, int] = {"middleEast": 50, "internationalNews": 50, "economy": 10}
ANT_TOPUP_QUOTAS: dict[str, int] = {"military_narrow": 25, "aid_narrow": 25, "sanctions": 20}
MULTISOURCE_TOPUP_QUOTAS: dict[str, int] = {"military_posture": 25, "aid_cooperation": 15, "sanctions": 20}


def dev_exclusions() -> tuple[set[str], set[str], set[str]]:
    """Dev docnos, and the body hashes and title keys of dev articles (re-runs of a dev story)."""
    docnos = {json.loads(line)["docno"] for line in DEV_LABELS.read_text(encoding="utf-8").splitlines() if line.strip()}
    bodies: set[str] = set()
    titles: set[str] = set()
    for path in (ANT_PATH, MULTISOURCE_PATH):
        for record in read_jsonl_gz(path):
            if record["docno"] in docnos:
                bodies.add(text_hash((record.get("text") or "").strip()))
                titles.add(title_key(record.get("title") or ""))
    titles.discard("")
    return docnos, bodies, titles


def _without_dev(by_folder: dict[str, list[dict]], excluded: tuple[set[str], set[str], set[str]]) -> dict[str, list[dict]]:
    docnos, bodies, titles = excluded
    return {
        folder: [r for r in records if r["docno"] not in docnos
                 and text_hash((r.get("text") or "").strip()) not in bodies
                 and title_key(r.get("title") or "") not in titles]
        for folder, records in by_folder.items()
    }


def gold_sample(seed: int = SEED) -> list[dict]:
    """Labeling order: ANT random, multi-source random, then cue-retrieved top-ups; disjoint from dev."""
    excluded = dev_exclusions()
    ant_pool = _without_dev(unique_articles(read_jsonl_gz(ANT_PATH), "folder"), excluded)
    multi_pool = _without_dev(unique_articles(read_jsonl_gz(MULTISOURCE_PATH), "label"), excluded)
    ant, multi, taken = random_strata(ant_pool, multi_pool, ANT_QUOTAS, MULTISOURCE_QUOTAS, seed)
    ant_top = cue_topup(ant_pool, taken, ANT_TOPUP_QUOTAS, seed)
    multi_top = cue_topup(multi_pool, taken, MULTISOURCE_TOPUP_QUOTAS, seed)
    mark_sources(ant + ant_top, multi + multi_top)
    return interleave(ant + multi + ant_top + multi_top, seed)


def main(argv: list[str] | None = None) -> None:
    sample_cli(gold_sample, SEED, __doc__, argv)


if __name__ == "__main__":
    main()
