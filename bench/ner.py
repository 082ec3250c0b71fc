"""NER speed: the model alone (words/s, articles/s) on 250-word articles, several models side by side, and in the pipeline.

    .venv/bin/python -m bench.ner                                   # the shipped model: ONNX fp32, int8, torch
    .venv/bin/python -m bench.ner --compare old=/tmp/old-model      # and another model folder, in the same run
    .venv/bin/python -m bench.ner --copies 5 --workers 2            # the pipeline with 2 worker processes
    .venv/bin/python -m bench.ner --before 3424bc5 --skip_pipeline  # this checkout against an older commit's
                                                                    # code + shipped model, same texts, alternating
    .venv/bin/python -m bench.ner --before 3424bc5 --before_passes 3 --skip_pipeline  # and warm passes too

Model alone: articles of ``--article_words`` words (the bundled sample's
bodies, run together and cut to that length), tagged by ``find_entities``
(windows, features, model, CRF decoding, dateline rule, canonical forms), one
thread; every model reads the same texts in one process, in turn, ``--repeats``
times each, and the best pass counts (the machine is shared); ``cpu_articles_per_s``
is the same from the process's CPU time, which other jobs on the machine disturb less. Pipeline: the
feed-text run of ``bench.throughput`` (no page fetches) with NER off and on;
the difference is what NER costs per article in a whole run.
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
from akhbar.sample.corpus import load_corpus
from akhbar.sample.server import SampleNewsServer
from bench.throughput import machine, replicated_corpus, run_once


def articles_of(words: int) -> list[str]:
    """The sample's bodies run together and cut into texts of ``words`` words (as written, punctuation kept)."""
    text = "\n".join(a.text for a in load_corpus() if not a.republished_from)
    spans = split_words(text)
    out = []
    for i in range(0, len(spans) - words + 1, words):
        out.append(text[spans[i][0]: spans[i + words - 1][1]])
    return out


def runtime_for(model: str, backend: str, crf_weight: float | None):
    if backend == "torch_fp32":  # a folder's training weights, for comparison (needs the train extra)
        import torch

        from training.ner.model import TorchWordRuntime

        torch.set_num_threads(1)
        return TorchWordRuntime(model, threads=1)
    onnx = {"onnx_fp32": None, "onnx_int8": "model.int8.onnx"}[backend]
    return load_runtime(model, threads=1, onnx_file=onnx, crf_weight=crf_weight)


