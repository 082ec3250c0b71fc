"""The whole batch pipeline on the DirectRunner against the loopback sample server."""
from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from akhbar.core.urls import canonical_url
from akhbar.lib.articles import FIELD_LIMITS
from akhbar.pipelines import ingest
from akhbar.schemas.article import ARTICLE_SCHEMA, DEAD_LETTER_SCHEMA, table_glob
from akhbar.transforms import counters

BOILERPLATE = ["شاهد أيضاً", "أخبار ذات صلة", "أضف تعليقاً", "الأكثر قراءة", "جميع الحقوق محفوظة", "شارك على", "عاجل: تابعوا"]


def _run(server, tmp_path: Path, *extra: str):
    feeds = tmp_path / "feeds.txt"
    server.write_feed_list(feeds)
    out = tmp_path / "out"
    argv = ["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", "--read_timeout", "2", *extra]
    result, _ = ingest.run_with_args(argv)
    return out, counters.query_counters(result)


def _rows(out: Path, table: str) -> list[dict]:
    con = duckdb.connect()
    rel = con.sql(f"SELECT * FROM read_parquet('{table_glob(str(out), table)}', hive_partitioning=true)")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    from akhbar.sample.server import SampleNewsServer

    tmp = tmp_path_factory.mktemp("batch")
    with SampleNewsServer(faults=True) as server:
        out, totals = _run(server, tmp)
        yield server, out, totals


def test_every_item_is_accounted_for_in_counters_and_output(batch_run):
    _server, out, totals = batch_run
    articles, dead = _rows(out, "articles"), _rows(out, "dead_letters")
    assert totals[counters.ITEMS_SEEN] > 0
    assert len(articles) == totals["rows_written_articles"]
    assert len(dead) == totals["rows_written_dead_letters"]
    item_dead = [d for d in dead if d["stage"] != "poll_feed"]
    assert len(item_dead) == totals[counters.ITEMS_DEAD_LETTERED]
    assert totals[counters.ITEMS_SEEN] == len(articles) + counters.duplicates_total(totals) + len(item_dead)
    assert len({a["article_id"] for a in articles}) == len(articles), "an article was written twice"


def test_corpus_articles_are_written_once_and_verbatim_copies_dropped(batch_run):
    server, out, totals = batch_run
    written = {a["canonical_url"]: a for a in _rows(out, "articles")}
    by_id = {a.id: a for a in server.articles}
    for article in server.articles:
        url = canonical_url(server.page_url(article))
        original = by_id.get(article.republished_from or "")
        if original is not None and original.body == article.body:
            assert url not in written, f"{article.id} is a verbatim copy of {original.id} and must be dropped"
            continue
        assert url in written, f"{article.id} was not written"
        row = written[url]
        assert row["title"] == article.title
        assert row["published_at"] == article.published, article.id
        assert row["published_source"] == "feed"
        assert row["text_source"] == "page", (article.id, row["fetch_error"])
        text = _squash(row["text"])
        for paragraph in article.body:
            assert _squash(paragraph) in text, f"{article.id} lost a paragraph"
        for marker in BOILERPLATE:
            assert marker not in row["text"], f"{article.id} kept boilerplate {marker!r}"
    assert totals["duplicates_guid"] > 0, "the section feed repeats items under other links"
    assert totals["duplicates_text"] >= 4, "the verbatim republications"
    assert totals["duplicates_url"] >= 1, "the wrong-charset feed repeats a wasat link"


def test_windows_1256_outlet_and_charset_repair(batch_run):
    server, out, totals = batch_run
    sahil = [a for a in _rows(out, "articles") if a["feed_url"].endswith("/sahil/feed.rss")]
    assert sahil and all(a["outlet"] == "الساحل اليوم" and a["language"] == "ar" for a in sahil)
    assert totals[counters.FEEDS_CHARSET_REPAIRED] >= 1


