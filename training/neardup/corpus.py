"""Read the ANT multi-source corpus (read-only shared data) as near-dup documents.

A document is ``{docno, src, title, text, time}`` with ``time`` as ISO-8601 UTC:
the shape ``akhbar eval dedup --docs`` reads.
"""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Iterator

REPO_ROOT = Path(__file__).resolve().parents[2]
MULTISOURCE = REPO_ROOT.parent / "shared" / "data" / "ant_multisource" / "multisource.jsonl.gz"


def parse_time(value: str) -> datetime:
    """RSS pubDate (``Sun, 18 Feb 2018 21:35:43 +0400``) or ISO-8601, as an aware UTC datetime."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"unreadable document time {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


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


def read_docs(path: str | Path) -> Iterator[dict]:
    """Docs JSONL (``make_docs`` output, or any file with docno/src/title/text/time)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            doc = json.loads(line)
            missing = [k for k in ("docno", "src", "text", "time") if k not in doc]
            if missing:
                raise ValueError(f"{path}:{n}: document lacks {missing}")
            yield doc
