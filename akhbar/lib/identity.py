"""Article identity and the exact dedup keys, in the order they are applied.

Identity (``article_id`` is its hash, ``canonical_url`` its readable form):

* an item with a usable link (absolute http(s), after resolving against
  ``xml:base`` and the feed URL) is its canonical URL
  (``akhbar.core.urls.canonical_url``); the host is part of it, so two outlets
  never share one;
* an item without one is ``feed-guid:<canonical feed URL>#<guid>``: its GUID,
  scoped to the feed. It never borrows the feed's own URL;
* an item with neither link nor GUID is ``feed-item:<canonical feed URL>#<digest>``,
  the digest of its title, summary and content.

Dedup keys:

* ``url``: the identity above;
* ``guid``: the feed GUID, scoped to the outlet's host (GUIDs like "123" are only unique within a site);
* ``text``: the hash of the normalized text, so a wire story republished verbatim is one article.

``key_digest`` turns a key into 64 bits for the index of keys already in the
output (``akhbar.lib.output_keys``): the url digest is the first 16 hex digits
of ``article_id``, the text digest those of ``text_hash``, so both are read
from the output without hashing again.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from akhbar.core.urls import absolute_http_url, canonical_url
from akhbar.schemas.records import Article, FeedItem

FEED_GUID_SCHEME = "feed-guid:"
FEED_ITEM_SCHEME = "feed-item:"


@functools.lru_cache(maxsize=65536)
def feed_host(feed_url: str) -> str:
    """The outlet's host as a GUID scope: lower-case, no ``www.``, with a non-default port."""
    return urlsplit(canonical_url(feed_url)).netloc


def item_url(item: FeedItem) -> str | None:
    """The page to fetch for an item: its link when that is an absolute http(s) URL (``parse_feed`` resolved it)."""
    return item.link.strip() if absolute_http_url(item.link) else None


def item_identity(item: FeedItem, url: str | None) -> str:
    """The identity of a feed item: its canonical URL, else its feed-scoped GUID, else a feed-scoped digest."""
    if url:
        return canonical_url(url)
    feed = canonical_url(item.feed_url)
    guid = (item.guid or "").strip()
    if guid:
        return f"{FEED_GUID_SCHEME}{feed}#{quote(guid, safe='')}"
    digest = hashlib.sha1("\x1f".join([item.title or "", item.summary or "", item.content or ""]).encode()).hexdigest()
    return f"{FEED_ITEM_SCHEME}{feed}#{digest[:20]}"


def url_key(article: Article) -> str:
    return article.canonical_url


def guid_key_of(feed_url: str, guid: str | None, article_id: str) -> str:
    if not guid or not guid.strip():
        # No GUID: nothing to merge on; the article's own id keeps it alone.
        return "none:" + article_id
    return f"{feed_host(feed_url)}|{guid.strip()}"


def guid_key(article: Article) -> str:
    return guid_key_of(article.feed_url, article.guid, article.article_id)


def text_hash_key(article: Article) -> str:
    return article.text_hash


DEDUP_KEYS: list[tuple[str, Callable[[Article], str]]] = [
    ("url", url_key),
    ("guid", guid_key),
    ("text", text_hash_key),
]


def key_digest(name: str, key: str) -> int:
    """64 bits of a dedup key: the index of the output's keys stores these."""
    if name == "text":
        return int(key[:16], 16)  # text_hash is already a hash
    return int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big")


def article_digests(article: Article) -> list[tuple[str, int]]:
    """(key name, digest) of every dedup key of an article that can match another article."""
    digests = [("url", key_digest("url", url_key(article))), ("text", key_digest("text", article.text_hash))]
    if article.guid and article.guid.strip():
        digests.insert(1, ("guid", key_digest("guid", guid_key(article))))
    return digests


def item_digests(item: FeedItem) -> list[tuple[str, int]]:
    """The url and guid digests of a feed item, known before its page is fetched."""
    identity = item_identity(item, item_url(item))
    digests = [("url", key_digest("url", identity))]
    if item.guid and item.guid.strip():
        digests.append(("guid", key_digest("guid", guid_key_of(item.feed_url, item.guid, ""))))
    return digests


_DATE_SOURCE_RANK = {"feed": 0, "page": 1, "fetched": 2, "fetched_implausible": 2}


def keep_order(article: Article) -> tuple:
    """Which of two equal articles a batch run keeps: the earliest published, then the same copy on every runner.

    Implausible dates never get here: ``build_article`` has already replaced them
    with the fetch time, so a backdated copy cannot win, and of two articles
    without a believable date the one fetched first is kept. Exactly equal
    times are broken by the data, not by which worker fetched first (which
    differs between runners and reruns): the shorter canonical URL (a
    section, campaign or mirror copy of a page usually has the longer path),
    the URL itself, a date from the feed over one from the page, then the feed
    URL. Streaming keeps the first one seen.
    """
    return (
        article.published_at,
        len(article.canonical_url),
        article.canonical_url,
        _DATE_SOURCE_RANK.get(article.published_source, len(_DATE_SOURCE_RANK)),
        article.feed_url,
        article.fetched_at,
    )
