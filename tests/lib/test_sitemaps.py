"""Sitemaps: formats, dates, the date range, gzip and XML limits, and walking a loopback site's tree."""
from __future__ import annotations

import gzip
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from akhbar.lib.sitemaps import (
    DateRange,
    SitemapError,
    find_sitemaps,
    gunzip_capped,
    parse_sitemap,
    parse_sitemap_date,
    walk_sitemaps,
)
from akhbar.lib.web.http import HttpConfig
from akhbar.lib.web.politeness import PoliteClient, PolitenessConfig
from akhbar.sample.site import NewsSite

UTC = timezone.utc
NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


@pytest.mark.parametrize(("text", "expected"), [
    ("2026", datetime(2026, 1, 1, tzinfo=UTC)),
    ("2026-11", datetime(2026, 11, 1, tzinfo=UTC)),
    ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
    ("2026-11-24T08:00:00+03:00", datetime(2026, 11, 24, 5, 0, tzinfo=UTC)),
    ("2026-11-24T08:00Z", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    ("2026-11-24T08:00:00.123456Z", datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)),
    ("2026-11-24T08:00:00", datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),  # no zone: UTC
    ("yesterday", None), ("", None), (None, None), ("2026-13-01", None), ("0000-01-01", None),
])
def test_w3c_dates(text, expected):
    assert parse_sitemap_date(text) == expected


def test_the_date_range_is_whole_days_with_until_inclusive():
    dates = DateRange.parse("2026-11-01", "2026-11-30")
    assert dates.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert dates.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert datetime(2026, 11, 30, 23, 59, tzinfo=UTC) in dates
    assert datetime(2026, 12, 1, tzinfo=UTC) not in dates
    assert datetime(2026, 10, 31, 23, 59, tzinfo=UTC) not in dates
    timed = DateRange.parse("2026-11-01T06:00:00+03:00", "2026-11-02T00:00:00Z")
    assert timed.start == datetime(2026, 11, 1, 3, 0, tzinfo=UTC) and timed.end == datetime(2026, 11, 2, tzinfo=UTC)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert DateRange.parse("2026-11-20", None, now=now).end == now


@pytest.mark.parametrize(("since", "until", "says"), [
    ("last week", None, "--since 'last week'"),
    ("2026-11-01", "2026/11/30", "--until '2026/11/30'"),
    ("2026-11-30", "2026-11-01", "is not after"),
])
def test_a_bad_range_names_the_value(since, until, says):
    with pytest.raises(ValueError, match=says):
        DateRange.parse(since, until, now=datetime(2026, 11, 24, tzinfo=UTC))


def test_an_index_a_news_urlset_and_a_text_sitemap():
    index = parse_sitemap(f"""<?xml version="1.0"?><sitemapindex {NS}>
        <sitemap><loc>https://n.example/a.xml.gz</loc><lastmod>2026-11-01</lastmod></sitemap>
        <sitemap><loc> https://n.example/b.xml </loc></sitemap></sitemapindex>""".encode(), "https://n.example/i.xml")
    assert index.kind == "index"
    assert [(s.loc, s.lastmod) for s in index.sitemaps] == [
        ("https://n.example/a.xml.gz", datetime(2026, 11, 1, tzinfo=UTC)), ("https://n.example/b.xml", None)]
    news = parse_sitemap(f"""<urlset {NS} {NEWS}><url><loc>https://n.example/1</loc>
        <news:news><news:publication><news:name>الوسط</news:name><news:language>ar</news:language></news:publication>
        <news:publication_date>2026-11-24T08:00:00+03:00</news:publication_date>
        <news:title>عنوان &amp; خبر</news:title></news:news></url>
        <url><loc>https://n.example/2</loc><lastmod>2026-11-20</lastmod></url></urlset>""".encode(), "s.xml")
    first, second = news.urls
    assert (first.loc, first.publication, first.language, first.title) == ("https://n.example/1", "الوسط", "ar",
                                                                            "عنوان & خبر")
    assert first.date == first.published == datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
    assert second.date == second.lastmod == datetime(2026, 11, 20, tzinfo=UTC) and second.published is None
    text = parse_sitemap(b"https://n.example/1\n\nnot a url\nhttps://n.example/2\n", "s.txt")
    assert text.kind == "text" and [u.loc for u in text.urls] == ["https://n.example/1", "https://n.example/2"]


def test_gzip_is_recognised_by_its_bytes_and_capped():
    body = gzip.compress(f"<urlset {NS}><url><loc>https://n.example/1</loc></url></urlset>".encode())
    assert [u.loc for u in parse_sitemap(body, "https://n.example/s.xml").urls] == ["https://n.example/1"]
    bomb = gzip.compress(b"<" + b" " * (4 * 1024 * 1024))
    with pytest.raises(SitemapError) as too_large:
        gunzip_capped(bomb, "bomb.gz", cap=1024 * 1024)
    assert too_large.value.kind == "too_large"
    with pytest.raises(SitemapError) as broken:
        parse_sitemap(b"\x1f\x8b" + b"not gzip at all", "broken.gz")
    assert broken.value.kind == "decode"


def test_entities_and_other_xml_are_refused():
    laughs = (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
              b'<urlset><url><loc>&b;</loc></url></urlset>')
    with pytest.raises(SitemapError) as entity:
        parse_sitemap(laughs, "laughs.xml")
    assert entity.value.kind == "xml_entity"
    with pytest.raises(SitemapError, match="not a sitemap"):
        parse_sitemap(b"<html><body>hello</body></html>", "page.html")
    with pytest.raises(SitemapError, match="not well-formed"):
        parse_sitemap(f"<urlset {NS}><url><loc>x".encode(), "cut.xml")


