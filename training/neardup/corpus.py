"""Read the ANT multi-source corpus (read-only shared data) as near-dup documents.

A document is ``{docno, src, title, text, time}`` with ``time`` as ISO-8601 UTC:
the shape ``akhbar eval dedup --docs`` reads.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from akhbar.lib.evaluation.dedup import parse_time, read_docs  # noqa: F401  (the docs format is the eval's)
from training.paths import SHARED_DATA

MULTISOURCE = SHARED_DATA / "ant_multisource" / "multisource.jsonl.gz"


def read_multisource(path: Path = MULTISOURCE) -> Iterator[dict]:
    """The corpus documents, with ``time`` normalized to ISO UTC."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            yield {
                "docno": doc["docno"],
                "src": doc["src"],
                "title": doc.get("title") or "",
                "text": doc["text"],
                "time": parse_time(doc["time"]).isoformat(),
                "url": doc.get("url"),
                "label": doc.get("label"),
            }
