"""Reproducible stratified sample of real articles for the hand-labeled event dev set.

The dev set is labeled by reading, so the sample must be re-creatable from the
read-only shared data: a fixed seed, fixed per-folder quotas, and the same
skipping of empty and duplicate texts. Folders that carry the rare event types
(international news for diplomacy/conflict/sanctions, society and local news for
protests, arrests, accidents) get more than their share.

    python -m training.events.dev_sample --list            # docno per line, in labeling order
    python -m training.events.dev_sample --show 0 10       # title + head of text, for reading
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from akhbar.core.text import normalize_arabic, text_hash, text_key
from training.paths import SHARED_DATA

ANT_PATH = SHARED_DATA / "ant" / "ant.jsonl.gz"
MULTISOURCE_PATH = SHARED_DATA / "ant_multisource" / "multisource.jsonl.gz"
SEED = 20261129
MIN_TEXT_CHARS = 150

# Per-folder quotas; rare-type folders are oversampled relative to their corpus share.
ANT_QUOTAS: dict[str, int] = {
    "internationalNews": 48,
    "localNews": 52,
    "society": 36,
    "politic": 26,
    "diverse": 20,
    "economy": 16,
    "sport": 14,
    "culture": 10,
    "technology": 8,
}
# Multi-source top-up: international and Middle East news hold the conflict,
# sanctions and military-posture stories that a Tunisian radio corpus lacks.
MULTISOURCE_QUOTAS: dict[str, int] = {"middleEast": 25, "internationalNews": 25}
# Top-up for the types the random draw left under ~10 examples. Title cues only
# RETRIEVE candidates (a biased stratum, reported apart); every candidate is then
# labeled by reading, and many turn out to be another type.
TOPUP_CUES: dict[str, str] = {
    "military_posture": "مناورات|تدريبات عسكري|يهدد|تهدد|هدد |تهديد|صاروخ|حشد|عرض عسكري|استعراض|نووي|تجربه|ترسانه|انذار",
    "aid_cooperation": "مساعدات|قرض|هبه|منحه|تمويل|اعانه|شحنه",
    "sanctions": "عقوبات|حظر|طرد|قطع العلاقات|مقاطعه|تجميد",
    # Second, narrower round: the first round's cues mostly hit domestic threats and finance.
    "military_narrow": "مناورات|تدريبات|عسكري|صاروخ|بالستي",
    "aid_narrow": "هبه|منحه|مساعدات",
}
ANT_TOPUP_QUOTAS: dict[str, int] = {"military_posture": 12, "aid_cooperation": 10, "sanctions": 6}
ANT_TOPUP2_QUOTAS: dict[str, int] = {"military_narrow": 10, "aid_narrow": 8}
MULTISOURCE_TOPUP_QUOTAS: dict[str, int] = {"military_posture": 10}


def read_jsonl_gz(path: Path) -> Iterator[dict]:
    """Yield one dict per line of a gzip JSONL file."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def title_key(title: str) -> str:
    """Normalized title used to treat re-runs under the same headline as one story."""
    return text_key(title or "")


def unique_articles(records: Iterator[dict], folder_field: str) -> dict[str, list[dict]]:
    """Group usable articles by folder, dropping short texts and repeated bodies or titles."""
    seen_text: set[str] = set()
    seen_title: set[str] = set()
    by_folder: dict[str, list[dict]] = {}
    for record in records:
        text = (record.get("text") or "").strip()
        if len(text) < MIN_TEXT_CHARS:
            continue
        body, head = text_hash(text), title_key(record.get("title") or "")
        if body in seen_text or (head and head in seen_title):
            continue
        seen_text.add(body)
        if head:
            seen_title.add(head)
        by_folder.setdefault(record[folder_field], []).append(record)
    return by_folder


def stratified(by_folder: dict[str, list[dict]], quotas: dict[str, int], seed: int) -> list[dict]:
    """Draw each folder's quota with its own seeded RNG; order is folder by folder."""
    sample: list[dict] = []
    for folder, quota in quotas.items():
        pool = sorted(by_folder.get(folder, []), key=lambda r: r["docno"])
        rng = random.Random(f"{seed}:{folder}")
        sample.extend(rng.sample(pool, min(quota, len(pool))))
    return sample


