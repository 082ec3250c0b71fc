from datetime import datetime, timezone

import pytest

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


def _rss(prolog: str = "", description: str = "ملخص الخبر", encoding: str = "utf-8") -> bytes:
    doc = (f'<?xml version="1.0" encoding="{encoding}"?>{prolog}<rss version="2.0"><channel><title>جريدة</title>'
           + _ITEM.format(description) + "</channel></rss>")
    return doc.encode(encoding)


@pytest.mark.parametrize(
    "body",
    [
        _rss(description="<![CDATA[شرح: الإعلان <!ENTITY x \"y\"> في XML]]>"),
        _rss(description="&lt;!ENTITY lol \"lol\"&gt; كما في المقال"),
        _rss(prolog="<!-- <!ENTITY x 'y'> -->"),
        _rss(prolog='<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
                    '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'),
        _rss(description="<![CDATA[<!ENTITY x \"y\">]]>", encoding="utf-16"),
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
        _rss(prolog=_DECL),
        _rss(prolog="<!DOCTYPE rss [<!-- " + "حشو " * 20_000 + ' --><!ENTITY late "x">]>'),  # past 64 KB
        _rss(prolog=_DECL, encoding="utf-16"),  # UTF-16 with a BOM
        _rss(prolog=_DECL, encoding="utf-16-le"),  # and without
        _rss(prolog='<!DOCTYPE rss [<!ENTITY % p "x">]>'),  # a parameter entity
        _rss(prolog='<!DOCTYPE rss [<!ENTITY ext SYSTEM "http://169.254.169.254/">]>'),  # an external entity
        _rss(prolog=_DECL, encoding="windows-1256"),
        _rss(prolog=_DECL, encoding="gb18030"),  # a multi-byte encoding expat has no table for
        b"\n  " + _rss(prolog=_DECL),  # whitespace before the declaration
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
    body = _rss(description=f"نص {ref} آخر").replace("<title>خبر</title>".encode(), f"<title>خبر{ref}</title>".encode())
    (item,) = parse_feed(body, "https://news.example/rss", None, NOW).items
    assert item.title == "خبر\ufffd" and item.summary == "نص \ufffd آخر"
