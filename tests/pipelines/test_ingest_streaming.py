"""Streaming runs on the Prism runner over the demo's real mix, each ending cleanly.

* The mix: every bad feed and page the demo serves, item-level dead letters, the
  event model raising on one article, near-dup and both models on, a feed that
  fails (a cut-off body under its good ETag) and recovers, and items published
  mid-run. Output appears while the job runs; every item is accounted for; each
  story is written once; the job stops by itself within ``write_interval + 30 s``
  of its ``--duration`` deadline with every file complete.
* A run outlives the job service's request deadline (``--job_server_timeout``,
  300 s by default, lowered here to show the mechanism; ``bench/soak.py`` runs
  past the real one).
* Ctrl-C stops an open-ended run cleanly.
"""
from __future__ import annotations

import re
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from akhbar.core.urls import canonical_url
from akhbar.sample.server import OUTLETS, SampleNewsServer
from akhbar.schemas.article import table_glob
from tests.prism import (
    deadline_from_log,
    kill_job,
    log_tail,
    require_prism,
    served_sample,
    start_job,
    story_groups,
    streaming_command,
    wait_for,
)

pytestmark = pytest.mark.slow

WRITE_S = 3
MIX_DURATION_S = 100
ENRICH_VICTIM = "anba-006"  # the event model raises on this article


def _rows(out: Path, table: str, columns: str) -> list[tuple]:
    if not list(out.glob(f"{table}/date=*/*.parquet")):
        return []
    return duckdb.sql(f"SELECT {columns} FROM read_parquet('{table_glob(str(out), table)}')").fetchall()


def _article_rows(out: Path) -> list[tuple]:
    return _rows(out, "articles", "article_id, canonical_url, published_at")


def _counter(output: str, label: str) -> int:
    found = re.search(rf"^{label}\s+(\d+)", output, re.MULTILINE)
    assert found, f"no {label!r} line in the summary:\n{output[-3000:]}"
    return int(found.group(1))


def _assert_clean_stop(log: Path, ended: datetime, out: Path) -> str:
    """The job ended by itself soon after its deadline, its counters balance and every file is whole."""
    output = log.read_text(encoding="utf-8", errors="replace")
    late_by = (ended - deadline_from_log(log)).total_seconds()
    assert late_by <= WRITE_S + 30, f"the job ended {late_by:.0f}s after its deadline\n{log_tail(log)}"
    assert "accounted for       yes" in output, log_tail(log)
    assert not list(out.rglob("*.inprogress")), "a file was left half-written"
    assert not list(out.rglob(".temp*")), "a file was left in a temporary folder"
    return output