def interleave(sample: list[dict], seed: int) -> list[dict]:
    """Shuffle the labeling order so a partial labeling run still covers every folder."""
    ordered = list(sample)
    random.Random(seed).shuffle(ordered)
    return ordered


def cue_topup(by_folder: dict[str, list[dict]], taken: set[str], quotas: dict[str, int], seed: int) -> list[dict]:
    """Seeded draw of not-yet-sampled articles whose normalized title matches a rare-type cue."""
    pool = sorted((r for rs in by_folder.values() for r in rs), key=lambda r: r["docno"])
    picked: list[dict] = []
    for group, quota in quotas.items():
        cue = re.compile(normalize_arabic(TOPUP_CUES[group]))
        candidates = [r for r in pool if r["docno"] not in taken and cue.search(normalize_arabic(r.get("title") or ""))]
        chosen = random.Random(f"{seed}:topup:{group}").sample(candidates, min(quota, len(candidates)))
        for record in chosen:
            record["stratum"] = f"topup:{group}"
            taken.add(record["docno"])
        picked.extend(chosen)
    return picked


def random_strata(ant_pool: dict[str, list[dict]], multi_pool: dict[str, list[dict]], ant_quotas: dict[str, int],
                  multi_quotas: dict[str, int], seed: int) -> tuple[list[dict], list[dict], set[str]]:
    """The seeded random draw of each corpus (in labeling order) and the docnos it took."""
    ant = interleave(stratified(ant_pool, ant_quotas, seed), seed)
    multi = interleave(stratified(multi_pool, multi_quotas, seed), seed)
    for record in ant + multi:
        record["stratum"] = "random"
    return ant, multi, {r["docno"] for r in ant + multi}


def mark_sources(ant: list[dict], multi: list[dict]) -> None:
    """Record each sampled article's corpus (and the multi-source category as its folder)."""
    for record in ant:
        record["source"] = "ant"
    for record in multi:
        record["source"] = "ant_multisource"
        record["folder"] = record["label"]


def dev_sample(seed: int = SEED) -> list[dict]:
    """Labeling order: ANT random strata, multi-source random, then the cue-retrieved top-ups."""
    ant_pool = unique_articles(read_jsonl_gz(ANT_PATH), "folder")
    multi_pool = unique_articles(read_jsonl_gz(MULTISOURCE_PATH), "label")
    ant, multi, taken = random_strata(ant_pool, multi_pool, ANT_QUOTAS, MULTISOURCE_QUOTAS, seed)
    ant_top = cue_topup(ant_pool, taken, ANT_TOPUP_QUOTAS, seed)
    multi_top = cue_topup(multi_pool, taken, MULTISOURCE_TOPUP_QUOTAS, seed)
    ant_top2 = cue_topup(ant_pool, taken, ANT_TOPUP2_QUOTAS, seed)
    mark_sources(ant + ant_top + ant_top2, multi + multi_top)
    return ant + multi + ant_top + multi_top + ant_top2


def sample_cli(draw, seed: int, doc: str, argv: list[str] | None = None) -> None:
    """``--list`` / ``--show START COUNT`` over a seeded sample ``draw(seed)``, for building and reading it."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=seed)
    parser.add_argument("--list", action="store_true", help="print index, source, folder, docno, stratum")
    parser.add_argument("--show", nargs=2, type=int, metavar=("START", "COUNT"), help="print articles to read")
    parser.add_argument("--chars", type=int, default=800)
    args = parser.parse_args(argv)
    sample = draw(args.seed)
    if args.list:
        for i, record in enumerate(sample):
            print(i, record["source"], record["folder"], record["docno"], record["stratum"], sep="\t")
    if args.show:
        start, count = args.show
        for i in range(start, min(start + count, len(sample))):
            record = sample[i]
            print(f"=== [{i}] {record['docno']} ({record['source']}/{record['folder']})")
            print("T:", record.get("title", ""))
            print(record.get("text", "")[: args.chars].replace("\n", " "))
            print()


def main(argv: list[str] | None = None) -> None:
    sample_cli(dev_sample, SEED, __doc__, argv)


if __name__ == "__main__":
    main()
