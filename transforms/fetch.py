"""FetchArticles: turn each FeedItem into an Article with its full text, politely.

The page is fetched with the project's HTTP client and its main text is
extracted; when that fails the feed's own content or summary is used, and the
article records which text it carries (``text_source``) and why
(``fetch_error``). Only an item with no text at all, or (by default) one that
is not Arabic, goes to the dead letters; so does an item that fails in any
other way (``transforms/isolation.py``), such as a link with no canonical form.
Text fields are capped (``akhbar.lib.articles.FIELD_LIMITS``), counted in
``fields_truncated``.

Politeness (``akhbar.lib.web.politeness``, docs/politeness.md):

* Items are keyed by the host of their link and fetched by a stateful DoFn, so
  a runner sends all of one host's pages to one worker at a time. In that
  worker one ``PoliteClient``, shared by every DoFn instance and bundle of the
  run (``Shared``), spaces the requests to each host (``--host_delay``, raised
  by robots.txt ``Crawl-delay``), caps how many run at once
  (``--host_concurrency``) and reads robots.txt. So the rules hold for the
  whole run, on one worker or many; only a runner that moves a host to another
  worker mid-run (rebalancing) may start that host's next request early, once.
* Pages are fetched asynchronously, many hosts at once: ``process`` queues a
  page and emits the pages that are done; ``finish_bundle`` waits for the rest.
* robots.txt: a disallowed page is not fetched; the article keeps the feed's
  text with a ``robots_disallowed`` note (counted in ``pages_robots_disallowed``).
* A 429, or a 503 with ``Retry-After``, defers the page (``pages_deferred``): it
  waits in state for an event-time timer at the time the host asked for (in a
  streaming run, the first tick after it; in a batch run, after the other pages)
  and is fetched once more, after that time. A second rate limit, or a wait
  longer than ``--max_retry_after``, keeps the feed's text with a
  ``rate_limited`` note.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import apache_beam as beam
from apache_beam.coders import FloatCoder, PickleCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.shared import Shared
from apache_beam.utils.timestamp import Timestamp
from apache_beam.utils.windowed_value import WindowedValue

from akhbar.lib.articles import ExtractionError, FetchConfig, article_url, build_article, choose_text, fetch_page
from akhbar.lib.extract import ExtractedPage
from akhbar.lib.web.http import FetchError, HttpClient
from akhbar.lib.web.politeness import PoliteClient, PolitenessConfig, PoliteResult, host_of
from akhbar.schemas.records import DeadLetter, FeedItem, utc_now
from akhbar.transforms import counters
from akhbar.transforms.isolation import guarded
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput

LOG = logging.getLogger(__name__)
STAGE = "fetch_article"
DEFERRED = "deferred"
NO_HOST = ""  # the key of items whose page is not fetched (no link, --no_fetch_pages, a link with no host)
# Pages queued per DoFn instance at most before ``process`` waits for some to finish (bounds memory).
MAX_PENDING = 20_000


class _SharedClient:
    """A weak-referenceable holder, as ``Shared`` needs, of one worker's PoliteClient."""

    def __init__(self, client: PoliteClient):
        self.client = client


@dataclass
class _Pending:
    future: Future
    item: FeedItem
    url: str
    host: str
    timestamp: Timestamp
    window: Any


def _fetch_and_extract(client: HttpClient, url: str) -> tuple[datetime, ExtractedPage]:
    fetched_at = utc_now()
    return fetched_at, fetch_page(client, url)


def host_key(item: FeedItem, config: FetchConfig) -> str:
    """The host the item's page is fetched from, or ``NO_HOST`` when no page is fetched."""
    url = article_url(item)
    if url is None or not config.fetch_pages:
        return NO_HOST
    try:
        return host_of(url)
    except FetchError:
        return NO_HOST  # the fetch reports the bad link


