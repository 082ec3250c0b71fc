"""A loopback news server over the bundled corpus: feeds, article pages, faults.

It behaves like three real outlets: an RSS 2.0 daily (``wasat``), an Atom wire
agency carrying full text (``anba``) and a regional paper whose feed and pages
are served in windows-1256 (``sahil``), with a section feed that repeats some
of its items under other links. Pages wrap the article in navigation, a
"شاهد أيضاً" line, an "أخبار ذات صلة" block, comments and a footer, as real
pages do. With ``faults=True`` it also serves the bad feeds and pages the
pipeline must survive; ``fail_feed``/``restore_feed`` take an outlet's feed down
and back while a job runs. It only ever binds 127.0.0.1.

    python -m akhbar.sample.server --port 8765      # then open /feeds.txt
"""
from __future__ import annotations

import hashlib
import html
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from akhbar.sample.corpus import SampleArticle, load_corpus, load_late
from akhbar.sample.faults import handle_fault

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Outlet:
    key: str
    name: str
    feed_path: str
    feed_format: str  # "rss" or "atom"
    encoding: str
    home_tz_hours: int  # pubDate offset the outlet writes its times in


OUTLETS = {
    "wasat": Outlet("wasat", "الوسط نيوز", "/wasat/rss.xml", "rss", "utf-8", 3),
    "anba": Outlet("anba", "وكالة أنباء المشرق", "/anba/atom.xml", "atom", "utf-8", 2),
    "sahil": Outlet("sahil", "الساحل اليوم", "/sahil/feed.rss", "rss", "windows-1256", 1),
}
SAHIL_SECTION_FEED = "/sahil/politics.rss"
FAULT_FEEDS = {
    "/bad/broken.xml": "broken XML",
    "/bad/billion-laughs.xml": "XML entity expansion",
    "/bad/wrong-charset.xml": "windows-1256 bytes served as iso-8859-1",
    "/bad/english.xml": "a feed in English",
    "/bad/pages.xml": "items whose pages fail (404, 500, timeout, 20 MB, gzip bomb, redirect loop)",
    "/bad/empty-item.xml": "an item with no text and a dead link",
    "/bad/hostile.xml": "items with hostile links and dates (cloud metadata, a backslash trick, a bad port, year 1, "
                        "a huge title, a CDATA mention of <!ENTITY)",
    "/fault/404": "a dead feed",
    "/fault/500": "a failing feed",
}


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


