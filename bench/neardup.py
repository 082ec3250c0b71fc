"""Near-dup benchmark: articles/s and memory of the streaming index, and what sharding costs in recall.

    nice -n 5 .venv/bin/python -m bench.neardup --sizes 10000,100000     # throughput + memory
    nice -n 5 .venv/bin/python -m bench.neardup --sizes 1000000          # (long: see docs/readme/neardup.md)
    nice -n 5 .venv/bin/python -m bench.neardup --shard-recall           # recall vs shards, on the labeled pairs

Throughput: a synthetic stream built from real text (the shared ANT corpus):
each new story splices sentences of three random corpus articles and swaps
some words and numbers, and 30% of the items are near-duplicates of a story
from the last day (sentences dropped or reordered, a new headline, edited
numbers), at 4,000 articles per simulated day. Every article is fingerprinted
and matched against a ``NearDupIndex`` with the default 3-day TTL, as one
streaming shard does: the figure is per core, before Beam's own overhead.
Memory is the process's peak RSS (ru_maxrss) and the index size at the end.
"""
from __future__ import annotations

import argparse
import json
import platform
import random
import re
import resource
import sys
import time
from collections.abc import Iterator, Sequence

from akhbar.lib.models import NEAR_DUP_MODEL
from akhbar.lib.neardup import (
    DEFAULT_TTL_S,
    MinHasher,
    NearDupConfig,
    NearDupIndex,
    PairScorer,
    cluster,
    fingerprint,
    route_keys,
)

ARTICLES_PER_DAY = 4000
DUP_SHARE = 0.3
_SENTENCE = re.compile(r"(?<=[.!؟?])\s+")
_DIGITS = re.compile(r"\d+")


def _machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def synthetic_stream(n: int, seed: int = 7) -> Iterator[tuple[str, str, str, str, float]]:
    """(doc_id, outlet, title, text, time) for n synthetic articles made from real corpus text."""
    from training.neardup.corpus import read_multisource

    docs = [d for d in read_multisource() if len(d["text"]) > 400]
    sentences = [s for d in docs for s in _SENTENCE.split(d["text"]) if len(s) > 40]
    words = [w for d in docs[:2000] for w in d["title"].split()]
    rng = random.Random(seed)
    outlets = [f"outlet-{i}" for i in range(20)]
    recent: list[tuple[str, str, float]] = []
    t0 = 1_530_000_000.0
    for i in range(n):
        now = t0 + i * 86400.0 / ARTICLES_PER_DAY
        if recent and rng.random() < DUP_SHARE:
            title, text, _t = rng.choice(recent)
            parts = _SENTENCE.split(text)
            keep = [s for s in parts if rng.random() > 0.25] or parts[:1]
            if rng.random() < 0.5:
                rng.shuffle(keep)
            text = " ".join(keep)
            text = _DIGITS.sub(lambda m: str(int(m.group()) + rng.randint(0, 2)), text, count=2)
            title = " ".join(rng.sample(words, 6)) + " " + title.split()[0]
        else:
            text = " ".join(rng.choice(sentences) for _ in range(rng.randint(4, 12)))
            text = " ".join(w if rng.random() > 0.05 else rng.choice(words) for w in text.split())
            title = " ".join(rng.sample(words, 8))
            recent.append((title, text, now))
            if len(recent) > ARTICLES_PER_DAY:
                recent.pop(0)
        yield f"s{i}", rng.choice(outlets), title, text, now


