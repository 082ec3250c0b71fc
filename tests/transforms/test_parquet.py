from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import apache_beam as beam
import duckdb
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from akhbar.schemas.article import (
    ARTICLE_SCHEMA,
    DEAD_LETTER_SCHEMA,
    SCHEMA_VERSION,
    SCHEMA_VERSION_KEY,
    partition_date,
    table_glob,
)
from akhbar.schemas.records import DeadLetter
from akhbar.transforms import counters
from akhbar.transforms.parquet import WriteParquet, arrow_rows, write_parquet_file
from tests.factories import T0, article


def _articles(n: int):
    return [
        article(text=f"خبر رقم {i}", link=f"https://news.example/a/{i}", guid=f"g-{i}", published=T0 + timedelta(hours=7 * i))
        for i in range(n)
    ]


def test_write_parquet_partitions_by_utc_date_and_reads_back_in_duckdb(tmp_path: Path):
    rows = _articles(10)
    with TestPipeline() as p:
        _ = p | beam.Create(rows) | WriteParquet(str(tmp_path), "articles", max_rows=3)
    files = sorted(tmp_path.glob("articles/date=*/*.parquet"))
    assert not list(tmp_path.rglob(".*inprogress")), "in-progress files were left behind"
    dates = sorted({f.parent.name for f in files})
    expected_dates = sorted({f"date={(T0 + timedelta(hours=7 * i)).strftime('%Y-%m-%d')}" for i in range(10)})
    assert dates == expected_dates
    for f in files:
        meta = pq.read_metadata(f)
        assert meta.num_rows <= 3
        assert meta.schema.to_arrow_schema().metadata[SCHEMA_VERSION_KEY] == SCHEMA_VERSION.encode()
        assert meta.row_group(0).column(0).compression == "ZSTD"
        assert pq.read_schema(f).remove_metadata().equals(ARTICLE_SCHEMA.remove_metadata())
    con = duckdb.connect()
    got = con.execute(
        f"SELECT article_id, CAST(date AS VARCHAR), strftime(published_at AT TIME ZONE 'UTC', '%Y-%m-%d') "
        f"FROM read_parquet('{table_glob(str(tmp_path), 'articles')}', hive_partitioning=true)"
    ).fetchall()
    assert sorted(r[0] for r in got) == sorted(a.article_id for a in rows)
    assert all(r[1] == r[2] for r in got), "partition date must be the UTC publication date"


def test_rerun_rewrites_the_same_files_instead_of_adding_copies(tmp_path: Path):
    rows = _articles(4)
    for _ in range(2):
        with TestPipeline() as p:
            _ = p | beam.Create(rows) | WriteParquet(str(tmp_path), "articles")
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM read_parquet('{table_glob(str(tmp_path), 'articles')}')").fetchone()[0]
    assert n == 4


def test_dead_letters_table(tmp_path: Path):
    when = datetime(2026, 11, 25, 23, 30, tzinfo=timezone(timedelta(hours=-3)))
    letters = [DeadLetter(stage="poll_feed", error_kind="http_status", error="http_status: 404", input="u", occurred_at=when)]
    with TestPipeline() as p:
        _ = p | beam.Create(letters) | WriteParquet(str(tmp_path), "dead_letters")
    (f,) = tmp_path.glob("dead_letters/date=2026-11-26/*.parquet")
    table = pq.read_table(f)
    assert table.schema.remove_metadata().equals(DEAD_LETTER_SCHEMA.remove_metadata())
    assert table.column("error_kind").to_pylist() == ["http_status"]


def test_a_failed_write_leaves_no_visible_file(tmp_path: Path):
    bad_row = article().to_row() | {"text": None}  # text is not nullable: the write must fail
    try:
        write_parquet_file([bad_row], "articles", str(tmp_path / "articles" / "date=2026-11-24"), "part-x.parquet")
    except Exception:
        pass
    else:
        raise AssertionError("writing a null into a non-nullable column should fail")
    assert not list(tmp_path.rglob("*.parquet"))


def test_partition_values_are_always_zero_padded():
    assert partition_date(datetime(1, 1, 1, tzinfo=timezone.utc)) == "0001-01-01"
    assert partition_date(datetime(999, 2, 3, 23, 0, tzinfo=timezone(timedelta(hours=-2)))) == "0999-02-04"
    assert partition_date(datetime(2026, 11, 24, 8, 0, tzinfo=timezone.utc)) == "2026-11-24"


def test_an_item_dated_year_one_keeps_the_date_column_a_date_for_duckdb_and_polars(tmp_path: Path):
    """A year-1 item once wrote date=1-01-01: DuckDB then typed `date` as text and Polars' hive scan failed."""
    rows = [article(link="https://news.example/a/old", published=datetime(1, 1, 1, tzinfo=timezone.utc)),
            article(text="خبر آخر", link="https://news.example/a/new", guid="g-2")]
    assert rows[0].published_source == "fetched_implausible"
    with TestPipeline() as p:
        _ = p | beam.Create(rows) | WriteParquet(str(tmp_path), "articles")
    assert sorted(f.parent.name for f in tmp_path.glob("articles/date=*/*.parquet")) == ["date=2026-11-24"]
    con = duckdb.connect()
    glob = table_glob(str(tmp_path), "articles")
    assert con.execute(f"SELECT DISTINCT typeof(date) FROM read_parquet('{glob}', hive_partitioning=true)").fetchall() \
        == [("DATE",)]
    n = con.execute(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true) "
                    "WHERE date >= DATE '2026-01-01'").fetchone()[0]
    assert n == 2
    polars = pytest.importorskip("polars")
    frame = polars.scan_parquet(str(tmp_path / "articles" / "**" / "*.parquet"), hive_partitioning=True).collect()
    assert frame.height == 2 and frame.schema["date"] == polars.Date


def test_a_row_arrow_cannot_store_is_a_dead_letter_and_the_rest_are_written(tmp_path: Path):
    good = _articles(3)
    broken = replace(article(text="خبر معطوب", link="https://news.example/a/broken", guid="g-b"),
                     entities=[{"text": "س", "type": "PER", "start": 2**40, "end": 1, "score": 0.5}])
    with TestPipeline() as p:
        out = p | beam.Create([*good, broken]) | WriteParquet(str(tmp_path), "articles")
        assert_that(out.dead_letter | beam.Map(lambda d: (d.stage, d.error_kind, d.url)),
                    equal_to([("write_articles", "unstorable_row", broken.url)]))
    totals = counters.query_counters(p.result)
    assert totals["rows_written_articles"] == 3 and totals[counters.ITEMS_DEAD_LETTERED] == 1
    con = duckdb.connect()
    rows = con.execute(f"SELECT url FROM read_parquet('{table_glob(str(tmp_path), 'articles')}')").fetchall()
    assert sorted(r[0] for r in rows) == sorted(a.url for a in good)


def test_lone_surrogates_are_stored_as_replacement_characters():
    row = article().to_row() | {"title": "عنوان \udfff", "text": "خبر \ud800 بحرف مكسور"}
    table, rejected = arrow_rows([article(text="خبر سليم").to_row(), row], ARTICLE_SCHEMA)
    assert rejected == [] and table.num_rows == 2
    assert table.column("title").to_pylist()[1] == "عنوان \ufffd"
    assert table.column("text").to_pylist()[1] == "خبر \ufffd بحرف مكسور"
