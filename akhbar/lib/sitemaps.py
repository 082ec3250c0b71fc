"""Sitemaps for backfill: find a site's sitemaps, walk indexes (nested, gzip), keep one date range's URLs.

What ``akhbar backfill`` reads before anything is fetched for the pipeline:

* the roots: the ``Sitemap:`` lines of the site's robots.txt, else the common
  paths (``/sitemap_index.xml``, ``/sitemap.xml``, ``/news-sitemap.xml``,
  ``/sitemap-news.xml``), or the sitemaps the user names;
* sitemap indexes, nested up to ``MAX_DEPTH`` levels; a child whose ``lastmod``
  is before the range cannot list anything in it and is not fetched;
* URL sets, with their Google News extension (``news:publication_date``,
  ``news:title``, ``news:name``, ``news:language``), plain-text sitemaps and
  RSS/Atom feeds used as sitemaps (sitemaps.org allows all three);
* gzip, recognised by its magic bytes (``.xml.gz`` files are often served
  without ``Content-Encoding``), inflated up to ``MAX_SITEMAP_BYTES``.

A URL is kept when its date (``news:publication_date``, else ``lastmod``) falls
in the range and it is on the site's host or a root sitemap's host (what
sitemaps.org lets a sitemap list); undated and off-site URLs are counted, not
kept. Every sitemap is fetched through a ``PoliteClient`` (guard, caps,
robots.txt, host spacing). XML is read with expat; a DOCTYPE that declares
entities is refused (no expansion, no external DTD).

Why not a library: ``ultimate-sitemap-parser`` reads the same formats and can
fetch through our client, but it fetches every child of an index (its callbacks
see only URLs, not their ``lastmod``) and probes 14 paths per site; on an
archive that is one request per month of history at one request per second.
``bench/sitemaps.py`` measures both. trafilatura's sitemap module fetches with
its own HTTP and keeps no dates.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from xml.parsers import expat

from akhbar.lib.web.guard import UrlError, parse_target
from akhbar.lib.web.http import FetchError, HttpResponse, HttpStatusError
from akhbar.lib.web.politeness import PoliteClient
from akhbar.lib.web.robots import origin_of

__all__ = [
    "COMMON_PATHS",
    "DateRange",
    "MAX_DEPTH",
    "MAX_SITEMAP_BYTES",
    "ParsedSitemap",
    "SitemapEntry",
    "SitemapError",
    "SitemapRef",
    "SitemapWalk",
    "find_sitemaps",
    "gunzip_capped",
    "parse_sitemap",
    "parse_sitemap_date",
    "walk_sitemaps",
]

MAX_SITEMAP_BYTES = 64 * 1024 * 1024  # sitemaps.org allows 50 MB uncompressed
MAX_DEPTH = 5  # index -> index -> ... -> urlset
MAX_SITEMAPS = 10_000  # sitemap files read per backfill at most
COMMON_PATHS = ("/sitemap_index.xml", "/sitemap.xml", "/news-sitemap.xml", "/sitemap-news.xml")
_GZIP_MAGIC = b"\x1f\x8b"
_DATE_ONLY = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?")


class SitemapError(UrlError):
    """A sitemap that cannot be read (kinds: decode, too_large, xml_entity, parse)."""


@dataclass(frozen=True)
class DateRange:
    """[start, end): the UTC instants a backfill keeps."""

    start: datetime
    end: datetime

    @classmethod
    def parse(cls, since: str, until: str | None = None, now: datetime | None = None) -> DateRange:
        """``--since DATE [--until DATE]``: dates (``2026-11-01``, whole days, until inclusive) or ISO times.

        Raises ValueError naming the bad value.
        """
        start = _range_bound(since, "--since", end=False)
        end = _range_bound(until, "--until", end=True) if until else (now or datetime.now(timezone.utc))
        if end <= start:
            raise ValueError(f"--until {until or 'now'} is not after --since {since}")
        return cls(start, end)

    def __contains__(self, value: datetime) -> bool:
        return self.start <= value < self.end


def _range_bound(text: str, flag: str, end: bool) -> datetime:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            value = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            return value + timedelta(days=1) if end else value
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{flag} {text!r}: expected a date (2026-11-01) or an ISO time (2026-11-01T06:00:00Z)") \
            from None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def parse_sitemap_date(text: str | None) -> datetime | None:
    """A W3C datetime (``2026``, ``2026-11``, ``2026-11-24``, ``2026-11-24T08:00:00+03:00``) in UTC; None if unreadable."""
    if not text:
        return None
    text = text.strip()
    match = _DATE_ONLY.fullmatch(text)
    try:
        if match:
            year, month, day = (int(g) if g else 1 for g in match.groups())
            return datetime(year, month, day, tzinfo=timezone.utc)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by an index."""

    loc: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class SitemapEntry:
    """One page a sitemap lists."""

    loc: str
    sitemap: str  # the sitemap that listed it
    lastmod: datetime | None = None
    published: datetime | None = None  # news:publication_date
    title: str | None = None  # news:title
    publication: str | None = None  # news:name
    language: str | None = None  # news:language

    @property
    def date(self) -> datetime | None:
        """What the date range is checked against: the publication date, else the last modification."""
        return self.published or self.lastmod


