from datetime import datetime, timedelta, timezone

import pytest

from akhbar.core.urls import InvalidURL
from akhbar.lib.articles import (
    EARLIEST_PUBLICATION,
    FIELD_LIMITS,
    FUTURE_TOLERANCE,
    build_article,
    cap_field,
    choose_text,
    plausible_publication_time,
    publication_time,
    strip_leading_title,
)
from akhbar.lib.extract import ExtractedPage
from tests.factories import T0, feed_item

PAGE_TIME = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)


def _page(text: str = "نص الصفحة الكامل عن الاجتماع", published=PAGE_TIME) -> ExtractedPage:
    return ExtractedPage(text=text, title="عنوان الصفحة", published=published, method="trafilatura")


def test_leading_headline_is_not_part_of_the_body():
    text = "وزيرا الخارجية يبحثان الربط الكهربائي\nعقد الوزيران اجتماعا في عمان."
    assert strip_leading_title(text, ["وزيرا الخارجية يبحثان الربط الكهربائي", None]) == "عقد الوزيران اجتماعا في عمان."
    assert strip_leading_title(text, ["عنوان آخر"]) == text
    assert strip_leading_title("سطر واحد فقط", ["سطر واحد فقط"]) == "سطر واحد فقط"


def test_text_choice_prefers_the_page_then_feed_content_then_summary():
    item = feed_item(content="المحتوى الكامل من الخلاصة", summary="ملخص")
    assert choose_text(item, _page()) == ("نص الصفحة الكامل عن الاجتماع", "page")
    assert choose_text(item, None) == ("المحتوى الكامل من الخلاصة", "feed_content")
    assert choose_text(feed_item(content=None), None) == ("ملخص قصير للخبر", "feed_summary")
    assert choose_text(feed_item(content=None, summary=None), None) is None
    # A page that kept less than half of the feed's full text lost the body.
    long_content = "فقرة طويلة من نص الخبر " * 20
    assert choose_text(feed_item(content=long_content), _page("قصير"))[1] == "feed_content"


def test_publication_time_comes_from_feed_then_page_then_fetch_and_is_utc():
    fetched = T0 + timedelta(days=3)
    from_feed = build_article(feed_item(), "https://n.example/1", "نص", "page", _page(), None, fetched)
    assert (from_feed.published_at, from_feed.published_source) == (T0, "feed")
    from_page = build_article(feed_item(published=None), "https://n.example/1", "نص", "page", _page(), None, fetched)
    assert (from_page.published_at, from_page.published_source) == (PAGE_TIME, "page")
    fallback = build_article(feed_item(published=None), "https://n.example/1", "نص", "page", _page(published=None), None, fetched)
    assert (fallback.published_at, fallback.published_source) == (fetched, "fetched")
    assert fallback.published_at.utcoffset() == timedelta(0)


def test_article_keys():
    a = build_article(feed_item(), "https://WWW.n.example/1/?utm_source=rss", "نصٌ عربيّ", "page", None, None, T0)
    b = build_article(feed_item(), "https://n.example/1", "نص عربي", "page", None, None, T0)
    assert a.canonical_url == "https://n.example/1"
    assert a.article_id == b.article_id
    assert a.text_hash == b.text_hash
    assert a.url == "https://WWW.n.example/1/?utm_source=rss", "the original URL is kept"
    assert a.text == "نصٌ عربيّ", "the original text is kept"
    assert a.language == "ar"


@pytest.mark.parametrize(
    ("feed_time", "page_time", "expected_source"),
    [
        (datetime(1, 1, 1, tzinfo=timezone.utc), None, "fetched_implausible"),  # year 1: once partition date=1-01-01
        (datetime(1969, 12, 31, tzinfo=timezone.utc), None, "fetched_implausible"),
        (datetime(1989, 12, 31, 23, 59, tzinfo=timezone.utc), None, "fetched_implausible"),
        (datetime(9999, 12, 31, tzinfo=timezone.utc), None, "fetched_implausible"),
        (T0 + timedelta(days=2), None, "fetched_implausible"),  # more than a day after the fetch
        (datetime(1, 1, 1, tzinfo=timezone.utc), PAGE_TIME, "page"),  # the page's date is believed instead
        (None, datetime(3000, 1, 1, tzinfo=timezone.utc), "fetched_implausible"),
        (None, None, "fetched"),
    ],
)
def test_implausible_publication_dates_fall_back_to_the_fetch_time(feed_time, page_time, expected_source):
    article = build_article(feed_item(published=feed_time), "https://n.example/1", "نص", "page",
                            _page(published=page_time), None, T0)
    assert article.published_source == expected_source
    expected_time = PAGE_TIME if expected_source == "page" else T0
    assert article.published_at == expected_time


@pytest.mark.parametrize(
    "value",
    [EARLIEST_PUBLICATION, T0 + FUTURE_TOLERANCE, T0 - timedelta(days=365 * 30), datetime(2026, 11, 24, 8, 0)],
)
def test_plausible_dates_are_kept_in_utc(value):
    kept = plausible_publication_time(value, T0)
    assert kept is not None and kept.utcoffset() == timedelta(0)
    assert publication_time(value, None, T0) == (kept, "feed")


def test_fields_are_capped_and_each_cut_is_reported():
    huge = "خبر " * 2_000_000  # 8 MB of title once took 2 GB through the models
    cut: list[str] = []
    article = build_article(
        feed_item(title=huge, summary=huge, outlet=huge, guid=huge), "https://n.example/1", huge, "page", None, None,
        T0, on_truncate=cut.append,
    )
    assert sorted(cut) == ["guid", "outlet", "summary", "text", "title"]
    for name in cut:
        assert len(getattr(article, name)) <= FIELD_LIMITS[name]
    assert article.text_hash == build_article(feed_item(), "https://n.example/1", article.text, "page", None, None,
                                              T0).text_hash, "keys are computed on the stored (capped) text"
    normal: list[str] = []
    build_article(feed_item(), "https://n.example/1", "نص عادي", "page", None, None, T0, on_truncate=normal.append)
    assert normal == []
    assert cap_field("أ" * 10, "title") == ("أ" * 10, False)


@pytest.mark.parametrize("url", ["http://n.example:99999/1", "http://[::1/x", "http://n.example/" + "a" * 9000])
def test_a_link_without_canonical_form_is_an_invalid_url(url):
    with pytest.raises(InvalidURL):
        build_article(feed_item(link=url), url, "نص", "feed_summary", None, "bad_url: ...", T0)
