"""Small builders of records for tests (real records, only defaults filled in)."""
from __future__ import annotations

from datetime import datetime, timezone

from akhbar.lib.articles import build_article
from akhbar.schemas.records import Article, FeedItem

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)


def feed_item(**overrides) -> FeedItem:
    values = dict(
        feed_url="https://news.example/rss",
        outlet="جريدة الاختبار",
        guid="g-1",
        link="https://news.example/a/1",
        title="عنوان الخبر",
        summary="ملخص قصير للخبر",
        content=None,
        published=T0,
        read_at=T0,
    )
    values.update(overrides)
    return FeedItem(**values)


def article(text: str = "نص الخبر الكامل عن اجتماع الوزراء في العاصمة", **item_overrides) -> Article:
    """An article fetched when it was published (at T0 at the earliest): its feed date is always believed."""
    item = feed_item(**item_overrides)
    fetched_at = max(T0, item.published) if item.published is not None else T0
    return build_article(item, item.link, text, "page", None, None, fetched_at)