def test_streaming_real_mix_on_prism(tmp_path):
    require_prism()
    with SampleNewsServer(faults=True) as server:
        feeds, out, log_path = tmp_path / "feeds.txt", tmp_path / "out", tmp_path / "job.log"
        server.write_feed_list(feeds)
        victim = next(a for a in server.articles if a.id == ENRICH_VICTIM)
        wasat_feed = OUTLETS["wasat"].feed_path
        # The streaming near-dup index keeps the articles within --near_dup_ttl of the latest publication
        # time it has seen. The sample is dated 24 Nov 2026 while the hostile feed's year-one item and the
        # mid-run items are dated now: a TTL that spans both keeps the sample's articles matchable.
        oldest = min(a.published for a in server.articles)
        near_dup_ttl = int((datetime.now(timezone.utc) - oldest).total_seconds()) + 86_400
        server.fail_feed("wasat", "broken")
        log = log_path.open("w")
        proc = start_job(
            [sys.executable, "-m", "tests.streaming_job", "--fail_on_title", victim.title,
             "--feeds", str(feeds), "--output", str(out), "--streaming", "--allow_loopback",
             "--poll_interval", "3", "--write_interval", str(WRITE_S), "--read_timeout", "3", "--max_backoff", "6",
             "--duration", str(MIX_DURATION_S), "--near_dup_ttl", str(max(near_dup_ttl, 3 * 86_400))],
            log,
        )
        try:
            first = wait_for(lambda: _article_rows(out), proc, 90, "the first Parquet files", log=log_path)
            wait_for(lambda: sum(r.split("?")[0] == wasat_feed for r in server.requests) >= 2, proc, 30,
                     "two polls of the failing feed", log=log_path)
            assert proc.poll() is None, "output must appear while the job runs"
            server.restore_feed("wasat")
            late = server.publish_late(2)
            groups = story_groups(server)

            def missing() -> list[str]:
                written = {row[1] for row in _article_rows(out)}
                return sorted(story for story, urls in groups.items() if not urls & written)

            wait_for(lambda: not missing(), proc, 60, "every story, the recovered feed's and the mid-run ones included",
                     explain=lambda: f"stories missing: {missing()}", log=log_path)
            assert proc.poll() is None, "the recovered feed's and the mid-run articles must appear while the job runs"
            rc = proc.wait(timeout=MIX_DURATION_S + 60)
            ended = datetime.now(timezone.utc)
        finally:
            kill_job(proc)
            log.close()
    assert rc == 0, log_tail(log_path)
    output = _assert_clean_stop(log_path, ended, out)

    rows = _rows(out, "articles", "article_id, canonical_url, published_at, title, event_model, event_types, "
                                  "entities, story_id, ner_model, duplicate_of")
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "an article was written twice"
    written = [row[1] for row in rows]
    for story, urls in groups.items():
        assert len(urls & set(written)) == 1, f"story {story} written {len(urls & set(written))} times"
    # Outside the stories: the items of the bad pages and of the hostile links, written from feed text.
    outside = {(feed, guid) for url, feed, guid in _rows(out, "articles", "canonical_url, feed_url, guid")
               if not any(url in urls for urls in groups.values())}
    assert {feed.split("/", 3)[-1] for feed, _guid in outside} == {"bad/pages.xml", "bad/hostile.xml"}, outside
    hostile = {guid for feed, guid in outside if feed.endswith("/bad/hostile.xml")}
    assert hostile == {"hostile-metadata", "hostile-year-one", "hostile-cdata", "hostile-long-title"}
    assert len(rows) > len(first)
    assert _counter(output, "articles written") == len(rows)

    by_url = {row[1]: row for row in rows}

    def row_of(article) -> tuple:
        (row,) = [by_url[u] for u in map(canonical_url, server.listed_urls(article)) if u in by_url]
        return row

    # Items published mid-run carry their publication time.
    assert all(row_of(a)[2] >= late[0].published for a in late)

    # The event model failed on one article: written, NER on it, its event columns empty, one dead letter.
    (victim_row,) = [row for row in rows if row[3] == victim.title]
    assert victim_row[4] is None and victim_row[5] is None
    assert victim_row[6] and victim_row[8], "the NER branch must still tag the article the event model failed on"
    assert [row[0] for row in rows if row[4] is None] == [victim_row[0]]
    assert all(row[8] for row in rows), "NER ran on every article"

    # Near-dup on: each edited republication is linked to its original. (Which of the two is the
    # other's duplicate_of depends on the order they reach the index shards; when two arrive together
    # and shards see them in different orders, their story_ids can still differ: a known limit of
    # the sharded streaming index, not checked here.)
    by_id = {a.id: a for a in server.articles}
    edited = [(a, by_id[a.republished_from]) for a in server.articles
              if a.republished_from and a.body != by_id[a.republished_from].body]
    assert edited
    for copy, original in edited:
        a, b = row_of(copy), row_of(original)
        assert a[9] == b[0] or b[9] == a[0], f"{copy.id} and {original.id} are not linked as near-duplicates"

    dead = _rows(out, "dead_letters", "stage, error_kind, feed_url, url")
    assert _counter(output, "dead letters") == len(dead)
    kinds = {(stage, kind) for stage, kind, _feed, _url in dead}
    assert {("poll_feed", "http_status"), ("poll_feed", "feed_parse"), ("poll_feed", "xml_entities"),
            ("fetch_article", "no_text"), ("fetch_article", "not_arabic"), ("fetch_article", "bad_url"),
            ("enrich_events", "model_error")} <= kinds
    assert any(stage == "poll_feed" and feed.endswith(wasat_feed) for stage, _k, feed, _u in dead), \
        "the outage of the recovered feed is dead-lettered"
    assert [url for stage, _k, _f, url in dead if stage == "enrich_events"] == [canonical_url(server.page_url(victim))]


def test_a_streaming_run_outlives_the_job_service_request_deadline(tmp_path):
    """Beam gives the job's state and message streams --job_server_timeout as their deadline;
    akhbar's runner opens them without one. Lowered to 10 s, a 30 s run still ends cleanly."""
    require_prism()
    with served_sample(tmp_path) as (_server, feeds, out):
        log_path = tmp_path / "job.log"
        started = time.monotonic()
        with log_path.open("w") as log:
            proc = start_job(streaming_command(feeds, out, "--duration", "30", "--job_server_timeout", "10",
                                               "--ner_model", "none", "--event_model", "none",
                                               "--near_dup_policy", "off"), log)
            try:
                proc.wait(timeout=150)
            finally:
                kill_job(proc)
        took = time.monotonic() - started
    assert proc.returncode == 0, log_tail(log_path)
    assert took > 30, "the run must last past the lowered deadline"
    _assert_clean_stop(log_path, datetime.now(timezone.utc), out)
    assert "DEADLINE_EXCEEDED" not in log_path.read_text()


def test_ctrl_c_stops_an_open_ended_streaming_run_cleanly(tmp_path):
    require_prism()
    with served_sample(tmp_path) as (_server, feeds, out):
        log_path = tmp_path / "job.log"
        log = log_path.open("w")
        proc = start_job(streaming_command(feeds, out), log)
        try:
            wait_for(lambda: _article_rows(out), proc, 60, "the first Parquet files", log=log_path)
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=60)
        finally:
            kill_job(proc)
            log.close()
    output = log_path.read_text()
    assert rc == 0, output[-3000:]
    assert "stopped; the files written so far are complete" in output
    assert _article_rows(out), "the files written before the stop stay readable"
    assert not list(out.rglob("*.inprogress"))
