"""Feeds and pages written to break article identity and feed text, served on loopback.

Each case is a small set of routes on one or two ``RouteServer``s (two ports
are two hosts: ``127.0.0.1:A`` and ``127.0.0.1:B``); ``expected`` says what a
correct run writes for it. The text is our own.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from tests.route_server import RouteServer

NOW = datetime.now(timezone.utc).replace(microsecond=0)
RSS_TYPE = "application/rss+xml; charset=utf-8"

SENTENCES = [
    "أعلنت الحكومة اليوم عن خطة جديدة لدعم المزارعين في المناطق الجنوبية",
    "قال وزير الخارجية إن المحادثات مع الجانب الآخر كانت صريحة ومثمرة",
    "افتتح رئيس البلدية مكتبة عامة جديدة في وسط المدينة بحضور عدد من الكتاب",
    "ارتفعت أسعار الخضروات في الأسواق المحلية بسبب موجة البرد الأخيرة",
    "أكدت وزارة الصحة أن حملة التلقيح ستشمل جميع المدارس خلال الشهر المقبل",
]


def sentence(n: int) -> str:
    """A distinct Arabic sentence for item ``n`` (the number keeps texts apart)."""
    return f"{SENTENCES[n % len(SENTENCES)]} وذلك في البيان رقم {n} الصادر عن المكتب الإعلامي."


def rss(items: list[str], title: str = "جريدة الاختبار", channel_attrs: str = "", namespaces: str = "",
        prolog: str | None = "utf-8") -> str:
    declaration = f'<?xml version="1.0" encoding="{prolog}"?>' if prolog else '<?xml version="1.0"?>'
    return (f'{declaration}<rss version="2.0"{namespaces}><channel{channel_attrs}>'
            f"<title>{html.escape(title)}</title>{''.join(items)}</channel></rss>")


def item(title: str | None = None, link: str | None = None, guid: str | None = None, description: str | None = None,
         published: datetime | None = None, extra: str = "", attrs: str = "", guid_attrs: str = "") -> str:
    parts = [f"<item{attrs}>"]
    if title is not None:
        parts.append(f"<title>{html.escape(title, quote=False)}</title>")
    if link is not None:
        parts.append(f"<link>{html.escape(link)}</link>")
    if guid is not None:
        parts.append(f"<guid{guid_attrs}>{html.escape(guid)}</guid>")
    if published is not None:
        parts.append(f"<pubDate>{format_datetime(published)}</pubDate>")
    if description is not None:
        parts.append(f"<description>{html.escape(description, quote=False)}</description>")
    parts.append(extra + "</item>")
    return "".join(parts)


def page(title: str, body: str, charset: str | None = "utf-8") -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return (f'<!DOCTYPE html><html lang="ar" dir="rtl"><head>{meta}<title>{html.escape(title)}</title></head>'
            f'<body><nav><a href="/">الرئيسية</a></nav><article><h1>{html.escape(title)}</h1>'
            f"<p>{html.escape(body)}</p><p>{html.escape(SENTENCES[0])} وتفاصيل أخرى تنشر لاحقا.</p>"
            "</article><footer>جميع الحقوق محفوظة</footer></body></html>")


@dataclass
class Case:
    """What a correct run writes for one case's feeds: rows by feed URL."""

    name: str
    feeds: list[str] = field(default_factory=list)
    expect: dict[str, object] = field(default_factory=dict)


# --- the cases -----------------------------------------------------------------------


def no_links(a: RouteServer) -> Case:
    """Three items without <link> (GUIDs only) and one with neither link nor GUID."""
    items = [item(title=f"خبر بلا رابط {i}", guid=f"n-{i}", description=sentence(100 + i), published=NOW - timedelta(hours=i))
             for i in range(3)]
    items.append(item(title="خبر بلا رابط ولا معرف", description=sentence(104), published=NOW))
    feed = a.set("/nolink/rss.xml", rss(items).encode(), RSS_TYPE)
    return Case("no_links", [feed], {"rows": 4, "texts": {sentence(100 + i) for i in range(5) if i != 3}})


