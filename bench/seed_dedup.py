"""What seeding dedup from the output costs: reading the keys of 1M existing articles at start.

    nice -n 10 .venv/bin/python -m bench.seed_dedup --rows 1000000 --days 7          # every row inside the TTL
    nice -n 10 .venv/bin/python -m bench.seed_dedup --rows 1000000 --days 30         # 7 of 30 days inside it

Writes a synthetic ``articles`` table (``--rows`` articles over ``--days``
daily partitions, ``--files-per-day`` files each, the real schema and zstd;
titles, summaries and ~1 KB texts spliced from the bundled sample corpus so
that the files are of realistic size; enrichment columns null), then
measures, each in a fresh process so that peak memory is its own:

* ``akhbar``: ``OutputKeys.load`` (what every worker does at start): list the
  partitions inside the 7-day TTL, read the four key columns with pyarrow's
  projection, digest and sort the keys;
* ``pyarrow``: the yardstick, a plain ``pyarrow.dataset`` read of the same key
  columns with the same partition filter, nothing else;
* ``duckdb``: the same read with DuckDB (``read_parquet(..., hive_partitioning)``
  with the date filter, fetched as Arrow);
* ``lookup``: ``OutputKeys.holds`` for 200,000 articles (three keys each; half
  of them written), as ``SkipWritten`` calls it per item and per article.

Prints one JSON line per measurement: seconds, rows read, the process's RSS
before and at its peak (MB), the 1-minute load average and, for akhbar, the
size of the key index.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

TTL_DAYS = 7
KEY_COLUMNS = ["article_id", "guid", "feed_url", "text_hash"]


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _memory_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process, in MB; ru_maxrss would carry the parent's over exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load_average() -> float:
    return round(os.getloadavg()[0], 1)


def _sentences() -> list[str]:
    from akhbar.sample.corpus import load_corpus

    return [p for a in load_corpus() for p in a.body if len(p) > 40]


def write_output(root: Path, rows: int, days: int, files_per_day: int, now: datetime, seed: int = 11) -> None:
    """A synthetic articles table of the real schema under ``root``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from akhbar.core.urls import article_id
    from akhbar.schemas.article import ARTICLE_SCHEMA

    rng = random.Random(seed)
    sentences = _sentences()
    feeds = [f"https://outlet{i}.example/rss.xml" for i in range(200)]
    per_file = -(-rows // (days * files_per_day))
    n = 0
    for day in range(days):
        date = (now - timedelta(days=day)).date()
        directory = root / "articles" / f"date={date.isoformat()}"
        directory.mkdir(parents=True, exist_ok=True)
        for f in range(files_per_day):
            count = min(per_file, rows - n)
            if count <= 0:
                return
            batch = []
            for i in range(n, n + count):
                feed = feeds[i % len(feeds)]
                url = f"https://{feed.split('/')[2]}/news/{i}"
                text = " ".join(rng.sample(sentences, 4)) + f" ({i})"
                published = datetime(date.year, date.month, date.day, tzinfo=timezone.utc) + timedelta(
                    seconds=rng.randrange(86_400))
                batch.append({
                    "article_id": article_id(url), "url": url, "canonical_url": url, "feed_url": feed,
                    "outlet": feed.split("/")[2], "guid": f"g-{i}", "title": text[:80], "summary": text[:200],
                    "text": text, "text_source": "page", "language": "ar", "published_at": published,
                    "published_source": "feed", "fetched_at": published,
                    "text_hash": hashlib.sha256(text.encode()).hexdigest()[:32],
                })
            pq.write_table(pa.Table.from_pylist(batch, schema=ARTICLE_SCHEMA), directory / f"part-batch-{f:03d}.parquet",
                           compression="zstd")
            n += count


def since(now: datetime) -> str:
    return (now - timedelta(days=TTL_DAYS)).date().isoformat()


def measure(kind: str, root: Path, now: datetime) -> dict:
    """One measurement, timed after its imports; peak RSS is the process's, baseline its RSS before."""
    import duckdb
    import pyarrow as pa
    import pyarrow.dataset as ds

    from akhbar.lib.identity import key_digest
    from akhbar.lib.output_keys import OutputKeys

    baseline = _memory_mb("VmRSS")
    started = time.perf_counter()
    if kind == "akhbar":
        keys = OutputKeys.load(str(root), since(now))
        result = {"rows": keys.rows, "index_mb": round(keys.nbytes / 2**20, 1)}
    elif kind == "pyarrow":
        partitioning = ds.partitioning(pa.schema([("date", pa.string())]), flavor="hive")
        dataset = ds.dataset(root / "articles", format="parquet", partitioning=partitioning)
        table = dataset.to_table(columns=KEY_COLUMNS, filter=ds.field("date") >= since(now))
        result = {"rows": table.num_rows, "arrow_mb": round(table.nbytes / 2**20, 1)}
    elif kind == "duckdb":
        glob = (root / "articles" / "*" / "*.parquet").as_posix()
        table = duckdb.sql(
            f"SELECT {', '.join(KEY_COLUMNS)} FROM read_parquet('{glob}', hive_partitioning = true) "
            f"WHERE date >= DATE '{since(now)}'"
        ).fetch_arrow_table()
        result = {"rows": table.num_rows, "arrow_mb": round(table.nbytes / 2**20, 1)}
    elif kind == "lookup":
        keys = OutputKeys.load(str(root), since(now))
        rng = random.Random(3)
        probes = []
        for _ in range(200_000):
            i = rng.randrange(2 * keys.rows)  # half of them were written
            url = f"https://outlet{i % 200}.example/news/{i}"
            probes.append([("url", key_digest("url", url)), ("guid", rng.getrandbits(64)), ("text", rng.getrandbits(64))])
        started = time.perf_counter()
        hits = sum(keys.holds(p) for p in probes)
        seconds = time.perf_counter() - started
        return {"kind": kind, "articles": len(probes), "hits": hits, "seconds": round(seconds, 3),
                "us_per_article": round(seconds / len(probes) * 1e6, 2), "load_average": _load_average()}
    else:
        raise ValueError(kind)
    return {"kind": kind, "seconds": round(time.perf_counter() - started, 3), **result,
            "rss_before_mb": round(baseline, 1), "peak_rss_mb": round(_memory_mb("VmHWM"), 1),
            "load_average": _load_average()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=TTL_DAYS)
    parser.add_argument("--files-per-day", type=int, default=4)
    parser.add_argument("--dir", help="Where to write the synthetic output (default: a temporary folder, removed after).")
    parser.add_argument("--repeat", type=int, default=2, help="Measurements of each kind (the files stay in the page cache).")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # a child process: measure one kind in --dir
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.measure:
        now = datetime.fromisoformat(args.now)
        print(json.dumps(measure(args.measure, Path(args.dir), now)))
        return

    now = datetime.now(timezone.utc)
    root = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="akhbar-seed-bench-"))
    try:
        started = time.perf_counter()
        write_output(root, args.rows, args.days, args.files_per_day, now)
        size_mb = sum(p.stat().st_size for p in root.rglob("*.parquet")) / 2**20
        print(json.dumps({"machine": _machine(), "rows": args.rows, "days": args.days, "ttl_days": TTL_DAYS,
                          "files": sum(1 for _ in root.rglob("*.parquet")), "output_mb": round(size_mb, 1),
                          "write_seconds": round(time.perf_counter() - started, 1)}), flush=True)
        for _ in range(args.repeat):
            for kind in ("pyarrow", "duckdb", "akhbar", "lookup"):
                child = [sys.executable, "-m", "bench.seed_dedup", "--dir", str(root), "--measure", kind,
                         "--now", now.isoformat()]
                out = subprocess.run(child, check=True, capture_output=True, text=True).stdout
                print(out.strip().splitlines()[-1], flush=True)
    finally:
        if not args.dir:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
