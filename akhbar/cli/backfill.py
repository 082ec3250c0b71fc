"""``akhbar backfill``: fill in an outlet's past from its sitemaps (``pipelines/backfill.py``)."""
from __future__ import annotations

import sys
from collections.abc import Sequence

from akhbar.lib.models import ModelError
from akhbar.pipelines import backfill, ingest
from akhbar.pipelines.options import UsageError, help_text
from akhbar.pipelines.output import check_output_writable
from akhbar.pipelines.summary import RunSummary
from akhbar.transforms import counters

EXIT_OK = 0
EXIT_UNBALANCED = 1
EXIT_USAGE = 2
EXIT_NO_SITEMAP_READ = 3


def main(argv: Sequence[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(backfill.backfill_parser().format_help())
        print(help_text("akhbar backfill").split("\n", 3)[-1])
        return EXIT_OK
    try:
        request, opts = backfill.parse_backfill_args(argv)
        enrichers = ingest.check_models(opts)
        check_output_writable(opts.output)
        walk, result, seconds = backfill.run(request, opts, enrichers)
    except (UsageError, ModelError) as exc:
        print(f"akhbar backfill: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(walk.render())
    if result is None:
        if walk.sitemaps_read == 0:
            print("akhbar backfill: no sitemap could be read", file=sys.stderr)
            return EXIT_NO_SITEMAP_READ
        print(f"no page is dated between {request.dates.start:%Y-%m-%d %H:%M} and {request.dates.end:%Y-%m-%d %H:%M} "
              "UTC: nothing to fetch")
        return EXIT_OK
    summary = RunSummary(counters.query_counters(result), opts.output, seconds)
    print(summary.render())
    if not summary.balanced:
        print("akhbar backfill: the counters do not balance; see the summary above", file=sys.stderr)
        return EXIT_UNBALANCED
    return EXIT_OK