def guid_only_two_hosts(a: RouteServer, b: RouteServer) -> Case:
    """The same short GUID (isPermaLink by default) and no link, on two hosts."""
    feeds = [
        a.set("/guid/rss.xml", rss([item(title="خبر المنفذ الأول", guid="1001", description=sentence(200))]).encode(), RSS_TYPE),
        b.set("/guid/rss.xml", rss([item(title="خبر المنفذ الثاني", guid="1001", description=sentence(201))]).encode(), RSS_TYPE),
    ]
    return Case("guid_only", feeds, {"texts": {sentence(200), sentence(201)}})


def relative_links(a: RouteServer, b: RouteServer) -> Case:
    """/news/1 on two outlets, and a link relative to an item's xml:base."""
    a.set("/news/1", page("خبر أ", sentence(300)).encode())
    a.set("/sec/2.html", page("خبر ب", sentence(301)).encode())
    b.set("/news/1", page("خبر ج", sentence(302)).encode())
    feeds = [
        a.set("/rel/rss.xml", rss([
            item(title="خبر أ", link="/news/1", guid="r-1", description="ملخص", published=NOW),
            item(title="خبر ب", link="2.html", guid="r-2", description="ملخص", published=NOW, attrs=' xml:base="/sec/"'),
        ]).encode(), RSS_TYPE),
        b.set("/rel/rss.xml", rss([item(title="خبر ج", link="/news/1", guid="r-1", description="ملخص", published=NOW)]).encode(),
              RSS_TYPE),
    ]
    pages = {a.url + "/news/1": sentence(300), a.url + "/sec/2.html": sentence(301), b.url + "/news/1": sentence(302)}
    return Case("relative", feeds, {"pages": pages})


def backdated_copy(a: RouteServer, b: RouteServer) -> Case:
    """A wire story, and a copy of it on another host dated 1 January 1970."""
    original = a.set("/wire/1", page("برقية", sentence(400)).encode())
    copy = b.set("/copy/1", page("برقية منقولة", sentence(400)).encode())
    feeds = [
        a.set("/wire/rss.xml", rss([item(title="برقية", link="/wire/1", guid="w-1", published=NOW - timedelta(hours=2))]).encode(),
              RSS_TYPE),
        b.set("/copy/rss.xml", rss([item(title="برقية منقولة", link="/copy/1", guid="c-1",
                                         published=datetime(1970, 1, 1, tzinfo=timezone.utc))]).encode(), RSS_TYPE),
    ]
    return Case("backdated", feeds, {"original": original, "copy": copy})


def entities_and_brackets(a: RouteServer) -> Case:
    """Double-escaped entities in RSS titles and a literal <blink> in an Atom text title."""
    rss_items = [item(title="Q&amp;A: &quot;الخارجية&quot; ترد على أسئلة الصحفيين", guid="e-1", description=sentence(500))]
    atom = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>مجلة التقنية</title>'
        "<id>tag:tech.example,2026:feed</id><entry><id>tag:tech.example,2026:1</id>"
        '<title type="text">تاريخ الوسم &lt;blink&gt; في متصفحات الويب</title>'
        f"<updated>{NOW.isoformat()}</updated><summary type=\"text\">{html.escape(sentence(501))} &amp;amp; المزيد</summary>"
        "</entry></feed>"
    )
    feeds = [a.set("/entities/rss.xml", rss(rss_items).encode(), RSS_TYPE),
             a.set("/entities/atom.xml", atom.encode(), "application/atom+xml; charset=utf-8")]
    titles = {'Q&A: "الخارجية" ترد على أسئلة الصحفيين', "تاريخ الوسم <blink> في متصفحات الويب"}
    return Case("entities", feeds, {"titles": titles, "summary": f"{sentence(501)} & المزيد"})


