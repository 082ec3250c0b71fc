"""Exactly-once output across runs: reruns, a kill -9 mid-write, and a streaming stop and start.

Every run reads what earlier runs wrote to the same ``--output`` (the key
columns of the articles table) and writes only what is not there yet. Each
test checks row count == distinct articles after every run, and that each
run's counters balance, with the earlier runs' articles counted as
``duplicates_in_output``.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from akhbar.schemas.article import table_glob
from akhbar.transforms import counters
from tests.pipelines.identity_feeds import RSS_TYPE, item, page, rss, sentence
from tests.pipelines.test_identity_pipeline import FAST, assert_once_and_accounted, rows, run_once
from tests.prism import REPO_ROOT, log_tail, require_prism, streaming_command, wait_for
from tests.route_server import RouteServer

IN_OUTPUT = counters.DUPLICATES_PREFIX + "in_output"


class Outlet:
    """A feed of numbered articles with pages, on a RouteServer; ``publish`` adds the next ones."""

    def __init__(self, server: RouteServer, first: int = 0):
        self.server = server
        self.numbers: list[int] = []
        self.next = first
        self.feed_url = server.url + "/outlet/rss.xml"

    def page_path(self, n: int) -> str:
        return f"/outlet/news/{n}.html"

    def publish(self, count: int, now: datetime | None = None) -> list[int]:
        now = now or datetime.now(timezone.utc)
        new = list(range(self.next, self.next + count))
        self.next += count
        for n in new:
            self.server.set(self.page_path(n), page(f"خبر رقم {n}", sentence(n)).encode())
        self.numbers = new[::-1] + self.numbers  # newest first, as feeds are
        items = [item(title=f"خبر رقم {n}", link=self.server.url + self.page_path(n), guid=f"o-{n}", description="ملخص الخبر",
                      published=now - timedelta(minutes=n % 50)) for n in self.numbers]
        self.server.set("/outlet/rss.xml", rss(items, title="المنفذ").encode(), RSS_TYPE)
        return new

    def page_fetches(self) -> dict[int, int]:
        return {n: self.server.requests[self.page_path(n)] for n in self.numbers}


@pytest.mark.parametrize("runner", ["direct", pytest.param("prism", marks=pytest.mark.slow)])
def test_rerun_after_a_new_item_writes_only_the_new_item(tmp_path, runner):
    out = tmp_path / "out"
    with RouteServer() as server:
        outlet = Outlet(server)
        outlet.publish(10)
        first = run_once([outlet.feed_url], out, runner)
        assert len(assert_once_and_accounted(out, first)) == 10

        outlet.publish(1)
        second = run_once([outlet.feed_url], out, runner)
        assert len(assert_once_and_accounted(out, second, earlier=10)) == 11
        assert second["rows_written_articles"] == 1 and second[IN_OUTPUT] == 10
        assert set(outlet.page_fetches().values()) == {1}, "a rerun fetched a page it had already written"

        third = run_once([outlet.feed_url], out, runner)
        assert len(assert_once_and_accounted(out, third, earlier=11)) == 11
        assert third.get("rows_written_articles", 0) == 0 and third[IN_OUTPUT] == 11

        shutil.rmtree(out)  # deleting the output folder starts fresh
        fresh = run_once([outlet.feed_url], out, runner)
        assert len(assert_once_and_accounted(out, fresh)) == 11 and fresh.get(IN_OUTPUT, 0) == 0


KILL_ITEMS = 1500


@pytest.mark.slow
def test_kill_9_while_writing_then_a_rerun_writes_each_article_once(tmp_path):
    out = tmp_path / "out"
    with RouteServer() as server:
        now = datetime.now(timezone.utc)
        items = [item(title=f"برقية {n}", link=f"{server.url}/kill/{n}", guid=f"k-{n}", description=sentence(n),
                      published=now - timedelta(hours=n % 60)) for n in range(KILL_ITEMS)]
        feed = server.set("/kill/rss.xml", rss(items).encode(), RSS_TYPE)
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(feed + "\n", encoding="utf-8")
        log = tmp_path / "killed.log"
        command = [sys.executable, "-m", "akhbar", "run", "--feeds", str(feeds), "--output", str(out), "--once",
                   "--allow_loopback", "--no_fetch_pages", "--max_rows_per_file", "3", *FAST]
        with log.open("w") as handle:
            proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 240
                while not list(out.glob("articles/date=*/*.parquet")):
                    assert proc.poll() is None, log_tail(log)
                    assert time.monotonic() < deadline, "the run wrote no file in time\n" + log_tail(log)
                    time.sleep(0.01)
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            finally:
                if proc.poll() is None:
                    proc.kill()
        assert proc.returncode == -signal.SIGKILL
        visible = list(out.glob("articles/date=*/*.parquet"))
        # What a killed run leaves is complete (every visible file reads) or hidden (in-progress names).
        left = sum(pq.read_metadata(path).num_rows for path in visible)
        assert 0 < left < KILL_ITEMS, f"the kill came too late to test anything ({left} rows written)"
        assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{table_glob(str(out), 'articles')}')").fetchall() == [(left,)]
        assert all(p.name.startswith(".") for p in out.rglob("*.inprogress"))

        # The rerun cuts its files differently (7 rows each): names cannot line up with the killed run's.
        totals = run_once([feed], out, "direct", "--no_fetch_pages", "--max_rows_per_file", "7")
        assert len(assert_once_and_accounted(out, totals, earlier=left)) == KILL_ITEMS
        assert totals[IN_OUTPUT] == left and totals["rows_written_articles"] == KILL_ITEMS - left


@pytest.mark.slow
def test_streaming_stop_and_start_on_the_same_output_writes_each_article_once(tmp_path):
    require_prism()
    out = tmp_path / "out"
    with RouteServer() as server:
        outlet = Outlet(server)
        outlet.publish(8)
        feeds = tmp_path / "feeds.txt"
        feeds.write_text(outlet.feed_url + "\n", encoding="utf-8")

        def run(duration: int, log: Path, during=None) -> str:
            # --remember_entries below the feed's length: the poller must still not re-fetch old pages.
            command = streaming_command(feeds, out, "--duration", str(duration), "--remember_entries", "3", *FAST)
            with log.open("w") as handle:
                proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=handle, stderr=subprocess.STDOUT)
                try:
                    if during is not None:
                        during(proc, log)
                    rc = proc.wait(timeout=duration + 120)
                finally:
                    if proc.poll() is None:
                        proc.kill()
            assert rc == 0, log_tail(log)
            return log.read_text(encoding="utf-8", errors="replace")

        def publish_twice_mid_run(proc, log):
            for count in (2, 1):
                expected = len(outlet.numbers)
                wait_for(lambda n=expected: len(rows(out)) >= n, proc, 60, f"{expected} articles", log=log)
                outlet.publish(count)

        first = run(30, tmp_path / "first.log", publish_twice_mid_run)
        assert "accounted for       yes" in first, first[-3000:]
        assert len(rows(out)) == 11 and len({r["article_id"] for r in rows(out)}) == 11, first[-3000:]
        assert set(outlet.page_fetches().values()) == {1}, "a re-polled feed fetched its old pages again"

        outlet.publish(1)  # published while the job was stopped
        second = run(20, tmp_path / "second.log")
        assert "accounted for       yes" in second, second[-3000:]
        written = rows(out)
        assert len(written) == 12 and len({r["article_id"] for r in written}) == 12, "a restart wrote an article twice"
        assert set(outlet.page_fetches().values()) == {1}, "the restart fetched pages it had already written"
        assert "in_output 11" in second, second[-3000:]
