"""Feed bytes -> FeedItems: feedparser behind an entity check and Arabic charset repair.

Bytes are fetched by the project's HTTP client (timeouts, size cap, address
guard) and only then parsed here: feedparser has no timeout of its own. What a
feed's poller remembers between polls (validators, content hash, backoff, the
entries already emitted) is ``FeedState``.
"""
from __future__ import annotations

import calendar
import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import feedparser
import lxml.html

from akhbar.lib.web.charset import repair_mojibake
from akhbar.lib.web.http import HttpConfig
from akhbar.schemas.records import FeedItem

# A feed never needs its own entity declarations; refusing them defuses
# entity-expansion ("billion laughs") payloads before any XML parser runs.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)


class FeedError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class PollConfig:
    http: HttpConfig = HttpConfig()
    interval_s: float = 300.0
    max_backoff_s: float = 3600.0
    remember_entries: int = 5000


@dataclass
class FeedState:
    """What a feed's poller remembers between polls."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    failures: int = 0
    next_due: float = 0.0
    seen: OrderedDict[str, float] = field(default_factory=OrderedDict)

    def remember(self, key: str, now: float, limit: int) -> None:
        self.seen[key] = now
        self.seen.move_to_end(key)
        while len(self.seen) > limit:
            self.seen.popitem(last=False)


@dataclass(frozen=True)
class ParsedFeed:
    outlet: str | None
    items: list[FeedItem]
    bozo: str | None
    charset_repaired: bool


def fragment_text(fragment: str | None) -> str | None:
    """Plain text of an HTML fragment from a feed (summary/content), one line per block."""
    if not fragment or not fragment.strip():
        return None
    if "<" not in fragment:
        return fragment.strip()
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:
        return re.sub(r"<[^>]+>", " ", fragment).strip() or None
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h1", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in root.text_content().split("\n")]
    return "\n".join(line for line in lines if line) or None


def _struct_to_utc(value) -> datetime | None:
    # feedparser normalizes every date it understands to a UTC struct_time.
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
    except (OverflowError, ValueError, TypeError):
        return None


def _repair(text: str | None) -> tuple[str | None, bool]:
    if not text:
        return text, False
    return repair_mojibake(text)


def parse_feed(body: bytes, feed_url: str, content_type: str | None, read_at: datetime) -> ParsedFeed:
    """Parse feed bytes into FeedItems; raise FeedError when nothing usable is there."""
    if _ENTITY_DECL.search(body[:65536]):
        raise FeedError("xml_entities", f"feed {feed_url!r} declares XML entities; refused")
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, sanitize_html=True, resolve_relative_uris=True)
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}"
    if not parsed.entries:
        if bozo and not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
            raise FeedError("feed_parse", f"no entries in {feed_url!r}: {bozo}")
        if not parsed.get("feed") or parsed.get("version", "") == "":
            raise FeedError("not_a_feed", f"{feed_url!r} is not an RSS or Atom feed")
    outlet, repaired = _repair(parsed.feed.get("title"))
    items: list[FeedItem] = []
    for entry in parsed.entries:
        title, r1 = _repair(fragment_text(entry.get("title")))
        summary, r2 = _repair(fragment_text(entry.get("summary")))
        content_values = [c.get("value") for c in entry.get("content", []) if c.get("value")]
        content, r3 = _repair(fragment_text(max(content_values, key=len)) if content_values else None)
        if content and summary and content.strip() == summary.strip():
            content = None
        repaired = repaired or r1 or r2 or r3
        items.append(
            FeedItem(
                feed_url=feed_url,
                outlet=outlet,
                guid=(entry.get("id") or None),
                link=(entry.get("link") or None),
                title=title,
                summary=summary,
                content=content,
                published=_struct_to_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
                read_at=read_at,
            )
        )
    return ParsedFeed(outlet=outlet, items=items, bozo=bozo, charset_repaired=repaired)


def entry_key(item: FeedItem) -> str:
    """What identifies an entry within its feed across polls."""
    if item.guid:
        return "g:" + item.guid
    if item.link:
        return "l:" + item.link
    digest = hashlib.sha1(f"{item.title}\x1f{item.summary}".encode()).hexdigest()
    return "h:" + digest


def backoff_delay(failures: int, config: PollConfig) -> timedelta:
    """Exponential backoff after consecutive failures, capped: a dead feed is not hammered."""
    return timedelta(seconds=min(config.interval_s * (2 ** max(failures - 1, 0)), config.max_backoff_s))
