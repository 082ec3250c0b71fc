"""A page's own metadata: its title and publication time, read from the parsed tree.

These lookups (Open Graph, <meta>, JSON-LD, <time>) are cheap and keep the time
zone; htmldate (trafilatura's date finder) is the fallback for pages that carry
none of them, and gives a date only.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

import lxml.html
from htmldate import find_date

__all__ = ["page_published", "page_title", "parse_datetime"]

_DATE_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)


def parse_datetime(value: str) -> datetime | None:
    """ISO-8601 value -> aware UTC datetime; naive values are taken as UTC."""
    value = value.strip()
    if not value:
        return None
    if value[-1] in "Zz":  # Python 3.10's fromisoformat does not read "Z"
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value[:10]), time())
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')


def _published_from_tree(tree: lxml.html.HtmlElement) -> datetime | None:
    """Publication time from <meta>, JSON-LD and <time datetime>, which carry a
    time zone (htmldate, via trafilatura, gives a date only)."""
    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = meta.get("content")
        if key and content and key not in metas:
            metas[key] = content
    for key in _DATE_META:
        if key in metas and (parsed := parse_datetime(metas[key])):
            return parsed
    for script in tree.xpath("//script[@type='application/ld+json']"):
        found = _JSONLD_DATE.search(script.text or "")
        if found and (parsed := parse_datetime(found.group(1))):
            return parsed
    for node in tree.iter("time"):
        if node.get("datetime") and (parsed := parse_datetime(node.get("datetime", ""))):
            return parsed
    return None




def page_published(tree: lxml.html.HtmlElement, url: str | None = None) -> datetime | None:
    """Publication time (tz-aware UTC): <meta>, JSON-LD or <time> first, else htmldate's
    date (midnight UTC); None when the page gives none."""
    found = _published_from_tree(tree)
    if found is not None:
        return found
    try:
        value = find_date(tree, extensive_search=False, original_date=True, url=url)
    except (ValueError, TypeError):
        return None
    return parse_datetime(value) if value else None


_TITLE_SUFFIX = re.compile(r"\s+[|\-–—:»]\s+")


def page_title(tree: lxml.html.HtmlElement) -> str | None:
    """og:title, twitter:title, the first <h1>, else <title> without its " | Site" part."""
    for xpath in ("//meta[@property='og:title']/@content", "//meta[@name='twitter:title']/@content", "//h1"):
        found = tree.xpath(xpath)
        if found:
            value = found[0] if isinstance(found[0], str) else found[0].text_content()
            value = " ".join(value.split())
            if value:
                return value
    found = tree.find(".//title")
    if found is None:
        return None
    value = " ".join(found.text_content().split())
    parts = [p for p in _TITLE_SUFFIX.split(value) if p]
    return max(parts, key=len) if len(parts) > 1 else (value or None)
