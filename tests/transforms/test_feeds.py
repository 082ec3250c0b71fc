import html
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akhbar.lib.feeds import (
    FeedError,
    FeedState,
    PollConfig,
    backoff_delay,
    declared_entity,
    entry_key,
    fragment_text,
    parse_feed,
)

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)

RSS = """<?xml version="1.0" encoding="{enc}"?>
<rss version="2.0"><channel><title>جريدة الاختبار</title>
<item><title>افتتاح معرض الكتاب في الرباط</title><link>https://news.example/a/1</link>
<guid isPermaLink="false">t-1</guid><pubDate>Tue, 24 Nov 2026 10:30:00 +0300</pubDate>
<description>&lt;p&gt;افتتح وزير الثقافة &lt;b&gt;معرض الكتاب&lt;/b&gt; بمشاركة مئتي دار نشر.&lt;/p&gt;</description></item>
<item><title>ارتفاع أسعار القمح</title><link>https://news.example/a/2</link><guid>t-2</guid></item>
</channel></rss>"""


def test_parse_rss_utf8_and_windows_1256_give_the_same_items():
    for enc in ("utf-8", "windows-1256"):
        parsed = parse_feed(RSS.format(enc=enc).encode(enc), "https://news.example/rss", None, NOW)
        assert parsed.outlet == "جريدة الاختبار"
        first, second = parsed.items
        assert first.title == "افتتاح معرض الكتاب في الرباط"
        assert first.summary == "افتتح وزير الثقافة معرض الكتاب بمشاركة مئتي دار نشر."
        assert first.published == datetime(2026, 11, 24, 7, 30, tzinfo=timezone.utc)
        assert first.guid == "t-1" and first.link == "https://news.example/a/1"
        assert second.published is None and second.summary is None


def test_wrong_declared_charset_is_repaired():
    body = RSS.replace('encoding="{enc}"', "").encode("cp1256")
    parsed = parse_feed(body, "https://news.example/rss", "application/rss+xml; charset=iso-8859-1", NOW)
    assert parsed.charset_repaired
    assert parsed.items[0].title == "افتتاح معرض الكتاب في الرباط"


def test_entity_declarations_are_refused_before_parsing():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><rss><channel><title>&b;</title></channel></rss>'
    with pytest.raises(FeedError) as info:
        parse_feed(bomb, "https://news.example/rss", None, NOW)
    assert info.value.kind == "xml_entities"


def test_broken_xml_and_non_feeds_are_errors():
    with pytest.raises(FeedError) as info:
        parse_feed(b'<?xml version="1.0"?><rss><channel><title>x<item><title>', "u", None, NOW)
    assert info.value.kind == "feed_parse"
    with pytest.raises(FeedError) as info:
        parse_feed(b"<html><body><p>not a feed</p></body></html>", "u", None, NOW)
    assert info.value.kind in ("feed_parse", "not_a_feed")


