"""NER speed: the model alone (words/s, articles/s) and inside the pipeline; torch fp32 vs ONNX Runtime for the model alone.

    .venv/bin/python -m bench.ner --copies 5              # model alone + pipeline, every backend
    .venv/bin/python -m bench.ner --copies 5 --workers 2  # the pipeline with 2 worker processes

Model alone: the bundled sample's article texts, tagged by ``find_entities``
(windows, features, model, CRF decoding), one thread. Pipeline: the feed-text
run of ``bench.throughput`` (no page fetches) with NER off and on; the
difference is what NER costs per article in a whole run.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from akhbar.lib.models import NER_MODEL as DEFAULT_MODEL
from akhbar.lib.ner.entities import find_entities
from akhbar.lib.ner.features import split_words
from akhbar.lib.ner.runtime import load_runtime
from akhbar.sample.server import SampleNewsServer
from bench.throughput import machine, replicated_corpus, run_once

BACKENDS = {
    "torch_fp32": None,
    "onnx_fp32": "model.onnx",
    "onnx_int8": "model.int8.onnx",
}


def runtime_for(name: str):
    if name == "torch_fp32":  # the checkout's training weights, for comparison (needs the train extra)
        from training.ner.model import TorchWordRuntime

        return TorchWordRuntime(DEFAULT_MODEL, threads=1)
    return load_runtime(DEFAULT_MODEL, threads=1, onnx_file=BACKENDS[name])


def model_alone(texts: list[str], name: str, repeats: int) -> dict:
    if name == "torch_fp32":
        import torch

        torch.set_num_threads(1)
    rt = runtime_for(name)
    find_entities(texts[:4], rt)  # warm-up
    words = sum(len(split_words(t)) for t in texts) * repeats
    started = time.monotonic()
    entities = 0
    for _ in range(repeats):
        entities += sum(len(e) for e in find_entities(texts, rt, batch_size=32))
    seconds = time.monotonic() - started
    return {"words_per_s": round(words / seconds), "articles_per_s": round(len(texts) * repeats / seconds, 1),
            "entities": entities, "seconds": round(seconds, 2)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=5, help="sample corpus copies for the pipeline runs")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the sample texts for the model alone")
    ap.add_argument("--workers", type=int, default=0, help="multi_processing workers (0: in-process)")
    ap.add_argument("--skip_pipeline", action="store_true")
    args = ap.parse_args(argv)
    articles = replicated_corpus(1)
    texts = ["\n".join(a.body) for a in articles]
    report: dict = {"machine": machine(), "command": " ".join(["python -m bench.ner", *(argv or sys.argv[1:])]),
                    "model": str(DEFAULT_MODEL), "texts": len(texts), "model_alone_1_thread": {}}
    for name in BACKENDS:
        report["model_alone_1_thread"][name] = model_alone(texts, name, args.repeats)
    if not args.skip_pipeline:
        extra = ["--no_fetch_pages", "--event_model", "none"]
        if args.workers:
            extra += ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"]
        served = replicated_corpus(args.copies)
        report["pipeline"] = {"articles_served": len(served), "workers": args.workers or "in-process"}
        with SampleNewsServer(articles=served) as server:
            report["pipeline"]["ner_off"] = run_once(server, [*extra, "--ner_model", "none"])
            report["pipeline"]["ner_onnx"] = run_once(server, extra)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
