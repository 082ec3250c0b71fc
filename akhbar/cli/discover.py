"""``akhbar discover URL...``: print the feeds of news sites, one per line, ready for ``--feeds``.

The feeds go to standard output; what was checked and rejected goes to
standard error, so ``akhbar discover https://outlet.example > feeds.txt`` writes
a feed list. Fetching options of ``akhbar run`` apply (``--allow_loopback``,
``--host_delay``, ``--ignore_robots``, ``--http_user_agent``, timeouts).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

USAGE = """usage: akhbar discover URL... [--verbose] [fetching options of akhbar run]

Reads each site's home page, collects the feeds it announces (<link rel="alternate">)
and tries the common feed paths (/feed, /rss, /rss.xml, /feed.xml, /atom.xml, ...);
every candidate is fetched and parsed, and each feed found is printed on its own line.
The address guard, robots.txt and --host_delay apply as in a run.

Exit codes: 0 at least one feed found; 2 a bad command line; 3 no feed found.
"""


def main(argv: Sequence[str]) -> int:
    argv = list(argv)
    if any(arg in ("-h", "--help") for arg in argv) or not argv:
        print(USAGE)
        return 0 if argv else 2
    from apache_beam.options.pipeline_options import PipelineOptions

    from akhbar.lib.discovery import discover_sites
    from akhbar.lib.web.politeness import PoliteClient
    from akhbar.pipelines.options import AkhbarOptions, UsageError, check_flags, check_politeness

    verbose = "--verbose" in argv
    argv = [a for a in argv if a != "--verbose"]
    sites = [a for a in argv if a.startswith(("http://", "https://"))]
    rest = [a for a in argv if a not in sites]
    try:
        if not sites:
            raise UsageError("give at least one site URL (http:// or https://)")
        check_flags(rest)
        opts = PipelineOptions(rest).view_as(AkhbarOptions)
        check_politeness(opts)
    except UsageError as exc:
        print(f"akhbar discover: {exc}", file=sys.stderr)
        return 2
    found = 0
    with PoliteClient(opts.http_config(opts.max_feed_bytes), opts.politeness_config()) as polite:
        for site in discover_sites(polite, sites):
            if site.error:
                print(f"# {site.site}: home page not read: {site.error}", file=sys.stderr)
            for url, why in site.rejected:
                print(f"# {site.site}: announced {url} is not a feed: {why}", file=sys.stderr)
            print(f"# {site.site}: {len(site.feeds)} feed(s)", file=sys.stderr)
            for feed in site.feeds:
                found += 1
                if verbose:
                    print(f"#   {feed.url}  {feed.title or ''} ({feed.entries} entries, {feed.source})", file=sys.stderr)
                print(feed.url, flush=True)
    return 0 if found else 3
