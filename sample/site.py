"""A loopback news site with robots.txt, sitemaps and a home page: politeness, discovery and backfill.

One outlet on one loopback address (any of 127.0.0.0/8, so several sites are
several hosts), serving:

* ``/``: a home page that announces its feeds with ``<link rel="alternate">``
  (``/feed.xml`` RSS, ``/atom.xml`` Atom, and ``/old-feed.xml``, which is gone);
  ``/rss`` serves the RSS feed again, as CMSs do;
* ``/robots.txt`` (the text given, or a 404 when None);
* ``/sitemap_index.xml``: an index of monthly gzip indexes
  (``/sitemaps/2026-10/index.xml.gz``), each listing gzip URL sets of at most
  ``per_sitemap`` pages (``/sitemaps/2026-10/part-0.xml.gz``), every entry and
  child with its ``lastmod``; ``/news-sitemap.xml``, a Google News sitemap of the
  latest ``news_items`` pages;
* ``/news/{i}.html``: the pages, written from the bundled corpus, each a marked
  copy (its own title and last sentence) so that no page duplicates another.

``rate_limit`` maps a path to a ``Retry-After`` value: its first request gets a
429 with that header, later ones the page. Every request is logged with its
``time.monotonic()`` and User-Agent, so tests measure what the server saw.

    python -m akhbar.sample.site --pages 300     # then open /robots.txt
"""
from __future__ import annotations

import argparse
import gzip
import html
import ipaddress
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from akhbar.sample.corpus import SampleArticle, load_corpus

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
DEFAULT_ROBOTS = "User-agent: *\nDisallow: /admin/\n"
FIRST_PAGE_TIME = datetime(2026, 10, 1, 6, 0, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SiteRequest:
    at: float  # time.monotonic() when the request line was read
    path: str
    user_agent: str


@dataclass(frozen=True)
class SitePage:
    index: int
    published: datetime
    article: SampleArticle


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _w3c(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class NewsSite:
    """One news outlet on a loopback address (see the module docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, pages: int = 50, name: str = "site",
                 first: datetime = FIRST_PAGE_TIME, step: timedelta = timedelta(hours=6),
                 robots: str | None = DEFAULT_ROBOTS, feed_items: int = 20, news_items: int = 20,
                 per_sitemap: int = 50, rate_limit: dict[str, str] | None = None):
        if ipaddress.ip_address(host) not in LOOPBACK:
            raise ValueError(f"a sample site only binds 127.0.0.0/8, not {host}")
        originals = [a for a in load_corpus() if not a.republished_from]
        self.name = name
        self.pages = [self._page(i, first + i * step, originals[i % len(originals)]) for i in range(pages)]
        self.robots = robots
        self.feed_items = feed_items
        self.news_items = news_items
        self.per_sitemap = per_sitemap
        self._rate_limit = dict(rate_limit or {})
        self._rendered: dict[str, tuple[bytes, str] | None] = {}  # path -> answer: the pages never change
        self._lock = threading.Lock()
        self.requests: list[SiteRequest] = []
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def _page(self, i: int, published: datetime, base: SampleArticle) -> SitePage:
        marker = f" ({self.name} {i})"
        body = base.body[:-1] + (base.body[-1] + marker,)
        return SitePage(i, published, replace(base, title=base.title + marker, summary=base.summary + marker,
                                               body=body, published=published))

    # -- lifecycle -------------------------------------------------------------
    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> NewsSite:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"news-site-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> NewsSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests look at --------------------------------------------------
    def page_url(self, page: SitePage) -> str:
        return f"{self.url}/news/{page.index}.html"

    def requested(self, prefix: str = "") -> list[SiteRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def write_feed_list(self, path) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"{self.url}/feed.xml\n")

    # -- rendering -------------------------------------------------------------
    def _months(self) -> dict[str, list[SitePage]]:
        if not hasattr(self, "_by_month"):
            months: dict[str, list[SitePage]] = defaultdict(list)
            for page in sorted(self.pages, key=lambda p: p.published):
                months[page.published.strftime("%Y-%m")].append(page)
            self._by_month = dict(months)
        return self._by_month

    def _latest(self, count: int) -> list[SitePage]:
        if not hasattr(self, "_newest_first"):
            self._newest_first = sorted(self.pages, key=lambda p: p.published, reverse=True)
        return self._newest_first[:count]

    def render_home(self) -> bytes:
        latest = "".join(f'<li><a href="/news/{p.index}.html">{_esc(p.article.title)}</a></li>'
                         for p in self._latest(10))
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{_esc(self.name)}</title>
<link rel="alternate" type="application/rss+xml" title="{_esc(self.name)} RSS" href="/feed.xml">
<link rel="alternate" type="application/atom+xml" title="{_esc(self.name)} Atom" href="atom.xml">
<link rel="alternate" type="application/rss+xml" title="old" href="/old-feed.xml">
<link rel="alternate" hreflang="en" href="/en/">
<link rel="stylesheet" href="/style.css">
</head><body><h1>{_esc(self.name)}</h1><ul>{latest}</ul></body></html>
""".encode()

    def render_rss(self) -> bytes:
        items = "".join(
            f"<item><title>{_esc(p.article.title)}</title><link>{self.page_url(p)}</link>"
            f'<guid isPermaLink="false">{_esc(self.name)}-{p.index}</guid>'
            f"<pubDate>{format_datetime(p.published)}</pubDate><description>{_esc(p.article.summary)}</description>"
            "</item>"
            for p in self._latest(self.feed_items)
        )
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{_esc(self.name)}</title>'
                f"<link>{self.url}/</link><description>آخر الأخبار</description>{items}</channel></rss>\n").encode()

    def render_atom(self) -> bytes:
        latest = self._latest(self.feed_items)
        updated = _w3c(latest[0].published) if latest else "2026-01-01T00:00:00Z"
        entries = "".join(
            f'<entry><title>{_esc(p.article.title)}</title><link rel="alternate" href="{self.page_url(p)}"/>'
            f"<id>tag:{_esc(self.name)},2026:{p.index}</id><updated>{_w3c(p.published)}</updated>"
            f"<summary>{_esc(p.article.summary)}</summary></entry>"
            for p in latest
        )
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
                f"<title>{_esc(self.name)}</title><id>tag:{_esc(self.name)},2026:feed</id><updated>{updated}</updated>"
                f"{entries}</feed>\n").encode()

    def render_page(self, page: SitePage) -> bytes:
        paragraphs = "\n".join(f"<p>{_esc(p)}</p>" for p in page.article.body)
        return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{_esc(page.article.title)}</title>
