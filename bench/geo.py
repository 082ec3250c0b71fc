"""Geocoding's cost beside the rest of the per-article work, measured side by side in one run.

    .venv/bin/python -m bench.geo                       # the sample's texts; pipeline runs with --geo none/default
    .venv/bin/python -m bench.geo --ant 300             # also 300 real ANT articles (../shared/data)
    .venv/bin/python -m bench.geo --skip_pipeline

Per article, one thread, the same texts: the NER model (``find_entities``), the
event model, and the geocoding step (spotting, resolution, event location) on
the NER's entities. Geocoding's share is its time over the three together: the
model work of an enriched article. The gazetteer's load from its cached file
(once per worker process) and its first build are timed apart. Then
``bench.throughput``'s feed-text run (models dominate there) with ``--geo none``
and ``--geo default``, alternated ``--rounds`` times, for the whole pipeline.
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from akhbar.lib.evaluation.geo import as_article
from akhbar.lib.events.model import EventModel
from akhbar.lib.geo.enricher import GeoEnricher
from akhbar.lib.geo.gazetteer import load_gazetteer
from akhbar.lib.models import EVENT_MODEL, NER_MODEL
from akhbar.lib.ner.entities import find_entities
from akhbar.lib.ner.runtime import load_runtime
from akhbar.sample.server import SampleNewsServer
from bench.throughput import machine, replicated_corpus, run_once
from training.paths import SHARED_DATA


def _timed(fn, repeats: int) -> tuple[float, object]:
    best = float("inf")
    out = None
    for _ in range(repeats):
        started = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - started)
    return best, out


def per_article(titled_texts: list[tuple[str, str]], repeats: int) -> dict:
    texts = [t for _, t in titled_texts]
    ner = load_runtime(str(NER_MODEL), threads=1)
    events = EventModel(EVENT_MODEL, threads=1)
    geo = GeoEnricher()
    geo.load()
    find_entities(texts[:4], ner)  # warm-up
    ner_s, entities = _timed(lambda: find_entities(texts, ner, batch_size=64), repeats)
    events_s, predictions = _timed(lambda: events.predict(titled_texts), repeats)
    articles = [dataclasses.replace(as_article({"docno": str(i), "url": f"https://bench.example/{i}", "title": title,
                                                "text": t}), entities=e, primary_event=p.primary)
                for i, ((title, t), e, p) in enumerate(zip(titled_texts, entities, predictions))]
    geo_s, out = _timed(lambda: geo.enrich(articles), repeats)
    n = len(texts)
    total = ner_s + events_s + geo_s
    return {
        "articles": n,
        "ner_ms_per_article": round(1000 * ner_s / n, 3),
        "events_ms_per_article": round(1000 * events_s / n, 3),
        "geo_ms_per_article": round(1000 * geo_s / n, 3),
        "geo_share_of_model_work": round(geo_s / total, 4),
        "loc_entities": sum(1 for fields in out for e in fields["entities"] if e["type"] == "LOC"),
        "with_event_location": sum(1 for fields in out if fields["event_location"]),
    }


def gazetteer_times() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        load_gazetteer(Path(tmp))  # nothing cached there: build + write
        build_s = time.perf_counter() - started
        started = time.perf_counter()
        load_gazetteer(Path(tmp))
        load_s = time.perf_counter() - started
    return {"first_build_s": round(build_s, 2), "load_from_cache_s": round(load_s, 3)}


def ant_texts(limit: int) -> list[tuple[str, str]]:
    path = SHARED_DATA / "ant_multisource" / "multisource.jsonl.gz"
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("label") in ("middleEast", "internationalNews") and len(r["text"]) > 300:
                out.append((r["title"], r["text"]))
            if len(out) >= limit:
                break
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=5, help="sample corpus copies for the pipeline runs")
    ap.add_argument("--repeats", type=int, default=3, help="passes over the texts; the fastest is kept")
    ap.add_argument("--rounds", type=int, default=3, help="alternated pipeline runs per setting")
    ap.add_argument("--ant", type=int, default=0, help="also time this many real multi-source articles")
    ap.add_argument("--skip_pipeline", action="store_true")
    args = ap.parse_args(argv)
    report: dict = {"machine": machine(), "command": " ".join(["python -m bench.geo", *(argv or sys.argv[1:])])}
    report["gazetteer"] = gazetteer_times()
    sample = [(a.title, "\n".join(a.body)) for a in replicated_corpus(1)]
    report["sample_texts"] = per_article(sample, args.repeats)
    if args.ant:
        report["ant_multisource_texts"] = per_article(ant_texts(args.ant), args.repeats)
    if not args.skip_pipeline:
        served = replicated_corpus(args.copies)
        runs: dict[str, list[dict]] = {"geo_none": [], "geo_default": []}
        with SampleNewsServer(articles=served) as server:
            for _ in range(args.rounds):
                for name, flag in (("geo_none", "none"), ("geo_default", "default")):
                    runs[name].append(run_once(server, ["--no_fetch_pages", "--geo", flag]))
        median = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
        report["pipeline_feed_text"] = {
            "articles_served": len(served), "runs": runs,
            "median_seconds": median,
            "geo_added_share": round(median["geo_default"] / median["geo_none"] - 1, 4),
        }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
