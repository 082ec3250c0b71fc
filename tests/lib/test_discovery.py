"""Feed discovery on a home page we write, served on loopback, and on pages that announce nothing or lie."""
from __future__ import annotations

from akhbar.lib.discovery import discover_feeds, discover_sites, feed_links
from akhbar.lib.web.http import HttpConfig
from akhbar.lib.web.politeness import PoliteClient, PolitenessConfig
from akhbar.sample.site import NewsSite

LOOPBACK = HttpConfig(allow_loopback=True, read_timeout=5)


def test_feed_links_are_the_alternate_feed_links_resolved_against_base():
    html = """<html><head><base href="https://n.example/ar/">
    <link rel="alternate" type="application/rss+xml" title="الأخبار" href="rss.xml">
    <link rel="Alternate feed" type="application/atom+xml; charset=utf-8" href="/atom.xml#top">
    <link rel="alternate" type="text/html" href="/en/">
    <link rel="stylesheet" type="application/rss+xml" href="/not-a-feed.xml">
    <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    <link rel="alternate" type="application/rss+xml" href="rss.xml">
    </head><body><a href="/feed">feed</a></body></html>"""
    assert feed_links(html, "https://n.example/") == [
        ("https://n.example/ar/rss.xml", "الأخبار"),
        ("https://n.example/atom.xml", None),
    ]
    assert feed_links("", "https://n.example/") == []
    assert feed_links("<html>no head</html>", "https://n.example/") == []


def test_discovery_finds_the_feeds_of_a_home_page():
    with NewsSite(pages=5) as site, PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        found = discover_feeds(polite, site.url + "/")
        paths = [r.path for r in site.requests]
    assert [(f.url, f.source, f.entries) for f in found.feeds] == [
        (site.url + "/feed.xml", "link", 5), (site.url + "/atom.xml", "link", 5)]
    assert found.feeds[0].title == "site RSS"
    assert [url for url, _why in found.rejected] == [site.url + "/old-feed.xml"]
    assert "/rss" in paths, "the common paths were tried; /rss serves /feed.xml again and is not listed twice"
    assert found.error is None


def test_discovery_without_announced_feeds_tries_the_common_paths_and_obeys_robots():
    with NewsSite(pages=3, robots="User-agent: *\nDisallow: /\nAllow: /rss\n") as site, \
            PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        (found,) = discover_sites(polite, [site.url])
        paths = [r.path for r in site.requests]
    assert found.error.startswith("robots_disallowed: ")
    assert [f.url for f in found.feeds] == [site.url + "/rss"]
    assert paths[0] == "/robots.txt" and "/" not in paths and "/feed.xml" not in paths


def test_discovery_of_a_refused_address_says_why():
    with PoliteClient(HttpConfig(), PolitenessConfig(delay_s=0)) as polite:  # loopback not allowed
        found = discover_feeds(polite, "http://127.0.0.1:9/")
        assert discover_feeds(polite, "ftp://n.example/").error.startswith("bad_url")
    assert found.feeds == [] and found.error.startswith("address_refused")
