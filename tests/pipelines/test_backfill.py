"""akhbar backfill end to end: a loopback site's two-level gzip sitemap index, a date range, exactly once."""
from __future__ import annotations

import duckdb
import pytest

from akhbar.cli import main
from akhbar.lib.sitemaps import DateRange
from akhbar.pipelines.backfill import parse_backfill_args
from akhbar.pipelines.options import UsageError
from akhbar.sample.site import NewsSite

FAST = ["--ner_model", "none", "--event_model", "none", "--near_dup_policy", "off", "--allow_loopback",
        "--host_delay", "0", "--host_concurrency", "4"]


def _rows(out) -> list[tuple]:
    return duckdb.connect().execute(
        f"SELECT url, published_at, published_source, text_source FROM read_parquet('{out}/articles/*/*.parquet', "
        "hive_partitioning = true) ORDER BY url").fetchall()


def test_a_backfill_writes_exactly_the_pages_of_the_range_and_a_second_one_nothing_new(tmp_path, capsys):
    out = tmp_path / "out"
    with NewsSite(pages=300, robots=None, per_sitemap=25) as site:
        argv = ["backfill", "--sitemap", site.url + "/sitemap_index.xml", "--since", "2026-10-20",
                "--until", "2026-11-09", "--output", str(out), *FAST]
        assert main(argv) == 0
        first = capsys.readouterr().out
        pages_fetched = len(site.requested("/news/"))
        assert main(argv) == 0
        second = capsys.readouterr().out
        assert len(site.requested("/news/")) == pages_fetched, "the second backfill fetched no page"
        fetched_sitemaps = {r.path for r in site.requested("/sitemaps/")}
    dates = DateRange.parse("2026-10-20", "2026-11-09")
    expected = {site.page_url(p) for p in site.pages if p.published in dates}
    assert len(expected) == 84  # 21 days x 4 pages
    rows = _rows(out)
    assert {row[0] for row in rows} == expected and len(rows) == len(expected)
    assert all(dates.start <= row[1] < dates.end and row[2] == "feed" for row in rows)
    assert {row[3] for row in rows} == {"page"}
    assert pages_fetched == len(expected)
    assert "urls in range       84" in first and "articles written    84" in first
    # Nothing new the second time: every page is already in the output.
    assert _rows(out) == rows
    assert "articles written    0" in second and "in_output 84" in second
    assert "accounted for       yes" in second
    # The month indexes (gzip) and URL sets (gzip) outside the range were skipped by their lastmod.
    assert "/sitemaps/2026-12/index.xml.gz" in fetched_sitemaps
    assert "/sitemaps/2026-10/part-0.xml.gz" not in fetched_sitemaps


def test_a_backfill_of_a_site_reads_its_robots_sitemaps_and_obeys_the_rest(tmp_path, capsys):
    out = tmp_path / "out"
    with NewsSite(pages=40, robots="") as site:
        site.robots = f"User-agent: akhbar\nDisallow: /news/33.html\nSitemap: {site.url}/news-sitemap.xml\n"
        code = main(["backfill", "--site", site.url, "--since", "2026-10-01", "--output", str(out), *FAST])
        printed = capsys.readouterr().out
        requested = {r.path for r in site.requests}
    assert code == 0
    assert "/news/33.html" not in requested and "/news/32.html" in requested and "/sitemap_index.xml" not in requested
    assert "urls in range       20" in printed
    # The disallowed page has no feed text to fall back on: it is a dead letter, with the reason.
    (dead,) = duckdb.connect().execute(
        f"SELECT url, error_kind, error FROM read_parquet('{out}/dead_letters/*/*.parquet')").fetchall()
    assert dead[0].endswith("/news/33.html") and dead[1] == "no_text" and "robots_disallowed" in dead[2]
    assert len(_rows(out)) == 19


def test_no_sitemap_readable_exits_3(tmp_path, capsys):
    with NewsSite(pages=1, robots=None) as site:
        code = main(["backfill", "--sitemap", site.url + "/missing.xml", "--since", "2026-10-01",
                     "--output", str(tmp_path / "out"), *FAST])
    captured = capsys.readouterr()
    assert code == 3 and "no sitemap could be read" in captured.err and "HTTP 404" in captured.out


@pytest.mark.parametrize(("argv", "says"), [
    (["--since", "2026-11-01", "--output", "o"], "give --site URL or --sitemap URL"),
    (["--site", "https://n.example", "--output", "o"], "--since DATE is required"),
    (["--site", "https://n.example", "--since", "yesterday", "--output", "o"], "--since 'yesterday'"),
    (["--site", "ftp://n.example", "--since", "2026-11-01", "--output", "o"], "scheme 'ftp' not allowed"),
    (["--site", "https://n.example", "--since", "2026-11-01"], "--output DIR is required"),
    (["--site", "https://n.example", "--since", "2026-11-01", "--output", "o", "--streaming"], "batch run"),
    (["--site", "https://n.example", "--since", "2026-11-01", "--output", "o", "--host_delay", "-1"], "--host_delay"),
    (["--site", "https://n.example", "--since", "2026-11-01", "--output", "o", "--hots_delay", "1"],
     "did you mean --host_delay"),
])
def test_bad_backfill_command_lines_are_one_line_errors(argv, says):
    with pytest.raises(UsageError, match=says):
        parse_backfill_args(argv)


def test_backfill_help_lists_its_own_and_the_run_options(capsys):
    assert main(["backfill", "--help"]) == 0
    printed = capsys.readouterr().out
    assert "--sitemap URL" in printed and "--since DATE" in printed and "--host_delay" in printed