def test_bad_feeds_and_pages_become_dead_letters_or_fallbacks(batch_run):
    _server, out, _counters = batch_run
    dead = {(d["stage"], d["error_kind"]) for d in _rows(out, "dead_letters")}
    assert {
        ("poll_feed", "http_status"),
        ("poll_feed", "xml_entities"),
        ("poll_feed", "feed_parse"),
        ("fetch_article", "not_arabic"),
        ("fetch_article", "no_text"),
    } <= dead
    fallbacks = {a["url"].split("/fault/")[1]: a for a in _rows(out, "articles") if a["feed_url"].endswith("/bad/pages.xml")}
    expected_errors = {
        "404": "http_status",
        "500": "http_status",
        "slow?seconds=30": "timeout",
        "huge?mb=20": "too_large",
        "gzip-bomb?mb=50": "too_large",
        "redirect-loop": "redirect_loop",
    }
    assert set(fallbacks) == set(expected_errors)
    for route, kind in expected_errors.items():
        row = fallbacks[route]
        assert row["text_source"] == "feed_summary" and row["text"], route
        assert row["fetch_error"].startswith(kind), (route, row["fetch_error"])


def test_hostile_items_are_refused_isolated_and_bounded(batch_run):
    server, out, totals = batch_run
    hostile = {a["guid"]: a for a in _rows(out, "articles") if a["feed_url"].endswith("/bad/hostile.xml")}
    dead = {d["url"]: d for d in _rows(out, "dead_letters") if d["feed_url"].endswith("/bad/hostile.xml")}
    assert set(hostile) == {"hostile-metadata", "hostile-year-one", "hostile-cdata", "hostile-long-title"}
    assert hostile["hostile-metadata"]["fetch_error"].startswith("address_refused")
    assert hostile["hostile-metadata"]["text_source"] == "feed_summary"
    year_one = hostile["hostile-year-one"]
    assert year_one["published_source"] == "fetched_implausible"
    assert year_one["published_at"] == year_one["fetched_at"]
    assert len(hostile["hostile-long-title"]["title"]) <= FIELD_LIMITS["title"]
    assert totals[counters.FIELDS_TRUNCATED] >= 1
    assert {(d["stage"], d["error_kind"]) for d in dead.values()} == {("fetch_article", "bad_url")}
    assert {url.rsplit("/", 1)[-1] for url in dead} == {"404?secret=1", "trees.html"}
    assert not [r for r in server.requests if "secret" in r], "the backslash link never reached the server"


def test_output_schema_and_partitions(batch_run):
    _server, out, _counters = batch_run
    for table, schema in (("articles", ARTICLE_SCHEMA), ("dead_letters", DEAD_LETTER_SCHEMA)):
        files = list((out / table).glob("date=*/*.parquet"))
        assert files
        for path in files:
            assert pq.read_schema(path).equals(schema, check_metadata=True), path
    con = duckdb.connect()
    mismatched = con.execute(
        f"SELECT count(*) FROM read_parquet('{table_glob(str(out), 'articles')}', hive_partitioning=true) "
        "WHERE CAST(date AS VARCHAR) <> strftime(published_at AT TIME ZONE 'UTC', '%Y-%m-%d')"
    ).fetchone()[0]
    assert mismatched == 0
    assert not list(out.rglob("*.inprogress"))


@pytest.mark.slow
def test_multi_process_workers_write_the_same_articles(batch_run, tmp_path):
    from akhbar.sample.server import SampleNewsServer

    _server, out, _counters = batch_run
    with SampleNewsServer(faults=True) as server:
        mp_out, totals = _run(server, tmp_path, "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    in_process = {a["canonical_url"].split("/", 3)[3] for a in _rows(out, "articles")}
    multi = {a["canonical_url"].split("/", 3)[3] for a in _rows(mp_out, "articles")}
    assert multi == in_process
    assert totals[counters.ITEMS_SEEN] == len(multi) + counters.duplicates_total(totals) + totals[counters.ITEMS_DEAD_LETTERED]
