"""FeedItem + page -> Article: which text to keep, the article's keys and times.

The page's main text wins unless the feed carries more of the article; the
article records which text it carries (``text_source``) and why
(``fetch_error``). Publication time comes from the feed, else the page, else
the fetch time (``published_source``), always in UTC; a date that cannot be a
publication date (before 1990, or more than a day after the fetch) is not used.
Text fields are capped (``FIELD_LIMITS``), so one hostile item cannot take the
memory of a worker or of the models after it. The article's identity is
``akhbar.lib.identity.item_identity``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from akhbar.core.text import detect_language, text_hash, text_key
from akhbar.core.urls import InvalidURL, article_id
from akhbar.lib.extract import ExtractedPage, ExtractionError, extract_article
from akhbar.lib.identity import item_identity, item_url
from akhbar.lib.web.charset import decode_bytes
from akhbar.lib.web.guard import MAX_URL_CHARS
from akhbar.lib.web.http import HttpClient, HttpConfig
from akhbar.schemas.records import Article, FeedItem

# Caps, in characters, on what an article row may carry. A longer value is cut at the
# cap (and counted by the pipeline); real articles stay far below them.
FIELD_LIMITS: dict[str, int] = {
    "title": 1_000,
    "author": 500,
    "outlet": 500,
    "guid": 2_048,
    "summary": 20_000,
    "text": 200_000,
}

# Publication dates outside [EARLIEST_PUBLICATION, fetch time + FUTURE_TOLERANCE] are not believed.
EARLIEST_PUBLICATION = datetime(1990, 1, 1, tzinfo=timezone.utc)
FUTURE_TOLERANCE = timedelta(days=1)


def cap_field(value: str | None, field: str) -> tuple[str | None, bool]:
    """``value`` cut to ``FIELD_LIMITS[field]`` characters, and whether it was cut."""
    limit = FIELD_LIMITS[field]
    if value is None or len(value) <= limit:
        return value, False
    return value[:limit].rstrip(), True


def plausible_publication_time(value: datetime | None, fetched_at: datetime) -> datetime | None:
    """``value`` in UTC when it can be a publication date, else None.

    The one rule for dates from feeds and pages: before 1990-01-01 or more than a
    day after the fetch is implausible (year-1 and year-9999 dates, unset clocks,
    timestamps in the wrong unit). A time without a zone is taken as UTC.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    value = value.astimezone(timezone.utc)
    if value < EARLIEST_PUBLICATION or value > fetched_at + FUTURE_TOLERANCE:
        return None
    return value


def publication_time(feed_time: datetime | None, page_time: datetime | None,
                     fetched_at: datetime) -> tuple[datetime, str]:
    """(time, published_source): the feed's date, else the page's, else the fetch time.

    A date that is present but implausible is skipped; when none is left the fetch
    time is used and the source says why: ``fetched_implausible`` (a date was there
    but could not be right) or ``fetched`` (there was none).
    """
    implausible = False
    for value, source in ((feed_time, "feed"), (page_time, "page")):
        if value is None:
            continue
        checked = plausible_publication_time(value, fetched_at)
        if checked is not None:
            return checked, source
        implausible = True
    return fetched_at, "fetched_implausible" if implausible else "fetched"


@dataclass(frozen=True)
class FetchConfig:
    http: HttpConfig = HttpConfig()
    fetch_pages: bool = True
    keep_non_arabic: bool = False


article_url = item_url


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
    on_truncate: Callable[[str], None] | None = None,
) -> Article:
    """An Article with its keys: identity (canonical URL), stable id, normalized text hash, UTC times.

    ``url`` is the page's URL, None for an item without a usable link: then its
    feed-scoped identity stands in the ``url`` column too. Fields longer than
    ``FIELD_LIMITS`` are cut before any key is computed; ``on_truncate(field)`` is
    called for each one. Raises ``InvalidURL`` for a URL that has no canonical form.
    """
    if url is not None and len(url) > MAX_URL_CHARS:
        raise InvalidURL(f"URL longer than {MAX_URL_CHARS} characters: {url[:200]!r}...")
    canonical = item_identity(item, url)
    published, published_source = publication_time(item.published, page.published if page else None, fetched_at)
    fields = {
        "title": item.title or (page.title if page else None),
        "outlet": item.outlet,
        "guid": item.guid,
        "summary": item.summary,
        "text": text,
    }
    for name, value in fields.items():
        fields[name], cut = cap_field(value, name)
        if cut and on_truncate is not None:
            on_truncate(name)
    title, text = fields["title"], fields["text"] or ""
    return Article(
        article_id=article_id(canonical),
        url=url or canonical,
        canonical_url=canonical,
        feed_url=item.feed_url,
        outlet=fields["outlet"],
        guid=fields["guid"],
        title=title,
        summary=fields["summary"],
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


__all__ = ["EARLIEST_PUBLICATION", "FIELD_LIMITS", "FUTURE_TOLERANCE", "ExtractionError", "FetchConfig", "article_url",
           "build_article", "cap_field", "choose_text", "fetch_page", "plausible_publication_time", "publication_time",
           "strip_leading_title"]
