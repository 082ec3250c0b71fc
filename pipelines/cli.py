"""The ``akhbar`` command line.

    akhbar run --feeds FILE --output DIR [--once | --streaming] [Beam options]
    akhbar demo [--output DIR] [--streaming --duration S]
    akhbar serve-sample [--port N] [--faults]
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from apache_beam.options.pipeline_options import StandardOptions

from pipelines import ingest
from pipelines.feedlist import FeedListError
from pipelines.summary import RunSummary
from transforms import metrics


def run_command(argv: Sequence[str]) -> int:
    try:
        opts = ingest.pipeline_options(argv)
        result, seconds = ingest.run(argv)
    except (ingest.UsageError, FeedListError) as exc:
        print(f"akhbar run: {exc}", file=sys.stderr)
        return 2
    summary = RunSummary(metrics.query_counters(result), opts.output, seconds)
    print(summary.render())
    if not opts.view_as(StandardOptions).streaming and not summary.balanced:
        print("akhbar run: the counters do not balance; see the summary above", file=sys.stderr)
        return 1
    return 0


def demo_command(argv: Sequence[str]) -> int:
    from sample.server import SampleNewsServer

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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    commands = {"run": run_command, "demo": demo_command}
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "serve-sample":
        from sample.server import main as serve

        return serve(rest)
    if command not in commands:
        print(f"akhbar: unknown command {command!r}; try 'akhbar --help'", file=sys.stderr)
        return 2
    return commands[command](rest)


if __name__ == "__main__":
    sys.exit(main())
