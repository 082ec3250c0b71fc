"""Throughput of the batch pipeline on the bundled sample, with and without page fetches.

The corpus is replicated ``--copies`` times (each copy gets its own URLs and
a marked text, so nothing is deduplicated away) and served by the loopback
sample server; the pipeline runs once per mode on the DirectRunner and the
wall time of the whole run (including pipeline start-up) is reported.

    .venv/bin/python -m bench.throughput --copies 20
    .venv/bin/python -m bench.throughput --copies 10 --ner_model none --event_model none --near_dup_policy off

Flags it does not know are passed to the pipeline, so each stage's cost can be
measured by switching it off. The sample server serves every page from one
loopback host, so each run sets ``--host_delay 0 --host_concurrency 4``: the
benchmark measures the pipeline, not the politeness delay (docs/politeness.md).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import apache_beam

from akhbar.pipelines import ingest
from akhbar.sample.corpus import load_corpus
from akhbar.sample.server import SampleNewsServer
from akhbar.transforms import counters


def replicated_corpus(copies: int):
    articles = []
    for k in range(copies):
        for a in load_corpus():
            if a.republished_from:
                continue
            marker = f" (النسخة {k})"
            articles.append(
                replace(
                    a,
                    id=f"{a.id}x{k}",
                    title=a.title + marker,
                    summary=a.summary + marker,
                    body=a.body[:-1] + (a.body[-1] + marker,),
                )
            )
    return articles


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "beam": apache_beam.__version__}


def run_once(server: SampleNewsServer, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        feeds = Path(tmp) / "feeds.txt"
        server.write_feed_list(feeds, faults=False)
        started = time.monotonic()
        result, _ = ingest.run_with_args(["--feeds", str(feeds), "--output", str(Path(tmp) / "out"), "--once", "--allow_loopback",
                                          "--host_delay", "0", "--host_concurrency", "4", *extra])
        seconds = time.monotonic() - started
    totals = counters.query_counters(result)
    written = totals.get("rows_written_articles", 0)
    return {"articles_written": written, "seconds": round(seconds, 2), "articles_per_s": round(written / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0, help="multi_processing workers (0: in-process)")
    args, pipeline_args = parser.parse_known_args()
    extra = list(pipeline_args)
    if args.workers:
        extra += ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
    articles = replicated_corpus(args.copies)
    report = {
        "machine": machine(),
        "articles_served": len(articles),
        "workers": args.workers or "in-process",
        "pipeline_args": pipeline_args,
    }
    with SampleNewsServer(articles=articles) as server:
        report["with_page_fetch"] = run_once(server, extra)
        report["feed_text_only"] = run_once(server, [*extra, "--no_fetch_pages"])
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
