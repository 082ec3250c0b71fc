"""Assemble the event classifier's training data: written paragraphs, weak-labeled and hand-labeled real articles.

- Written: ``data/written_*.jsonl``, lines ``{id, title, text, labels, primary}``
  (wire-style paragraphs written for this project; see data/DATASHEET.md).
- Weak: real ANT / ANT multi-source articles labeled by ``weak_labels.py``'s
  rules; the labels file holds docnos only and the text is re-read from the
  shared data here, at train time.
- Gold: real ANT / ANT multi-source articles labeled by reading
  (``data/gold_labels.jsonl``, drawn by ``gold_sample.py``, disjoint from dev):
  trained on, and scored out of fold for the thresholds and the primary
  calibration (``tuning.py``).
- The dev set (``data/dev_labels.jsonl``) is never trained on: its docnos,
  and any article whose headline or text is the same as a dev article's
  (the corpora hold republished copies), are removed from the weak set.

The held-out split (scores on rule-labeled data, and thresholds for types
with too few gold positives) is cut from the written + weak data only, by
headline key, so copies of one story stay on one side.
"""
from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from akhbar.core.text import text_hash
from akhbar.lib.events.decision import EVENT_TYPES, OTHER
from training.events.corpus import load_articles

DATA_DIR = Path(__file__).resolve().parent / "data"
DEV_LABELS = DATA_DIR / "dev_labels.jsonl"
GOLD_LABELS = DATA_DIR / "gold_labels.jsonl"


@dataclass(frozen=True)
class Example:
    id: str
    title: str
    text: str
    labels: tuple[str, ...]
    primary: str
    weight: float
    origin: str  # "written", "weak", "gold" or "sample"


def _checked_labels(labels: Sequence[str], primary: str | None, where: str) -> tuple[tuple[str, ...], str]:
    unknown = [code for code in labels if code not in EVENT_TYPES]
    if unknown or not labels:
        raise ValueError(f"{where}: bad labels {list(labels)!r} (unknown: {unknown!r})")
    primary = primary or labels[0]
    if primary not in labels:
        raise ValueError(f"{where}: primary {primary!r} is not one of its labels {list(labels)!r}")
    if OTHER in labels and len(labels) > 1:
        labels = [OTHER] if primary == OTHER else [c for c in labels if c != OTHER]
    return tuple(dict.fromkeys(labels)), primary


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
    return rows


def load_labeled_jsonl(paths: Iterable[Path], origin: str, weight: float = 1.0) -> list[Example]:
    """Lines {id?, title, text, labels, primary?} -> examples (the written set, the eval format)."""
    examples = []
    for path in paths:
        for number, row in enumerate(read_jsonl(Path(path)), 1):
            where = f"{path}:{number}"
            labels, primary = _checked_labels(row.get("labels") or [], row.get("primary"), where)
            examples.append(
                Example(row.get("id") or where, row.get("title") or "", row.get("text") or "", labels, primary, weight, origin)
            )
    return examples


def load_sample_corpus() -> list[Example]:
    """The bundled demo corpus (sample/corpus.jsonl): smoke tests only, never dev."""
    from akhbar.sample.corpus import load_corpus

    return [
        Example(a.id, a.title, a.text, *_checked_labels(list(a.event_types), a.primary, a.id), 1.0, "sample")
        for a in load_corpus()
    ]


def dev_keys(path: Path = DEV_LABELS) -> set[tuple[str, str]]:
    if not path.is_file():
        return set()
    return {(row.get("source") or "ant", str(row["docno"])) for row in read_jsonl(path)}


def load_weak(
    labels_path: Path, exclude: set[tuple[str, str]], min_confidence: float, max_per_primary: int, seed: int
) -> list[Example]:
    """Weak-labeled real articles, text re-read from the shared data, dev copies removed, capped per primary."""
    rows = read_jsonl(labels_path)
    keys = {(row["source"], str(row["docno"])) for row in rows} | exclude
    articles = load_articles(keys)
    dev_hashes = set()
    for key in exclude:
        dev = articles[key]
        dev_hashes.update({text_hash(dev.title), text_hash(dev.text)} - {text_hash("")})
    by_primary: dict[str, list[Example]] = defaultdict(list)
    seen: set[str] = set()
    dropped = Counter()
    for row in rows:
        key = (row["source"], str(row["docno"]))
        article = articles[key]
        hashes = {text_hash(article.title), text_hash(article.text)}
        if key in exclude or hashes & dev_hashes:
            dropped["dev_copy"] += 1
            continue
        if float(row.get("confidence", 1.0)) < min_confidence or not article.text.strip():
            dropped["low_confidence_or_empty"] += 1
            continue
        if text_hash(article.text) in seen:
            dropped["duplicate"] += 1
            continue
        seen.add(text_hash(article.text))
        labels, primary = _checked_labels(row["labels"], row.get("primary"), f"{labels_path}:{key}")
        by_primary[primary].append(
            Example(f"{key[0]}:{key[1]}", article.title, article.text, labels, primary, float(row.get("confidence", 1.0)), "weak")
        )
    rng = random.Random(seed)
    examples = []
    for primary in sorted(by_primary):
        group = by_primary[primary]
        rng.shuffle(group)
        examples.extend(group[:max_per_primary])
    print(f"weak examples kept {len(examples)}; dropped {dict(dropped)}; per primary "
          f"{ {p: min(len(g), max_per_primary) for p, g in sorted(by_primary.items())} }")
    return examples


def load_gold(labels_path: Path, exclude: set[tuple[str, str]], weight: float) -> list[Example]:
    """Hand-labeled real articles (docno + labels in the repo, text from the shared data); dev docnos refused."""
    from training.events.make_dev_jsonl import dev_rows

    examples = []
    for row in dev_rows(labels_path):
        key = (row["source"], str(row["docno"]))
        if key in exclude:
            raise ValueError(f"{labels_path}: {key} is a dev article; the dev set is never trained on")
        labels, primary = _checked_labels(row["labels"], row.get("primary"), f"{labels_path}:{key}")
        examples.append(Example(f"{key[0]}:{key[1]}", row["title"], row["text"], labels, primary, weight, "gold"))
    return examples


def split_heldout(examples: Sequence[Example], fraction: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Seeded split by headline key, so republished copies of a story never straddle the split."""
    groups: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        groups[text_hash(example.title or example.text)].append(example)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    cut = int(round(len(keys) * fraction))
    held = {k for k in keys[:cut]}
    train = [e for k in keys if k not in held for e in groups[k]]
    heldout = [e for k in keys if k in held for e in groups[k]]
    return train, heldout
