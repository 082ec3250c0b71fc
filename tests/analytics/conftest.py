"""Output for the analytics tests: one real pipeline run over the bundled sample, plus an enriched day.

The pipeline leaves ``entities``/``event_types``/``story_id`` null until the
enrichment stages run, so one extra partition is written with the project's
own writer (``write_parquet_file``) whose rows have them filled, including
the awkward cases: an empty list, a null list, a struct with a null field.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from akhbar.schemas.article import ARTICLES_TABLE, partition_date
from akhbar.transforms.parquet import partition_dir, write_parquet_file
from tests.factories import article

ENRICHED_DAY = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)

# (text, entities by surface form, event types, primary, story, outlet)
_ENRICHED = [
    ("التقى الرئيس سالم الحداد وزير خارجية تونس في الرباط لبحث التعاون", [("سالم الحداد", "PERS"), ("تونس", "LOC"), ("الرباط", "LOC")], [("DIPLOMACY", 0.91), ("STATEMENT", 0.42)], "DIPLOMACY", "story-a", "الوسط نيوز"),
    ("وصل الرئيس سالم الحداد إلى الرباط في زيارة رسمية لبحث التعاون", [("سالم الحداد", "PERS"), ("الرباط", "LOC")], [("DIPLOMACY", 0.88)], "DIPLOMACY", "story-a", "وكالة الأنباء"),
    ("الحداد في الرباط: محادثات حول التعاون مع تونس", [("الحداد", "PERS"), ("الرباط", "LOC"), ("تونس", "LOC")], [("DIPLOMACY", 0.75)], "DIPLOMACY", "story-a", "الساحل اليوم"),
    ("أعلن البنك المركزي رفع أسعار الفائدة وقالت نادية منصور إن القرار مؤقت", [("البنك المركزي", "ORG"), ("نادية منصور", "PERS")], [("ECONOMY", 0.97), ("STATEMENT", 0.55)], "ECONOMY", "story-b", "الوسط نيوز"),
    ("البنك المركزي يرفع الفائدة", [("البنك المركزي", "ORG")], [("ECONOMY", 0.93)], "ECONOMY", "story-b", "وكالة الأنباء"),
    ("تظاهر المئات أمام البرلمان في صفاقس", [("البرلمان", "ORG"), ("صفاقس", "LOC")], [("PROTEST", 0.89)], "PROTEST", None, "الساحل اليوم"),
    ("نتائج مباريات الدوري", [], [], "OTHER", None, "الوسط نيوز"),
    ("خبر لم يصنف بعد", None, None, None, None, "وكالة الأنباء"),
]


def enriched_rows() -> list[dict]:
    """Article rows of one day with entities (character offsets into the text), event types and story ids."""
    rows = []
    for i, (text, entities, events, primary, story, outlet) in enumerate(_ENRICHED):
        row = article(
            text=text,
            link=f"https://enriched.example/a/{i}",
            guid=f"enriched-{i}",
            outlet=outlet,
            feed_url=f"https://enriched.example/{i % 3}/rss",
            title=text[:30],
            published=ENRICHED_DAY + timedelta(hours=i * 2),
        ).to_row()
        if entities is not None:
            row["entities"] = [
                {"text": surface, "type": kind, "start": text.find(surface), "end": text.find(surface) + len(surface),
                 "score": None if kind == "ORG" and i == 5 else 0.5 + 0.05 * j}
                for j, (surface, kind) in enumerate(entities)
            ]
        if events is not None:
            row["event_types"] = [{"code": code, "score": score} for code, score in events]
        row["primary_event"] = primary
        row["story_id"] = story
        rows.append(row)
    # A story's later articles point at its first one (duplicate_of: schema version 2 and later).
    # As the near-dup stage does, a story's id is its first article's id.
    first_of_story: dict[str, dict] = {}
    for row in rows:
        if row["story_id"] is None:
            continue
        first = first_of_story.setdefault(row["story_id"], row)
        row["story_id"] = first["article_id"]
        if first is not row and "duplicate_of" in row:
            row["duplicate_of"] = first["article_id"]
            row["near_dup_score"] = 0.9
    return _geocoded(rows)


def _geocoded(rows: list[dict]) -> list[dict]:
    """The geocoding step's columns (entities' places, countries, event_location), from the real gazetteer."""
    from akhbar.lib.geo.enricher import GeoEnricher
    from akhbar.schemas.records import Article

    geo = GeoEnricher()
    geo.load()
    return [{**row, **geo.geocode(Article(**row))} for row in rows]


def write_enriched_day(output: Path) -> list[dict]:
    rows = enriched_rows()
    directory = partition_dir(str(output), ARTICLES_TABLE, partition_date(ENRICHED_DAY))
    os.makedirs(directory, exist_ok=True)
    write_parquet_file(rows, ARTICLES_TABLE, directory, "part-enriched.parquet")
    return rows


@pytest.fixture(scope="session")
def analytics_output(tmp_path_factory) -> Path:
    """The real pipeline's output for the sample (faults included), plus the enriched day."""
    from akhbar.pipelines import ingest
    from akhbar.sample.server import SampleNewsServer

    tmp = tmp_path_factory.mktemp("analytics")
    out = tmp / "out"
    with SampleNewsServer(faults=True) as server:
        feeds = tmp / "feeds.txt"
        server.write_feed_list(feeds)
        # The model branches are tested where they live; here the nested columns come from the enriched day.
        ingest.run_with_args(["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", "--read_timeout", "2",
                    "--ner_model", "none", "--event_model", "none"])
    write_enriched_day(out)
    return out
