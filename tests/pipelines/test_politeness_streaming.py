"""A streaming run on Prism: a page rate-limited with Retry-After is fetched again on a later tick, then written."""
from __future__ import annotations

import subprocess

import duckdb
import pytest

from akhbar.sample.site import NewsSite
from tests.prism import REPO_ROOT, log_tail, require_prism, streaming_command, wait_for

pytestmark = pytest.mark.slow


def _rows(out) -> dict[str, tuple]:
    if not list(out.glob("articles/date=*/*.parquet")):
        return {}
    rows = duckdb.sql(f"SELECT url, text_source, fetch_error FROM read_parquet('{out}/articles/*/*.parquet')").fetchall()
    return {row[0].rsplit("/", 1)[1]: row for row in rows}


def test_a_rate_limited_page_is_fetched_on_a_later_tick(tmp_path):
    require_prism()
    out = tmp_path / "out"
    with NewsSite(pages=5, robots=None, feed_items=5, rate_limit={"/news/1.html": "4"}) as site:
        feeds = tmp_path / "feeds.txt"
        site.write_feed_list(feeds)
        log_path = tmp_path / "job.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                streaming_command(feeds, out, "--duration", "30", "--ner_model", "none", "--event_model", "none",
                                  "--near_dup_policy", "off"),
                cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for(lambda: "1.html" in _rows(out), proc, 45, "the rate-limited page's article", log=log_path)
                rc = proc.wait(timeout=90)
            finally:
                if proc.poll() is None:
                    proc.kill()
        attempts = site.requested("/news/1.html")
    assert rc == 0, log_tail(log_path)
    assert len(attempts) == 2 and attempts[1].at - attempts[0].at >= 4.0, attempts
    rows = _rows(out)
    assert rows["1.html"][1:] == ("page", None)
    assert len(rows) == 5
    output = log_path.read_text()
    assert "accounted for       yes" in output, log_tail(log_path)
