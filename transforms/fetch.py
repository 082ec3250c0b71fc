"""FetchArticles: turn each FeedItem into an Article with its full text.

The page is fetched with the project's HTTP client and its main text is
extracted; when that fails the feed's own content or summary is used, and the
article records which text it carries (``text_source``) and why
(``fetch_error``). Only an item with no text at all, or (by default) one that
is not Arabic, goes to the dead letters; so does an item that fails in any
other way (``transforms/isolation.py``), such as a link with no canonical form.
Text fields are capped (``akhbar.lib.articles.FIELD_LIMITS``), counted in
``fields_truncated``.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

import apache_beam as beam

from akhbar.lib.articles import ExtractionError, FetchConfig, article_url, build_article, choose_text, fetch_page
from akhbar.lib.extract import ExtractedPage
from akhbar.lib.web.http import FetchError, HttpClient
from akhbar.schemas.records import DeadLetter, FeedItem, utc_now
from akhbar.transforms import counters
from akhbar.transforms.isolation import per_item
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput, from_tagged

LOG = logging.getLogger(__name__)
STAGE = "fetch_article"


class FetchArticleFn(beam.DoFn):
    def __init__(self, config: FetchConfig):
        self._config = config
        self._client: HttpClient | None = None
        self._pages_fetched = counters.counter(counters.PAGES_FETCHED)
        self._pages_failed = counters.counter(counters.PAGES_FAILED)
        self._from_feed = counters.counter(counters.TEXT_FROM_FEED)
        self._dead = counters.counter(counters.ITEMS_DEAD_LETTERED)
        self._truncated = counters.counter(counters.FIELDS_TRUNCATED)

    def setup(self) -> None:
        self._client = HttpClient(self._config.http)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    @per_item(STAGE)
    def process(self, item: FeedItem) -> Iterator:
        fetched_at = utc_now()
        url = article_url(item)
        page: ExtractedPage | None = None
        fetch_error: str | None = None
        if url is None:
            fetch_error = "no_link: the feed entry has no usable link"
        elif self._config.fetch_pages:
            try:
                page = fetch_page(self._client, url)
                self._pages_fetched.inc()
            except FetchError as exc:
                fetch_error = str(exc)
            except ExtractionError as exc:
                fetch_error = f"extraction: {exc}"
            except Exception as exc:
                LOG.exception("unexpected error on page %s", url)
                fetch_error = f"unexpected: {type(exc).__name__}: {exc}"
            if fetch_error:
                self._pages_failed.inc()
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


class FetchArticles(beam.PTransform):
    """FeedItems -> a ``StageOutput``: ``main`` Articles and the items' ``dead_letter``.

    A Reshuffle first spreads the page fetches over workers: one feed's items
    arrive together and would otherwise be fetched by one worker.
    """

    def __init__(self, config: FetchConfig):
        super().__init__()
        self._config = config

    def expand(self, items) -> StageOutput:
        fetched = (
            items
            | "SpreadFetches" >> beam.Reshuffle()
            | "FetchAndExtract" >> beam.ParDo(FetchArticleFn(self._config)).with_outputs(DEAD_LETTER, main="articles")
        )
        return from_tagged(fetched, "articles")
