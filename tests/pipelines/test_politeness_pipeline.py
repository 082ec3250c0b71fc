"""Politeness end to end: the batch pipeline against loopback news sites whose request logs are the evidence.

Each site (``akhbar.sample.site.NewsSite``) logs every request with the time
it arrived; the assertions read those logs, not akhbar's own account.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from akhbar.pipelines import ingest
from akhbar.pipelines.summary import RunSummary
from akhbar.sample.site import NewsSite
from akhbar.transforms import counters

FAST = ["--ner_model", "none", "--event_model", "none", "--near_dup_policy", "off", "--read_timeout", "5"]


def _run(site: NewsSite, tmp_path: Path, *extra: str) -> tuple[dict[str, int], list[dict]]:
    feeds = tmp_path / "feeds.txt"
    site.write_feed_list(feeds)
    out = tmp_path / "out"
    result, _ = ingest.run_with_args(["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback",
                                      *FAST, *extra])
    totals = counters.query_counters(result)
    assert RunSummary(totals, str(out), 0).balanced, totals
    rows = duckdb.connect().execute(
        f"SELECT url, text_source, fetch_error FROM read_parquet('{out}/articles/*/*.parquet') ORDER BY url"
    ).fetchall()
    return totals, [dict(zip(("url", "text_source", "fetch_error"), row)) for row in rows]


def _gaps(times: list[float]) -> list[float]:
    times = sorted(times)
    return [b - a for a, b in zip(times, times[1:])]


def test_a_disallowed_path_is_never_requested_and_crawl_delay_spaces_the_rest(tmp_path):
    robots = "User-agent: *\nDisallow: /\n\nUser-agent: akhbar\nDisallow: /news/3.html\nDisallow: /news/5\nCrawl-delay: 1\n"
    with NewsSite(pages=8, robots=robots, feed_items=8) as site:
        totals, rows = _run(site, tmp_path, "--host_delay", "0", "--host_concurrency", "4")
        page_requests = site.requested("/news/")
        robots_requests = site.requested("/robots.txt")
    requested = {r.path for r in page_requests}
    assert "/news/3.html" not in requested and "/news/5.html" not in requested, "the server log shows no request"
    assert requested == {f"/news/{i}.html" for i in (0, 1, 2, 4, 6, 7)}
    assert len(robots_requests) == 1, "robots.txt is read once per run and host"
    assert all(r.user_agent.startswith("akhbar/") for r in page_requests + robots_requests)
    # Crawl-delay: 1 raises --host_delay 0 to one request a second (robots.txt included).
    gaps = _gaps([r.at for r in page_requests + robots_requests])
    assert min(gaps) >= 1.0, gaps
    # The disallowed pages are written with the feed's text and say why.
    by_path = {row["url"].split(":", 2)[2].split("/", 1)[1]: row for row in rows}
    for path in ("news/3.html", "news/5.html"):
        assert by_path[path]["text_source"] == "feed_summary"
        assert by_path[path]["fetch_error"].startswith("robots_disallowed: robots.txt of ")
    assert all(by_path[f"news/{i}.html"]["text_source"] == "page" for i in (0, 1, 2, 4, 6, 7))
    assert totals[counters.PAGES_ROBOTS_DISALLOWED] == 2
    assert totals.get(counters.PAGES_FAILED, 0) == 0


def test_a_429_with_retry_after_is_fetched_again_after_it_and_written(tmp_path):
    with NewsSite(pages=6, robots=None, feed_items=6, rate_limit={"/news/2.html": "2"}) as site:
        totals, rows = _run(site, tmp_path, "--host_delay", "0.1")
        attempts = site.requested("/news/2.html")
    assert len(attempts) == 2, attempts
    assert attempts[1].at - attempts[0].at >= 2.0, "the retry waited for Retry-After"
    (row,) = [r for r in rows if r["url"].endswith("/news/2.html")]
    assert row["text_source"] == "page" and row["fetch_error"] is None
    assert len(rows) == 6
    assert totals[counters.PAGES_DEFERRED] >= 1
    assert totals.get(counters.PAGES_RATE_LIMITED, 0) == 0


def test_a_retry_after_longer_than_the_cap_keeps_the_feed_text(tmp_path):
    with NewsSite(pages=3, robots=None, feed_items=3, rate_limit={"/news/1.html": "3600"}) as site:
        totals, rows = _run(site, tmp_path, "--host_delay", "0", "--max_retry_after", "60")
        attempts = site.requested("/news/1.html")
    assert len(attempts) == 1
    (row,) = [r for r in rows if r["url"].endswith("/news/1.html")]
    assert row["text_source"] == "feed_summary"
    assert row["fetch_error"].startswith("rate_limited: ") and "3600s" in row["fetch_error"]
    assert totals[counters.PAGES_RATE_LIMITED] == 1


@pytest.mark.slow
def test_request_spacing_stays_at_or_above_the_host_delay_over_50_pages(tmp_path):
    delay = 0.3
    with NewsSite(pages=50, robots=None, feed_items=50) as site:
        totals, rows = _run(site, tmp_path, "--host_delay", str(delay), "--host_concurrency", "4")
        requests = site.requested("/news/") + site.requested("/robots.txt")
    assert len(rows) == 50 and totals[counters.PAGES_FETCHED] == 50
    gaps = _gaps([r.at for r in requests])
    assert len(gaps) == 50  # robots.txt and 50 pages
    assert min(gaps) >= delay, sorted(gaps)[:5]
    # Spacing, not serial fetching: the whole host took about pages x delay.
    span = max(r.at for r in requests) - min(r.at for r in requests)
    assert span < 50 * delay * 1.5, span
