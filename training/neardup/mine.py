"""Mine candidate pairs from the corpus for hand labeling (labels are decided by reading, not here).

MinHash LSH at a low threshold over ±3 days gives every overlapping pair with
its features; the pairs are then sampled by stratum so the labeled set holds
exact copies, cross-outlet rewrites, same-outlet follow-ups and templates
(hard negatives), and random pairs:

    python -m training.neardup.mine --out /tmp/nd_cands.jsonl
    python -m training.neardup.mine --show /tmp/nd_cands.jsonl --stratum cross_mid --limit 20
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from akhbar.core.text import text_key
from akhbar.lib.neardup import Fingerprint, MinHasher, NearDupConfig, NearDupIndex, fingerprint, pair_features
from training.neardup.corpus import MULTISOURCE, read_multisource

WINDOW_S = 3 * 24 * 3600


def fingerprints(docs: Iterable[dict], config: NearDupConfig) -> list[Fingerprint]:
    from training.neardup.corpus import parse_time

    hasher = MinHasher(config.num_perm, config.seed)
    return [
        fingerprint(d["docno"], d["src"], d.get("title"), d["text"], parse_time(d["time"]).timestamp(), config, hasher)
        for d in docs
    ]


def candidate_pairs(fps: list[Fingerprint], config: NearDupConfig) -> Iterable[tuple[Fingerprint, Fingerprint]]:
    """Every LSH candidate pair within the window (the index is queried before each insert)."""
    index = NearDupIndex(config, scorer=None, max_items=len(fps))
    for fp in sorted(fps, key=lambda f: (f.time, f.doc_id)):
        for cand in index.candidates(fp):
            yield cand, fp
        index.insert(fp)


def stratum(feats: dict, same_body: bool) -> str:
    if same_body:
        return "exact"
    j = feats["body_jaccard"]
    if feats["same_outlet"]:
        return "same_high" if j >= 0.5 else "same_mid"
    return "cross_high" if j >= 0.5 else "cross_mid" if j >= 0.2 else "cross_low"


def mine(out: Path, seed: int = 5) -> None:
    config = NearDupConfig(lsh_threshold=0.15, max_gap_s=WINDOW_S, max_candidates=10_000)
    docs = list(read_multisource(MULTISOURCE))
    keys = {d["docno"]: text_key(d["text"]) for d in docs}
    fps = fingerprints(docs, config)
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        for a, b in candidate_pairs(fps, config):
            feats = pair_features(a, b)
            row = {"a_docno": a.doc_id, "b_docno": b.doc_id, "stratum": stratum(feats, keys[a.doc_id] == keys[b.doc_id])}
            row.update({k: round(v, 4) for k, v in feats.items()})
            fh.write(json.dumps(row) + "\n")
            n += 1
        # Random pairs from the same three-day window and the same category: what "distinct" mostly looks like.
        rng = random.Random(seed)
        by_day: dict[tuple, list[dict]] = {}
        for d in docs:
            by_day.setdefault((d["label"], d["time"][:10]), []).append(d)
        groups = [g for g in by_day.values() if len(g) > 1]
        for _ in range(400):
            g = rng.choice(groups)
            a, b = rng.sample(g, 2)
            fh.write(json.dumps({"a_docno": a["docno"], "b_docno": b["docno"], "stratum": "random"}) + "\n")
            n += 1
    print(f"{n} candidate pairs -> {out}", file=sys.stderr)


def show(cands: Path, stratum_name: str, limit: int, skip: int, chars: int, seed: int) -> None:
    """Print pairs of one stratum side by side for reading (to the terminal only)."""
    docs = {d["docno"]: d for d in read_multisource(MULTISOURCE)}
    rows = [json.loads(line) for line in cands.open(encoding="utf-8")]
    rows = [r for r in rows if r["stratum"] == stratum_name]
    random.Random(seed).shuffle(rows)
    for i, r in enumerate(rows[skip : skip + limit], skip):
        feats = {k: v for k, v in r.items() if k not in ("a_docno", "b_docno", "stratum")}
        print(f"### {i} {r['a_docno']} | {r['b_docno']} {feats}")
        for key in ("a_docno", "b_docno"):
            d = docs[r[key]]
            text = " ".join(d["text"].split())
            print(f"  [{d['src']} {d['time'][:16]}] T: {d['title']}")
            print(f"    {text[:chars]}")
            if len(text) > chars:
                print(f"    ... {text[-chars // 2:]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--show", type=Path)
    parser.add_argument("--stratum", default="cross_mid")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--skip", type=int, default=0)
    parser.add_argument("--chars", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    if args.out:
        mine(args.out, args.seed)
    if args.show:
        show(args.show, args.stratum, args.limit, args.skip, args.chars, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
