"""Reproducible draw of real articles for the hand-labeled geocoding set (``data/geo/labels.jsonl``).

Strata: the Tunisian outlet of ANT by category, and each of the five outlets of
the multi-source corpus by category, so Maghreb local news, Levant and Gulf
coverage and foreign news all appear. Articles whose body repeats an earlier
draw are skipped. Only the first ``LABEL_CHARS`` characters of each body are
labeled (cut at a word boundary), so every place mention in that region can be
read and labeled.

    python -m training.geo.sample --list                 # index, split, docno, title
    python -m training.geo.sample --show 0 10            # the labeled region of articles 0-9, with candidate spans
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path

from akhbar.core.text import text_hash
from training.paths import SHARED_DATA

SEED = 20261213
LABEL_CHARS = 700
ANT_PATH = SHARED_DATA / "ant" / "ant.jsonl.gz"
MULTISOURCE_PATH = SHARED_DATA / "ant_multisource" / "multisource.jsonl.gz"
ANT_QUOTAS = {"localNews": 16, "internationalNews": 10, "politic": 8, "society": 6}
MULTISOURCE_QUOTAS = {"middleEast": 6, "internationalNews": 4, "economy": 1, "sport": 1}  # per outlet
OUTLETS = ("AL", "BB", "CN", "FR", "SK")


def read_jsonl_gz(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            yield json.loads(line)


def label_end(text: str, limit: int = LABEL_CHARS) -> int:
    """End of the labeled region: ``limit`` characters, moved back to the end of a word."""
    if len(text) <= limit:
        return len(text)
    cut = text.rfind(" ", 0, limit)
    return cut if cut > limit // 2 else limit


def draw() -> list[dict]:
    """The drawn articles, in draw order, each with ``corpus`` and ``split`` (alternating dev/test)."""
    rng = random.Random(SEED)
    picked: list[dict] = []
    seen: set[str] = set()

    def take(pool: list[dict], n: int, corpus: str) -> None:
        rng.shuffle(pool)
        for r in pool:
            if n == 0:
                break
            h = text_hash(r["text"])
            if h in seen or len(r["text"]) < 300:
                continue
            seen.add(h)
            picked.append({**r, "corpus": corpus})
            n -= 1

    ant = list(read_jsonl_gz(ANT_PATH))
    for folder, n in ANT_QUOTAS.items():
        take([r for r in ant if r.get("folder") == folder], n, "ant")
    multi = list(read_jsonl_gz(MULTISOURCE_PATH))
    for outlet in OUTLETS:
        for label, n in MULTISOURCE_QUOTAS.items():
            take([r for r in multi if r["docno"].startswith(outlet + "-") and r["label"] == label], n,
                 "ant_multisource")
    order = list(range(len(picked)))
    rng.shuffle(order)
    out = []
    for rank, i in enumerate(order):
        out.append({**picked[i], "split": "dev" if rank % 2 == 0 else "test"})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--show", nargs=2, type=int, metavar=("FROM", "TO"))
    args = ap.parse_args()
    rows = draw()
    if args.list:
        for i, r in enumerate(rows):
            print(i, r["split"], r["docno"], r["title"][:70])
    if args.show:
        for i in range(*args.show):
            r = rows[i]
            end = label_end(r["text"])
            print(f"### {i} {r['docno']} {r['split']} end={end}\nTITLE: {r['title']}\n{r['text'][:end]}\n")


if __name__ == "__main__":
    main()
