"""Feed discovery: the RSS/Atom feeds a news site offers, checked by fetching them.

``akhbar discover URL...`` reads each site's home page and collects the feeds
it announces (``<link rel="alternate" type="application/rss+xml" href=...>``,
Atom and RDF too, relative links resolved against ``<base href>`` and the page's
final URL), then adds the paths where news sites commonly keep feeds. Every
candidate is fetched and parsed with the pipeline's own feed reader: only what
parses as a feed is printed, so the output is ready for ``--feeds``. All fetches
go through a ``PoliteClient``: the address guard, the size caps, robots.txt and
the host spacing apply as in a run.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urldefrag, urljoin

import lxml.html

from akhbar.lib.feeds import FeedError, parse_feed
from akhbar.lib.web.charset import decode_bytes
from akhbar.lib.web.guard import parse_target
from akhbar.lib.web.http import FetchError
from akhbar.lib.web.politeness import PoliteClient
from akhbar.lib.web.robots import origin_of

__all__ = ["COMMON_FEED_PATHS", "FEED_TYPES", "DiscoveredFeed", "SiteFeeds", "discover_feeds", "discover_sites",
           "feed_links"]

FEED_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml",
})
# Where CMSs (WordPress, Drupal, Blogger, Hugo, Ghost...) put a site's main feed.
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml", "/feeds/posts/default")
MAX_CANDIDATES = 40  # feeds announced by one page that are checked at most


@dataclass(frozen=True)
class DiscoveredFeed:
    url: str  # the URL to put in --feeds (as announced, or the common path)
    title: str | None
    entries: int
    source: str  # "link" (announced by the home page) or "path" (a common path)


@dataclass
class SiteFeeds:
    site: str
    feeds: list[DiscoveredFeed] = field(default_factory=list)
    error: str | None = None  # the home page could not be read (the common paths were still tried)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # announced candidates that are not feeds


def feed_links(html: str, page_url: str) -> list[tuple[str, str | None]]:
    """(absolute URL, title) of each feed a page announces with ``<link rel="alternate">``, in page order."""
    try:
        doc = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    base = page_url
    for href in doc.xpath("//base/@href")[:1]:
        base = urljoin(page_url, href.strip())
    found: list[tuple[str, str | None]] = []
    seen: set[str] = set()
    for link in doc.xpath("//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or media not in FEED_TYPES:
            continue
        url = urldefrag(urljoin(base, link.get("href").strip()))[0]
        if url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            found.append((url, (link.get("title") or "").strip() or None))
    return found


def _check(polite: PoliteClient, url: str) -> tuple[str | None, int, str] | str:
    """(title, entries, body digest) when ``url`` serves a feed, else the reason it does not."""
    try:
        response = polite.get(url)
        parsed = parse_feed(response.body, url, response.headers.get("content-type"), datetime.now(timezone.utc))
    except (FetchError, FeedError) as exc:
        return str(exc)
    return parsed.outlet, len(parsed.items), hashlib.sha256(response.body).hexdigest()


def discover_feeds(polite: PoliteClient, site_url: str) -> SiteFeeds:
    """The feeds of one site: announced by its home page, then at the common paths; each one checked."""
    result = SiteFeeds(site=site_url)
    try:
        origin = origin_of(parse_target(site_url))
    except FetchError as exc:
        result.error = str(exc)
        return result
    candidates: list[tuple[str, str | None, str]] = []
    try:
        home = polite.get(site_url)
        html, _encoding = decode_bytes(home.body, home.charset)
        candidates += [(url, title, "link") for url, title in feed_links(html, home.url)[:MAX_CANDIDATES]]
    except FetchError as exc:
        result.error = str(exc)
    announced = {url for url, _title, _source in candidates}
    candidates += [(origin + path, None, "path") for path in COMMON_FEED_PATHS if origin + path not in announced]
    seen_bodies: set[str] = set()  # a common path that serves an announced feed again is not listed twice
    for url, title, source in candidates:
        checked = _check(polite, url)
        if isinstance(checked, str):
            if source == "link":
                result.rejected.append((url, checked))
            continue
        feed_title, entries, digest = checked
        if digest in seen_bodies:
            continue
        seen_bodies.add(digest)
        result.feeds.append(DiscoveredFeed(url, title or feed_title, entries, source))
    return result


def discover_sites(polite: PoliteClient, sites: list[str], parallel: int = 8) -> list[SiteFeeds]:
    """``discover_feeds`` for each site, several sites at once (each host stays spaced); in the given order."""
    from concurrent.futures import ThreadPoolExecutor

    if not sites:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(sites)))) as pool:
        return list(pool.map(lambda site: discover_feeds(polite, site), sites))