class SampleNewsServer:
    """Serve the corpus on 127.0.0.1; ``publish_late()`` adds items while a job runs."""

    def __init__(self, port: int = 0, faults: bool = False, articles: list[SampleArticle] | None = None):
        self._articles = list(articles if articles is not None else load_corpus())
        self._late = load_late()
        self._faults = faults
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((HOST, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self._outages: dict[str, str] = {}  # feed path -> how it fails, until restored
        self.requests: list[str] = []

    # -- lifecycle -------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    def start(self) -> SampleNewsServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="sample-news", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SampleNewsServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- content ----------------------------------------------------------
    @property
    def articles(self) -> list[SampleArticle]:
        with self._lock:
            return list(self._articles)

    def feed_urls(self, faults: bool | None = None) -> list[str]:
        urls = [self.url + o.feed_path for o in OUTLETS.values()] + [self.url + SAHIL_SECTION_FEED]
        if self._faults if faults is None else faults:
            urls += [self.url + path for path in FAULT_FEEDS]
        return urls

    def write_feed_list(self, path, faults: bool | None = None) -> None:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("# akhbar sample feeds on the loopback server\n")
            handle.write("\n".join(self.feed_urls(faults)) + "\n")

    def publish_late(self, count: int = 1) -> list[SampleArticle]:
        """Move up to ``count`` late articles into their outlet's feed, published now."""
        now = datetime.now(timezone.utc).replace(microsecond=0)
        with self._lock:
            moved = [replace(a, published=now) for a in self._late[:count]]
            self._late = self._late[count:]
            self._articles.extend(moved)
        return moved

    OUTAGE_KINDS = ("500", "broken")

    def fail_feed(self, outlet: str, kind: str = "broken") -> str:
        """Make an outlet's feed fail until ``restore_feed``: HTTP 500, or a body cut off before its
        first item that keeps the whole feed's ETag (as a cache handing out a cut-off copy does)."""
        if kind not in self.OUTAGE_KINDS:
            raise ValueError(f"outage kind must be one of {self.OUTAGE_KINDS}, not {kind!r}")
        path = OUTLETS[outlet].feed_path
        with self._lock:
            self._outages[path] = kind
        return self.url + path

    def restore_feed(self, outlet: str) -> None:
        with self._lock:
            self._outages.pop(OUTLETS[outlet].feed_path, None)

    def page_path(self, article: SampleArticle, section: str = "news") -> str:
        return f"/{article.outlet}/{section}/{article.slug}.html"

    def page_url(self, article: SampleArticle, section: str = "news") -> str:
        return self.url + self.page_path(article, section)

    def listed_urls(self, article: SampleArticle) -> list[str]:
        """Every link the feeds give for ``article``: its page, and its section-feed alias if it has one."""
        urls = [self.page_url(article)]
        if article.outlet == "sahil" and _in_politics_section(article):
            urls.append(self.page_url(article, "politics"))
        return urls

    def _by_outlet(self, outlet: str) -> list[SampleArticle]:
        items = [a for a in self.articles if a.outlet == outlet]
        return sorted(items, key=lambda a: a.published, reverse=True)

    def _find(self, outlet: str, slug: str) -> SampleArticle | None:
        for article in self.articles:
            if article.outlet == outlet and article.slug == slug:
                return article
        return None

    # -- rendering --------------------------------------------------------
    def _item_link(self, article: SampleArticle, index: int, section: str = "news") -> str:
        link = self.page_url(article, section)
        # Real feeds add tracking parameters; canonical URLs must strip them.
        return link + ("?utm_source=rss&utm_medium=feed" if index % 3 == 0 else "")

    def render_feed(self, outlet: Outlet, section: bool = False) -> bytes:
        items = self._by_outlet(outlet.key)
        if section:
            items = [a for a in items if _in_politics_section(a)]
        if outlet.feed_format == "atom":
            return self._render_atom(outlet, items).encode(outlet.encoding)
        return self._render_rss(outlet, items, section).encode(outlet.encoding, errors="xmlcharrefreplace")

    def _render_rss(self, outlet: Outlet, items: list[SampleArticle], section: bool) -> str:
        parts = [
            f'<?xml version="1.0" encoding="{outlet.encoding}"?>\n<rss version="2.0"><channel>',
            f"<title>{_esc(outlet.name)}</title><link>{self.url}/{outlet.key}/</link>",
            "<description>آخر الأخبار</description><language>ar</language>",
        ]
        for i, article in enumerate(items):
            local = article.published.astimezone(timezone(_hours(outlet.home_tz_hours)))
            link = self._item_link(article, i, "politics" if section else "news")
            parts.append(
                "<item>"
                f"<title>{_esc(article.title)}</title><link>{_esc(link)}</link>"
                f'<guid isPermaLink="false">{outlet.key}-{article.slug}</guid>'
                f"<pubDate>{format_datetime(local)}</pubDate>"
                f"<description>{_esc(article.summary)}</description>"
                "</item>"
            )
        parts.append("</channel></rss>\n")
        return "".join(parts)

    def _render_atom(self, outlet: Outlet, items: list[SampleArticle]) -> str:
        updated = items[0].published.isoformat() if items else "2026-01-01T00:00:00+00:00"
        parts = [
            f'<?xml version="1.0" encoding="{outlet.encoding}"?>\n',
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">',
            f"<title>{_esc(outlet.name)}</title><id>tag:{outlet.key}.example,2026:feed</id>",
            f'<updated>{updated}</updated><link rel="self" href="{self.url}{outlet.feed_path}"/>',
        ]
        for i, article in enumerate(items):
            local = article.published.astimezone(timezone(_hours(outlet.home_tz_hours)))
            body = "".join(f"<p>{_esc(p)}</p>" for p in article.body)
            parts.append(
                "<entry>"
                f"<title>{_esc(article.title)}</title>"
                f'<link rel="alternate" href="{_esc(self._item_link(article, i))}"/>'
                f"<id>tag:{outlet.key}.example,2026:{article.slug}</id>"
                f"<published>{local.isoformat()}</published><updated>{local.isoformat()}</updated>"
                f"<summary>{_esc(article.summary)}</summary>"
                f'<content type="html">{_esc(body)}</content>'
                "</entry>"
            )
        parts.append("</feed>\n")
        return "".join(parts)

    def render_page(self, article: SampleArticle) -> bytes:
        outlet = OUTLETS[article.outlet]
        others = [a for a in self._by_outlet(article.outlet) if a.id != article.id]
        digest = int(hashlib.sha1(article.id.encode()).hexdigest(), 16)
        related = [others[(digest + k * 7) % len(others)] for k in range(3)] if len(others) >= 3 else others
        see_also = related[0] if related else None
        paragraphs = [f"<p>{_esc(p)}</p>" for p in article.body]
        if see_also is not None:
            line = (
                f'<p class="see-also"><strong>شاهد أيضاً:</strong> '
                f'<a href="{self.page_path(see_also)}">{_esc(see_also.title)}</a></p>'
            )
            paragraphs.insert(min(2, len(paragraphs)), line)
        related_items = "".join(f'<li><a href="{self.page_path(a)}">{_esc(a.title)}</a></li>' for a in related)
        most_read = "".join(f'<li><a href="{self.page_path(a)}">{_esc(a.title)}</a></li>' for a in others[3:7])
        stamp = article.published.astimezone(timezone(_hours(outlet.home_tz_hours)))
        page = f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="{outlet.encoding}">
<title>{_esc(article.title)} | {_esc(outlet.name)}</title>
<meta property="og:title" content="{_esc(article.title)}">
<meta property="article:published_time" content="{stamp.isoformat()}">
</head><body>
<header class="site-header"><div class="logo"><a href="/">{_esc(outlet.name)}</a></div>
<nav class="main-menu"><ul><li><a href="/">الرئيسية</a></li><li><a href="/politics">سياسة</a></li>
<li><a href="/economy">اقتصاد</a></li><li><a href="/world">العالم</a></li><li><a href="/sport">رياضة</a></li>
<li><a href="/culture">ثقافة</a></li><li><a href="/contact">اتصل بنا</a></li></ul></nav>
<div class="ticker">عاجل: تابعوا آخر التطورات لحظة بلحظة على موقعنا وتطبيقنا</div></header>
<main><article class="post">
<h1 class="post-title">{_esc(article.title)}</h1>
<div class="post-meta">نشر في {stamp.strftime("%Y/%m/%d %H:%M")} | {_esc(outlet.name)}</div>
<div class="post-content">
{chr(10).join(paragraphs)}
</div>
<div class="share">شارك على: فيسبوك | إكس | واتساب | تلغرام</div>
<section class="related-news"><h3>أخبار ذات صلة</h3><ul>{related_items}</ul></section>
<section class="comments"><h3>أضف تعليقاً</h3>
<form><label>الاسم</label><input name="name"><label>التعليق</label><textarea></textarea>
<button>إرسال التعليق</button></form></section>
</article>
<aside class="sidebar"><h3>الأكثر قراءة</h3><ul>{most_read}</ul></aside></main>
<footer>جميع الحقوق محفوظة © 2026 {_esc(outlet.name)} | سياسة الخصوصية | من نحن</footer>
</body></html>
"""
        return page.encode(outlet.encoding, errors="xmlcharrefreplace")

    # -- fault feeds ------------------------------------------------------
    def render_fault_feed(self, path: str) -> tuple[bytes, str] | None:
        rss = "application/rss+xml; charset=utf-8"
        if path == "/bad/broken.xml":
            return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>مكسور<item><title>".encode(), rss
        if path == "/bad/billion-laughs.xml":
            lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
            body = (
                '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">' + lol + "]>"
                '<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
            )
            return body.encode(), rss
        if path == "/bad/wrong-charset.xml":
            article = self._by_outlet("wasat")[0]
            body = (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>الساحل اليوم</title>'
                f"<item><title>{_esc(article.title)}</title><link>{self.page_url(article)}</link>"
                f"<guid>wrong-charset-{article.slug}</guid><description>{_esc(article.summary)}</description></item>"
                "</channel></rss>"
            )
            return body.encode("cp1256", errors="xmlcharrefreplace"), "application/rss+xml; charset=iso-8859-1"
        if path == "/bad/english.xml":
            body = (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>Daily Wire</title>'
                f"<item><title>Markets close higher</title><link>{self.url}/fault/404?en=1</link>"
                "<guid>en-1</guid><description>Stocks rose on Monday as investors weighed new data "
                "on inflation and jobs across major economies.</description></item></channel></rss>"
            )
            return body.encode(), rss
        if path == "/bad/pages.xml":
            faults = ["404", "500", "slow?seconds=30", "huge?mb=20", "gzip-bomb?mb=50", "redirect-loop"]
            donors = self._by_outlet("wasat")[1 : 1 + len(faults)]
            items = "".join(
                f"<item><title>{_esc(a.title)}</title><link>{self.url}/fault/{_esc(f)}</link>"
                f"<guid>bad-page-{k}</guid><description>{_esc(a.summary)}</description></item>"
                for k, (f, a) in enumerate(zip(faults, donors))
            )
            body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>صفحات معطوبة</title>{items}</channel></rss>'
            return body.encode(), rss
        if path == "/bad/hostile.xml":
            return self.render_hostile_feed(), rss
        if path == "/bad/empty-item.xml":
            body = (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>خبر فارغ</title>'
                f"<item><link>{self.url}/fault/404?empty=1</link><guid>empty-1</guid></item></channel></rss>"
            )
            return body.encode(), rss
        return None

    def render_hostile_feed(self) -> bytes:
        """What the guard and the field rules are for: each item shows one of them in the output."""
        port = self._httpd.server_address[1]
        items = [
            # The cloud metadata address is always refused: the article keeps the feed's text.
            ("metadata", "http://169.254.169.254/latest/meta-data/", "Tue, 24 Nov 2026 09:00:00 GMT",
             "حديقة عامة جديدة", "أعلنت بلدية المدينة افتتاح حديقة عامة جديدة على الواجهة البحرية بعد أشهر من "
                                "أعمال التأهيل."),
            # Two parsers once read this host differently (127.0.0.1 or 1.1.1.1): refused as ambiguous.
            ("backslash", f"http://127.0.0.1:{port}\\@1.1.1.1/fault/404?secret=1", "Tue, 24 Nov 2026 09:10:00 GMT",
             "خط حافلات سريع", "قالت وزارة النقل إن خط الحافلات السريع سيبدأ العمل مطلع الشهر المقبل بعد اكتمال "
                              "التجارب."),
            # No such port: the item is a dead letter, the feed and the run go on.
            ("bad-port", "http://127.0.0.1:99999/news/trees.html", "Tue, 24 Nov 2026 09:20:00 GMT",
             "حملة تشجير", "أطلقت جمعية محلية حملة لتشجير الأحياء الشعبية بمشاركة مئات المتطوعين من طلاب المدارس."),
            # Year 1 cannot be a publication date: the fetch time is used (published_source=fetched_implausible).
            ("year-one", f"{self.url}/fault/404?archive=1", "Mon, 01 Jan 0001 00:00:00 GMT",
             "مخطوطات نادرة", "استعاد المتحف الوطني مخطوطات نادرة كانت قد فقدت قبل عقود، وستعرض للجمهور في قاعة "
                             "جديدة."),
            # Mentioning <!ENTITY in the text is not declaring one: the feed is read.
            ("cdata", f"{self.url}/fault/404?xml=1", "Tue, 24 Nov 2026 09:40:00 GMT", "ورشة للمبرمجين",
             "<![CDATA[شرح تقني: ملفات XML قد تحتوي على إعلان <!ENTITY لكن الخبر عن ورشة تدريبية للمبرمجين "
             "الشباب في المكتبة العامة.]]>"),
            # A title far past its cap is cut (and counted in fields_truncated).
            ("long-title", f"{self.url}/fault/404?long=1", "Tue, 24 Nov 2026 09:50:00 GMT",
             "عنوان طويل جدا " * 200, "نظمت الجامعة معرضا للكتاب العلمي شارك فيه باحثون من عدة دول عربية."),
        ]
        entries = "".join(
            f"<item><title>{_esc(title)}</title><link>{_esc(link)}</link><guid>hostile-{key}</guid>"
            f"<pubDate>{date}</pubDate><description>{summary if summary.startswith('<![CDATA[') else _esc(summary)}"
            "</description></item>"
            for key, link, date, title, summary in items
        )
        body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>روابط عدائية</title>{entries}</channel></rss>'
        return body.encode()

    # -- HTTP -------------------------------------------------------------
    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):  # keep test output clean
                return

            def do_GET(self):
                path = urlsplit(self.path).path
                with server._lock:
                    server.requests.append(self.path)
                if server._faults and handle_fault(self, self.path):
                    return
                body_type = server.route(path)
                if body_type is None:
                    self._send(404, b"not found", "text/plain; charset=utf-8")
                    return
                body, content_type = body_type
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                with server._lock:
                    outage = server._outages.get(path)
                if outage == "500":
                    self._send(500, b"internal error", "text/plain; charset=utf-8")
                    return
                if outage == "broken":  # cut off before the first item: no entries
                    cut = max(body.find(b"<item>"), body.find(b"<entry>"), 0)
                    self._send(200, body[:cut], content_type, etag)
                    return
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", None, etag)
                    return
                self._send(200, body, content_type, etag)

            def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None = None):
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

        return Handler

    def route(self, path: str) -> tuple[bytes, str] | None:
        """(body, content type) for a path, or None for 404."""
        if path == "/feeds.txt":
            return "\n".join(self.feed_urls()).encode(), "text/plain; charset=utf-8"
        for outlet in OUTLETS.values():
            if path == outlet.feed_path:
                kind = "atom+xml" if outlet.feed_format == "atom" else "rss+xml"
                return self.render_feed(outlet), f"application/{kind}; charset={outlet.encoding}"
        if path == SAHIL_SECTION_FEED:
            outlet = OUTLETS["sahil"]
            return self.render_feed(outlet, section=True), f"application/rss+xml; charset={outlet.encoding}"
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[0] in OUTLETS and parts[1] in ("news", "politics") and parts[2].endswith(".html"):
            article = self._find(parts[0], parts[2][: -len(".html")])
            if article is None:
                return None
            return self.render_page(article), f"text/html; charset={OUTLETS[parts[0]].encoding}"
        if self._faults:
            return self.render_fault_feed(path)
        return None


def _in_politics_section(article: SampleArticle) -> bool:
    return article.primary in {"POLITICS_GOVERNANCE", "DIPLOMACY", "STATEMENT", "PROTEST"}


def _hours(hours: int):
    from datetime import timedelta

    return timedelta(hours=hours)
