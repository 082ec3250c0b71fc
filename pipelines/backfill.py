"""akhbar backfill: an outlet's past from its sitemaps, through the same fetch, dedup, enrich and write stages.

A feed shows what an outlet published in the last hours or days; its sitemaps
list its archive. A backfill reads them, keeps the pages of a date range, and
runs them through the ingest pipeline (``pipelines/ingest.py``) in batch::

    akhbar backfill --site https://outlet.example --since 2026-11-01 --until 2026-11-30 --output out/
    akhbar backfill --sitemap https://outlet.example/news-sitemap.xml --since 2026-11-28 --output out/

Flow::

    sitemaps (read first, politely: akhbar.lib.sitemaps) -> SitemapItems -> CountSitemapPages
        -> SkipWrittenItems -> FetchArticles -> DedupExact -> DedupNear -> Enrich -> WriteParquet(articles, dead_letters)

Each page becomes a FeedItem whose "feed" is the sitemap that listed it, whose
publication time is the sitemap's date for it (``news:publication_date``, else
``lastmod``), whose title is its ``news:title`` and whose outlet is its
``news:name`` (else the site's host). The page fetches keep every rule of a run:
the address guard, robots.txt, ``--host_delay`` and ``--host_concurrency``,
Retry-After.

Exactly once against the output, as for a run (``akhbar.lib.output_keys``):
pages whose article (by canonical URL) the output already holds are not
fetched again and are counted as ``duplicates_in_output``, so a second backfill
over the same range writes nothing new. Pages older than ``--dedup_ttl`` are
checked against their own date partition, which is read on demand; an article
that still gets through (its page moved to another URL) is dropped by
``DedupExact``, which checks the same keys after the fetch.
"""
from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from akhbar.lib.enrichment import Enricher
from akhbar.lib.sitemaps import DateRange, SitemapEntry, SitemapWalk, find_sitemaps, walk_sitemaps
from akhbar.lib.web.guard import parse_target
from akhbar.lib.web.http import FetchError
from akhbar.lib.web.politeness import PoliteClient
from akhbar.pipelines import ingest
from akhbar.pipelines.options import AkhbarOptions, UsageError, check_common, check_flags
from akhbar.schemas.records import FeedItem
from akhbar.transforms import counters

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackfillRequest:
    """What to backfill: sites (their robots.txt Sitemap: lines) and/or sitemap URLs, and the date range."""

    sites: tuple[str, ...]
    sitemaps: tuple[str, ...]
    dates: DateRange


def backfill_parser(add_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="akhbar backfill", add_help=add_help,
        usage="akhbar backfill (--site URL | --sitemap URL)... --since DATE [--until DATE] --output DIR [options]",
        description="Fill in an outlet's past from its sitemaps: the pages dated in the range are fetched, "
                    "deduplicated, enriched and written like a run's.",
        epilog="Every option of `akhbar run` applies too (--host_delay, --host_concurrency, --ignore_robots, "
               "--ner_model, ...; see akhbar run --help). Manual: docs/politeness.md.",
    )
    parser.add_argument("--site", action="append", default=[], metavar="URL",
                        help="A site whose robots.txt Sitemap: lines (else /sitemap_index.xml, /sitemap.xml, "
                             "/news-sitemap.xml, /sitemap-news.xml) are read. Repeatable.")
    parser.add_argument("--sitemap", action="append", default=[], metavar="URL",
                        help="A sitemap or sitemap index (gzip or not; Google News sitemaps too). Repeatable.")
    parser.add_argument("--since", metavar="DATE", help="First day (2026-11-01) or time (ISO 8601) to keep.")
    parser.add_argument("--until", metavar="DATE", help="Last day to keep, inclusive (default: now).")
    return parser


def parse_backfill_args(argv: Sequence[str]) -> tuple[BackfillRequest, AkhbarOptions]:
    """Backfill's own flags, then every run option; raises UsageError with what to change."""
    try:
        args, rest = backfill_parser(add_help=False).parse_known_args(list(argv))
    except SystemExit:
        raise UsageError("bad backfill arguments (see akhbar backfill --help)") from None
    if not args.site and not args.sitemap:
        raise UsageError("give --site URL or --sitemap URL (or several)")
    if not args.since:
        raise UsageError("--since DATE is required")
    try:
        dates = DateRange.parse(args.since, args.until)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for url in args.site + args.sitemap:
        try:
            parse_target(url)
        except FetchError as exc:
            raise UsageError(f"{url!r}: {exc.message}") from None
    check_flags(rest)
    opts = PipelineOptions(rest).view_as(AkhbarOptions)
    if opts.view_as(StandardOptions).streaming:
        raise UsageError("a backfill is a batch run: drop --streaming")
    if opts.feeds:
        raise UsageError("a backfill reads sitemaps, not --feeds")
    if not opts.output:
        raise UsageError("--output DIR is required")
    check_common(opts, rest)
    return BackfillRequest(tuple(args.site), tuple(args.sitemap), dates), opts


