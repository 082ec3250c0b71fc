"""Backfill across many hosts with the default politeness: is the wall time the politeness bound, not more?

Ten loopback news sites (on 127.0.0.1, one port each: one politeness host each) serve 200
pages each, with robots.txt and a two-level gzip sitemap index. ``akhbar
backfill --site ...`` reads all ten and fetches every page with the default
politeness (``--host_delay 1``, ``--host_concurrency 2``). A host then cannot be
done sooner than pages x delay (200 s): that bound is the yardstick, printed
beside the measured wall time, the time each host's pages took as the
server saw them, and the smallest gap between two requests to one host. Every
host also serves robots.txt and its sitemaps (read before the pages, with the
same spacing), so the tightest bound is every request to a host x delay; it is
printed too. The
same backfill with ``--host_delay 0`` is run too, to show what the pipeline
itself costs. The models are off: this measures fetching, not enrichment.

    .venv/bin/python -m bench.backfill_politeness                 # 10 hosts x 200 pages
    .venv/bin/python -m bench.backfill_politeness --hosts 3 --pages 30
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
import time

from akhbar.cli import main as akhbar
from akhbar.sample.site import NewsSite
from bench.throughput import machine

NO_MODELS = ["--ner_model", "none", "--event_model", "none", "--near_dup_policy", "off"]


def backfill(sites: list[NewsSite], extra: list[str]) -> dict:
    for site in sites:
        site.requests.clear()
    with tempfile.TemporaryDirectory() as tmp:
        argv = ["backfill", *[a for s in sites for a in ("--site", s.url)], "--since", "2026-01-01",
                "--output", f"{tmp}/out", "--allow_loopback", *NO_MODELS, *extra]
        printed = io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(printed):
            code = akhbar(argv)
        wall = time.monotonic() - started
    summary = printed.getvalue()
    if code != 0:
        raise SystemExit(f"akhbar backfill exited {code}:\n{summary}")
    written = next(int(line.split()[2]) for line in summary.splitlines() if line.startswith("articles written"))
    spans, gaps = [], []
    requests = max(len(site.requests) for site in sites)
    for site in sites:
        pages = sorted(r.at for r in site.requested("/news/"))
        spans.append(pages[-1] - pages[0])
        every = sorted(r.at for r in site.requests if r.path.startswith(("/news/", "/robots.txt")))
        gaps.append(min(b - a for a, b in zip(every, every[1:])))
    return {
        "articles_written": written,
        "wall_s": round(wall, 1),
        "requests_per_host (robots.txt, sitemaps, pages)": requests,
        "page_span_per_host_s": [round(min(spans), 1), round(max(spans), 1)],
        "min_gap_between_requests_to_one_host_s": round(min(gaps), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    sites = [NewsSite(pages=args.pages, name=f"site{k}", per_sitemap=50).start()
             for k in range(args.hosts)]
    try:
        polite = backfill(sites, [])
        unspaced = backfill(sites, ["--host_delay", "0"])
    finally:
        for site in sites:
            site.stop()
    bound = args.pages * 1.0
    every_request = polite["requests_per_host (robots.txt, sitemaps, pages)"] * 1.0
    print(json.dumps({
        "machine": machine(),
        "hosts": args.hosts,
        "pages_per_host": args.pages,
        "politeness_bound_s (pages per host x 1 s)": bound,
        "default politeness (--host_delay 1 --host_concurrency 2)": polite,
        "wall / bound": round(polite["wall_s"] / bound, 3),
        "bound with every request to a host (requests per host x 1 s)": every_request,
        "wall / that bound": round(polite["wall_s"] / every_request, 3),
        "no spacing (--host_delay 0)": unspaced,
    }, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
