"""FetchArticles: turn each FeedItem into an Article with its full text.

The page is fetched with the project's HTTP client and its main text is
extracted; when that fails the feed's own content or summary is used, and the
article records which text it carries (``text_source``) and why
(``fetch_error``). Only an item with no text at all, or (by default) one that
is not Arabic, goes to the dead letters.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

import apache_beam as beam

from schemas.records import Article, DeadLetter, FeedItem, utc_now
from transforms import metrics
from transforms.charset import decode_bytes
from transforms.extract import ExtractedPage, ExtractionError, extract_article
from transforms.http import FetchError, HttpClient, HttpConfig
from transforms.normalize import article_id, canonical_url, detect_language, text_hash, text_key

LOG = logging.getLogger(__name__)
DEAD_LETTER = "dead_letter"
STAGE = "fetch_article"


@dataclass(frozen=True)
class FetchConfig:
    http: HttpConfig = HttpConfig()
    fetch_pages: bool = True
    keep_non_arabic: bool = False


def _article_url(item: FeedItem) -> str | None:
    if item.link:
        return item.link
    if item.guid and item.guid.startswith(("http://", "https://")):
        return item.guid
    return None


def strip_leading_title(text: str, titles: list[str | None]) -> str:
    """Drop a first line that repeats the headline: ``text`` is the body, the title has its column.

    Keeping it would make a republication under a new headline hash differently.
    """
    first, _, rest = text.strip().partition("\n")
    keys = {text_key(t) for t in titles if t}
    if rest.strip() and text_key(first) in keys:
        return rest.strip()
    return text.strip()


def choose_text(item: FeedItem, page: ExtractedPage | None) -> tuple[str, str] | None:
    """(text, source): the page's main text unless the feed carries more of the article."""
    candidates = []
    if page is not None and page.text.strip():
        candidates.append((strip_leading_title(page.text, [item.title, page.title]), "page"))
    if item.content:
        candidates.append((item.content.strip(), "feed_content"))
    if item.summary:
        candidates.append((item.summary.strip(), "feed_summary"))
    if not candidates:
        return None
    best = candidates[0]
    # A page extraction that kept less than half of the feed's full content lost the body.
    if best[1] == "page" and item.content and len(best[0]) < 0.5 * len(item.content):
        return item.content.strip(), "feed_content"
    return best


def build_article(
    item: FeedItem,
    url: str,
    text: str,
    text_source: str,
    page: ExtractedPage | None,
    fetch_error: str | None,
    fetched_at: datetime,
) -> Article:
    """An Article with its keys: canonical URL, stable id, normalized text hash, UTC times."""
    canonical = canonical_url(url)
    if item.published is not None:
        published, published_source = item.published, "feed"
    elif page is not None and page.published is not None:
        published, published_source = page.published, "page"
    else:
        published, published_source = fetched_at, "fetched"
    title = item.title or (page.title if page else None)
    return Article(
        article_id=article_id(canonical),
        url=url,
        canonical_url=canonical,
        feed_url=item.feed_url,
        outlet=item.outlet,
        guid=item.guid,
        title=title,
        summary=item.summary,
        text=text,
        text_source=text_source,
        fetch_error=fetch_error,
        language=detect_language(f"{title or ''}\n{text}"),
        published_at=published,
        published_source=published_source,
        fetched_at=fetched_at,
        text_hash=text_hash(text),
    )


class FetchArticleFn(beam.DoFn):
    def __init__(self, config: FetchConfig):
        self._config = config
        self._client: HttpClient | None = None
        self._pages_fetched = metrics.counter(metrics.PAGES_FETCHED)
        self._pages_failed = metrics.counter(metrics.PAGES_FAILED)
        self._from_feed = metrics.counter(metrics.TEXT_FROM_FEED)
        self._dead = metrics.counter(metrics.ITEMS_DEAD_LETTERED)

    def setup(self) -> None:
        self._client = HttpClient(self._config.http)

    def teardown(self) -> None:
        if self._client is not None:
            self._client.close()

    def _fetch_page(self, url: str) -> ExtractedPage:
        assert self._client is not None, "setup() was not called"
        response = self._client.get(url)
        html, _encoding = decode_bytes(response.body, response.charset)
        return extract_article(html, response.url)

    def process(self, item: FeedItem) -> Iterator:
        fetched_at = utc_now()
        url = _article_url(item)
        page: ExtractedPage | None = None
        fetch_error: str | None = None
        if url is None:
            fetch_error = "no_link: the feed entry has no link"
        elif self._config.fetch_pages:
            try:
                page = self._fetch_page(url)
                self._pages_fetched.inc()
            except FetchError as exc:
                fetch_error = str(exc)
            except ExtractionError as exc:
                fetch_error = f"extraction: {exc}"
            except Exception as exc:  # noqa: BLE001 - one bad page must not stop the run
                LOG.exception("unexpected error on page %s", url)
                fetch_error = f"unexpected: {type(exc).__name__}: {exc}"
            if fetch_error:
                self._pages_failed.inc()
        chosen = choose_text(item, page)
        if chosen is None:
            yield self._dead_letter(item, url, "no_text", f"no text for the entry: {fetch_error or 'empty page'}")
            return
        text, source = chosen
        if source != "page":
            self._from_feed.inc()
        article = build_article(item, url or item.feed_url, text, source, page, fetch_error, fetched_at)
        if article.language != "ar" and not self._config.keep_non_arabic:
            yield self._dead_letter(item, url, "not_arabic", "the article text is not Arabic (--keep_non_arabic keeps it)")
            return
        yield article

    def _dead_letter(self, item: FeedItem, url: str | None, kind: str, error: str):
        self._dead.inc()
        return beam.pvalue.TaggedOutput(
            DEAD_LETTER,
            DeadLetter(stage=STAGE, error_kind=kind, error=error, input=item.describe(), feed_url=item.feed_url, url=url),
        )


class FetchArticles(beam.PTransform):
    """FeedItems -> Articles (main output ``articles``) and ``dead_letter``.

    A Reshuffle first spreads the page fetches over workers: one feed's items
    arrive together and would otherwise be fetched by one worker.
    """

    def __init__(self, config: FetchConfig):
        super().__init__()
        self._config = config

    def expand(self, items):
        return (
            items
            | "SpreadFetches" >> beam.Reshuffle()
            | "FetchAndExtract" >> beam.ParDo(FetchArticleFn(self._config)).with_outputs(DEAD_LETTER, main="articles")
        )