def read_sitemaps(request: BackfillRequest, opts: AkhbarOptions, parallel: int = 32) -> SitemapWalk:
    """Walk every site's and sitemap's tree (politely, through the guard); the URLs of the range.

    Sites are read side by side (each host keeps its own spacing); their URLs are merged in the given order.
    """
    from concurrent.futures import ThreadPoolExecutor

    from akhbar.lib.sitemaps import MAX_SITEMAP_BYTES

    with PoliteClient(opts.http_config(MAX_SITEMAP_BYTES), opts.politeness_config()) as polite:

        def site_walk(site: str) -> SitemapWalk:
            try:
                roots, probed = find_sitemaps(polite, site)
            except FetchError as exc:
                return SitemapWalk(failures=[(site, str(exc))])
            return walk_sitemaps(polite.get, roots, request.dates, {parse_target(site).host}, probed=probed)

        with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(request.sites)))) as pool:
            parts = list(pool.map(site_walk, request.sites))
        if request.sitemaps:
            parts.append(walk_sitemaps(polite.get, list(request.sitemaps), request.dates, set()))
        polite.scheduler.settle()  # the pipeline's workers fetch with their own clients: start them spaced
    walk = SitemapWalk()
    for part in parts:
        _merge(walk, part)
    return walk


def _merge(total: SitemapWalk, part: SitemapWalk) -> None:
    seen = {e.loc for e in total.entries}
    for entry in part.entries:
        if entry.loc in seen:
            total.repeated += 1
        else:
            seen.add(entry.loc)
            total.entries.append(entry)
    total.sitemaps_read += part.sitemaps_read
    total.sitemaps_skipped += part.sitemaps_skipped
    total.failures += part.failures
    total.urls_listed += part.urls_listed
    total.out_of_range += part.out_of_range
    total.undated += part.undated
    total.off_site += part.off_site
    total.repeated += part.repeated


def feed_item(entry: SitemapEntry, read_at: datetime) -> FeedItem:
    """A sitemap entry as the pipeline's input record (see the module docstring)."""
    outlet = entry.publication
    if not outlet:
        try:
            outlet = parse_target(entry.loc).host
        except FetchError:
            outlet = None
    return FeedItem(feed_url=entry.sitemap, outlet=outlet, guid=None, link=entry.loc, title=entry.title,
                    summary=None, content=None, published=entry.date, read_at=read_at)


class CountSitemapPagesFn(beam.DoFn):
    """Each sitemap page is an item seen, as each polled feed entry is (``items_seen`` balances)."""

    def __init__(self):
        self._seen = counters.counter(counters.ITEMS_SEEN)

    def process(self, item: FeedItem):
        self._seen.inc()
        yield item


def build_backfill(pipeline: beam.Pipeline, items: Sequence[FeedItem], opts: AkhbarOptions,
                   enrichers: Sequence[Enricher] | None = None) -> ingest.IngestOutputs:
    """The backfill graph: the sitemap pages, then the ingest stages (which skip what the output holds)."""
    pages = (
        pipeline
        | "SitemapItems" >> beam.Create(list(items))
        | "CountSitemapPages" >> beam.ParDo(CountSitemapPagesFn())
    )
    return ingest.build_pipeline(pipeline, [], opts, enrichers, items=pages)


def run(request: BackfillRequest, opts: AkhbarOptions, enrichers: Sequence[Enricher] | None = None):
    """Read the sitemaps, then run the pipeline over their pages: (SitemapWalk, PipelineResult or None, seconds)."""
    started = time.monotonic()
    walk = read_sitemaps(request, opts)
    LOG.info("backfill: %d pages in range from %d sitemaps", len(walk.entries), walk.sitemaps_read)
    if not walk.entries:
        return walk, None, time.monotonic() - started
    read_at = datetime.now(timezone.utc)
    items = [feed_item(entry, read_at) for entry in walk.entries]
    pipeline = beam.Pipeline(options=opts)
    build_backfill(pipeline, items, opts, enrichers)
    result = pipeline.run()
    result.wait_until_finish()
    return walk, result, time.monotonic() - started