@dataclass
class ParsedSitemap:
    kind: str  # "index", "urlset", "text" or "feed"
    sitemaps: list[SitemapRef] = field(default_factory=list)
    urls: list[SitemapEntry] = field(default_factory=list)


def gunzip_capped(body: bytes, url: str, cap: int = MAX_SITEMAP_BYTES) -> bytes:
    """Inflate gzip bytes, refusing more than ``cap`` bytes of output (a gzip bomb stops there)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise SitemapError("decode", url, f"broken gzip in {url!r}: {exc}") from None
    if len(out) > cap or inflater.unconsumed_tail:
        raise SitemapError("too_large", url, f"{url!r} inflates past {cap} bytes")
    return out


class _SitemapXml:
    """expat handlers that collect a sitemap index or URL set, by local element names."""

    def __init__(self, url: str):
        self.url = url
        self.root: str | None = None
        self.parsed = ParsedSitemap("urlset")
        self._path: list[str] = []
        self._text: list[str] = []
        self._fields: dict[str, str] = {}

    def start(self, name: str, _attrs) -> None:
        local = name.rsplit(" ", 1)[-1]
        if self.root is None:
            self.root = local
        self._path.append(local)
        self._text = []
        if local in ("url", "sitemap"):
            self._fields = {}

    def data(self, text: str) -> None:
        self._text.append(text)

    def end(self, name: str) -> None:
        local = self._path.pop() if self._path else name
        value = "".join(self._text).strip()
        self._text = []
        if local in ("loc", "lastmod", "publication_date", "title", "name", "language") and value:
            self._fields.setdefault(local, value)
        elif local == "sitemap" and self.root == "sitemapindex":
            loc = self._fields.get("loc")
            if loc:
                self.parsed.sitemaps.append(SitemapRef(loc, parse_sitemap_date(self._fields.get("lastmod"))))
        elif local == "url" and self.root == "urlset":
            loc = self._fields.get("loc")
            if loc:
                self.parsed.urls.append(SitemapEntry(
                    loc=loc,
                    sitemap=self.url,
                    lastmod=parse_sitemap_date(self._fields.get("lastmod")),
                    published=parse_sitemap_date(self._fields.get("publication_date")),
                    title=self._fields.get("title"),
                    publication=self._fields.get("name"),
                    language=self._fields.get("language"),
                ))


def _refuse_entities(url: str):
    def refuse(name, *_rest) -> None:
        raise SitemapError("xml_entity", url, f"{url!r} declares the XML entity {name!r}: refused")

    return refuse


def _parse_xml(body: bytes, url: str) -> ParsedSitemap:
    reader = _SitemapXml(url)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.data
    parser.EntityDeclHandler = _refuse_entities(url)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise SitemapError("parse", url, f"{url!r} is not well-formed XML: {exc}") from None
    if reader.root == "sitemapindex":
        reader.parsed.kind = "index"
    elif reader.root != "urlset":
        raise SitemapError("parse", url, f"{url!r} is XML but not a sitemap (root element <{reader.root}>)")
    return reader.parsed


def _parse_feed(body: bytes, url: str, content_type: str | None) -> ParsedSitemap:
    from akhbar.lib.feeds import FeedError, parse_feed  # feeds as sitemaps are rare: import on use

    try:
        feed = parse_feed(body, url, content_type, datetime.now(timezone.utc))
    except FeedError as exc:
        raise SitemapError("parse", url, f"{url!r} looks like a feed but cannot be read: {exc}") from None
    urls = [SitemapEntry(loc=item.link, sitemap=url, published=item.published, title=item.title,
                         publication=item.outlet) for item in feed.items if item.link]
    return ParsedSitemap("feed", urls=urls)


def parse_sitemap(body: bytes, url: str, content_type: str | None = None) -> ParsedSitemap:
    """Read one sitemap file (gzip or not): an index, a URL set, a text sitemap or a feed.

    Raises SitemapError with kind ``decode``, ``too_large``, ``parse`` or ``xml_entity``.
    """
    if body.startswith(_GZIP_MAGIC):
        body = gunzip_capped(body, url)
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:512]
    if not head.startswith(b"<"):
        text = body.decode("utf-8", errors="replace")
        urls = [SitemapEntry(loc=line.strip(), sitemap=url) for line in text.splitlines()
                if line.strip().startswith(("http://", "https://"))]
        return ParsedSitemap("text", urls=urls)
    lowered = head.lower()
    if b"<rss" in lowered or b"<feed" in lowered or b"<rdf:rdf" in lowered:
        return _parse_feed(body, url, content_type)
    return _parse_xml(body, url)


@dataclass
class SitemapWalk:
    """What walking the sitemaps found: the URLs kept, and an account of the rest."""

    entries: list[SitemapEntry] = field(default_factory=list)
    sitemaps_read: int = 0
    sitemaps_skipped: int = 0  # children whose lastmod is before the range
    failures: list[tuple[str, str]] = field(default_factory=list)  # (sitemap URL, why)
    urls_listed: int = 0
    out_of_range: int = 0
    undated: int = 0
    off_site: int = 0
    repeated: int = 0  # the same URL in several sitemaps

    def render(self) -> str:
        lines = [
            f"sitemaps read       {self.sitemaps_read} ({len(self.failures)} failed, {self.sitemaps_skipped} skipped "
            "by lastmod)",
            f"urls listed         {self.urls_listed}",
            f"urls in range       {len(self.entries)} ({self.out_of_range} out of range, {self.undated} undated, "
            f"{self.off_site} off-site, {self.repeated} repeated)",
        ]
        lines += [f"  failed: {url}: {why}" for url, why in self.failures[:20]]
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more")
        return "\n".join(lines)


def _host(url: str) -> str | None:
    try:
        return parse_target(url).host
    except FetchError:
        return None


def find_sitemaps(polite: PoliteClient, site_url: str) -> tuple[list[str], bool]:
    """A site's root sitemaps: its robots.txt ``Sitemap:`` lines, else the common paths.

    Returns (URLs, probed): ``probed`` is True for the common paths, which may well not exist.
    Raises FetchError('bad_url') for a site URL with no host.
    """
    target = parse_target(site_url)
    listed = [url for url in polite.site_rules(site_url).sitemaps if url.startswith(("http://", "https://"))]
    if listed:
        return list(dict.fromkeys(listed)), False
    origin = origin_of(target)
    return [origin + path for path in COMMON_PATHS], True


def walk_sitemaps(fetch: Callable[[str], HttpResponse], roots: list[str], dates: DateRange,
                  site_hosts: set[str] | None = None, max_sitemaps: int = MAX_SITEMAPS,
                  probed: bool = False) -> SitemapWalk:
    """Read ``roots`` and every index below them (breadth first); keep the URLs dated in ``dates``.

    ``fetch(url)`` returns the response (a ``PoliteClient.get``); a sitemap that
    fails is recorded in ``failures`` and the walk goes on. With ``probed``, roots
    that answer 4xx were guesses (``find_sitemaps``) and are not failures.
    """
    walk = SitemapWalk()
    hosts = set(site_hosts or ()) | {h for h in map(_host, roots) if h}
    seen_sitemaps: set[str] = set()
    seen_urls: set[str] = set()
    queue: list[tuple[str, int]] = [(root, 0) for root in roots]
    while queue:
        url, depth = queue.pop(0)
        if url in seen_sitemaps:
            continue
        seen_sitemaps.add(url)
        if len(seen_sitemaps) > max_sitemaps:
            walk.failures.append((url, f"more than {max_sitemaps} sitemaps: the rest are not read"))
            break
        try:
            response = fetch(url)
            parsed = parse_sitemap(response.body, response.url, response.content_type)
        except HttpStatusError as exc:
            if not (probed and depth == 0 and 400 <= exc.status < 500):
                walk.failures.append((url, str(exc)))
            continue
        except (FetchError, SitemapError) as exc:
            walk.failures.append((url, str(exc)))
            continue
        walk.sitemaps_read += 1
        for child in parsed.sitemaps:
            if child.lastmod is not None and child.lastmod < dates.start:
                walk.sitemaps_skipped += 1
            elif depth + 1 > MAX_DEPTH:
                walk.failures.append((child.loc, f"nested deeper than {MAX_DEPTH} sitemap indexes"))
            else:
                queue.append((child.loc, depth + 1))
        for entry in _kept(parsed.urls, dates, hosts, seen_urls, walk):
            walk.entries.append(entry)
    return walk


def _kept(entries: list[SitemapEntry], dates: DateRange, hosts: set[str], seen: set[str],
          walk: SitemapWalk) -> Iterator[SitemapEntry]:
    for entry in entries:
        walk.urls_listed += 1
        when = entry.date
        if when is None:
            walk.undated += 1
        elif when not in dates:
            walk.out_of_range += 1
        elif _host(entry.loc) not in hosts:
            walk.off_site += 1
        elif entry.loc in seen:
            walk.repeated += 1
        else:
            seen.add(entry.loc)
            yield entry
