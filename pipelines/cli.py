"""The ``akhbar`` command line.

    akhbar run --feeds FILE --output DIR [--once | --streaming] [Beam options]
    akhbar demo [--output DIR] [--streaming --duration S]
    akhbar serve-sample [--port N] [--faults]
    akhbar eval KIND [...]        KIND is implemented by pipelines/eval_KIND.py
    akhbar compact DIR [...]
    akhbar report DIR [...]
"""
from __future__ import annotations

from pipelines import logs

logs.configure()  # before Beam is imported: see pipelines/logs.py

import argparse
import atexit
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from apache_beam.options.pipeline_options import StandardOptions

from pipelines import ingest, progress
from pipelines.feedlist import FeedListError
from pipelines.summary import RunSummary
from transforms import metrics


def run_command(argv: Sequence[str]) -> int:
    try:
        opts = ingest.pipeline_options(argv)
        # The counters are only readable at the end; meanwhile show the rows appearing under --output.
        with progress.watch_output(opts.output, "run"):
            result, seconds = ingest.run(argv)
    except (ingest.UsageError, FeedListError) as exc:
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


def eval_command(argv: Sequence[str]) -> int:
    """``akhbar eval KIND ...`` runs ``pipelines.eval_KIND.main(argv)``: one module per evaluation."""
    if not argv or argv[0].startswith("-"):
        print("usage: akhbar eval KIND [...]  (e.g. ner, events, dedup)", file=sys.stderr)
        return 2
    kind = argv[0]
    if not kind.isidentifier():
        print(f"akhbar eval: unknown kind {kind!r}", file=sys.stderr)
        return 2
    try:
        module = importlib.import_module(f"pipelines.eval_{kind}")
    except ModuleNotFoundError as exc:
        if exc.name != f"pipelines.eval_{kind}":
            raise
        print(f"akhbar eval: unknown kind {kind!r}", file=sys.stderr)
        return 2
    return module.main(list(argv[1:]))


# Commands implemented in their own modules, imported only when used: "name": "module:function".
MODULE_COMMANDS = {
    "serve-sample": "sample.server:main",
    "compact": "pipelines.compact:main",
    "report": "pipelines.report:main",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"run": run_command, "demo": demo_command, "eval": eval_command}
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command in MODULE_COMMANDS:
        module_name, function = MODULE_COMMANDS[command].split(":")
        return getattr(importlib.import_module(module_name), function)(rest)
    if command not in commands:
        print(f"akhbar: unknown command {command!r}; try 'akhbar --help'", file=sys.stderr)
        return 2
    return commands[command](rest)


if __name__ == "__main__":
    sys.exit(main())
