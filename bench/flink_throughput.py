"""Batch throughput on Flink: embedded ([local], LOOPBACK workers) and a local standalone
cluster (JobManager + TaskManager + EXTERNAL Beam worker pool), on bench.throughput's
replicated sample, with and without page fetches. Start-up is included, as there.

    .venv/bin/python -m bench.flink_throughput --copies 10 [--mode local|cluster|both] [--parallelism 2]

Needs `make flink-fetch` (Java + the cached Flink and Beam job server).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

from akhbar.sample.server import SampleNewsServer
from bench.throughput import machine, replicated_corpus, run_once

REPO_ROOT = Path(__file__).resolve().parents[1]


def _flink_local():
    spec = importlib.util.spec_from_file_location("flink_local", REPO_ROOT / "deploy" / "flink" / "local" / "flink_local.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("flink_local", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--mode", choices=["local", "cluster", "both"], default="both")
    parser.add_argument("--parallelism", type=int, default=2)
    args = parser.parse_args()
    fl = _flink_local()
    models = ["--ner_model", "none", "--event_model", "none"]
    articles = replicated_corpus(args.copies)
    report = {"machine": machine(), "flink": fl.FLINK_VERSION, "articles_served": len(articles),
              "parallelism": args.parallelism, "runs": {}}
    with SampleNewsServer(articles=articles) as server:
        if args.mode in ("local", "both"):
            extra = [*fl.runner_args(None), f"--parallelism={args.parallelism}", *models]
            report["runs"]["embedded [local]"] = {
                "with_page_fetch": run_once(server, extra),
                "feed_text_only": run_once(server, [*extra, "--no_fetch_pages"]),
            }
        if args.mode in ("cluster", "both"):
            with tempfile.TemporaryDirectory() as tmp:
                cluster = fl.Cluster(state_dir=Path(tmp))
                try:
                    cluster.start()
                    extra = [*fl.runner_args(cluster), f"--parallelism={args.parallelism}", *models]
                    report["runs"]["standalone cluster"] = {
                        "with_page_fetch": run_once(server, extra),
                        "feed_text_only": run_once(server, [*extra, "--no_fetch_pages"]),
                    }
                finally:
                    cluster.stop()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
