"""Readers for the training data: CoNLL NER files and the shared news text (never copied into the repo)."""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

from akhbar.lib.evaluation.ner import LABELS, read_conll  # noqa: F401 - one reader for training and eval
from training.paths import REPO_ROOT, SHARED_DATA  # noqa: F401

ANERCORP = SHARED_DATA / "anercorp"
NEWS_FILES = (SHARED_DATA / "ant" / "ant.jsonl.gz", SHARED_DATA / "ant_multisource" / "multisource.jsonl.gz")


def news_texts(files=NEWS_FILES, limit: int | None = None) -> Iterator[str]:
    """Title + text of each article in the shared news JSONL files."""
    n = 0
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                yield "\n".join(x for x in (rec.get("title"), rec.get("text")) if x)
                n += 1
                if limit is not None and n >= limit:
                    return
