"""The bundled demo corpus: Arabic news written by the akhbar authors.

``corpus.jsonl`` holds 74 articles from three fictional outlets (66 originals
and 8 wire stories republished by another outlet, verbatim or with small
edits); ``late.jsonl`` holds 4 more that a streaming run sees published
mid-run. Each line carries the labels it was written for (event types), so
later stages can be checked against it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources


@dataclass(frozen=True)
class SampleArticle:
    id: str
    outlet: str
    published: datetime
    title: str
    summary: str
    body: tuple[str, ...]
    event_types: tuple[str, ...]
    primary: str
    republished_from: str | None

    @property
    def slug(self) -> str:
        return self.id.split("-", 1)[1]

    @property
    def text(self) -> str:
        return "\n".join(self.body)


def _load(name: str) -> list[SampleArticle]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    articles = []
    for line in text.splitlines():
        if not line.strip():
            continue
        raw = json.loads(line)
        articles.append(
            SampleArticle(
                id=raw["id"],
                outlet=raw["outlet"],
                published=datetime.fromisoformat(raw["published"].replace("Z", "+00:00")),
                title=raw["title"],
                summary=raw["summary"],
                body=tuple(raw["body"]),
                event_types=tuple(raw["event_types"]),
                primary=raw["primary"],
                republished_from=raw.get("republished_from"),
            )
        )
    return articles


def load_corpus() -> list[SampleArticle]:
    return _load("corpus.jsonl")


def load_late() -> list[SampleArticle]:
    return _load("late.jsonl")