def model_alone(texts: list[str], runtime, repeats: int) -> dict:
    find_entities(texts[:4], runtime)  # warm-up
    words = sum(len(split_words(t)) for t in texts)
    best, best_cpu, entities = float("inf"), float("inf"), 0
    for _ in range(repeats):
        started, cpu = time.monotonic(), time.process_time()
        entities = sum(len(e) for e in find_entities(texts, runtime, batch_size=32))
        best = min(best, time.monotonic() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {"words_per_s": round(words / best), "articles_per_s": round(len(texts) / best, 1),
            "entities": entities, "seconds": round(best, 2), "cpu_articles_per_s": round(len(texts) / best_cpu, 1)}


# Times find_entities of whichever akhbar is first on sys.path, with its shipped model, over texts in a JSON file:
# each of argv[2] passes (the first with the word caches cold, the later ones warm, as in a long-running worker).
_TIMER = """
import json, sys, time
from akhbar.lib.models import NER_MODEL
from akhbar.lib.ner import find_entities, load_runtime
texts = json.load(open(sys.argv[1], encoding="utf-8"))
rt = load_runtime(NER_MODEL, threads=1)
find_entities(texts[:4], rt)
seconds, cpu = [], []
for _ in range(int(sys.argv[2])):
    started, cpu_started = time.monotonic(), time.process_time()
    n = sum(len(e) for e in find_entities(texts, rt, batch_size=32))
    seconds.append(time.monotonic() - started)
    cpu.append(time.process_time() - cpu_started)
print(json.dumps({"seconds": seconds, "cpu": cpu, "entities": n, "model": str(NER_MODEL)}))
"""


def before_and_after(texts: list[str], rev: str, rounds: int, passes: int = 1) -> dict:
    """An older commit's code and shipped model against this checkout's, in turn, on the same texts.

    Each side runs ``rounds`` fresh processes of ``passes`` passes each: ``one_pass`` is the best first pass
    (cold word caches), ``warm`` the best later pass (when ``passes`` > 1).
    """
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    words = sum(len(split_words(t)) for t in texts)
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", rev], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        data = Path(tmp) / "texts.json"
        data.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        best: dict[str, dict] = {}
        for _ in range(rounds):
            for side, src in ((f"before ({rev})", old), ("after (this checkout)", root)):
                env = dict(os.environ, PYTHONPATH=str(src), OMP_NUM_THREADS="1")
                out = subprocess.run([sys.executable, "-c", _TIMER, str(data), str(passes)], check=True,
                                     capture_output=True, text=True, env=env, cwd=str(src)).stdout
                run = json.loads(out.strip().splitlines()[-1])
                mine = best.setdefault(side, {"entities": run["entities"]})
                for kind, times in (("one_pass", run["seconds"][:1]), ("warm", run["seconds"][1:]),
                                    ("one_pass_cpu", run["cpu"][:1]), ("warm_cpu", run["cpu"][1:])):
                    if times and min(times) < mine.get(kind, float("inf")):
                        mine[kind] = min(times)

    def rates(r: dict, kind: str) -> dict:
        return {"words_per_s": round(words / r[kind]), "articles_per_s": round(len(texts) / r[kind], 1),
                "seconds": round(r[kind], 2), "cpu_articles_per_s": round(len(texts) / r[f"{kind}_cpu"], 1)}

    return {side: {"entities": r["entities"], **{kind: rates(r, kind) for kind in ("one_pass", "warm") if kind in r}}
            for side, r in best.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--article_words", type=int, default=250, help="words per article for the model-alone runs")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the texts per model (the best counts)")
    ap.add_argument("--compare", action="append", default=[], metavar="NAME=FOLDER",
                    help="another model folder to time in the same run (repeatable)")
    ap.add_argument("--backends", default="onnx_fp32,onnx_int8,torch_fp32",
                    help="runtimes of the shipped model to time (onnx_fp32, onnx_int8, torch_fp32)")
    ap.add_argument("--crf_weights", default="", help="also time the shipped model with its feature CRF at these weights")
    ap.add_argument("--before", default=None, metavar="GIT_REV",
                    help="also time that commit's code and shipped model against this checkout's (alternating)")
    ap.add_argument("--before_passes", type=int, default=1,
                    help="passes over the texts in each --before process (above 1: also the best warm pass)")
    ap.add_argument("--copies", type=int, default=5, help="sample corpus copies for the pipeline runs")
    ap.add_argument("--workers", type=int, default=0, help="multi_processing workers (0: in-process)")
    ap.add_argument("--skip_pipeline", action="store_true")
    args = ap.parse_args(argv)
    texts = articles_of(args.article_words)
    report: dict = {"machine": machine(), "command": " ".join(["python -m bench.ner", *(argv or sys.argv[1:])]),
                    "texts": len(texts), "words_per_text": args.article_words, "model_alone_1_thread": {}}
    runs = [(f"shipped/{b}", str(DEFAULT_MODEL), b, None) for b in args.backends.split(",") if b]
    runs += [(f"shipped/onnx_fp32+crf{w}", str(DEFAULT_MODEL), "onnx_fp32", float(w))
             for w in args.crf_weights.split(",") if w]
    for spec in args.compare:
        name, _, folder = spec.partition("=")
        runs.append((f"{name}/onnx_fp32", folder, "onnx_fp32", None))
    for name, folder, backend, weight in runs:
        rt = runtime_for(folder, backend, weight)
        report["model_alone_1_thread"][name] = model_alone(texts, rt, args.repeats)
        print(name, report["model_alone_1_thread"][name], file=sys.stderr)
    if args.before:
        report["before_and_after_1_thread"] = before_and_after(texts, args.before, args.repeats, args.before_passes)
        print(report["before_and_after_1_thread"], file=sys.stderr)
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
