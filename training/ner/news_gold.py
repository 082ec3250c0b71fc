"""The hand-labelled news NER set (data/ner/news_gold.jsonl): paragraph selection and labelling helpers.

    python -m training.ner.news_gold select --out /tmp/paragraphs.jsonl      # the fixed draw, with text (local only)
    python -m training.ner.news_gold label --draft FILE --out data/ner/news_gold.jsonl
    python -m training.ner.news_gold show                                     # the gold set in BIO, read back

The paragraphs are real 2018 news from the ANT multi-source corpus
(``../shared/data/ant_multisource``: AlArabiya, BBC, CNN, France24, Sky News
Arabia). Only ids, offsets and labels are committed; the text is read back
from the shared corpus (``akhbar.lib.evaluation.ner.read_news_gold``). The
draw is fixed by a seed: one paragraph of 20-90 words from each of 14 articles
per outlet, no two from one story. Conventions: data/ner/DATASHEET.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

from akhbar.core.text import arabic_ratio, text_key
from akhbar.lib.evaluation import read_jsonl
from akhbar.lib.evaluation.ner import MULTISOURCE_FILE, paragraph_spans, read_news_gold
from akhbar.lib.ner.features import split_words
from training.paths import REPO_ROOT, SHARED_DATA

GOLD = REPO_ROOT / "data" / "ner" / "news_gold.jsonl"
SOURCE = SHARED_DATA / MULTISOURCE_FILE
OUTLETS = ("alarabia", "BBC", "CNN", "france24", "skynews")
# Politics and world news dominate what the pipeline reads; sport, economy and culture are in the mix.
CATEGORY_WEIGHTS = {"middleEast": 4, "internationalNews": 4, "economy": 2, "sport": 2, "culture": 1, "technology": 1}
PER_OUTLET = 14
SEED = 2026


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = text_key(text).split()
    return {tuple(words[i: i + n]) for i in range(max(0, len(words) - n + 1))}


def select(source: Path = SOURCE, per_outlet: int = PER_OUTLET, seed: int = SEED) -> list[dict]:
    """The fixed draw: {id, docno, start, end, sha1, text} of each chosen paragraph."""
    by_outlet: dict[str, list[dict]] = {o: [] for o in OUTLETS}
    for row in read_jsonl(source):
        if row.get("src") in by_outlet:
            by_outlet[row["src"]].append(row)
    rng = random.Random(seed)
    chosen: list[dict] = []
    seen: list[set] = []
    for outlet in OUTLETS:
        docs = sorted(by_outlet[outlet], key=lambda r: r["docno"])
        weights = [CATEGORY_WEIGHTS.get(r.get("label"), 1) for r in docs]
        picked = 0
        for row in rng.choices(docs, weights=weights, k=len(docs)):
            if picked == per_outlet:
                break
            spans = [(a, b) for a, b in paragraph_spans(row["text"])
                     if 20 <= len(split_words(row["text"][a:b])) <= 90 and arabic_ratio(row["text"][a:b]) > 0.8]
            if not spans:
                continue
            a, b = rng.choice(spans)
            text = row["text"][a:b]
            sh = shingles(row["text"])
            if any(len(sh & s) > 0.2 * min(len(sh), len(s)) for s in seen):
                continue  # another write-up of a story already in the set
            seen.append(sh)
            picked += 1
            chosen.append({"id": f"news-{len(chosen) + 1:03d}", "docno": row["docno"], "start": a, "end": b,
                           "sha1": hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], "text": text})
    return chosen


def align(text: str, marked: str) -> list[list]:
    """Entities of a draft line -> [start, end, type] in ``text``.

    The draft is the paragraph with each entity written as ``[words|TYPE]``;
    removing the brackets must give the paragraph back exactly.
    """
    entities, plain, pos = [], [], 0
    for m in re.finditer(r"\[([^\[\]|]+)\|(PERS|LOC|ORG|MISC)\]", marked):
        plain.append(marked[pos: m.start()])
        start = sum(len(p) for p in plain)
        plain.append(m.group(1))
        entities.append([start, start + len(m.group(1)), m.group(2)])
        pos = m.end()
    plain.append(marked[pos:])
    if "".join(plain) != text:
        raise ValueError(f"the draft does not match the paragraph: {''.join(plain)[:80]!r}")
    starts = {a for a, _ in split_words(text)}
    ends = {b for _, b in split_words(text)}
    for a, b, kind in entities:
        if a not in starts or b not in ends:
            raise ValueError(f"entity {text[a:b]!r} ({kind}) does not start and end on word edges")
    return entities


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("select", help="write the fixed draw with its text (never commit it)")
    s.add_argument("--out", required=True)
    lab = sub.add_parser("label", help="a draft of bracketed paragraphs -> the committed offsets file")
    lab.add_argument("--draft", required=True, help="JSONL {id, marked} with entities as [words|TYPE]")
    lab.add_argument("--out", default=str(GOLD))
    sub.add_parser("show", help="print the gold set read back from the shared corpus")
    args = ap.parse_args(argv)
    if args.cmd == "select":
        with open(args.out, "w", encoding="utf-8") as f:
            for p in select():
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        return 0
    if args.cmd == "label":
        draw = {p["id"]: p for p in select()}
        rows = []
        for d in read_jsonl(args.draft):
            p = draw[d["id"]]
            rows.append({k: p[k] for k in ("id", "docno", "start", "end", "sha1")} | {"entities": align(p["text"], d["marked"])})
        with open(args.out, "w", encoding="utf-8") as f:
            for r in sorted(rows, key=lambda r: r["id"]):
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(f"{len(rows)} paragraphs, {sum(len(r['entities']) for r in rows)} entities -> {args.out}")
        return 0
    for tokens, tags in read_news_gold(GOLD, SOURCE):
        print(" ".join(t if g == "O" else f"[{t}|{g}]" for t, g in zip(tokens, tags)))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
