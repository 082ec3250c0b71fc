"""PollFeeds: read RSS/Atom feeds safely and emit one FeedItem per new entry.

Each feed is a key with its own poll state (conditional-GET validators, a
content hash, error backoff and the entries already emitted), so the same
stateful DoFn serves a one-shot batch run and a streaming run driven by a
periodic tick. Bytes are fetched by the project's HTTP client (timeouts, size
cap, address guard) and only then parsed by feedparser, which has no timeout
of its own.
"""
from __future__ import annotations

import calendar
import hashlib
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import apache_beam as beam
import feedparser
import lxml.html
from apache_beam.coders import PickleCoder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from schemas.records import DeadLetter, FeedItem, utc_now
from transforms import metrics
from transforms.charset import repair_mojibake
from transforms.http import FetchError, HttpClient, HttpConfig

LOG = logging.getLogger(__name__)
DEAD_LETTER = "dead_letter"
STAGE = "poll_feed"

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
    seen: "OrderedDict[str, float]" = field(default_factory=OrderedDict)

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
    except Exception:  # noqa: BLE001 - lxml raises several types on junk markup
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
    digest = hashlib.sha1(f"{item.title}\x1f{item.summary}".encode("utf-8")).hexdigest()
    return "h:" + digest


class PollFeedFn(beam.DoFn):
    """Poll one feed per input (feed_url, tick); emit new FeedItems and feed dead letters."""

    STATE = ReadModifyWriteStateSpec("feed_state", PickleCoder())

    def __init__(self, config: PollConfig):
        self._config = config
        self._client: HttpClient | None = None
        self._polled = metrics.counter(metrics.FEEDS_POLLED)
        self._unchanged = metrics.counter(metrics.FEEDS_UNCHANGED)
        self._failed = metrics.counter(metrics.FEEDS_FAILED)
        self._backing_off = metrics.counter(metrics.FEEDS_BACKING_OFF)
        self._repaired = metrics.counter(metrics.FEEDS_CHARSET_REPAIRED)
        self._items_seen = metrics.counter(metrics.ITEMS_SEEN)
        self._items_repeated = metrics.counter(metrics.ITEMS_REPEATED)

    def setup(self) -> None:
        self._client = HttpClient(self._config.http)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    def process(self, element: tuple[str, object], state=beam.DoFn.StateParam(STATE)) -> Iterator:
        feed_url, _tick = element
        feed_state: FeedState = state.read() or FeedState()
        now = utc_now()
        if now.timestamp() < feed_state.next_due:
            self._backing_off.inc()
            return
        try:
            items = self._poll(feed_url, feed_state, now)
        except (FetchError, FeedError) as exc:
            feed_state.failures += 1
            delay = backoff_delay(feed_state.failures, self._config).total_seconds()
            feed_state.next_due = now.timestamp() + delay
            state.write(feed_state)
            self._failed.inc()
            LOG.warning("feed %s failed (%s); backing off %.0fs before its next poll", feed_url, exc, delay)
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER,
                DeadLetter(stage=STAGE, error_kind=exc.kind, error=str(exc), input=feed_url, feed_url=feed_url),
            )
            return
        feed_state.failures = 0
        feed_state.next_due = now.timestamp() + self._config.interval_s
        for item in items:
            self._items_seen.inc()
            key = entry_key(item)
            if key in feed_state.seen:
                self._items_repeated.inc()
                continue
            feed_state.remember(key, now.timestamp(), self._config.remember_entries)
            yield item
        state.write(feed_state)

    def _poll(self, feed_url: str, feed_state: FeedState, now: datetime) -> list[FeedItem]:
        assert self._client is not None, "setup() was not called"
        response = self._client.get(feed_url, etag=feed_state.etag, last_modified=feed_state.last_modified)
        self._polled.inc()
        if response.not_modified:
            self._unchanged.inc()
            return []
        body_hash = hashlib.sha256(response.body).hexdigest()
        feed_state.etag, feed_state.last_modified = response.etag, response.last_modified
        if body_hash == feed_state.body_hash:
            # Some servers change validators without changing the feed, or the reverse.
            self._unchanged.inc()
            return []
        content_type = response.headers.get("content-type")
        parsed = parse_feed(response.body, feed_url, content_type, now)
        feed_state.body_hash = body_hash
        if parsed.charset_repaired:
            self._repaired.inc()
        if parsed.bozo:
            LOG.info("feed %s parsed with a warning: %s", feed_url, parsed.bozo)
        return parsed.items


class PollFeeds(beam.PTransform):
    """Feed URLs (or ticks of feed URLs) -> FeedItems, with a dead-letter output.

    Input: a PCollection of feed URLs; each element is one poll request.
    Output: a DoOutputsTuple with the main FeedItems and ``dead_letter``.
    """

    def __init__(self, config: PollConfig):
        super().__init__()
        self._config = config

    def expand(self, feed_urls):
        return (
            feed_urls
            | "KeyByFeed" >> beam.Map(lambda url: (url, None)).with_output_types(tuple[str, Any])
            | "Poll" >> beam.ParDo(PollFeedFn(self._config)).with_outputs(DEAD_LETTER, main="items")
        )


def backoff_delay(failures: int, config: PollConfig) -> timedelta:
    """Exponential backoff after consecutive failures, capped: a dead feed is not hammered."""
    return timedelta(seconds=min(config.interval_s * (2 ** max(failures - 1, 0)), config.max_backoff_s))
