"""Scoring the models against labeled data; the ``akhbar eval KIND`` commands print these results."""
from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path


def read_jsonl(path: str | Path, check: Callable[[dict], str | None] = lambda row: None) -> Iterator[dict]:
    """The objects of a JSONL file (``.gz`` too), blank lines skipped.

    ``check`` returns what is wrong with a row, or None; a bad row is a ValueError naming the file and line.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc}") from None
            problem = check(row) if isinstance(row, dict) else "not a JSON object"
            if problem:
                raise ValueError(f"{path}:{number}: {problem}: {line.strip()[:200]!r}")
            yield row