def test_atom_with_content():
    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
    <title>وكالة</title><id>tag:x,2026:f</id><updated>2026-11-24T08:00:00+02:00</updated>
    <entry><title>قمة ثلاثية</title><id>tag:x,2026:1</id><link href="https://x.example/1"/>
    <published>2026-11-24T08:00:00+02:00</published><summary>ملخص القمة</summary>
    <content type="html">&lt;p&gt;الفقرة الأولى&lt;/p&gt;&lt;p&gt;الفقرة الثانية&lt;/p&gt;</content></entry></feed>"""
    item = parse_feed(atom.encode(), "https://x.example/atom", None, NOW).items[0]
    assert item.content == "الفقرة الأولى\nالفقرة الثانية"
    assert item.summary == "ملخص القمة"
    assert item.published == datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
    assert entry_key(item) == "g:tag:x,2026:1"


def test_fragment_text_and_feed_state_memory():
    assert fragment_text("<p>سطر</p><p>آخر<br>ثالث</p>") == "سطر\nآخر\nثالث"
    assert fragment_text("   ") is None
    state = FeedState()
    for i in range(5):
        state.remember(f"k{i}", float(i), limit=3)
    assert list(state.seen) == ["k2", "k3", "k4"]


def test_backoff_grows_and_is_capped():
    config = PollConfig(interval_s=60, max_backoff_s=600)
    assert [backoff_delay(n, config).total_seconds() for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 600]


@pytest.mark.parametrize("name", ["cp1256", "windows-1256", "windows_1256", "ms-arab", "cp864"])
def test_shared_feeds_in_declared_arabic_encodings(name):
    """feedparser's own fixtures: the declared legacy encoding decides the title's character."""
    import ast
    import re

    from tests.shared_data import shared_data

    body = shared_data("feeds", f"feedparser_x80_{name}.xml").read_bytes()
    expected = ast.literal_eval(re.search(rb"feed\['title'\] == ('[^']*')", body).group(1).decode())
    parsed = parse_feed(body, f"https://feeds.example/{name}", None, NOW)
    assert parsed.outlet == expected
    assert parsed.items == []


_ITEM = "<item><title>خبر</title><link>https://news.example/a/1</link><description>{}</description></item>"


def _entity_rss(prolog: str = "", description: str = "ملخص الخبر", encoding: str = "utf-8") -> bytes:
    doc = (f'<?xml version="1.0" encoding="{encoding}"?>{prolog}<rss version="2.0"><channel><title>جريدة</title>'
           + _ITEM.format(description) + "</channel></rss>")
    return doc.encode(encoding)


@pytest.mark.parametrize(
    "body",
    [
        _entity_rss(description="<![CDATA[شرح: الإعلان <!ENTITY x \"y\"> في XML]]>"),
        _entity_rss(description="&lt;!ENTITY lol \"lol\"&gt; كما في المقال"),
        _entity_rss(prolog="<!-- <!ENTITY x 'y'> -->"),
        _entity_rss(prolog='<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                    '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'),
        _entity_rss(description="<![CDATA[<!ENTITY x \"y\">]]>", encoding="utf-16"),
    ],
    ids=["cdata", "escaped", "comment", "netscape-doctype", "utf16-cdata"],
)
def test_feeds_that_only_mention_entities_are_accepted(body):
    """A literal <!ENTITY inside an item once got the whole legitimate feed refused."""
    parsed = parse_feed(body, "https://news.example/rss", None, NOW)
    assert [item.title for item in parsed.items] == ["خبر"]


_DECL = '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'


@pytest.mark.parametrize(
    "body",
    [
        _entity_rss(prolog=_DECL),
        _entity_rss(prolog="<!DOCTYPE rss [<!-- " + "حشو " * 20_000 + ' --><!ENTITY late "x">]>'),  # past 64 KB
        _entity_rss(prolog=_DECL, encoding="utf-16"),  # UTF-16 with a BOM
        _entity_rss(prolog=_DECL, encoding="utf-16-le"),  # and without
        _entity_rss(prolog='<!DOCTYPE rss [<!ENTITY % p "x">]>'),  # a parameter entity
        _entity_rss(prolog='<!DOCTYPE rss [<!ENTITY ext SYSTEM "http://169.254.169.254/">]>'),  # an external entity
        _entity_rss(prolog=_DECL, encoding="windows-1256"),
        _entity_rss(prolog=_DECL, encoding="gb18030"),  # a multi-byte encoding expat has no table for
        b"\n  " + _entity_rss(prolog=_DECL),  # whitespace before the declaration
    ],
    ids=["plain", "after-64k", "utf16", "utf16le", "parameter", "external", "cp1256", "gb18030", "leading-space"],
)
def test_declared_entities_are_refused_in_any_position_and_encoding(body):
    with pytest.raises(FeedError) as info:
        parse_feed(body, "https://news.example/rss", None, NOW)
    assert info.value.kind == "xml_entities"
    assert declared_entity(body) is not None


@pytest.mark.parametrize("ref", ["&#xD800;", "&#55296;", "&#x110000;", "&#99999999999;"])
def test_invalid_character_references_become_replacement_characters(ref):
    """feedparser raised on these (UnicodeEncodeError, ValueError, OverflowError) and failed the whole run."""
    body = _entity_rss(description=f"نص {ref} آخر").replace("<title>خبر</title>".encode(), f"<title>خبر{ref}</title>".encode())
    (item,) = parse_feed(body, "https://news.example/rss", None, NOW).items
    assert item.title == "خبر\ufffd" and item.summary == "نص \ufffd آخر"


# --- links, GUIDs and text kept faithfully -------------------------------------------

FEED_URL = "https://news.example/feeds/rss.xml"


def _rss(items: str, channel_attrs: str = "", namespaces: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{namespaces}>'
        f"<channel{channel_attrs}><title>جريدة الاختبار</title>{items}</channel></rss>"
    ).encode()


def test_relative_links_resolve_against_the_feed_url_and_xml_base():
    items = (
        "<item><title>أ</title><link>/news/1</link><guid>n-1</guid></item>"
        "<item><title>ب</title><link>2.html</link><guid>n-2</guid></item>"
        '<item xml:base="https://cdn.example/ar/"><title>ج</title><link>news/3</link><guid>n-3</guid></item>'
    )
    first, second, third = parse_feed(_rss(items), FEED_URL, None, NOW).items
    assert first.link == "https://news.example/news/1"
    assert second.link == "https://news.example/feeds/2.html"
    assert third.link == "https://cdn.example/ar/news/3"
    # After a redirect the feed was read from elsewhere: relative links follow the final URL.
    moved = parse_feed(_rss(items), FEED_URL, None, NOW, base_url="https://www2.news.example/rss").items
    assert moved[0].link == "https://www2.news.example/news/1"


def test_channel_xml_base_applies_to_every_item():
    items = "<item><title>أ</title><link>a/1</link></item>"
    (item,) = parse_feed(_rss(items, ' xml:base="https://base.example/x/"'), FEED_URL, None, NOW).items
    assert item.link == "https://base.example/x/a/1"


def test_a_guid_that_is_not_an_absolute_url_is_never_a_link():
    items = (
        "<item><title>أ</title><guid>1001</guid><description>نص</description></item>"
        '<item><title>ب</title><guid isPermaLink="true">https://news.example/p/7</guid></item>'
        '<item><title>ج</title><guid isPermaLink="false">https://news.example/?p=8</guid></item>'
        "<item><title>د</title><guid>55</guid><link>https://news.example/real/55</link></item>"
        "<item><title>هـ</title><link>javascript:void(0)</link><guid>66</guid></item>"
    )
    short, permalink, wordpress, linked, script = parse_feed(_rss(items), FEED_URL, None, NOW).items
    assert (short.guid, short.link) == ("1001", None)
    assert permalink.link == "https://news.example/p/7"
    assert wordpress.link == "https://news.example/?p=8"
    assert (linked.guid, linked.link) == ("55", "https://news.example/real/55")
    assert (script.guid, script.link) == ("66", None)


def test_a_relative_guid_under_xml_base_is_still_no_link():
    # feedparser resolves a permalink GUID against xml:base; written as "1001" it is an id, not a URL.
    items = "<item><title>أ</title><guid>1001</guid></item>"
    (item,) = parse_feed(_rss(items, ' xml:base="https://news.example/base/"'), FEED_URL, None, NOW).items
    assert item.link is None and item.guid


def test_plain_text_fields_keep_brackets_and_decode_entities():
    atom = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
    <title type="text">Q&amp;amp;A &amp;quot;الخارجية&amp;quot;</title><id>tag:x,2026:f</id>
    <entry><title type="text">History of the &lt;blink&gt; tag</title><id>tag:x,2026:1</id>
    <link href="https://x.example/1"/><summary type="text">a &lt; b &amp;amp; c &gt; d</summary></entry>
    <entry><title type="html">&lt;b&gt;عاجل&lt;/b&gt; &amp;amp; مهم</title><id>tag:x,2026:2</id>
    <link href="https://x.example/2"/><summary type="html">&lt;p&gt;سطر &amp;lt;واحد&amp;gt;&lt;/p&gt;</summary></entry>
    </feed>"""
    parsed = parse_feed(atom.encode(), "https://x.example/atom", None, NOW)
    assert parsed.outlet == 'Q&A "الخارجية"'
    text_item, html_item = parsed.items
    assert text_item.title == "History of the <blink> tag"
    assert text_item.summary == "a < b & c > d"
    assert html_item.title == "عاجل & مهم"
    assert html_item.summary == "سطر <واحد>"


