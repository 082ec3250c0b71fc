from datetime import datetime, timedelta, timezone

from akhbar.lib.articles import build_article, choose_text, strip_leading_title
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
