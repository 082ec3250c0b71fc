"""Record types that flow between the pipeline's boxes.

Plain frozen dataclasses: cheap to pickle between Beam workers, typed for
readers, and converted to Arrow rows in one place (``to_row``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

MAX_DEAD_LETTER_INPUT_CHARS = 64 * 1024


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FeedItem:
    """One entry of one feed, as read from the feed (before the page is fetched)."""

    feed_url: str
    outlet: str | None
    guid: str | None
    link: str | None
    title: str | None
    summary: str | None
    content: str | None
    published: datetime | None
    read_at: datetime

    def describe(self) -> str:
        """A compact JSON form for dead-letter records."""
        return _json(dataclasses.asdict(self))


@dataclass(frozen=True)
class Article:
    """An article with its full text: one row of the ``articles`` table."""

    article_id: str
    url: str
    canonical_url: str
    feed_url: str
    outlet: str | None
    guid: str | None
    title: str | None
    summary: str | None
    text: str
    text_source: str
    fetch_error: str | None
    language: str | None
    published_at: datetime
    published_source: str
    fetched_at: datetime
    text_hash: str
    entities: list[dict[str, Any]] | None = None
    event_types: list[dict[str, Any]] | None = None
    primary_event: str | None = None
    story_id: str | None = None
    duplicate_of: str | None = None
    near_dup_score: float | None = None
    ner_model: str | None = None
    event_model: str | None = None
    countries: list[dict[str, Any]] | None = None
    event_location: dict[str, Any] | None = None
    geo_model: str | None = None

    def to_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DeadLetter:
    """Why one input could not go on: one row of the ``dead_letters`` table."""

    stage: str
    error_kind: str
    error: str
    input: str | None
    feed_url: str | None = None
    url: str | None = None
    occurred_at: datetime = field(default_factory=utc_now)

    @property
    def dead_letter_id(self) -> str:
        key = "\x1f".join(
            [self.stage, self.error_kind, self.feed_url or "", self.url or "", (self.input or "")[:4096]]
        )
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]

    def to_row(self) -> dict[str, Any]:
        row = dataclasses.asdict(self)
        row["dead_letter_id"] = self.dead_letter_id
        if row["input"] is not None and len(row["input"]) > MAX_DEAD_LETTER_INPUT_CHARS:
            row["input"] = row["input"][:MAX_DEAD_LETTER_INPUT_CHARS] + "…[truncated]"
        return row


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