<meta property="article:published_time" content="{page.published.isoformat()}">
</head><body><nav><a href="/">الرئيسية</a></nav>
<article><h1>{_esc(page.article.title)}</h1>
{paragraphs}
</article><footer>جميع الحقوق محفوظة</footer></body></html>
""".encode()

    def render_index(self) -> bytes:
        children = "".join(
            f"<sitemap><loc>{self.url}/sitemaps/{month}/index.xml.gz</loc>"
            f"<lastmod>{_w3c(max(p.published for p in pages))}</lastmod></sitemap>"
            for month, pages in sorted(self._months().items())
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>\n').encode()

    def _parts(self, month: str) -> list[list[SitePage]]:
        pages = self._months().get(month, [])
        return [pages[k:k + self.per_sitemap] for k in range(0, len(pages), self.per_sitemap)]

    def render_month_index(self, month: str) -> bytes | None:
        parts = self._parts(month)
        if not parts:
            return None
        children = "".join(
            f"<sitemap><loc>{self.url}/sitemaps/{month}/part-{k}.xml.gz</loc>"
            f"<lastmod>{_w3c(part[-1].published)}</lastmod></sitemap>"
            for k, part in enumerate(parts)
        )
        return gzip.compress(('<?xml version="1.0" encoding="UTF-8"?>\n'
                              f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}'
                              "</sitemapindex>\n").encode())

    def render_urlset(self, month: str, part: int) -> bytes | None:
        parts = self._parts(month)
        if not 0 <= part < len(parts):
            return None
        urls = "".join(f"<url><loc>{self.page_url(p)}</loc><lastmod>{_w3c(p.published)}</lastmod></url>"
                       for p in parts[part])
        return gzip.compress(('<?xml version="1.0" encoding="UTF-8"?>\n'
                              f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n').encode())

    def render_news_sitemap(self) -> bytes:
        urls = "".join(
            f"<url><loc>{self.page_url(p)}</loc><news:news><news:publication><news:name>{_esc(self.name)}"
            "</news:name><news:language>ar</news:language></news:publication>"
            f"<news:publication_date>{p.published.isoformat()}</news:publication_date>"
            f"<news:title>{_esc(p.article.title)}</news:title></news:news></url>"
            for p in self._latest(self.news_items)
        )
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>\n').encode()

    def route(self, path: str) -> tuple[bytes, str] | None:
        """(body, content type) for a path, or None for 404; rendered once."""
        if path == "/robots.txt":  # the one answer tests change while the site runs
            return None if self.robots is None else (self.robots.encode(), "text/plain; charset=utf-8")
        if path not in self._rendered:
            self._rendered[path] = self._render(path)
        return self._rendered[path]

    def _render(self, path: str) -> tuple[bytes, str] | None:
        xml, html_type = "application/xml", "text/html; charset=utf-8"
        if path == "/":
            return self.render_home(), html_type
        if path in ("/feed.xml", "/rss"):
            return self.render_rss(), "application/rss+xml; charset=utf-8"
        if path == "/atom.xml":
            return self.render_atom(), "application/atom+xml; charset=utf-8"
        if path == "/sitemap_index.xml":
            return self.render_index(), xml
        if path == "/news-sitemap.xml":
            return self.render_news_sitemap(), xml
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] == "sitemaps":
            if parts[2] == "index.xml.gz":
                body = self.render_month_index(parts[1])
            elif parts[2].startswith("part-") and parts[2].endswith(".xml.gz") and parts[2][5:-7].isdigit():
                body = self.render_urlset(parts[1], int(parts[2][5:-7]))
            else:
                body = None
            return None if body is None else (body, "application/gzip")
        if len(parts) == 2 and parts[0] == "news" and parts[1].endswith(".html") and parts[1][:-5].isdigit():
            index = int(parts[1][:-5])
            if 0 <= index < len(self.pages):
                return self.render_page(self.pages[index]), html_type
        return None

    def _handler_class(self):
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # keep test output clean
                return

            def do_GET(self):
                at = time.monotonic()
                path = urlsplit(self.path).path
                with site._lock:
                    site.requests.append(SiteRequest(at, path, self.headers.get("User-Agent", "")))
                    retry_after = site._rate_limit.pop(path, None)
                if retry_after is not None:
                    self._send(429, b"slow down", "text/plain", {"Retry-After": retry_after})
                    return
                found = site.route(path)
                if found is None:
                    self._send(404, b"not found", "text/plain")
                    return
                self._send(200, *found)

            def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a loopback news site with robots.txt and sitemaps.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args(argv)
    with NewsSite(args.host, args.port, pages=args.pages) as site:
        print(f"news site on {site.url}: {len(site.pages)} pages; Ctrl-C stops it", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