def created_dates(a: RouteServer) -> Case:
    """Items dated only by dcterms:created (RSS) and <created> (Atom 0.3)."""
    created = (NOW - timedelta(days=2)).replace(minute=0, second=0)
    ns = ' xmlns:dcterms="http://purl.org/dc/terms/"'
    rss_feed = rss([item(title="خبر قديم", guid="d-1", description=sentence(600),
                         extra=f"<dcterms:created>{created.isoformat()}</dcterms:created>")], namespaces=ns)
    atom03 = (
        '<?xml version="1.0" encoding="utf-8"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>وكالة</title>'
        f'<entry><title>قمة</title><id>tag:x,2026:d2</id><summary>{html.escape(sentence(601))}</summary>'
        f"<created>{(created - timedelta(hours=5)).isoformat()}</created></entry></feed>"
    )
    feeds = [a.set("/created/rss.xml", rss_feed.encode(), RSS_TYPE),
             a.set("/created/atom.xml", atom03.encode(), "application/atom+xml; charset=utf-8")]
    return Case("created", feeds, {"dates": {sentence(600): created, sentence(601): created - timedelta(hours=5)}})


FEED_PROLOGS = [None, "utf-8", "iso-8859-6", "windows-1256", "iso-8859-1"]
FEED_CONTENT_TYPES = [
    None, "application/rss+xml", "text/xml", "application/xml; charset=utf-8",
    "application/rss+xml; charset=iso-8859-6", "application/rss+xml; charset=windows-1256",
    "text/xml; charset=iso-8859-1", "text/xml; charset=us-ascii", "application/rss+xml; charset=iso-8859-2",
]
PAGE_METAS = [None, "utf-8", "iso-8859-6", "iso-8859-1"]
PAGE_CONTENT_TYPES = [None, "text/html", "text/html; charset=iso-8859-6", "text/html; charset=iso-8859-1"]
BYTES = ["iso-8859-6", "windows-1256", "utf-8"]


def charset_matrix(a: RouteServer) -> Case:
    """Arabic feeds and pages in three encodings behind every XML declaration/meta x Content-Type."""
    feeds, titles, pages = [], {}, {}
    n = 700
    for encoding in BYTES:
        for i, prolog in enumerate(FEED_PROLOGS):
            for j, content_type in enumerate(FEED_CONTENT_TYPES):
                n += 1
                title = f"نشرة الأخبار رقم {n}"
                body = rss([item(title=title, guid=f"m-{n}", description=sentence(n), published=NOW)],
                           title="جريدة الجنوب", prolog=prolog)
                feeds.append(a.set(f"/matrix/{encoding}/{i}-{j}.xml", body.encode(encoding), content_type))
                titles[title] = sentence(n)
    page_items = []
    for encoding in BYTES:
        for i, meta in enumerate(PAGE_METAS):
            for j, content_type in enumerate(PAGE_CONTENT_TYPES):
                n += 1
                url = a.set(f"/matrix-pages/{encoding}/{i}-{j}.html", page(f"صفحة {n}", sentence(n), meta).encode(encoding),
                            content_type)
                pages[url] = sentence(n)
                page_items.append(item(title=f"صفحة {n}", link=url, guid=f"p-{n}", description="ملخص قصير", published=NOW))
    feeds.append(a.set("/matrix-pages/rss.xml", rss(page_items).encode(), RSS_TYPE))
    return Case("charset", feeds, {"titles": titles, "pages": pages})


def invalid_byte(a: RouteServer) -> Case:
    """A UTF-8 feed, labelled so, with one invalid byte in one item's description."""
    items = [item(title=f"خبر سليم {i}", guid=f"b-{i}", description=sentence(900 + i), published=NOW) for i in range(3)]
    body = rss(items).encode("utf-8")
    target = sentence(901).encode()
    body = body.replace(target, target.replace("المكتب".encode(), b"\xff" + "المكتب".encode()))
    feed = a.set("/badbyte/rss.xml", body, RSS_TYPE)
    expected = {sentence(900), sentence(902), sentence(901).replace("المكتب", "\ufffdالمكتب")}
    return Case("invalid_byte", [feed], {"texts": expected})


def all_cases(a: RouteServer, b: RouteServer) -> dict[str, Case]:
    cases = [no_links(a), guid_only_two_hosts(a, b), relative_links(a, b), backdated_copy(a, b),
             entities_and_brackets(a), created_dates(a), charset_matrix(a), invalid_byte(a)]
    return {case.name: case for case in cases}
