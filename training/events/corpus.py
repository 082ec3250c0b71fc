"""Read real articles from the shared data package by docno (ANT and ANT multi-source).

The text of real articles is never copied into the repository: training and
the dev set keep docnos and labels, and the text is re-read from
``../shared/data`` (or ``$AKHBAR_SHARED_DATA``) whenever it is needed.
"""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from training.paths import REPO_ROOT, SHARED_DATA  # noqa: F401

SOURCES = {
    "ant": ("ant", "ant.jsonl.gz"),
    "ant_multisource": ("ant_multisource", "multisource.jsonl.gz"),
}


def shared_data_dir() -> Path:
    return SHARED_DATA


def source_path(source: str) -> Path:
    if source not in SOURCES:
        raise ValueError(f"unknown corpus source {source!r}; expected one of {sorted(SOURCES)}")
    path = shared_data_dir().joinpath(*SOURCES[source])
    if not path.is_file():
        raise FileNotFoundError(f"shared data file not found: {path} (set AKHBAR_SHARED_DATA)")
    return path


@dataclass(frozen=True)
class RealArticle:
    source: str
    docno: str
    title: str
    text: str
    category: str | None


def iter_articles(source: str) -> Iterator[RealArticle]:
    with gzip.open(source_path(source), "rt", encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            yield RealArticle(
                source=source,
                docno=str(raw["docno"]),
                title=raw.get("title") or "",
                text=raw.get("text") or "",
                category=raw.get("label"),
            )


def load_articles(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], RealArticle]:
    """(source, docno) -> article, for the keys asked for; raises naming any key that is not found."""
    wanted: dict[str, set[str]] = {}
    for source, docno in keys:
        wanted.setdefault(source, set()).add(docno)
    found: dict[tuple[str, str], RealArticle] = {}
    for source, docnos in wanted.items():
        for article in iter_articles(source):
            if article.docno in docnos:
                found[(source, article.docno)] = article
    missing = sorted(f"{s}:{d}" for s, ds in wanted.items() for d in ds if (s, d) not in found)
    if missing:
        raise KeyError(f"{len(missing)} docnos not found in the shared data, e.g. {missing[:5]}")
    return found