def test_rss_titles_with_escaped_entities_are_decoded():
    items = (
        "<item><title>Q&amp;amp;A: &amp;quot;الخارجية&amp;quot; ترد</title><link>https://news.example/1</link></item>"
        "<item><title>History of the &lt;blink&gt; tag</title><link>https://news.example/2</link></item>"
    )
    qa, blink = parse_feed(_rss(items), FEED_URL, None, NOW).items
    assert qa.title == 'Q&A: "الخارجية" ترد'
    assert blink.title == "History of the <blink> tag"


def test_created_dates_are_the_last_fallback():
    items = (
        "<item><title>أ</title><link>https://news.example/1</link>"
        "<dcterms:created>2026-11-20T10:00:00Z</dcterms:created></item>"
        "<item><title>ب</title><link>https://news.example/2</link>"
        "<dcterms:created>2026-11-20T10:00:00Z</dcterms:created><pubDate>Sat, 21 Nov 2026 09:00:00 GMT</pubDate></item>"
        "<item><title>ج</title><link>https://news.example/3</link>"
        "<dcterms:created>2026-11-20T10:00:00Z</dcterms:created><dc:date>2026-11-22T08:00:00Z</dc:date></item>"
    )
    ns = ' xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    created, published, updated = parse_feed(_rss(items, namespaces=ns), FEED_URL, None, NOW).items
    assert created.published == datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)
    assert published.published == datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)
    assert updated.published == datetime(2026, 11, 22, 8, 0, tzinfo=timezone.utc)
    atom03 = """<?xml version="1.0" encoding="utf-8"?><feed version="0.3" xmlns="http://purl.org/atom/ns#">
    <title>وكالة</title><entry><title>قمة</title><id>tag:x,2026:9</id>
    <link rel="alternate" type="text/html" href="https://x.example/9"/><created>2026-11-19T07:30:00Z</created></entry></feed>"""
    (item,) = parse_feed(atom03.encode(), "https://x.example/atom", None, NOW).items
    assert item.published == datetime(2026, 11, 19, 7, 30, tzinfo=timezone.utc)


