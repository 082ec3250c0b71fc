"""Reading a news archive's sitemaps for one month: akhbar's walker beside ultimate-sitemap-parser.

A loopback site holds ``--pages`` pages, one an hour (about 28 months for
20,000), behind a two-level gzip sitemap index (monthly indexes of URL sets of
500) and a Google News sitemap, both named in robots.txt. Each reader fetches
through the same ``PoliteClient`` (guard, caps, robots.txt) with no spacing, and
keeps the URLs dated in the last 30 days. Printed per reader: requests sent
(at the default ``--host_delay 1`` each is a second of wall time), wall time
without spacing (the loopback server's rendering included), peak Python memory
(tracemalloc, in a second read) and URLs kept.

    .venv/bin/python -m bench.sitemaps --pages 20000

ultimate-sitemap-parser is in the test extra; the benchmark says so if it is missing.
"""
from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from datetime import timedelta

from akhbar.lib.sitemaps import DateRange, find_sitemaps, walk_sitemaps
from akhbar.lib.web.http import FetchError, HttpConfig
from akhbar.lib.web.politeness import PoliteClient, PolitenessConfig
from akhbar.sample.site import NewsSite
from bench.throughput import machine

LOOPBACK = HttpConfig(allow_loopback=True, read_timeout=30, max_bytes=64 * 1024 * 1024)


def _measure(site: NewsSite, read) -> dict:
    """Requests and wall time of one read, then its peak Python memory in a second read (tracemalloc is slow)."""
    site.requests.clear()
    with PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        started = time.monotonic()
        kept = read(polite)
        wall = time.monotonic() - started
    requests = len(site.requests)
    with PoliteClient(LOOPBACK, PolitenessConfig(delay_s=0)) as polite:
        tracemalloc.start()
        read(polite)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {"requests": requests, "wall_s": round(wall, 2), "peak_python_mib": round(peak / 2**20, 1),
            "urls_kept": kept}


def akhbar_reader(site: NewsSite, dates: DateRange):
    def read(polite: PoliteClient) -> int:
        roots, probed = find_sitemaps(polite, site.url)
        return len(walk_sitemaps(polite.get, roots, dates, {site.host}, probed=probed).entries)

    return read


def usp_reader(site: NewsSite, dates: DateRange, known_paths: bool):
    from usp.tree import sitemap_tree_for_homepage
    from usp.web_client.abstract_client import (
        AbstractWebClient,
        AbstractWebClientSuccessResponse,
        WebClientErrorResponse,
    )

    class Response(AbstractWebClientSuccessResponse):
        def __init__(self, response):
            self._response = response

        def status_code(self):
            return self._response.status

        def status_message(self):
            return "OK"

        def header(self, case_insensitive_name):
            return self._response.headers.get(case_insensitive_name.lower())

        def raw_data(self):
            return self._response.body

        def url(self):
            return self._response.url

    class PoliteWebClient(AbstractWebClient):
        """usp's fetches through akhbar's client (guard, caps, robots.txt, spacing)."""

        def __init__(self, polite: PoliteClient):
            self._polite = polite

        def set_max_response_data_length(self, max_response_data_length):
            pass  # the PoliteClient's own cap applies

        def get(self, url):
            try:
                return Response(self._polite.get(url))
            except FetchError as exc:
                return WebClientErrorResponse(str(exc), retryable=False)

    def read(polite: PoliteClient) -> int:
        tree = sitemap_tree_for_homepage(site.url, web_client=PoliteWebClient(polite), use_known_paths=known_paths)
        kept = set()
        for page in tree.all_pages():
            when = page.news_story.publish_date if page.news_story else page.last_modified
            if when is not None and when in dates:
                kept.add(page.url)
        return len(kept)

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20_000)
    args = parser.parse_args()
    with NewsSite(pages=args.pages, step=timedelta(hours=1), per_sitemap=500, robots="") as site:
        site.robots = f"User-agent: *\nAllow: /\nSitemap: {site.url}/sitemap_index.xml\nSitemap: {site.url}/news-sitemap.xml\n"
        newest = max(p.published for p in site.pages)
        dates = DateRange(newest - timedelta(days=30), newest + timedelta(seconds=1))
        results = {"akhbar.lib.sitemaps (lastmod pruning)": _measure(site, akhbar_reader(site, dates))}
        try:
            import usp  # noqa: F401
        except ImportError:
            results["ultimate-sitemap-parser"] = "not installed (pip install ultimate-sitemap-parser)"
        else:
            results["ultimate-sitemap-parser (defaults)"] = _measure(site, usp_reader(site, dates, True))
            results["ultimate-sitemap-parser (robots.txt only)"] = _measure(site, usp_reader(site, dates, False))
        expected = sum(1 for p in site.pages if p.published in dates)
    print(json.dumps({"machine": machine(), "pages": args.pages, "urls_in_range": expected, **results},
                     indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