class FetchArticleFn(beam.DoFn):
    """(host, (FeedItem, not_before)) -> Articles, item dead letters and (first pass) deferred items.

    ``final``: the retry pass, whose rate-limited pages keep the feed's text.
    The state is what makes the runner route a host's pages to one worker at a
    time; it also carries the host's Retry-After hold if the host moves.
    """

    HOLD = ReadModifyWriteStateSpec("host_hold_until", FloatCoder())

    def __init__(self, config: FetchConfig, politeness: PolitenessConfig, shared: Shared | None = None,
                 token: str | None = None, final: bool = False):
        self._config = config
        self._politeness = politeness
        self._shared = shared or Shared()
        self._token = token or uuid.uuid4().hex
        self._final = final
        self._polite: PoliteClient | None = None
        self._pending: list[_Pending] = []
        self._pages_fetched = counters.counter(counters.PAGES_FETCHED)
        self._pages_failed = counters.counter(counters.PAGES_FAILED)
        self._from_feed = counters.counter(counters.TEXT_FROM_FEED)
        self._dead = counters.counter(counters.ITEMS_DEAD_LETTERED)
        self._truncated = counters.counter(counters.FIELDS_TRUNCATED)
        self._disallowed = counters.counter(counters.PAGES_ROBOTS_DISALLOWED)
        self._deferred = counters.counter(counters.PAGES_DEFERRED)
        self._rate_limited = counters.counter(counters.PAGES_RATE_LIMITED)

    def setup(self) -> None:
        self._holder = self._shared.acquire(
            lambda: _SharedClient(PoliteClient(self._config.http, self._politeness)), tag=self._token)
        self._polite = self._holder.client

    def start_bundle(self) -> None:
        self._pending = []

    def process(self, element: tuple[str, tuple[FeedItem, float]], timestamp=beam.DoFn.TimestampParam,
                window=beam.DoFn.WindowParam, hold=beam.DoFn.StateParam(HOLD)) -> Iterator:
        host, (item, not_before) = element
        yield from guarded(STAGE, item, lambda: self._start(host, item, not_before, hold, timestamp, window),
                           self._dead)
        yield from self._drain(block=len(self._pending) >= MAX_PENDING)

    def finish_bundle(self) -> Iterator:
        while self._pending:
            yield from self._drain(block=True)

    def fetch_now(self, item: FeedItem) -> list:
        """The outputs for one item, fetched at once: for tests and tools that work item by item."""
        assert self._polite is not None, "setup() was not called"
        host = host_key(item, self._config)
        url = article_url(item)
        if host == NO_HOST:
            return list(guarded(STAGE, item, lambda: self._outputs(item, url, None, self._no_page_reason(item)),
                                self._dead))
        pending = _Pending(self._polite.submit(url, _fetch_and_extract), item, url, host, None, None)
        return list(guarded(STAGE, item, lambda: self._finish(pending), self._dead))

    # -- inside ------------------------------------------------------------------
    def _start(self, host: str, item: FeedItem, not_before: float, hold, timestamp, window) -> Iterator:
        """Queue the item's page (nothing is emitted), or emit its article now when no page is fetched."""
        assert self._polite is not None, "setup() was not called"
        url = article_url(item)
        if host == NO_HOST:
            yield from self._outputs(item, url, None, self._no_page_reason(item))
            return
        not_before = max(not_before or 0.0, hold.read() or 0.0)
        try:
            future = self._polite.submit(url, _fetch_and_extract, not_before=not_before or None,
                                         shed_on_hold=not self._final)
        except FetchError as exc:
            self._pages_failed.inc()
            yield from self._outputs(item, url, None, str(exc))
            return
        held = self._polite.scheduler.hold_until(host)
        if held > (hold.read() or 0.0):
            hold.write(held)
        self._pending.append(_Pending(future, item, url, host, timestamp, window))

    def _no_page_reason(self, item: FeedItem) -> str | None:
        if article_url(item) is None:
            return "no_link: the feed entry has no usable link"
        if not self._config.fetch_pages:
            return None
        try:
            host_of(article_url(item))
        except FetchError as exc:
            self._pages_failed.inc()
            return str(exc)
        return None

    def _drain(self, block: bool) -> Iterator:
        if not self._pending:
            return
        if block:
            wait([p.future for p in self._pending], return_when=FIRST_COMPLETED)
        # One pass: a future may finish while the list is read, and must land in exactly one of the two.
        done: list[_Pending] = []
        waiting: list[_Pending] = []
        for pending in self._pending:
            (done if pending.future.done() else waiting).append(pending)
        self._pending = waiting
        for pending in done:
            for output in guarded(STAGE, pending.item, lambda p=pending: self._finish(p), self._dead):
                yield _windowed(output, pending.timestamp, pending.window)

    def _finish(self, pending: _Pending) -> Iterator:
        """A finished (or shed) fetch -> the item's article or dead letter, or (first pass) its deferral."""
        item, url = pending.item, pending.url
        try:
            result: PoliteResult = pending.future.result()
        except BaseException as exc:  # cancelled: the worker is shutting down
            result = PoliteResult(error=exc)
        if result.retry_at is not None and not self._final:
            self._deferred.inc()
            yield beam.pvalue.TaggedOutput(DEFERRED, (pending.host, (item, result.retry_at)))
            return
        page: ExtractedPage | None = None
        fetched_at: datetime | None = None
        fetch_error: str | None = None
        if result.ok:
            fetched_at, page = result.value
            self._pages_fetched.inc()
        elif result.disallowed is not None:
            self._disallowed.inc()
            fetch_error = str(result.disallowed)
        elif result.retry_at is not None:
            self._rate_limited.inc()
            self._pages_failed.inc()
            fetch_error = f"rate_limited: {result.error} (again after waiting for its Retry-After)"
        else:
            exc = result.error
            self._pages_failed.inc()
            if isinstance(exc, FetchError):
                if exc.kind == "rate_limited":
                    self._rate_limited.inc()
                fetch_error = str(exc)
            elif isinstance(exc, ExtractionError):
                fetch_error = f"extraction: {exc}"
            else:
                LOG.error("unexpected error on page %s: %s: %s", url, type(exc).__name__, exc)
                fetch_error = f"unexpected: {type(exc).__name__}: {exc}"
        yield from self._outputs(item, url, page, fetch_error, fetched_at)

    def _outputs(self, item: FeedItem, url: str | None, page: ExtractedPage | None, fetch_error: str | None,
                 fetched_at: datetime | None = None) -> Iterator:
        """The item's article (page text, else the feed's) or its dead letter."""
        fetched_at = fetched_at or utc_now()
        chosen = choose_text(item, page)
        if chosen is None:
            yield self._dead_letter(item, url, "no_text", f"no text for the entry: {fetch_error or 'empty page'}")
            return
        text, source = chosen
        truncated: list[str] = []
        article = build_article(item, url, text, source, page, fetch_error, fetched_at, on_truncate=truncated.append)
        if article.language != "ar" and not self._config.keep_non_arabic:
            yield self._dead_letter(item, url, "not_arabic", "the article text is not Arabic (--keep_non_arabic keeps it)")
            return
        if source != "page":
            self._from_feed.inc()
        if truncated:
            self._truncated.inc(len(truncated))
            LOG.info("capped %s of %s", ", ".join(truncated), url)
        yield article

    def _dead_letter(self, item: FeedItem, url: str | None, kind: str, error: str):
        self._dead.inc()
        return beam.pvalue.TaggedOutput(
            DEAD_LETTER,
            DeadLetter(stage=STAGE, error_kind=kind, error=error, input=item.describe(), feed_url=item.feed_url, url=url),
        )


