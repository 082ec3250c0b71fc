"""Extraction quality and speed: akhbar next to trafilatura's defaults, side by side in one run.

Two page sets:

- ``public``: the Scrapinghub article-extraction benchmark (181 news pages, mostly
  English, MIT licence), read from ``../shared/data/extraction_benchmark`` (``--data``).
  Token precision, recall and F1 against the annotated ``articleBody``, micro- and
  macro-averaged; the pages where one extractor's F1 is far below the other's.
- ``arabic``: this project's Arabic page set (``bench/arabic_pages.py``: 48 pages in
  8 layouts). Body recall (tokens), the share of pages that lose a body paragraph,
  and the related-article leak: the share of pages whose text keeps a related
  headline, a see-also label or other furniture.

Each page goes to both extractors from the same bytes, one after the other, and
each call is timed in CPU seconds (after one warm-up call each); pages per
second are pages per CPU second of those calls. akhbar runs what ``akhbar extract`` runs
(``extract_bytes``: decode, then extract); trafilatura runs
``trafilatura.extract(html_bytes, url=url)`` with its defaults. For the public set,
the report also has akhbar's extraction alone on text decoded beforehand,
which shows what decoding costs.

    .venv/bin/python -m bench.extraction                    # both sets, JSON on stdout
    .venv/bin/python -m bench.extraction --set arabic
    .venv/bin/python -m bench.extraction --worse 0.1        # list pages 0.1 F1 apart
"""
from __future__ import annotations

import argparse
import gzip
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from akhbar.lib.evaluation.extraction import PageScore, snippet_check, summarize, token_scores
from akhbar.lib.extract import ExtractionError, extract_article, extract_bytes
from akhbar.lib.web.charset import decode_bytes
from bench.arabic_pages import arabic_pages
from bench.throughput import machine

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "extraction_benchmark"


def akhbar_text(body: bytes, url: str | None) -> str:
    try:
        return extract_bytes(body, url).text
    except ExtractionError:
        return ""


def trafilatura_text(body: bytes, url: str | None) -> str:
    return trafilatura.extract(body, url=url) or ""


EXTRACTORS: dict[str, Callable[[bytes, str | None], str]] = {"akhbar": akhbar_text, "trafilatura": trafilatura_text}


def _timed(extract: Callable[[bytes, str | None], str], body: bytes, url: str | None) -> tuple[str, float]:
    """The text and the CPU seconds it took (CPU, not wall time: on a shared machine the
    wall clock also measures the other users)."""
    started = time.process_time()
    text = extract(body, url)
    return text, time.process_time() - started


def _warm_up(body: bytes, url: str | None) -> None:
    for extract in EXTRACTORS.values():
        extract(body, url)


def public_benchmark(data: Path, worse: float, limit: int | None) -> dict:
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit]
    pages = [(key, truth[key]["url"], gzip.decompress((data / "html" / f"{key}.html.gz").read_bytes())) for key in keys]
    _warm_up(pages[0][2], pages[0][1])
    scores: dict[str, list[PageScore]] = {name: [] for name in EXTRACTORS}
    for key, url, body in pages:
        for name, extract in EXTRACTORS.items():
            text, seconds = _timed(extract, body, url)
            scores[name].append(PageScore(key, token_scores(text, truth[key]["articleBody"]), seconds))
    # akhbar's extraction alone, on text decoded beforehand: what decoding costs is the difference.
    decoded = [(url, decode_bytes(body)[0]) for _key, url, body in pages]
    started = time.process_time()
    for url, html in decoded:
        try:
            extract_article(html, url)
        except ExtractionError:
            pass
    extract_only = len(decoded) / (time.process_time() - started)
    far_apart = []
    for mine, theirs in zip(scores["akhbar"], scores["trafilatura"]):
        if abs(mine.scores.f1 - theirs.scores.f1) >= worse:
            far_apart.append({
                "page": mine.page[:12],
                "url": truth[mine.page]["url"],
                "akhbar": {"f1": round(mine.scores.f1, 3), "precision": round(mine.scores.precision, 3),
                           "recall": round(mine.scores.recall, 3)},
                "trafilatura": {"f1": round(theirs.scores.f1, 3), "precision": round(theirs.scores.precision, 3),
                                "recall": round(theirs.scores.recall, 3)},
            })
    far_apart.sort(key=lambda row: row["akhbar"]["f1"] - row["trafilatura"]["f1"])
    return {
        "data": str(data.resolve()),
        **{name: summarize(rows) for name, rows in scores.items()},
        "akhbar_extraction_only_pages_per_s": round(extract_only, 1),
        f"pages_f1_apart_by_{worse}": far_apart,
    }


def arabic_benchmark() -> dict:
    pages = arabic_pages()
    _warm_up(pages[0].html.encode("utf-8"), pages[0].url)
    report = {"pages": len(pages), "layouts": sorted({p.layout for p in pages})}
    for name, extract in EXTRACTORS.items():
        rows, leaked, lost, per_layout = [], [], [], {}
        for page in pages:
            text, seconds = _timed(extract, page.html.encode("utf-8"), page.url)
            rows.append(PageScore(page.id, token_scores(text, "\n".join(page.body)), seconds))
            check = snippet_check(text, page.body, page.boilerplate)
            layout = per_layout.setdefault(page.layout, {"pages": 0, "leaked": 0, "lost_body": 0})
            layout["pages"] += 1
            if check.leaked:
                leaked.append(page.id)
                layout["leaked"] += 1
            if check.missing:
                lost.append(page.id)
                layout["lost_body"] += 1
        summary = summarize(rows)
        report[name] = {
            "body_recall": summary["micro"]["recall"],
            "precision": summary["micro"]["precision"],
            "leak_rate": round(len(leaked) / len(pages), 4),
            "lost_body_rate": round(len(lost) / len(pages), 4),
            "pages_per_s": summary["pages_per_s"],
            "leaked_pages": leaked,
            "lost_body_pages": lost,
            "per_layout": per_layout,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=("public", "arabic", "both"), default="both")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the extraction_benchmark folder")
    parser.add_argument("--worse", type=float, default=0.2, help="list pages whose F1 differ by this much")
    parser.add_argument("--limit", type=int, default=None, help="first N public pages only")
    args = parser.parse_args()
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    report: dict = {"machine": {**machine(), "load_average_1m": os.getloadavg()[0]},
                    "trafilatura": trafilatura.__version__}
    if args.set in ("public", "both"):
        if not (args.data / "ground-truth.json").exists():
            parser.error(f"no ground-truth.json in {args.data} (--data names the extraction_benchmark folder)")
        report["public"] = public_benchmark(args.data, args.worse, args.limit)
    if args.set in ("arabic", "both"):
        report["arabic"] = arabic_benchmark()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
