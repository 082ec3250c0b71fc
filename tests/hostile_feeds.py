"""Hypothesis strategies for hostile RSS/Atom feeds and article pages, and a loopback server for them.

A generated ``Site`` is a set of feeds and pages written by a careless or hostile
publisher: odd encodings and wrong charset headers, links to inward addresses in
every notation and to malformed URLs, dates from year 1 to 9999, huge titles,
entities (declared, escaped, invalid character references), control and bidi
characters, CDATA that mentions ``<!ENTITY``. ``SiteServer`` serves a site on
127.0.0.1 only; ``{base}`` in a link is replaced by the server's own address.
"""
from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from hypothesis import strategies as st

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئةى"
SPECIALS = [
    "&amp;", "&lt;", "&gt;", "&quot;", "&nbsp;", "&bogus;", "&#xD800;", "&#55296;", "&#0;", "&#x1;", "&#x110000;",
    "&#99999999999;", "&#x202E;", "\u202e", "\u200f", "\u2066", "\u061c", "\ufeff", "\x00", "\x01", "\x07", "\x1b",
    "\x7f", "\x85", "]]>", "<![CDATA[", "<!ENTITY x 'y'>", "<b>", "</b>", "<script>alert(1)</script>", "<p>",
    "\U0001f600", "\r\n", "\t", "ﷺ", "ـــ", "٢٠٢٦",
]
HOSTILE_LINKS = [
    "{base}/page/{n}",
    "{base}/page/{n}?utm_source=rss#frag",
    "{base}/missing/{n}",
    "http://127.0.0.1:99999/x",
    "http://[::1/x",
    "http://127.0.0.1:{port}\\@1.1.1.1/page/{n}",
    "http://169.254.169.254/latest/meta-data/",
    "http://2130706433:{port}/page/{n}",
    "http://0x7f.1:{port}/page/{n}",
    "http://[::ffff:127.0.0.1]:{port}/page/{n}",
    "http://user:pw@127.0.0.1:{port}/page/{n}",
    "javascript:alert(1)",
    "file:///etc/passwd",
    "/relative/{n}",
    "page-{n}.html",
    "",
    "http://a" + "a" * 9000 + ".example/",
    "http://xn--mgbh0fb.example/خبر/{n}",
    "http://news.example/\x00/{n}",
    "https://news.example/a b/{n}",
]
DATES = [
    "Tue, 24 Nov 2026 10:30:00 +0300",
    "2026-11-24T08:00:00Z",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "Wed, 31 Dec 1969 23:59:59 GMT",
    "1899-12-31",
    "2100-01-01T00:00:00Z",
    "not a date",
    "",
    "0",
    "2026-02-30T25:61:61Z",
    "Sun, 06 Nov 1994 08:49:37 GMT",
]
ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "windows-1256", "iso-8859-1", "utf-8-sig"]
CONTENT_TYPES = [None, "application/rss+xml", "text/xml; charset=iso-8859-1", "application/xml; charset=utf-8",
                 "text/html", "application/atom+xml; charset=windows-1256"]

fragment = st.one_of(st.text(alphabet=ARABIC + " .،؟", min_size=1, max_size=30), st.sampled_from(SPECIALS),
                     st.text(max_size=8))
field_text = st.lists(fragment, max_size=6).map("".join)


@st.composite
def long_or_short(draw, text=field_text):
    value = draw(text)
    if draw(st.integers(0, 9)) == 0:  # now and then, far past the caps
        value = (value or "خبر ") * draw(st.integers(200, 1200))
    return value


@st.composite
def placed(draw, value):
    """The way a value lands in XML: escaped, raw (maybe breaking the document) or in CDATA."""
    how = draw(st.sampled_from(["escaped", "escaped", "raw", "cdata"]))
    if how == "escaped":
        return html.escape(value, quote=False)
    if how == "cdata":
        return f"<![CDATA[{value}]]>"
    return value


@dataclass
class Entry:
    title: str | None
    link: str | None
    guid: str | None
    date: str | None
    summary: str | None
    content: str | None


@st.composite
def entries(draw):
    def maybe(strategy):
        return draw(st.one_of(st.none(), strategy))

    return Entry(
        title=maybe(long_or_short().flatmap(placed)),
        link=maybe(st.sampled_from(HOSTILE_LINKS)),
        guid=maybe(st.one_of(st.sampled_from(HOSTILE_LINKS), field_text.map(html.escape))),
        date=maybe(st.sampled_from(DATES)),
        summary=maybe(long_or_short(st.lists(fragment, min_size=1, max_size=12).map("".join)).flatmap(placed)),
        content=maybe(long_or_short(st.lists(fragment, min_size=1, max_size=12).map("".join)).flatmap(placed)),
    )


