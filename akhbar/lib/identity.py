"""Article identity: the exact dedup keys, in the order they are applied.

* ``url``: the canonical URL (``akhbar.core.urls.canonical_url``);
* ``guid``: the feed GUID, scoped to the outlet's host (GUIDs like "123" are only unique within a site);
* ``text``: the hash of the normalized text, so a wire story republished verbatim is one article.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from akhbar.schemas.records import Article


def url_key(article: Article) -> str:
    return article.canonical_url


def guid_key(article: Article) -> str:
    if not article.guid:
        # No GUID: nothing to merge on; the article's own id keeps it alone.
        return "none:" + article.article_id
    return f"{urlsplit(article.feed_url).hostname or ''}|{article.guid.strip()}"


def text_hash_key(article: Article) -> str:
    return article.text_hash


DEDUP_KEYS: list[tuple[str, Callable[[Article], str]]] = [
    ("url", url_key),
    ("guid", guid_key),
    ("text", text_hash_key),
]




def keep_order(article: Article) -> tuple:
    """Which of two equal articles is kept: the earliest published, then fetched, then by id (deterministic)."""
    return (article.published_at, article.fetched_at, article.article_id)