def test_a_feed_can_be_a_sitemap():
    rss = ('<?xml version="1.0"?><rss version="2.0"><channel><title>الوسط</title><item><title>خبر</title>'
           "<link>https://n.example/1</link><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate></item></channel></rss>")
    parsed = parse_sitemap(rss.encode(), "https://n.example/rss.xml", "application/rss+xml")
    (entry,) = parsed.urls
    assert parsed.kind == "feed" and entry.loc == "https://n.example/1"
    assert entry.published == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@given(st.binary(max_size=400))
def test_any_bytes_are_a_sitemap_or_a_sitemap_error(body):
    try:
        parse_sitemap(body, "https://n.example/s.xml")
    except SitemapError:
        pass


LOOPBACK = HttpConfig(allow_loopback=True, read_timeout=5)


def test_walking_a_site_prunes_old_children_and_keeps_the_range():
    with NewsSite(pages=300, robots=None, per_sitemap=40) as site, \
            PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        roots, probed = find_sitemaps(polite, site.url)
        assert probed and roots[0] == site.url + "/sitemap_index.xml"
        dates = DateRange.parse("2026-11-15", "2026-11-20")
        walk = walk_sitemaps(polite.get, roots, dates, {site.host}, probed=probed)
        fetched = {r.path for r in site.requests}
    expected = {site.page_url(p) for p in site.pages if p.published in dates}
    assert {e.loc for e in walk.entries} == expected and len(expected) == 24
    assert walk.failures == [], "the common paths that are missing are not failures"
    # October's index and November's first parts end before the range: never fetched.
    assert "/sitemaps/2026-10/index.xml.gz" not in fetched
    assert "/sitemaps/2026-11/part-0.xml.gz" not in fetched and "/sitemaps/2026-11/part-2.xml.gz" in fetched
    assert walk.sitemaps_skipped == 2
    assert walk.out_of_range + len(walk.entries) + walk.repeated == walk.urls_listed


def test_robots_sitemap_lines_failures_and_off_site_urls():
    with NewsSite(pages=10, robots="") as site, \
            PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        site.robots = (f"Sitemap: {site.url}/news-sitemap.xml\nSitemap: {site.url}/gone.xml\n"
                       f"Sitemap: {site.url}/news-sitemap.xml\n")
        roots, probed = find_sitemaps(polite, site.url)
        assert roots == [f"{site.url}/news-sitemap.xml", f"{site.url}/gone.xml"] and not probed
        everything = DateRange.parse("2026-01-01", "2027-01-01")
        walk = walk_sitemaps(polite.get, roots, everything, {"other.example"})
        assert [url for url, _why in walk.failures] == [f"{site.url}/gone.xml"]
        assert "HTTP 404" in walk.failures[0][1]
        assert len(walk.entries) == 10 and walk.entries[0].publication == site.name
        # URLs on a host that is neither the site's nor a root sitemap's are not kept.
        foreign = walk_sitemaps(polite.get, [f"{site.url}/news-sitemap.xml"], everything, None)
        assert len(foreign.entries) == 10
        assert foreign.off_site == 0


def test_a_sitemap_that_lists_itself_is_read_once():
    class Loop:
        def __init__(self):
            self.fetched = []

        def __call__(self, url):
            from akhbar.lib.web.http import HttpResponse

            self.fetched.append(url)
            body = f"<sitemapindex {NS}><sitemap><loc>https://n.example/i.xml</loc></sitemap></sitemapindex>".encode()
            return HttpResponse(url, 200, {}, body, "application/xml", None, None, None)

    fetch = Loop()
    walk = walk_sitemaps(fetch, ["https://n.example/i.xml"], DateRange.parse("2026-01-01", "2026-02-01"))
    assert fetch.fetched == ["https://n.example/i.xml"] and walk.sitemaps_read == 1


def test_nesting_past_the_limit_is_a_failure_not_a_hang():
    from akhbar.lib.web.http import HttpResponse

    def fetch(url):
        depth = int(url.rsplit("/", 1)[1].split(".")[0])
        body = f"<sitemapindex {NS}><sitemap><loc>https://n.example/{depth + 1}.xml</loc></sitemap></sitemapindex>"
        return HttpResponse(url, 200, {}, body.encode(), "application/xml", None, None, None)

    walk = walk_sitemaps(fetch, ["https://n.example/0.xml"], DateRange.parse("2026-01-01", "2026-02-01"))
    assert walk.sitemaps_read == 6
    assert walk.failures == [("https://n.example/6.xml", "nested deeper than 5 sitemap indexes")]


def test_the_walk_uses_lastmod_only_to_skip_children_before_the_range():
    newest = datetime(2026, 11, 30, tzinfo=UTC)
    dates = DateRange(newest - timedelta(days=1), newest + timedelta(days=1))
    from akhbar.lib.web.http import HttpResponse

    def fetch(url):
        if url.endswith("index.xml"):
            body = (f"<sitemapindex {NS}><sitemap><loc>https://n.example/old.xml</loc><lastmod>2026-11-01</lastmod>"
                    "</sitemap><sitemap><loc>https://n.example/new.xml</loc><lastmod>2026-12-25</lastmod></sitemap>"
                    "</sitemapindex>")
        else:
            body = f"<urlset {NS}><url><loc>https://n.example/p</loc><lastmod>2026-11-30</lastmod></url></urlset>"
        return HttpResponse(url, 200, {}, body.encode(), "application/xml", None, None, None)

    walk = walk_sitemaps(fetch, ["https://n.example/index.xml"], dates)
    assert walk.sitemaps_skipped == 1 and walk.sitemaps_read == 2 and len(walk.entries) == 1