@dataclass
class Feed:
    kind: str  # rss or atom
    encoding: str
    declare_encoding: bool
    content_type: str | None
    doctype: str
    title: str
    items: list[Entry]

    def render(self) -> bytes:
        decl = f'<?xml version="1.0" encoding="{self.encoding.replace("-sig", "")}"?>' if self.declare_encoding \
            else '<?xml version="1.0"?>'
        parts = [decl, self.doctype]
        if self.kind == "rss":
            parts.append(f'<rss version="2.0"><channel><title>{self.title}</title><link>{{base}}/</link>')
            for e in self.items:
                parts.append("<item>")
                parts += _tag("title", e.title) + _tag("link", e.link and html.escape(e.link))
                parts += _tag("guid", e.guid) + _tag("pubDate", e.date) + _tag("description", e.summary)
                parts += _tag("content:encoded", e.content)
                parts.append("</item>")
            parts.append("</channel></rss>")
            parts[2] = parts[2].replace("<rss ", '<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" ')
        else:
            parts.append(f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{self.title}</title>'
                         "<id>tag:fuzz,2026:feed</id><updated>2026-11-24T08:00:00Z</updated>")
            for e in self.items:
                parts.append("<entry>")
                parts += _tag("title", e.title) + _tag("id", e.guid) + _tag("published", e.date)
                if e.link is not None:
                    parts.append(f'<link rel="alternate" href="{html.escape(e.link, quote=True)}"/>')
                parts += _tag("summary", e.summary)
                if e.content is not None:
                    parts.append(f'<content type="html">{e.content}</content>')
                parts.append("</entry>")
            parts.append("</feed>")
        return "".join(parts).encode(self.encoding, errors="xmlcharrefreplace")


def _tag(name: str, value: str | None) -> list[str]:
    return [] if value is None else [f"<{name}>{value}</{name}>"]


DOCTYPES = ["", "", "", '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>',
            '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
            '"http://my.netscape.com/publish/formats/rss-0.91.dtd">']


@st.composite
def feeds(draw):
    return Feed(
        kind=draw(st.sampled_from(["rss", "atom"])),
        encoding=draw(st.sampled_from(ENCODINGS)),
        declare_encoding=draw(st.booleans()),
        content_type=draw(st.sampled_from(CONTENT_TYPES)),
        doctype=draw(st.sampled_from(DOCTYPES)),
        title=draw(field_text.flatmap(placed)),
        items=draw(st.lists(entries(), max_size=4)),
    )


PAGE_BODY = "<p>أعلنت الوزارة اليوم عن خطة جديدة لدعم المدارس في المناطق الريفية، وقال المتحدث إن العمل يبدأ قريبا.</p>"


@st.composite
def pages(draw):
    """(body, content type) of an article page."""
    kind = draw(st.sampled_from(["article", "article", "empty", "binary", "hostile", "huge_title"]))
    if kind == "empty":
        return b"", "text/html"
    if kind == "binary":
        return draw(st.binary(max_size=200)), draw(st.sampled_from(["text/html", "application/octet-stream"]))
    title = draw(field_text) if kind != "huge_title" else "عنوان " * 50_000
    extra = html.escape(draw(field_text)) if kind == "article" else draw(field_text)
    body = (f'<!doctype html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{title}</title>'
            f'<meta property="article:published_time" content="{draw(st.sampled_from(DATES))}"></head>'
            f"<body><article><h1>{title}</h1>{PAGE_BODY * 3}<p>{extra}</p></article></body></html>")
    encoding = draw(st.sampled_from(["utf-8", "windows-1256"]))
    return body.encode(encoding, errors="xmlcharrefreplace"), f"text/html; charset={draw(st.sampled_from(['utf-8', 'windows-1256', 'iso-8859-1']))}"


@dataclass
class Site:
    feeds: list[Feed]
    pages: list[tuple[bytes, str]] = field(default_factory=list)


@st.composite
def sites(draw, max_feeds: int = 3):
    return Site(feeds=draw(st.lists(feeds(), min_size=1, max_size=max_feeds)), pages=draw(st.lists(pages(), max_size=4)))


class SiteServer:
    """Serves a Site on 127.0.0.1: /feed/N for feeds, /page/N for pages; everything else 404."""

    def __init__(self, site: Site):
        self.site = site
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                body, content_type = server.route(urlsplit(self.path).path)
                self.send_response(200 if body is not None else 404)
                if content_type:
                    self.send_header("Content-Type", content_type)
                body = body or b""
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def feed_urls(self) -> list[str]:
        return [f"{self.base}/feed/{i}" for i in range(len(self.site.feeds))]

    def _fill(self, body: bytes) -> bytes:
        """{base} and {port} in a feed become this server's address (in any encoding of the feed)."""
        for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
            for key, value in (("{base}", self.base), ("{port}", str(self.port))):
                body = body.replace(key.encode(encoding), value.encode(encoding))
        for n in range(10):
            for encoding in ("utf-8", "utf-16-le", "utf-16-be"):
                body = body.replace("{n}".encode(encoding), str(n).encode(encoding), 1)
        return body

    def route(self, path: str) -> tuple[bytes | None, str | None]:
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[1].isdigit():
            n = int(parts[1])
            if parts[0] == "feed" and n < len(self.site.feeds):
                feed = self.site.feeds[n]
                return self._fill(feed.render()), feed.content_type
            if parts[0] == "page" and self.site.pages:
                return self.site.pages[n % len(self.site.pages)]
        return None, "text/plain"

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
