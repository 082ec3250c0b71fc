"""A streaming run on the Prism runner: output appears while it runs, items added
mid-run are picked up, nothing is written twice, and the job stops cleanly."""
from __future__ import annotations

import subprocess
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from akhbar.core.urls import canonical_url
from akhbar.schemas.article import table_glob
from tests.prism import REPO_ROOT, require_prism, served_sample, streaming_command, wait_for

pytestmark = pytest.mark.slow

DURATION_S = 60


def _article_rows(out: Path) -> list[tuple]:
    if not list(out.glob("articles/date=*/*.parquet")):
        return []
    return duckdb.sql(
        f"SELECT article_id, canonical_url, published_at FROM read_parquet('{table_glob(str(out), 'articles')}')"
    ).fetchall()


def test_streaming_on_prism_picks_up_items_published_mid_run(tmp_path):
    require_prism()
    with served_sample(tmp_path) as (server, feeds, out):
        log = (tmp_path / "job.log").open("w")
        started = datetime.now(timezone.utc)
        proc = subprocess.Popen(
            streaming_command(feeds, out, "--duration", str(DURATION_S)),
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            first = wait_for(lambda: _article_rows(out), proc, 40, "the first Parquet files")
            assert proc.poll() is None, "output must appear while the job runs"
            late = server.publish_late(2)
            late_urls = {canonical_url(server.page_url(a)) for a in late}

            def late_written():
                urls = {row[1] for row in _article_rows(out)}
                return all(url in urls for url in late_urls)

            wait_for(late_written, proc, 30, "the articles published mid-run")
            assert proc.poll() is None, "the mid-run articles must appear while the job runs"
            rc = proc.wait(timeout=DURATION_S + 60)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    output = (tmp_path / "job.log").read_text()
    assert rc == 0, output[-3000:]
    assert "accounted for       yes" in output, output[-3000:]
    rows = _article_rows(out)
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "an article was written twice across polls"
    assert len(rows) > len(first)
    late_rows = [row for row in rows if row[1] in late_urls]
    assert len(late_rows) == 2
    assert all(row[2] >= started.replace(microsecond=0) for row in late_rows)
    assert not list(out.rglob("*.inprogress"))


def test_ctrl_c_stops_an_open_ended_streaming_run_cleanly(tmp_path):
    require_prism()
    import signal

    with served_sample(tmp_path) as (server, feeds, out):
        log = (tmp_path / "job.log").open("w")
        proc = subprocess.Popen(streaming_command(feeds, out), cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: _article_rows(out), proc, 40, "the first Parquet files")
            proc.send_signal(signal.SIGINT)
            rc = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
    output = (tmp_path / "job.log").read_text()
    assert rc == 0, output[-3000:]
    assert "stopped; the files written so far are complete" in output
    assert _article_rows(out), "the files written before the stop stay readable"
