"""``python -m tests.streaming_job --fail_on_title TITLE [akhbar run flags]``: ``akhbar run``, with the
shipped event model made to raise on the article titled TITLE, as a model that chokes on one input.

The streaming tests run it as a subprocess, like the CLI, to see an enrichment failure in the real
mix: the article must still be written (its event columns empty) and the failure dead-lettered.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from apache_beam.options.pipeline_options import StandardOptions

from akhbar.cli.run import streaming_banner
from akhbar.lib.events.enricher import EventEnricher
from akhbar.pipelines import ingest
from akhbar.pipelines.feedlist import read_feed_list
from akhbar.pipelines.options import parse_options
from akhbar.pipelines.summary import RunSummary
from akhbar.schemas.records import Article
from akhbar.transforms import counters


class EventsFailingOn(EventEnricher):
    """The real event model, except that it raises on any batch holding the article titled ``title``."""

    def __init__(self, base: EventEnricher, title: str):
        super().__init__(base.model_path, base.model_id, base.threads)
        self.fail_title = title

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if any(a.title == self.fail_title for a in articles):
            raise RuntimeError(f"the event model failed on {self.fail_title!r}")
        return super().enrich(articles)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="tests.streaming_job")
    parser.add_argument("--fail_on_title", required=True)
    args, run_args = parser.parse_known_args(argv)
    opts = parse_options(run_args)
    enrichers = [EventsFailingOn(e, args.fail_on_title) if isinstance(e, EventEnricher) else e
                 for e in ingest.build_enrichers(opts)]
    if not any(isinstance(e, EventsFailingOn) for e in enrichers):
        parser.error("the event model is off: nothing to fail")
    print(streaming_banner(opts.duration), flush=True)
    result, seconds = ingest.run(opts, read_feed_list(opts.feeds), enrichers)
    summary = RunSummary(counters.query_counters(result), opts.output, seconds)
    print(summary.render(), flush=True)
    drained = not opts.view_as(StandardOptions).streaming or opts.duration
    return 1 if drained and not summary.balanced else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