def test_one_invalid_byte_in_a_utf8_feed_costs_that_byte_only():
    body = RSS.format(enc="utf-8").encode()
    broken = body.replace("معرض".encode(), b"\xff" + "عرض".encode(), 1).replace("القمح".encode(), "القمح".encode() + b"\xfe")
    parsed = parse_feed(broken, "https://news.example/rss", "application/rss+xml; charset=utf-8", NOW)
    assert parsed.outlet == "جريدة الاختبار"
    first, second = parsed.items
    assert first.title == "افتتاح \ufffdعرض الكتاب في الرباط"
    assert first.summary == "افتتح وزير الثقافة معرض الكتاب بمشاركة مئتي دار نشر."
    assert second.title == "ارتفاع أسعار القمح\ufffd"


def test_remembered_entries_are_the_most_recently_seen():
    state = FeedState()
    feed = [f"k{i}" for i in range(6)]
    for key in feed:
        state.remember(key, 0.0, limit=4, keep=len(feed))
    assert list(state.seen) == feed, "a feed longer than the limit keeps all of its current entries"
    # A new item arrives; the feed drops its oldest: the entry that left the feed ages out first.
    feed = ["k6", *feed[:-1]]
    for key in feed:
        state.remember(key, 1.0, limit=4, keep=len(feed))
    assert set(state.seen) == set(feed)
    # Sightings refresh: k0 seen again outlives k1..k3 that are not.
    small = FeedState()
    for key in ["k0", "k1", "k2", "k0", "k3"]:
        small.remember(key, 0.0, limit=3)
    assert list(small.seen) == ["k2", "k0", "k3"]


