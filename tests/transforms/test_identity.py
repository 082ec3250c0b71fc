"""Article identity: links, feed-scoped GUIDs, canonical URLs that never cross hosts, plausible dates."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import strategies as st

from akhbar.core.urls import absolute_http_url, canonical_url, resolve_link
from akhbar.lib.articles import build_article, plausible_publication_time
from akhbar.lib.identity import guid_key, item_digests, item_identity, keep_order
from tests.factories import T0, article, feed_item


def test_resolve_link():
    feed = "https://news.example/feeds/rss.xml"
    assert resolve_link("/news/1", feed) == "https://news.example/news/1"
    assert resolve_link("2.html", feed) == "https://news.example/feeds/2.html"
    assert resolve_link(" https://other.example/x ", feed) == "https://other.example/x"
    assert resolve_link("//cdn.example/a", feed) == "https://cdn.example/a"
    for unusable in ("", "   ", None, "javascript:void(0)", "mailto:desk@news.example", "ftp://news.example/a"):
        assert resolve_link(unusable, feed) is None
    assert resolve_link("1001", None) is None, "a relative link without a base is no link"
    assert not absolute_http_url("http://") and absolute_http_url("http://h.example")


def test_item_identity_link_guid_or_digest():
    linked = feed_item(link="https://News.example/a/1?utm_source=rss")
    assert item_identity(linked, linked.link) == "https://news.example/a/1"
    guid_only = feed_item(link=None, guid="1001")
    assert item_identity(guid_only, None) == "feed-guid:https://news.example/rss#1001"
    other_feed = feed_item(link=None, guid="1001", feed_url="https://other.example/rss")
    assert item_identity(other_feed, None) != item_identity(guid_only, None)
    bare = [feed_item(link=None, guid=None, title=f"خبر {i}") for i in range(3)]
    identities = {item_identity(item, None) for item in bare}
    assert len(identities) == 3 and all(i.startswith("feed-item:https://news.example/rss#") for i in identities)
    assert all(not i.startswith(canonical_url(bare[0].feed_url) + "#") for i in identities), "never the feed URL"


def test_items_without_links_get_distinct_ids_and_urls_that_are_not_the_feed():
    a = build_article(feed_item(link=None, guid="a-1"), None, "نص أول", "feed_summary", None, "no_link", T0)
    b = build_article(feed_item(link=None, guid="a-2"), None, "نص ثان", "feed_summary", None, "no_link", T0)
    assert a.article_id != b.article_id and a.canonical_url != b.canonical_url
    assert a.url == a.canonical_url != a.feed_url


def test_guid_key_is_scoped_to_the_host_and_port():
    a = article(guid="1001", feed_url="http://127.0.0.1:8001/rss")
    b = article(guid="1001", feed_url="http://127.0.0.1:8002/rss")
    c = article(guid="1001", feed_url="http://www.127.0.0.1:8001/other.xml")
    assert guid_key(a) != guid_key(b)
    assert guid_key(article(guid="7", feed_url="https://www.x.example/a")) == guid_key(article(guid="7", feed_url="https://x.example/b"))
    assert guid_key(c) != guid_key(b)


def test_item_digests_match_article_digests():
    from akhbar.lib.identity import article_digests

    item = feed_item(link="https://news.example/a/1?utm_source=x", guid="g-9")
    built = build_article(item, item.link, "نص الخبر", "page", None, None, T0)
    assert set(item_digests(item)) <= set(article_digests(built))


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
_HOST = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)
_PATH = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


def _canonical_host(host: str) -> str:
    for prefix in ("www.", "amp."):
        if host.startswith(prefix) and host.count(".") >= 2:
            return host[len(prefix):]
    return host


@given(host=_HOST, path=_PATH, scheme=st.sampled_from(["http", "https"]))
def test_canonical_urls_never_leave_their_host(host, path, scheme):
    url = f"{scheme}://{host}/{path.lstrip('/')}"
    canonical = canonical_url(url)
    assert urlsplit(canonical).hostname == _canonical_host(host)
    assert canonical_url(canonical) == canonical, "canonical URLs are a fixed point"


@given(a=_HOST, b=_HOST, path=_PATH)
def test_the_same_path_on_two_hosts_never_collides(a, b, path):
    if _canonical_host(a) != _canonical_host(b):
        assert canonical_url(f"https://{a}/{path}") != canonical_url(f"https://{b}/{path}")


def test_plausible_dates():
    fetched = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)
    assert plausible_publication_time(datetime(2026, 11, 24, 8, tzinfo=timezone.utc), fetched) is not None
    assert plausible_publication_time(fetched + timedelta(hours=23), fetched) is not None
    assert plausible_publication_time(fetched + timedelta(days=2), fetched) is None
    assert plausible_publication_time(datetime(1970, 1, 1, tzinfo=timezone.utc), fetched) is None
    assert plausible_publication_time(datetime(1989, 12, 31, 23, tzinfo=timezone.utc), fetched) is None
    assert plausible_publication_time(None, fetched) is None


def test_a_backdated_copy_never_wins_keep_earliest():
    fetched = T0 + timedelta(hours=6)
    original = build_article(feed_item(published=T0), "https://wire.example/a/1", "نص البرقية", "page", None, None, fetched)
    copy_item = feed_item(published=datetime(1970, 1, 1, tzinfo=timezone.utc), feed_url="https://copy.example/rss")
    copy = build_article(copy_item, "https://copy.example/x", "نص البرقية", "page", None, None, fetched)
    assert (copy.published_at, copy.published_source) == (fetched, "fetched_implausible")
    assert min([copy, original], key=keep_order) is original
    future = build_article(feed_item(published=fetched + timedelta(days=30)), "https://f.example/1", "نص", "page",
                           None, None, fetched)
    assert future.published_source == "fetched_implausible"


def test_equal_dates_keep_the_same_copy_whatever_was_fetched_first():
    home = build_article(feed_item(guid="s-1"), "https://sahil.example/news/11.html", "نص", "page", None, None, T0)
    section = build_article(feed_item(guid="s-1"), "https://sahil.example/politics/11.html", "نص", "page", None, None,
                            T0 - timedelta(seconds=1))
    assert home.published_at == section.published_at
    assert min([section, home], key=keep_order) is home
    assert min([home, section], key=keep_order) is home
    # Without believable dates, both fell back to their fetch times: the first fetched wins.
    undated = [build_article(feed_item(published=None, guid=f"u-{i}"), f"https://u.example/{i}", "نص", "page", None,
                             None, T0 + timedelta(minutes=i)) for i in (2, 1)]
    assert min(undated, key=keep_order) is undated[1]


def test_the_same_url_in_two_feeds_keeps_the_feed_dated_copy():
    from akhbar.lib.extract import ExtractedPage

    dated = build_article(feed_item(feed_url="https://w.example/rss"), "https://w.example/a/1", "نص", "page", None, None, T0)
    page = ExtractedPage(text="نص", title=None, published=T0, method="trafilatura")
    undated = build_article(feed_item(published=None, feed_url="https://a.example/rss"), "https://w.example/a/1", "نص",
                            "page", page, None, T0 - timedelta(seconds=5))
    assert (undated.published_at, undated.published_source) == (T0, "page")
    assert min([undated, dated], key=keep_order) is dated