def _windowed(output: Any, timestamp: Timestamp, window: Any) -> Any:
    """An output of an earlier element, with that element's timestamp and window."""
    if isinstance(output, beam.pvalue.TaggedOutput):
        return beam.pvalue.TaggedOutput(output.tag, WindowedValue(output.value, timestamp, (window,)))
    return WindowedValue(output, timestamp, (window,))


class HoldForRetryFn(beam.DoFn):
    """(host, (FeedItem, retry_at)) -> the same, released by an event-time timer at the latest retry_at.

    In a streaming run the watermark follows the clock, so the timer fires on
    the first tick after the time the host asked for; in a batch run it fires
    when every other page is done, and the retry pass waits for retry_at itself.
    """

    WAITING = BagStateSpec("waiting", PickleCoder())
    LATEST = ReadModifyWriteStateSpec("retry_at", FloatCoder())
    RETRY = TimerSpec("retry", TimeDomain.WATERMARK)

    def process(self, element: tuple[str, tuple[FeedItem, float]], waiting=beam.DoFn.StateParam(WAITING),
                latest=beam.DoFn.StateParam(LATEST), retry=beam.DoFn.TimerParam(RETRY)) -> Iterator:
        _host, (item, retry_at) = element
        waiting.add((item, retry_at))
        at = max(latest.read() or 0.0, retry_at)
        latest.write(at)
        retry.set(Timestamp(at))
        return iter(())

    @on_timer(RETRY)
    def release(self, key=beam.DoFn.KeyParam, waiting=beam.DoFn.StateParam(WAITING),
                latest=beam.DoFn.StateParam(LATEST)) -> Iterator:
        for item, retry_at in waiting.read():
            yield key, (item, retry_at)
        waiting.clear()
        latest.clear()


class FetchArticles(beam.PTransform):
    """FeedItems -> a ``StageOutput``: ``main`` Articles and the items' ``dead_letter``.

    Keyed by host (see the module docstring); rate-limited pages get one more try.
    """

    def __init__(self, config: FetchConfig, politeness: PolitenessConfig | None = None):
        super().__init__()
        self._config = config
        self._politeness = politeness or PolitenessConfig()

    def expand(self, items) -> StageOutput:
        shared, token = Shared(), uuid.uuid4().hex  # both passes share one PoliteClient per worker
        config = self._config
        first = (
            items
            | "KeyByHost" >> beam.Map(lambda item: (host_key(item, config), (item, 0.0))).with_output_types(
                tuple[str, Any])
            | "FetchAndExtract" >> beam.ParDo(
                FetchArticleFn(config, self._politeness, shared, token)).with_outputs(
                DEAD_LETTER, DEFERRED, main="articles")
        )
        retried = (
            first[DEFERRED]
            | "KeyDeferred" >> beam.Map(lambda kv: kv).with_output_types(tuple[str, Any])
            | "HoldForRetryAfter" >> beam.ParDo(HoldForRetryFn()).with_output_types(tuple[str, Any])
            | "FetchDeferred" >> beam.ParDo(
                FetchArticleFn(config, self._politeness, shared, token, final=True)).with_outputs(
                DEAD_LETTER, main="articles")
        )
        return StageOutput(
            main=(first.articles, retried.articles) | "AllArticles" >> beam.Flatten(),
            dead_letter=(first[DEAD_LETTER], retried[DEAD_LETTER]) | "AllFetchDeadLetters" >> beam.Flatten(),
        )