# --- Arabic bytes behind every XML declaration x Content-Type -----------------------

MATRIX_TITLE = "الحكومة تعلن خطة جديدة لدعم الزراعة في الجنوب"
MATRIX_SUMMARY = "قال وزير الزراعة إن الخطة تشمل قروضا ميسرة للمزارعين وحفر آبار جديدة في القرى."
PROLOGS = [None, "utf-8", "iso-8859-6", "windows-1256", "iso-8859-1"]
CONTENT_TYPES = [
    None,
    "application/rss+xml",
    "text/xml",
    "application/xml; charset=utf-8",
    "application/rss+xml; charset=iso-8859-6",
    "application/rss+xml; charset=windows-1256",
    "text/xml; charset=iso-8859-1",
    "text/xml; charset=us-ascii",
    "application/rss+xml; charset=iso-8859-2",
]


def matrix_feed(encoding: str, prolog: str | None) -> bytes:
    declaration = f'<?xml version="1.0" encoding="{prolog}"?>' if prolog else '<?xml version="1.0"?>'
    text = (
        f'{declaration}<rss version="2.0"><channel><title>جريدة الجنوب</title>'
        f"<item><title>{MATRIX_TITLE}</title><link>https://south.example/a/1</link>"
        f"<description>{MATRIX_SUMMARY}</description></item></channel></rss>"
    )
    return text.encode(encoding)


@pytest.mark.parametrize("encoding", ["iso-8859-6", "windows-1256", "utf-8"])
@pytest.mark.parametrize("prolog", PROLOGS, ids=lambda p: f"prolog={p}")
@pytest.mark.parametrize("content_type", CONTENT_TYPES, ids=lambda c: f"ct={c}")
def test_arabic_feed_reads_right_whatever_the_labels_say(encoding, prolog, content_type):
    parsed = parse_feed(matrix_feed(encoding, prolog), "https://south.example/rss", content_type, NOW)
    assert parsed.outlet == "جريدة الجنوب"
    (item,) = parsed.items
    assert (item.title, item.summary) == (MATRIX_TITLE, MATRIX_SUMMARY)


@pytest.mark.parametrize("encode", [lambda x: x.encode("utf-16"), lambda x: x.replace("utf-16", "UTF-8").encode("utf-8-sig")])
def test_byte_order_marks_and_single_quoted_declarations(encode):
    feed = ("<?xml version='1.0' encoding='utf-16'?><rss version='2.0'><channel><title>جريدة</title>"
            "<item><title>خبر عاجل</title><link>/a/1</link></item></channel></rss>")
    parsed = parse_feed(encode(feed), "https://n.example/rss", None, NOW)
    assert (parsed.outlet, parsed.items[0].title, parsed.items[0].link) == ("جريدة", "خبر عاجل", "https://n.example/a/1")
    assert not parsed.charset_repaired


_TITLE_CHARS = st.sampled_from(list("abcXYZ019 <>\"'/=;:!?.,-") + [chr(c) for c in range(0x0621, 0x064B)])


@settings(max_examples=60, deadline=None)
@given(st.text(_TITLE_CHARS, min_size=1, max_size=60))
def test_plain_text_titles_come_back_as_written(title):
    """Whatever a text-type title holds (brackets, quotes, Arabic), the item's title is that text."""
    atom = ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
            f'<entry><id>tag:x,2026:1</id><link href="https://x.example/1"/><title type="text">{html.escape(title)}</title>'
            "</entry></feed>")
    (item,) = parse_feed(atom.encode(), "https://x.example/atom", None, NOW).items
    expected = " ".join(title.split()) or None
    assert item.title == expected
