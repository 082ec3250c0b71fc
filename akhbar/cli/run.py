"""``akhbar run`` and ``akhbar demo``: run the ingest pipeline and print the account of the run."""
from __future__ import annotations

import argparse
import atexit
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from apache_beam.options.pipeline_options import StandardOptions

from akhbar.lib import progress
from akhbar.lib.models import ModelError
from akhbar.pipelines import ingest
from akhbar.pipelines.feedlist import FeedListError, read_feed_list
from akhbar.pipelines.options import AkhbarOptions, UsageError, parse_options
from akhbar.pipelines.summary import RunSummary
from akhbar.transforms import counters

RUN_USAGE = "akhbar run --feeds FILE --output DIR [--once | --streaming] [options] [Beam options]"
RUN_EPILOG = """\
Beam's own pipeline options are accepted too (--runner, --streaming, --flink_master,
--environment_type, ...). Batch (--once, the default) runs on the DirectRunner; --streaming on
Prism, or on the runner given with --runner. Exit status: 0 done, 1 the counters do not balance,
2 a bad command line, feed list or model (nothing was read).
"""


def run_help() -> str:
    """The help of ``akhbar run``: every akhbar flag (AkhbarOptions), then a word on Beam's."""
    parser = argparse.ArgumentParser(prog="akhbar run", usage=RUN_USAGE, epilog=RUN_EPILOG,
                                     description="Poll news feeds, fetch, dedup and enrich the articles, "
                                                 "and write Parquet.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    AkhbarOptions._add_argparse_args(parser)
    return parser.format_help()


def run_command(argv: Sequence[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(run_help())
        return 0
    try:
        opts = parse_options(argv)
        enrichers = ingest.check_models(opts)  # validates the models before any feed is read
        feeds = read_feed_list(opts.feeds)
        # The counters are only readable at the end; meanwhile show the rows appearing under --output.
        with progress.watch_output(opts.output, "run"):
            result, seconds = ingest.run(opts, feeds, enrichers)
    except (UsageError, FeedListError, ModelError) as exc:
        print(f"akhbar run: {exc}", file=sys.stderr)
        return 2
    except ingest.Interrupted:
        print(f"stopped; the files written so far are complete: {opts.output}", flush=True)
        # The in-process SDK worker's threads wait on a job service that is going away, and
        # interpreter shutdown would join them before the exit handlers stop the runner's
        # processes. Run the exit handlers now, then leave without joining those threads.
        sys.stderr.flush()
        atexit._run_exitfuncs()
        os._exit(0)
    summary = RunSummary(counters.query_counters(result), opts.output, seconds)
    print(summary.render())
    if not opts.view_as(StandardOptions).streaming and not summary.balanced:
        print("akhbar run: the counters do not balance; see the summary above", file=sys.stderr)
        return 1
    return 0


SUBMIT_USAGE = "akhbar submit --feeds FILE --output DIR --runner RUNNER [options] [Beam options]"


def submit_command(argv: Sequence[str]) -> int:
    """``akhbar submit``: check the options, models and feed list, submit the job and return at once.

    What a launcher runs (Dataflow's flex template: deploy/dataflow/launch.py); ``akhbar run``
    waits for the job and prints its account instead.
    """
    if any(arg in ("-h", "--help") for arg in argv):
        print(run_help().replace(RUN_USAGE, SUBMIT_USAGE, 1).replace("akhbar run", "akhbar submit"))
        return 0
    try:
        opts = parse_options(argv)
        enrichers = ingest.check_models(opts)
        feeds = read_feed_list(opts.feeds)
        result = ingest.submit(opts, feeds, enrichers)
    except (UsageError, FeedListError, ModelError) as exc:
        print(f"akhbar submit: {exc}", file=sys.stderr)
        return 2
    job_id = getattr(result, "job_id", None)
    print(f"submitted {len(feeds)} feeds into {opts.output}: job {job_id() if callable(job_id) else 'started'} "
          f"({type(result).__name__}, state {result.state})")
    return 0


def demo_command(argv: Sequence[str]) -> int:
    from akhbar.sample.server import SampleNewsServer

    parser = argparse.ArgumentParser(prog="akhbar demo", description="Run the pipeline over the bundled sample.")
    parser.add_argument("--output", default="demo-output")
    parser.add_argument("--no-faults", action="store_true", help="Leave out the bad feeds and pages.")
    args, beam_args = parser.parse_known_args(argv)
    with SampleNewsServer(faults=not args.no_faults) as server, tempfile.TemporaryDirectory() as tmp:
        feeds = Path(tmp) / "feeds.txt"
        server.write_feed_list(feeds)
        print(f"sample news server on {server.url}: {len(server.articles)} articles, {len(server.feed_urls())} feeds")
        run_args = ["--feeds", str(feeds), "--output", args.output, "--allow_loopback", "--read_timeout", "3"]
        if "--streaming" not in beam_args:
            run_args.append("--once")
        return run_command(run_args + beam_args)
