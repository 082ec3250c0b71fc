"""Mine a gazetteer from the teacher-labelled news: names the corpus agrees on, across documents.

    python -m training.ner.gazetteer --silver build/ner/silver.jsonl --vocab build/ner/vocab.json \
        --out build/ner/gazetteer.json

A phrase becomes an entry of type T when the teacher (model x feature CRF)
tagged it T in at least ``--min_docs`` different articles (two are enough for
a person named right after a title or role: "الرئيس", "وزير الخارجية",
"الرئيس الأمريكي"), T is its majority type, and at least ``--min_purity`` of
all its occurrences in the labelled sentences were tagged T (cross-document
consistency: "الأمل" tagged a person once among hundreds of plain uses is
out). Titles are cut from the front of person names and a proclitic from
the first word where the rest is a known word ("لبوتين" -> "بوتين"). The
hand-written list of today's person names (``lists/person_names.txt``) is
added. Name parts: the last word of full person names found in several
articles, when at least 30% of all its uses are inside person names
(surnames mostly written alone: "ترامب", "نتنياهو"). The result only feeds
features (``akhbar.lib.ner.gazetteer``).
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter, defaultdict

from akhbar.core.metrics import bio_spans
from akhbar.lib.ner.canonical import TITLES, KnownForms
from akhbar.lib.ner.features import Vocab, norm_word
from akhbar.lib.ner.gazetteer import MAX_PHRASE, Gazetteer
from training.ner.augment import NAMES_FILE, read_names

LOG = logging.getLogger("gazetteer")
_TITLE_KEYS = frozenset(norm_word(t) for t in TITLES)
PART_SHARE = 0.3  # a surname: at least this share of the word's uses are inside person names


def _is_title_context(norms: list[str], a: int) -> bool:
    """A person span at ``a`` right after a title, or after a title and a nisba ("الرئيس الأمريكي")."""
    if a >= 1 and norms[a - 1] in _TITLE_KEYS:
        return True
    return a >= 2 and norms[a - 2] in _TITLE_KEYS and norms[a - 1].endswith("ي")


def mine(silver: str, known: KnownForms, min_docs: int = 3, min_purity: float = 0.6,
         listed: list[list[str]] = ()) -> tuple[dict[str, str], dict[str, str]]:
    """(phrases, name parts) of the silver sentences; see the module docstring."""
    docs: dict[tuple[str, str], set] = defaultdict(set)
    spans: Counter[tuple[str, str]] = Counter()
    titled: Counter[str] = Counter()
    word_count: Counter[str] = Counter()
    in_person: Counter[str] = Counter()
    ends_person: dict[str, set] = defaultdict(set)
    sentences = []
    with open(silver, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            norms = [norm_word(t) for t in row["tokens"]]
            sentences.append(norms)
            word_count.update(norms)
            for kind, a, b in bio_spans(row["tags"]):
                words = norms[a:b]
                if kind == "PERS":
                    in_person.update(words)
                    if b - a >= 2:
                        ends_person[norms[b - 1]].add(row.get("doc"))
                if kind == "PERS":
                    while len(words) > 1 and words[0] in _TITLE_KEYS:
                        words = words[1:]
                if not words or len(words) > MAX_PHRASE:
                    continue
                words = [known.strip(words[0]), *words[1:]]
                key = " ".join(words)
                if len(key) < 3:
                    continue
                docs[(key, kind)].add(row.get("doc"))
                spans[(key, kind)] += 1
                if kind == "PERS" and _is_title_context(norms, a):
                    titled[key] += 1
    candidates = {}
    for (key, kind), where in docs.items():
        need = 2 if kind == "PERS" and titled[key] else min_docs
        if len(where) >= need:
            best = candidates.get(key)
            if best is None or len(where) > len(docs[(key, best)]):
                candidates[key] = kind
    # Purity: how often the phrase is tagged its type among all its occurrences (tagged or not).
    tagged = Counter({key: spans[(key, kind)] for key, kind in candidates.items()})
    occurrences: Counter[str] = Counter()
    by_first = defaultdict(list)
    for key in candidates:
        words = key.split()
        by_first[words[0]].append(words)
    for norms in sentences:
        for i, w in enumerate(norms):
            for first in {w, known.strip(w)}:
                for words in by_first.get(first, ()):
                    if norms[i + 1: i + len(words)] == words[1:]:
                        occurrences[" ".join(words)] += 1
    kept = {}
    for key, kind in candidates.items():
        purity = tagged[key] / max(occurrences[key], tagged[key])
        if purity >= min_purity:
            kept[key] = kind
    LOG.info("%d candidate phrases, %d kept (%s)", len(candidates), len(kept), Counter(kept.values()))
    # Surnames: the last word of full person names in several articles, and inside person names for a fair
    # share of all its uses ("ترامب", often alone, yes; "علي", a preposition too, no).
    parts = {w: "PERS" for w, where in ends_person.items()
             if len(where) >= min_docs and len(w) >= 3 and in_person[w] >= PART_SHARE * word_count[w]}
    # The written list's surnames, unless the news mostly uses the word otherwise ("الثاني", "عشر").
    for name in listed:
        last = norm_word(name[-1])
        if len(name) >= 2 and len(last) >= 3 and in_person[last] >= PART_SHARE * word_count[last]:
            parts.setdefault(last, "PERS")
    LOG.info("%d person-name parts", len(parts))
    return kept, parts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--silver", required=True)
    ap.add_argument("--vocab", required=True, help="the run's vocab.json (known words, by frequency)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--min_docs", type=int, default=3)
    ap.add_argument("--min_purity", type=float, default=0.6)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    known = KnownForms.from_vocab(Vocab.load(args.vocab).words)
    listed = read_names(NAMES_FILE)
    phrases, parts = mine(args.silver, known, args.min_docs, args.min_purity, listed)
    written = 0
    for name in listed:
        key = " ".join(norm_word(w) for w in name)
        if phrases.get(key) != "PERS":
            phrases[key] = "PERS"
            written += 1
    Gazetteer.save(args.out, phrases, {"silver": args.silver, "min_docs": args.min_docs, "min_purity": args.min_purity,
                                       "from_names_list": written, "entries": len(phrases), "parts": len(parts)}, parts)
    LOG.info("%d phrases (%d from %s) -> %s", len(phrases), written, NAMES_FILE.name, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
