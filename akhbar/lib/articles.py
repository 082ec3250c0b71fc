"""FeedItem + page -> Article: which text to keep, the article's keys and times.

The page's main text wins unless the feed carries more of the article; the
article records which text it carries (``text_source``) and why
(``fetch_error``). Publication time comes from the feed, else the page, else
the fetch time (``published_source``), always in UTC; a date before 1990 or
more than a day after the fetch is not believed. The article's identity is
``akhbar.lib.identity.item_identity``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from akhbar.core.text import detect_language, text_hash, text_key
from akhbar.core.urls import article_id
from akhbar.lib.extract import ExtractedPage, ExtractionError, extract_article
from akhbar.lib.identity import item_identity, item_url
from akhbar.lib.web.charset import decode_bytes
from akhbar.lib.web.http import HttpClient, HttpConfig
from akhbar.schemas.records import Article, FeedItem


@dataclass(frozen=True)
class FetchConfig:
    http: HttpConfig = HttpConfig()
    fetch_pages: bool = True
    keep_non_arabic: bool = False


article_url = item_url

EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(days=1)


def plausible_time(value: datetime | None, fetched_at: datetime) -> bool:
    """A publication time worth believing: from 1990 to a day after the fetch (else the fetch time is used)."""
    return value is not None and EARLIEST_PLAUSIBLE <= value <= fetched_at + FUTURE_TOLERANCE


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
    url: str | None,
    text: str,
    text_source: str,
    page: ExtractedPage | None,
    fetch_error: str | None,
    fetched_at: datetime,
) -> Article:
    """An Article with its keys: identity (canonical URL), stable id, normalized text hash, UTC times.

    ``url`` is the page's URL, None for an item without a usable link: then its
    feed-scoped identity stands in the ``url`` column too.
    """
    canonical = item_identity(item, url)
    if plausible_time(item.published, fetched_at):
        published, published_source = item.published, "feed"
    elif page is not None and plausible_time(page.published, fetched_at):
        published, published_source = page.published, "page"
    else:
        published, published_source = fetched_at, "fetched"
    title = item.title or (page.title if page else None)
    return Article(
        article_id=article_id(canonical),
        url=url or canonical,
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




def fetch_page(client: HttpClient, url: str) -> ExtractedPage:
    """Fetch, decode and extract one article page; raises FetchError or ExtractionError."""
    response = client.get(url)
    html, _encoding = decode_bytes(response.body, response.charset)
    return extract_article(html, response.url)


__all__ = ["ExtractionError", "FetchConfig", "article_url", "build_article", "choose_text", "fetch_page",
           "plausible_time", "strip_leading_title"]
