"""Ingest speed next to its yardstick: the plain feedparser + trafilatura loop, on the same served pages.

The yardstick is the loop anyone would write first::

    for feed_url in feeds:
        for entry in feedparser.parse(feed_url).entries:
            text = trafilatura.extract(trafilatura.fetch_url(entry.link, config=config))

(``config``: trafilatura's defaults with its SSRF protection off, since the pages
are served on 127.0.0.1; akhbar gets ``--allow_loopback`` for the same reason.)

akhbar's side is the ingest path alone: ``akhbar run --once`` with the models and
near-duplicates off (``--ner_model none --event_model none --near_dup_policy
off``), which also decodes, removes related-article lines, deduplicates, and
writes Parquet. Both read the same feeds from the loopback sample server (three
outlets, one of them windows-1256), whose pages and feeds are rendered once
before timing so that the server costs neither side. Each side runs
``--repeat`` times, alternating; the report has every run and the best of each,
their ratio (akhbar items/s over loop items/s: every feed item handled, written
or counted as a duplicate) and the CPU seconds each used (worker processes
included). The machine's load average is recorded: on a shared machine, wall
time measures the share of the CPUs each side got as much as its own cost.

The articles are real ones: ``--source ant`` (default) takes the first
``--articles`` texts of the ANT corpus in ``../shared/data/ant``; ``--source
sample`` replicates the bundled sample instead (no shared data needed).

    .venv/bin/python -m bench.ingest_vs_loop --articles 2000                # workers: one per CPU
    .venv/bin/python -m bench.ingest_vs_loop --articles 2000 --workers 1    # in-process
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import resource
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import trafilatura
from trafilatura.settings import use_config

from akhbar.pipelines import ingest
from akhbar.sample.corpus import SampleArticle
from akhbar.sample.server import OUTLETS, SampleNewsServer
from akhbar.transforms import counters
from bench.throughput import machine, replicated_corpus

ANT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "ant" / "ant.jsonl.gz"
INGEST_ONLY = ["--ner_model", "none", "--event_model", "none", "--near_dup_policy", "off"]


def ant_articles(count: int, path: Path = ANT) -> list[SampleArticle]:
    """The first ``count`` ANT articles with a text, spread over the sample server's outlets and
    published a minute apart before a fixed time, as one poll of busy feeds sees them."""
    outlets = list(OUTLETS)
    newest = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)
    articles: list[SampleArticle] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            body = tuple(p.strip() for p in (row.get("text") or "").splitlines() if p.strip())
            if not body or not row.get("title"):
                continue
            outlet = outlets[len(articles) % len(outlets)]
            articles.append(SampleArticle(
                id=f"{outlet}-ant{len(articles):05d}", outlet=outlet,
                published=newest - timedelta(minutes=len(articles)), title=row["title"],
                summary=row.get("abstract") or body[0][:200], body=body, event_types=(), primary="",
                republished_from=None,
            ))
            if len(articles) == count:
                break
    return articles


class RenderedServer(SampleNewsServer):
    """The sample server with every response rendered once: serving costs neither side."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._rendered: dict[str, tuple[bytes, str] | None] = {}

    def route(self, path: str):
        if path not in self._rendered:
            self._rendered[path] = super().route(path)
        return self._rendered[path]

    def prerender(self) -> int:
        paths = [url[len(self.url):] for url in self.feed_urls(faults=False)]
        paths += [self.page_path(a) for a in self.articles]
        paths += [self.page_path(a, "politics") for a in self.articles]
        return sum(self.route(p) is not None for p in paths)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def plain_loop(feed_urls: list[str]) -> dict:
    """The yardstick: feedparser, then trafilatura's fetch and default extraction, per entry."""
    config = use_config()
    config["DEFAULT"]["SSRF_PROTECTION"] = "off"  # the pages are on 127.0.0.1
    started, cpu = time.monotonic(), _cpu()
    entries = extracted = 0
    for feed_url in feed_urls:
        for entry in feedparser.parse(feed_url).entries:
            entries += 1
            html = trafilatura.fetch_url(entry.link, config=config)
            if html and trafilatura.extract(html, url=entry.link):
                extracted += 1
    return _result(extracted, entries, time.monotonic() - started, _cpu() - cpu)


def akhbar_ingest(feed_urls: list[str], workers: int, extra: list[str]) -> dict:
    """``akhbar run --once`` with the models and near-duplicates off."""
    runner = ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"] if workers > 1 else []
    with tempfile.TemporaryDirectory() as tmp:
        feeds = Path(tmp) / "feeds.txt"
        feeds.write_text("\n".join(feed_urls) + "\n", encoding="utf-8")
        started, cpu = time.monotonic(), _cpu()
        result, _ = ingest.run_with_args(
            ["--feeds", str(feeds), "--output", str(Path(tmp) / "out"), "--once", "--allow_loopback",
             *INGEST_ONLY, *runner, *extra]
        )
        seconds, cpu = time.monotonic() - started, _cpu() - cpu
    totals = counters.query_counters(result)
    return _result(totals.get("rows_written_articles", 0), totals.get("items_seen", 0), seconds, cpu,
                   pages_failed=totals.get("pages_failed", 0))


def _result(articles: int, items: int, seconds: float, cpu: float, **extra: int) -> dict:
    """Items per second is the throughput: every feed item handled (akhbar also counts the
    ones it deduplicates, which it writes once)."""
    return {"articles": articles, "items": items, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "items_per_s": round(items / seconds, 2) if seconds else None, **extra}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", choices=("ant", "sample"), default="ant")
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="akhbar's DirectRunner worker processes (1: in-process); default: one per CPU")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side, alternating")
    args, extra = parser.parse_known_args()
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    if args.source == "ant":
        if not ANT.exists():
            parser.error(f"{ANT} not found: use --source sample")
        articles = ant_articles(args.articles)
    else:
        articles = replicated_corpus(max(1, args.articles // 66 + 1))[: args.articles]
    report: dict = {"machine": {**machine(), "load_average_1m": os.getloadavg()[0]}, "source": args.source, "articles_served": len(articles),
                    "akhbar_workers": args.workers, "pipeline_args": INGEST_ONLY + extra, "runs": []}
    with RenderedServer(articles=articles) as server:
        report["responses_prerendered"] = server.prerender()
        feed_urls = server.feed_urls(faults=False)
        for _ in range(args.repeat):
            report["runs"].append({"loop": plain_loop(feed_urls), "akhbar": akhbar_ingest(feed_urls, args.workers, extra)})
    best_loop = max((run["loop"] for run in report["runs"]), key=lambda r: r["items_per_s"] or 0)
    best_akhbar = max((run["akhbar"] for run in report["runs"]), key=lambda r: r["items_per_s"] or 0)
    report["load_average_1m_after"] = os.getloadavg()[0]
    report["best"] = {"loop": best_loop, "akhbar": best_akhbar,
                      "ratio": round(best_akhbar["items_per_s"] / best_loop["items_per_s"], 2),
                      "cpu_ratio": round(best_akhbar["cpu_seconds"] / best_loop["cpu_seconds"], 2)}
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
