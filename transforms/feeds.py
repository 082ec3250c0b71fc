"""PollFeeds: read RSS/Atom feeds safely and emit one FeedItem per new entry.

Each feed is a key with its own poll state (conditional-GET validators, a
content hash, error backoff and the entries already emitted), so the same
stateful DoFn serves a one-shot batch run and a streaming run driven by a
periodic tick. Bytes are fetched by the project's HTTP client (timeouts, size
cap, address guard) and only then parsed by feedparser, which has no timeout
of its own.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec
from apache_beam.utils.timestamp import MIN_TIMESTAMP, Timestamp

from akhbar.lib.feeds import FeedState, PollConfig, backoff_delay, entry_key, parse_feed
from akhbar.lib.web.http import HttpClient
from akhbar.schemas.records import FeedItem, utc_now
from akhbar.transforms import counters, isolation
from akhbar.transforms.isolation import per_item
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput, from_tagged

LOG = logging.getLogger(__name__)
STAGE = "poll_feed"


class PollFeedFn(beam.DoFn):
    """Poll one feed per input (feed_url, tick); emit new FeedItems and feed dead letters."""

    STATE = ReadModifyWriteStateSpec("feed_state", PickleCoder())

    def __init__(self, config: PollConfig):
        self._config = config
        self._client: HttpClient | None = None
        self._polled = counters.counter(counters.FEEDS_POLLED)
        self._unchanged = counters.counter(counters.FEEDS_UNCHANGED)
        self._failed = counters.counter(counters.FEEDS_FAILED)
        self._read = counters.counter(counters.FEEDS_READ)
        self._backing_off = counters.counter(counters.FEEDS_BACKING_OFF)
        self._repaired = counters.counter(counters.FEEDS_CHARSET_REPAIRED)
        self._items_seen = counters.counter(counters.ITEMS_SEEN)
        self._items_repeated = counters.counter(counters.ITEMS_REPEATED)

    def setup(self) -> None:
        self._client = HttpClient(self._config.http)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    @per_item(STAGE, counter=counters.FEEDS_FAILED)
    def process(self, element: tuple[str, object], state=beam.DoFn.StateParam(STATE),
                timestamp=beam.DoFn.TimestampParam) -> Iterator:
        feed_url, _tick = element
        feed_state: FeedState = state.read() or FeedState()
        now = utc_now()
        clock = _schedule_time(timestamp, now)
        if clock < feed_state.next_due:
            self._backing_off.inc()
            return
        try:
            items = self._poll(feed_url, feed_state, now)
            keyed = [(entry_key(item), item) for item in items]
        except Exception as exc:  # whatever the feed sends, the feed fails alone and backs off
            feed_state.failures += 1
            delay = backoff_delay(feed_state.failures, self._config).total_seconds()
            feed_state.next_due = clock + delay
            state.write(feed_state)
            self._failed.inc()
            LOG.warning("feed %s failed (%s); backing off %.0fs before its next poll", feed_url, exc, delay)
            yield beam.pvalue.TaggedOutput(DEAD_LETTER, isolation.dead_letter(STAGE, exc, element))
            return
        feed_state.failures = 0
        feed_state.next_due = clock + self._config.interval_s
        fresh = []
        for key, item in keyed:
            repeated = key in feed_state.seen
            # Every sighting refreshes the entry: the entries still in the feed are never forgotten.
            feed_state.remember(key, now.timestamp(), self._config.remember_entries, keep=len(keyed))
            if not repeated:
                fresh.append(item)
        state.write(feed_state)
        # Counted last, when nothing can fail any more: the accounting sees exactly what is emitted.
        self._read.inc()
        self._items_seen.inc(len(keyed))
        self._items_repeated.inc(len(keyed) - len(fresh))
        yield from fresh

    def _poll(self, feed_url: str, feed_state: FeedState, now: datetime) -> list[FeedItem]:
        assert self._client is not None, "setup() was not called"
        self._polled.inc()  # every request made, whatever comes back: failed and unchanged are among them
        response = self._client.get(feed_url, etag=feed_state.etag, last_modified=feed_state.last_modified)
        if response.not_modified:
            self._unchanged.inc()
            return []
        body_hash = hashlib.sha256(response.body).hexdigest()
        if body_hash == feed_state.body_hash:
            # Some servers change validators without changing the feed, or the reverse.
            feed_state.etag, feed_state.last_modified = response.etag, response.last_modified
            self._unchanged.inc()
            return []
        content_type = response.headers.get("content-type")
        parsed = parse_feed(response.body, feed_url, content_type, now, base_url=response.url)
        # Validators and hash only from a body that parsed cleanly: after a broken or cut-off
        # response, a server that keeps its ETag would answer 304 to every later poll, and the
        # entries the body lost would be missed until the feed changed. The entries already
        # emitted are skipped by ``seen`` when the body is read again.
        if not parsed.bozo or parsed.bozo.startswith("CharacterEncodingOverride"):
            feed_state.etag, feed_state.last_modified = response.etag, response.last_modified
            feed_state.body_hash = body_hash
        if parsed.charset_repaired:
            self._repaired.inc()
        if parsed.bozo:
            LOG.info("feed %s parsed with a warning: %s", feed_url, parsed.bozo)
        return parsed.items


def _schedule_time(tick: Timestamp, now: datetime) -> float:
    """The time a feed's schedule runs on: the tick's own timestamp in streaming, else the clock.

    Ticks carry exact times (start + k * tick interval) while their processing lags by a varying
    few seconds; scheduled on the clock, a feed due every 60 s at 30 s ticks was polled after 60
    or 90 s depending on that lag. Batch polls (no tick) use the clock.
    """
    if tick is None or tick <= MIN_TIMESTAMP:
        return now.timestamp()
    return tick.micros / 1_000_000


class PollFeeds(beam.PTransform):
    """Feed URLs (or ticks of feed URLs) -> FeedItems, with a dead-letter output.

    Input: a PCollection of feed URLs; each element is one poll request.
    Output: a ``StageOutput``: ``main`` FeedItems and the feeds' ``dead_letter``.
    """

    def __init__(self, config: PollConfig):
        super().__init__()
        self._config = config

    def expand(self, feed_urls) -> StageOutput:
        polled = (
            feed_urls
            | "KeyByFeed" >> beam.Map(lambda url: (url, None)).with_output_types(tuple[str, Any])
            | "Poll" >> beam.ParDo(PollFeedFn(self._config)).with_outputs(DEAD_LETTER, main="items")
        )
        return from_tagged(polled, "items")