def throughput(n: int, progress_every: int = 100_000) -> dict:
    """Articles are generated lazily; only fingerprinting and matching are timed."""
    config = NearDupConfig(max_gap_s=DEFAULT_TTL_S)
    hasher = MinHasher(config.num_perm, config.seed)
    index = NearDupIndex(config, PairScorer.load(NEAR_DUP_MODEL), max_items=10_000_000)
    import itertools

    stream = synthetic_stream(n)
    stream = itertools.chain([next(stream)], stream)  # the generator has loaded its corpus: measure from here
    rss_before = _rss_mb()
    matched = 0
    seconds = fp_seconds = 0.0
    for i, (doc_id, outlet, title, text, t) in enumerate(stream, 1):
        f0 = time.perf_counter()
        fp = fingerprint(doc_id, outlet, title, text, t, config, hasher)
        f1 = time.perf_counter()
        matched += index.add(fp).duplicate_of is not None
        fp_seconds += f1 - f0
        seconds += time.perf_counter() - f0
        if i % progress_every == 0:
            print(json.dumps({"progress": i, "articles_per_s": round(i / seconds, 1), "index_items": len(index),
                              "peak_rss_mb": round(_rss_mb(), 1)}), file=sys.stderr, flush=True)
    return {
        "articles": n,
        "seconds": round(seconds, 1),
        "articles_per_s": round(n / seconds, 1),
        "fingerprint_share": round(fp_seconds / seconds, 3),
        "matched_as_duplicates": round(matched / n, 3),
        "index_items_at_end": len(index),
        "peak_rss_mb": round(_rss_mb(), 1),
        "rss_mb_before_indexing": round(rss_before, 1),  # the corpus the generator draws from
    }


def shard_recall(shard_counts: Sequence[int], routes: Sequence[int]) -> list[dict]:
    """Streaming sharding on the real corpus: which duplicate links survive, against one global index.

    Each article is matched only in the shards ``route_keys`` sends it to and
    keeps its best match there (what ``DedupNear`` does in streaming). Reported:
    recall of the labeled duplicate pairs (same story), and the share of the
    global run's duplicate links (article -> duplicate_of) still found.
    """
    from training.neardup.corpus import parse_time, read_multisource
    from training.neardup.pairs import PAIRS, read_pairs

    config = NearDupConfig()
    hasher = MinHasher(config.num_perm, config.seed)
    scorer = PairScorer.load(NEAR_DUP_MODEL)
    fps = [fingerprint(d["docno"], d["src"], d["title"], d["text"], parse_time(d["time"]).timestamp(), config, hasher)
           for d in read_multisource()]
    fps.sort(key=lambda f: (f.time, f.doc_id))
    pairs = [p for p in read_pairs(PAIRS) if p["label"] != "distinct"]
    global_links = {k: m.duplicate_of for k, m in cluster(fps, config, scorer).items() if m.duplicate_of}
    out = []
    for shards in shard_counts:
        for r in routes if shards > 1 else [1]:
            indexes: dict[str, NearDupIndex] = {}
            story: dict[str, str] = {}
            links: dict[str, str] = {}
            replicas = 0
            for fp in fps:
                keys = route_keys(fp, shards, r)
                replicas += len(keys)
                best = None
                for key in keys:
                    index = indexes.setdefault(key, NearDupIndex(config, scorer, max_items=len(fps)))
                    shard_fp = fingerprint_copy(fp)
                    match = index.add(shard_fp)
                    if match.duplicate_of and (best is None or (match.score or 0) > (best.score or 0)):
                        best = match
                story[fp.doc_id] = best.story_id if best else fp.doc_id
                if best:
                    links[fp.doc_id] = best.duplicate_of
            found = sum(story[p["a_docno"]] == story[p["b_docno"]] for p in pairs)
            kept = sum(links.get(k) == v for k, v in global_links.items())
            out.append({
                "shards": shards,
                "routes": r,
                "copies_per_article": round(replicas / len(fps), 2),
                "labeled_duplicate_pair_recall": round(found / len(pairs), 4),
                "global_links_kept": round(kept / len(global_links), 4),
            })
            print(json.dumps(out[-1]), file=sys.stderr)
    return out


def fingerprint_copy(fp):
    """Each shard stores its own copy (its story_id is that shard's decision)."""
    import copy

    return copy.copy(fp)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--shard-recall", action="store_true")
    parser.add_argument("--shards", default="1,4,16,64")
    parser.add_argument("--routes", default="2,4,8")
    args = parser.parse_args(argv)
    report: dict = {"machine": _machine(), "command": " ".join(["python -m bench.neardup", *sys.argv[1:]])}
    if args.shard_recall:
        report["shard_recall"] = shard_recall([int(s) for s in args.shards.split(",")],
                                              [int(r) for r in args.routes.split(",")])
    else:
        report["throughput"] = []
        for n in [int(s) for s in args.sizes.split(",") if s]:
            report["throughput"].append(throughput(n))
            print(json.dumps(report["throughput"][-1]), file=sys.stderr)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
