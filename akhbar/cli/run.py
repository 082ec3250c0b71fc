"""``akhbar run`` and ``akhbar demo``: run the ingest pipeline and print the account of the run."""
from __future__ import annotations

import argparse
import atexit
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apache_beam.options.pipeline_options import StandardOptions

from akhbar.lib import progress
from akhbar.lib.models import ModelError
from akhbar.pipelines import ingest
from akhbar.pipelines.feedlist import FeedListError, read_feed_list
from akhbar.pipelines.options import UsageError, help_text, parse_options
from akhbar.pipelines.output import check_output_writable
from akhbar.pipelines.runners import runs_in_process
from akhbar.pipelines.summary import RunSummary
from akhbar.transforms import counters

# Exit codes of `akhbar run` (docs/running.md).
EXIT_OK = 0
EXIT_UNBALANCED = 1  # a batch run (or a drained streaming run) whose counters do not add up
EXIT_NOT_DRAINED = 1  # a streaming run that did not drain after its --duration and was cancelled
EXIT_USAGE = 2  # bad command line, feed list, model or output location: nothing was fetched
EXIT_NO_FEED_READ = 3  # the run went through, but not one feed could be read


def run_command(argv: Sequence[str]) -> int:
    if any(arg in ("-h", "--help") for arg in argv):
        print(help_text())
        return EXIT_OK
    try:
        opts = parse_options(argv)
        enrichers = ingest.check_models(opts)  # validates the models before any feed is read
        feeds = read_feed_list(opts.feeds)
        check_output_writable(opts.output)  # before the progress display and any fetch
        if opts.view_as(StandardOptions).streaming:
            print(streaming_banner(opts.duration), flush=True)
        # The counters are only readable at the end; meanwhile show the rows appearing under --output.
        with progress.watch_output(opts.output, "run"):
            result, seconds = ingest.run(opts, feeds, enrichers)
    except (UsageError, FeedListError, ModelError) as exc:
        print(f"akhbar run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ingest.Interrupted:
        print(f"stopped; the files written so far are complete: {opts.output}", flush=True)
        _leave(EXIT_OK)
    except ingest.DrainTimeout as exc:
        print(f"akhbar run: {exc}: {opts.output}", file=sys.stderr, flush=True)
        _leave(EXIT_NOT_DRAINED)
    summary = RunSummary(counters.query_counters(result), opts.output, seconds)
    print(summary.render())
    if summary.no_feed_read:
        print("akhbar run: no feed could be read; see the dead letters for each feed's error", file=sys.stderr)
        return EXIT_NO_FEED_READ
    # A batch run, or a streaming run that drained after its --duration, has seen every item through.
    drained = not opts.view_as(StandardOptions).streaming or opts.duration
    if drained and not summary.balanced:
        print("akhbar run: the counters do not balance; see the summary above", file=sys.stderr)
        return EXIT_UNBALANCED
    return EXIT_OK


def submit_command(argv: Sequence[str]) -> int:
    """``akhbar submit``: check the options, models and feed list, submit the job and return at once.

    What a launcher runs (Dataflow's flex template: deploy/dataflow/launch.py); ``akhbar run``
    waits for the job and prints its account instead.
    """
    if any(arg in ("-h", "--help") for arg in argv):
        print(help_text("akhbar submit"))
        return EXIT_OK
    try:
        opts = parse_options(argv)
        enrichers = ingest.check_models(opts)
        feeds = read_feed_list(opts.feeds)
        check_output_writable(opts.output)
        result = ingest.submit(opts, feeds, enrichers)
    except (UsageError, FeedListError, ModelError) as exc:
        print(f"akhbar submit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if runs_in_process(opts):  # a local runner's job would die with this process: see it through
        result.wait_until_finish()
    job_id = getattr(result, "job_id", None)
    print(f"submitted {len(feeds)} feeds into {opts.output}: job {job_id() if callable(job_id) else 'started'} "
          f"({type(result).__name__}, state {result.state})")
    return 0


def streaming_banner(duration_s: float | None) -> str:
    """When a streaming run will stop: its deadline (UTC, to the second), or never."""
    if not duration_s:
        return "streaming until stopped (Ctrl-C)"
    deadline = datetime.now(timezone.utc) + timedelta(seconds=duration_s)
    return (f"streaming until {deadline:%Y-%m-%d %H:%M:%S} UTC (--duration {duration_s:g}s), then writing "
            "the last windows; Ctrl-C stops it earlier")


def _leave(code: int) -> None:
    """Exit after a cancelled streaming job.

    The in-process SDK worker's threads wait on a job service that is going away, and
    interpreter shutdown would join them before the exit handlers stop the runner's
    processes. Run the exit handlers now, then leave without joining those threads.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    os._exit(code)


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
        # Every page of the sample comes from one loopback host: no spacing, so the demo takes seconds.
        run_args = ["--feeds", str(feeds), "--output", args.output, "--allow_loopback", "--read_timeout", "3",
                    "--host_delay", "0", "--host_concurrency", "4"]
        if "--streaming" not in beam_args:
            run_args.append("--once")
        return run_command(run_args + beam_args)
