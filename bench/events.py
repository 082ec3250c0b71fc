"""Event classifier speed: the model alone, and in the pipeline alone or beside NER (parallel branches).

    .venv/bin/python -m bench.events --copies 5
    .venv/bin/python -m bench.events --copies 5 --workers 2   # the pipeline with 2 worker processes

Model alone: the bundled sample's articles (headline + text), classified by
``EventModel.predict`` (the shipped model), batches of 16. Pipeline:
the feed-text run of ``bench.throughput`` (no page fetches, so the models
dominate) with every model off, the event classifier alone, and the event
classifier + NER as two parallel Enrich branches (when the NER model is
installed). Each run's wall time includes pipeline start-up.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from akhbar.lib.events.model import EventModel
from akhbar.lib.models import EVENT_MODEL as DEFAULT_EVENT_MODEL
from akhbar.sample.server import SampleNewsServer
from bench.throughput import machine, replicated_corpus, run_once


def model_alone(pairs: list[tuple[str, str]], repeats: int, batch_size: int, threads: int, path=DEFAULT_EVENT_MODEL) -> dict:
    model = EventModel(path, threads=threads)
    model.predict(pairs[:4])  # warm-up
    started = time.monotonic()
    for _ in range(repeats):
        for i in range(0, len(pairs), batch_size):
            model.predict(pairs[i : i + batch_size])
    seconds = time.monotonic() - started
    return {"model": str(path), "articles_per_s": round(len(pairs) * repeats / seconds, 1),
            "seconds": round(seconds, 2), "batch_size": batch_size, "threads": threads}


def ner_installed() -> bool:
    try:
        from akhbar.lib.ner.runtime import ner_enricher
    except ImportError:
        return False
    try:
        return ner_enricher("default") is not None
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=5, help="sample corpus copies for the pipeline runs")
    parser.add_argument("--repeats", type=int, default=5, help="passes over the sample for the model alone")
    parser.add_argument("--workers", type=int, default=0, help="multi_processing workers (0: in-process)")
    parser.add_argument("--skip_pipeline", action="store_true")
    parser.add_argument("--compare", action="append", default=[], help="another model folder to time alone")
    args = parser.parse_args(argv)
    pairs = [(a.title, a.text) for a in replicated_corpus(1)]
    report: dict = {"machine": machine(), "command": " ".join(["python -m bench.events", *(argv or sys.argv[1:])]),
                    "model": str(DEFAULT_EVENT_MODEL), "articles": len(pairs)}
    report["model_alone"] = [model_alone(pairs, args.repeats, 16, 1)]
    report["model_alone"] += [model_alone(pairs, args.repeats, 16, 1, path) for path in args.compare]
    if not args.skip_pipeline:
        extra = ["--no_fetch_pages"]
        if args.workers:
            extra += ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
        served = replicated_corpus(args.copies)
        runs = {"no_models": ["--event_model", "none", "--ner_model", "none"],
                "events_only": ["--ner_model", "none"]}
        if ner_installed():
            runs["ner_only"] = ["--event_model", "none"]
            runs["events_and_ner_in_parallel"] = []
        report["pipeline"] = {"articles_served": len(served), "workers": args.workers or "in-process"}
        with SampleNewsServer(articles=served) as server:
            for name, flags in runs.items():
                report["pipeline"][name] = run_once(server, [*extra, *flags])
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
