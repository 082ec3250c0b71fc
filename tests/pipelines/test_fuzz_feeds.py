"""Fuzzing with hostile feeds and pages (Hypothesis), served by a real loopback server.

Properties, for any site a careless or hostile publisher can serve:
* nothing raises out of a step: a feed fails alone (FeedError/FetchError), an
  item becomes an article or a dead letter;
* every item is accounted for: seen = written + duplicates + dead letters;
* the output reads back in DuckDB with the declared schema, ``date`` typed DATE;
* every partition value is ``YYYY-MM-DD``.

The first test runs the library steps the pipeline's DoFns run (fetch, parse,
the per-item FetchArticles step with its isolation wrapper, the Parquet
writer) on many examples; the second runs the whole pipeline on the
DirectRunner on a few. Examples that once failed are kept with ``@example``.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from apache_beam.pvalue import TaggedOutput
from hypothesis import HealthCheck, example, given, settings

from akhbar.lib.articles import FetchConfig
from akhbar.lib.feeds import FeedError, parse_feed
from akhbar.lib.web.http import FetchError, HttpClient, HttpConfig
from akhbar.pipelines import ingest
from akhbar.schemas.article import ARTICLES_TABLE, DEAD_LETTERS_TABLE, SCHEMAS, partition_date, table_glob
from akhbar.schemas.records import Article, DeadLetter, utc_now
from akhbar.transforms import counters
from akhbar.transforms.fetch import FetchArticleFn
from akhbar.transforms.parquet import arrow_rows, write_arrow_file
from tests.hostile_feeds import Entry, Feed, Site, SiteServer, sites

pytestmark = pytest.mark.timeout(600)

PARTITION = re.compile(r"date=\d{4}-\d{2}-\d{2}")
FUZZ_SETTINGS = dict(deadline=None, derandomize=False, print_blob=True,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.function_scoped_fixture])

# Failures found by this fuzzing, kept as explicit examples.
YEAR_ONE = Site(feeds=[Feed("rss", "utf-8", True, None, "", "جريدة", [
    Entry("خبر قديم جدا", "{base}/page/{n}", "g-1", "Mon, 01 Jan 0001 00:00:00 GMT", "ملخص الخبر القديم", None)])],
    pages=[])
BAD_CHARREF = Site(feeds=[Feed("rss", "utf-8", True, None, "", "جريدة &#xD800;", [
    Entry("عنوان &#x110000; مكسور", "{base}/page/{n}", None, None, "ملخص &#55296; الخبر &#99999999999;", None)])],
    pages=[])
BACKSLASH_LINK = Site(feeds=[Feed("atom", "utf-16", True, "text/xml; charset=iso-8859-1", "", "وكالة", [
    Entry("خبر", "http://127.0.0.1:{port}\\@1.1.1.1/page/{n}", "tag:x", "2026-11-24T08:00:00Z", "ملخص الخبر", None),
    Entry("خبر آخر", "http://127.0.0.1:99999/x", "tag:y", "9999-12-31T23:59:59Z", "ملخص خبر آخر", None),
    Entry("خبر ثالث", "http://[::1/x", "tag:z", "", "ملخص خبر ثالث", None)])], pages=[])
HUGE_FIELDS = Site(feeds=[Feed("rss", "windows-1256", True, None, "", "جريدة", [
    Entry("عنوان طويل " * 3000, "{base}/page/{n}", "g-huge", None, "ملخص طويل " * 5000, "نص " * 80_000)])],
    pages=[(b"", "text/html")])
ENTITY_IN_CDATA = Site(feeds=[Feed("rss", "utf-8", True, None, "", "جريدة", [
    Entry("خبر", "{base}/page/{n}", "g-e", None, '<![CDATA[عن الإعلان <!ENTITY x "y"> في XML]]>', None)])],
    pages=[])


def _expected_types(con, table: str, tmp: Path) -> list[tuple[str, str]]:
    reference = tmp / f"reference-{table}.parquet"
    write_arrow_file(SCHEMAS[table].empty_table(), str(tmp), reference.name)
    return con.execute(f"DESCRIBE SELECT * FROM read_parquet('{reference}')").fetchall()


def _check_output(out: Path, table: str, tmp: Path) -> int:
    """The table reads back in DuckDB with the declared schema and DATE partitions; returns its row count."""
    folders = [p.name for p in (out / table).glob("*") if p.is_dir()]
    assert all(PARTITION.fullmatch(name) for name in folders), folders
    files = list((out / table).glob("date=*/*.parquet"))
    if not files:
        return 0
    con = duckdb.connect()
    glob = table_glob(str(out), table)
    got = con.execute(f"DESCRIBE SELECT * EXCLUDE (date) FROM read_parquet('{glob}', hive_partitioning=true)")
    assert got.fetchall() == _expected_types(con, table, tmp)
    types = con.execute(f"SELECT DISTINCT typeof(date) FROM read_parquet('{glob}', hive_partitioning=true)")
    assert types.fetchall() == [("DATE",)]
    return con.execute(f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning=true)").fetchone()[0]


def _write(records: list, table: str, out: Path) -> None:
    by_date: dict[str, list[dict]] = {}
    time_column = "published_at" if table == ARTICLES_TABLE else "occurred_at"
    for record in records:
        row = record.to_row()
        by_date.setdefault(partition_date(row[time_column]), []).append(row)
    for date, rows in by_date.items():
        arrow, rejected = arrow_rows(rows, SCHEMAS[table])
        assert rejected == [], rejected
        write_arrow_file(arrow, str(out / table / f"date={date}"), "part-0.parquet")


@settings(max_examples=30, **FUZZ_SETTINGS)
@given(site=sites())
@example(site=YEAR_ONE)
@example(site=BAD_CHARREF)
@example(site=BACKSLASH_LINK)
@example(site=HUGE_FIELDS)
@example(site=ENTITY_IN_CDATA)
def test_library_steps_turn_any_site_into_rows_or_dead_letters(site, tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz")
    http = HttpConfig(allow_loopback=True, connect_timeout=1.0, read_timeout=2.0)
    fetcher = FetchArticleFn(FetchConfig(http=http, keep_non_arabic=True))
    fetcher.setup()
    articles: list[Article] = []
    dead: list[DeadLetter] = []
    seen = 0
    with SiteServer(site) as server, HttpClient(http) as client:
        for url in server.feed_urls():
            try:
                response = client.get(url)
                parsed = parse_feed(response.body, url, response.headers.get("content-type"), utc_now())
            except (FetchError, FeedError):
                continue  # the feed fails alone (the pipeline writes its dead letter)
            for item in parsed.items:
                seen += 1
                (output,) = list(fetcher.process(item))  # exactly one result per item
                if isinstance(output, TaggedOutput):
                    dead.append(output.value)
                else:
                    assert isinstance(output, Article)
                    assert output.published_source in ("feed", "page", "fetched", "fetched_implausible")
                    articles.append(output)
    fetcher.teardown()
    assert seen == len(articles) + len(dead)
    _write(articles, ARTICLES_TABLE, out)
    _write(dead, DEAD_LETTERS_TABLE, out)
    assert _check_output(out, ARTICLES_TABLE, out) == len(articles)
    assert _check_output(out, DEAD_LETTERS_TABLE, out) == len(dead)


@settings(max_examples=4, **FUZZ_SETTINGS)
@given(site=sites(max_feeds=2))
@example(site=BACKSLASH_LINK)
def test_the_pipeline_never_fails_and_accounts_for_every_item(site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz-run")
    with SiteServer(site) as server:
        feeds = tmp / "feeds.txt"
        feeds.write_text("\n".join(server.feed_urls()) + "\n")
        out = tmp / "out"
        result, _ = ingest.run_with_args([
            "--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", "--read_timeout", "2",
            "--connect_timeout", "1", "--keep_non_arabic", "--ner_model", "none", "--event_model", "none",
        ])
    totals = counters.query_counters(result)
    written = _check_output(out, ARTICLES_TABLE, tmp)
    letters = _check_output(out, DEAD_LETTERS_TABLE, tmp)
    assert written == totals.get("rows_written_articles", 0)
    assert letters == totals.get("rows_written_dead_letters", 0)
    assert totals.get(counters.ITEMS_SEEN, 0) == (
        written + counters.duplicates_total(totals) + totals.get(counters.ITEMS_DEAD_LETTERED, 0)
    )
    assert totals.get(counters.FEEDS_READ, 0) + totals.get(counters.FEEDS_FAILED, 0) == len(site.feeds)
