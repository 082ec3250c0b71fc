"""Soak test of streaming on Prism: hours of polling with faults, flat memory, nothing lost.

A loopback server publishes news on ``--feeds`` RSS feeds at a steady ``--rate``
(items per minute), and fails ``--fault_rate`` of all requests the usual ways:
HTTP 500, connections that time out, feeds cut off mid-XML, pages and feeds that
answer slowly. Some items are also carried by a second feed under the same link
(exact duplicates), some republished with an edit under a new link (near
duplicates), some are in English (dead-lettered). ``akhbar run --streaming``
polls it for ``--minutes`` with the default models on, then drains.

Every minute it records the job's memory (RSS of the akhbar process and of Prism),
its open file handles, the articles and dead letters readable in the output, and
the end-to-end latency of the items that became readable in that minute: from the
moment an item appeared in its feed to the first scan (every 5 s) of the output
that finds its row in Parquet.

Success means:

* nothing lost: every item a feed served is written, deduplicated (its link
  written once) or dead-lettered, and the run's counters balance;
* nothing doubled: one row per article id and per canonical URL;
* memory flat after the warm-up: the fitted slope of the total RSS over the rest
  of the run is within 5 % of its mean per 10 minutes;
* latency: p95 over the items published after the warm-up
  <= poll_interval + write_interval + 30 s;
* the job stops by itself within write_interval + 30 s of its deadline.

The dedup and near-dup TTLs are lowered to ``--ttl`` (10 minutes) so that the
state turns over inside the soak: flat memory then shows that expired state is
freed, not only that it has not grown yet. A feed lists an item for
``--retention`` (5 minutes), less than the TTL, as real feeds list an item for
far less than the default 7-day TTL: an entry read again after its key expired
(a cut-off feed can drop its GUID) would be written again.

    .venv/bin/python -m bench.soak                      # 30 minutes, writes build/soak/ and docs/soak.png
    .venv/bin/python -m bench.soak --minutes 5 --chart build/soak/soak.png

Linux only (reads /proc). Exit status 0 when every criterion holds.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pyarrow.parquet as pq

from akhbar.core.urls import canonical_url
from akhbar.sample.corpus import load_corpus
from bench.throughput import machine

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parents[1]
ITEMS_PER_FEED = 30  # a feed lists at most its 30 latest items, newest first, of the last --retention seconds
SCAN_S = 5.0

ENGLISH = [
    ("Markets close higher as investors weigh new data",
     "Stocks rose on Monday as investors weighed new data on inflation and jobs across major economies."),
    ("Heavy rain disrupts flights at the main airport",
     "Dozens of flights were delayed on Tuesday after heavy rain flooded parts of the runway and access roads."),
    ("City council approves a new budget for public transport",
     "The council voted to expand bus services and to renovate three stations over the next two years."),
]


# ----------------------------------------------------------------------------- the news


@dataclass
class Item:
    """One news item the server publishes; ``link`` is how its row is found in the output."""

    n: int
    feed: int
    title: str
    paragraphs: list[str]
    link: str
    guid: str
    language: str = "ar"
    added_at: float = 0.0  # when it appeared in its feed (server clock)
    kind: str = "original"  # original | duplicate (same link, second feed) | edited (new link) | english

    @property
    def summary(self) -> str:
        """The feed's description: the headline and the lead, as news feeds write it (one per item,
        so an item whose page fails is written with its own text, never deduplicated by it)."""
        return f"{self.title}. {self.paragraphs[0]}"


class NewsMaker:
    """Articles assembled from the bundled sample's paragraphs (written for akhbar), each made
    unique by its own closing paragraph; plus duplicates, edited republications and English items."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)
        corpus = load_corpus()
        self._titles = [a.title for a in corpus]
        self._paragraphs = [p for a in corpus for p in a.body if len(p) > 80]

    def article(self, n: int, feed: int, base_url: str) -> Item:
        rng = self._rng
        body = rng.sample(self._paragraphs, 3)
        body.append(f"وأفاد مراسلنا في تقريره رقم {n} أن الجهات المعنية ستعلن تفاصيل إضافية خلال الأيام المقبلة "
                    f"بعد اجتماع اللجنة المكلفة بمتابعة الملف رقم {n * 7 + 3}.")
        title = f"{rng.choice(self._titles)} ({n})"
        return Item(n, feed, title, body, f"{base_url}/f{feed}/news/{n}.html", f"soak-{n}")

    def english(self, n: int, feed: int, base_url: str) -> Item:
        title, text = self._rng.choice(ENGLISH)
        return Item(n, feed, f"{title} ({n})", [text, f"Report number {n} will be updated."],
                    f"{base_url}/f{feed}/news/{n}.html", f"soak-{n}", language="en", kind="english")

    def edited(self, n: int, feed: int, original: Item, base_url: str) -> Item:
        body = list(original.paragraphs)
        body[-1] = f"وأضافت المصادر في تحديث لاحق رقم {n} أن المشاورات ما زالت مستمرة بين الأطراف."
        return Item(n, feed, original.title, body, f"{base_url}/f{feed}/news/{n}.html", f"soak-{n}",
                    kind="edited")


# ----------------------------------------------------------------------------- the server


@dataclass
class FaultPlan:
    """Which requests fail and how: a fraction ``rate`` of all requests, the kinds drawn evenly."""

    rate: float
    read_timeout: float
    seed: int
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed + 1)
        self._lock = threading.Lock()

    def draw(self, kinds: tuple[str, ...]) -> str | None:
        with self._lock:
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(kinds)
            self.counts[kind] = self.counts.get(kind, 0) + 1
            return kind


class SoakServer:
    """``--feeds`` RSS feeds on 127.0.0.1 whose items are added while the job runs."""

    FEED_FAULTS = ("500", "timeout", "broken", "slow")
    PAGE_FAULTS = ("500", "timeout", "slow")

    def __init__(self, feeds: int, faults: FaultPlan, seed: int, retention_s: float = 300.0):
        self.faults = faults
        self.retention_s = retention_s
        self.maker = NewsMaker(seed)
        self._rng = random.Random(seed + 2)
        self._lock = threading.Lock()
        self._feeds: list[list[Item]] = [[] for _ in range(feeds)]
        self._pages: dict[str, Item] = {}
        self.items: list[Item] = []  # every item published, duplicates included
        self.served: dict[str, float] = {}  # link -> first time a good feed response carried it
        self.requests = 0
        self._next = 0
        self._httpd = ThreadingHTTPServer((HOST, 0), self._handler())
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    def feed_urls(self) -> list[str]:
        return [f"{self.url}/f{k}/rss.xml" for k in range(len(self._feeds))]

    def start(self) -> SoakServer:
        threading.Thread(target=self._httpd.serve_forever, name="soak-news", daemon=True).start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- publishing -------------------------------------------------------
    def publish(self) -> list[Item]:
        """Add one item to a random feed (and sometimes a copy or an edit of it to another)."""
        with self._lock:
            n = self._next
            feed = self._rng.randrange(len(self._feeds))
            roll = self._rng.random()
            if roll < 0.02:
                items = [self.maker.english(n, feed, self.url)]
            else:
                items = [self.maker.article(n, feed, self.url)]
                other = (feed + 1 + self._rng.randrange(len(self._feeds) - 1)) % len(self._feeds)
                if roll < 0.06:  # the same item in a second feed: same link, same GUID
                    items.append(Item(**{**items[0].__dict__, "feed": other, "kind": "duplicate"}))
                elif roll < 0.10:  # republished elsewhere with an edit, under its own link
                    self._next += 1
                    items.append(self.maker.edited(self._next, other, items[0], self.url))
            self._next += 1
            now = time.time()
            for item in items:
                item.added_at = now
                listed = [i for i in self._feeds[item.feed] if now - i.added_at <= self.retention_s]
                self._feeds[item.feed] = [item, *listed][:ITEMS_PER_FEED]
                self._pages[urlsplit(item.link).path] = item
                self.items.append(item)
            return items

    # -- rendering --------------------------------------------------------
    def render_feed(self, feed: int) -> tuple[bytes, list[Item]]:
        now = time.time()
        with self._lock:
            items = [i for i in self._feeds[feed] if now - i.added_at <= self.retention_s]
        parts = ['<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
                 f"<title>مصدر الأخبار {feed}</title><link>{self.url}/f{feed}/</link><language>ar</language>"]
        for item in items:
            stamp = format_datetime(datetime.fromtimestamp(item.added_at, tz=timezone.utc))
            parts.append(f"<item><title>{html.escape(item.title)}</title><link>{html.escape(item.link)}</link>"
                         f'<guid isPermaLink="false">{item.guid}</guid><pubDate>{stamp}</pubDate>'
                         f"<description>{html.escape(item.summary)}</description></item>")
        parts.append("</channel></rss>\n")
        return "".join(parts).encode(), items

    @staticmethod
    def render_page(item: Item) -> bytes:
        body = "".join(f"<p>{html.escape(p)}</p>" for p in item.paragraphs)
        lang = 'lang="ar" dir="rtl"' if item.language == "ar" else 'lang="en"'
        return (f'<!DOCTYPE html><html {lang}><head><meta charset="utf-8"><title>{html.escape(item.title)}</title>'
                f'</head><body><nav><a href="/">الرئيسية</a> | <a href="/world">العالم</a></nav><main><article>'
                f"<h1>{html.escape(item.title)}</h1>{body}</article></main><footer>جميع الحقوق محفوظة</footer>"
                "</body></html>").encode()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                return

            def do_GET(self):
                path = urlsplit(self.path).path
                with server._lock:
                    server.requests += 1
                feed = re.fullmatch(r"/f(\d+)/rss\.xml", path)
                if feed and int(feed.group(1)) < len(server._feeds):
                    self._feed(int(feed.group(1)))
                elif path in server._pages:
                    self._page(server._pages[path])
                else:
                    self._send(404, b"not found", "text/plain")

            def _feed(self, feed: int):
                fault = server.faults.draw(server.FEED_FAULTS)
                if self._fault_first(fault):
                    return
                body, items = server.render_feed(feed)
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if fault == "broken":  # cut off mid-XML, under the whole feed's ETag
                    self._send(200, body[: len(body) // 2], "application/rss+xml; charset=utf-8", etag)
                    return
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", None, etag)
                    return
                self._send(200, body, "application/rss+xml; charset=utf-8", etag)
                now = time.time()
                with server._lock:
                    for item in items:
                        server.served.setdefault(item.link, now)

            def _page(self, item: Item):
                if self._fault_first(server.faults.draw(server.PAGE_FAULTS)):
                    return
                self._send(200, server.render_page(item), "text/html; charset=utf-8")

            def _fault_first(self, fault: str | None) -> bool:
                """Serve a fault that replaces the response; True when the request is done."""
                if fault == "500":
                    self._send(500, b"internal error", "text/plain")
                    return True
                if fault == "timeout":  # nothing until well past the client's read timeout, then hang up
                    time.sleep(server.faults.read_timeout + 3)
                    self.close_connection = True
                    return True
                if fault == "slow":
                    time.sleep(server.faults.read_timeout / 2)
                return False

            def _send(self, status: int, body: bytes, content_type: str | None, etag: str | None = None):
                try:
                    self.send_response(status)
                    if content_type:
                        self.send_header("Content-Type", content_type)
                    if etag:
                        self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if body:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        return Handler


# ----------------------------------------------------------------------------- watching the job


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Prism is a child of the akhbar process)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


class OutputWatcher:
    """Finds the rows that became readable since the last scan (new files only; files appear whole)."""

    def __init__(self, out: Path):
        self.out = out
        self.seen_files: set[Path] = set()
        self.first_readable: dict[str, float] = {}  # canonical URL -> first scan that found it
        self.article_rows = 0
        self.article_ids: list[str] = []
        self.article_urls: list[str] = []
        self.dead_rows = 0
        self.dead_urls: set[str] = set()
        self.dead_kinds: dict[str, int] = {}

    def scan(self) -> None:
        now = time.time()
        for path in sorted(self.out.glob("articles/date=*/*.parquet")):
            if path in self.seen_files:
                continue
            table = pq.read_table(path, columns=["article_id", "canonical_url"]).to_pydict()
            self.seen_files.add(path)
            self.article_rows += len(table["article_id"])
            self.article_ids += table["article_id"]
            self.article_urls += table["canonical_url"]
            for url in table["canonical_url"]:
                self.first_readable.setdefault(url, now)
        for path in sorted(self.out.glob("dead_letters/date=*/*.parquet")):
            if path in self.seen_files:
                continue
            table = pq.read_table(path, columns=["stage", "error_kind", "url"]).to_pydict()
            self.seen_files.add(path)
            self.dead_rows += len(table["stage"])
            for stage, kind, url in zip(table["stage"], table["error_kind"], table["url"]):
                key = f"{stage}/{kind}"
                self.dead_kinds[key] = self.dead_kinds.get(key, 0) + 1
                if url:
                    self.dead_urls.add(canonical_url(url))
                    self.first_readable.setdefault(canonical_url(url), now)


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def latencies(server: SoakServer, watcher: OutputWatcher, since: float = 0.0,
              readable_between: tuple[float, float] | None = None) -> list[float]:
    """Seconds from an item's appearance to its row being readable (first copy of each link only)."""
    firsts: dict[str, Item] = {}
    for item in server.items:
        firsts.setdefault(item.link, item)
    out = []
    for link, item in firsts.items():
        if item.added_at < since:
            continue
        seen = watcher.first_readable.get(canonical_url(link))
        if seen is None:
            continue
        if readable_between and not readable_between[0] <= seen < readable_between[1]:
            continue
        out.append(seen - item.added_at)
    return out


# ----------------------------------------------------------------------------- the run


def soak(args: argparse.Namespace) -> dict:
    work = Path(args.work)
    out = work / "out"
    if out.exists():
        raise SystemExit(f"{out} exists: remove it or pass another --work")
    work.mkdir(parents=True, exist_ok=True)
    faults = FaultPlan(args.fault_rate, args.read_timeout, args.seed)
    server = SoakServer(args.feeds, faults, args.seed, args.retention).start()
    for _ in range(args.feeds * args.initial_items):
        server.publish()
    feed_list = work / "feeds.txt"
    feed_list.write_text("\n".join(server.feed_urls()) + "\n", encoding="utf-8")
    command = [
        sys.executable, "-m", "akhbar", "run", "--feeds", str(feed_list), "--output", str(out),
        "--streaming", "--allow_loopback", "--duration", str(args.minutes * 60),
        "--poll_interval", str(args.poll_interval), "--write_interval", str(args.write_interval),
        "--read_timeout", str(args.read_timeout), "--connect_timeout", str(args.read_timeout),
        "--max_backoff", str(args.poll_interval * 4),
        "--dedup_ttl", str(args.ttl), "--near_dup_ttl", str(args.ttl), *args.pipeline_args,
    ]
    log_path = work / "job.log"
    print(f"soak: {args.feeds} feeds on {server.url}, {args.rate}/min, {args.fault_rate:.0%} of requests failing, "
          f"{args.minutes} min; log {log_path}", flush=True)
    watcher = OutputWatcher(out)
    minutes: list[dict] = []
    started = time.time()
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
        publisher_stop = threading.Event()

        def publish_steadily() -> None:
            gap = 60.0 / args.rate
            next_at = time.time() + gap
            while not publisher_stop.wait(max(next_at - time.time(), 0)):
                server.publish()
                next_at += gap

        publisher = threading.Thread(target=publish_steadily, name="soak-publisher", daemon=True)
        publisher.start()
        next_minute = started + 60
        try:
            while proc.poll() is None:
                watcher.scan()
                if time.time() >= next_minute:
                    minutes.append(sample_minute(len(minutes) + 1, proc.pid, server, watcher, next_minute - 60))
                    print(json.dumps(minutes[-1]), flush=True)
                    next_minute += 60
                if time.time() > started + args.minutes * 60:
                    publisher_stop.set()  # the job's last poll is at the deadline: publish nothing after it
                time.sleep(SCAN_S)
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
            raise
        finally:
            publisher_stop.set()
            if proc.poll() is None:
                proc.kill()
        ended = time.time()
        watcher.scan()
    server.stop()
    return evaluate(args, server, watcher, minutes, log_path, proc.returncode, started, ended, command)


def sample_minute(minute: int, pid: int, server: SoakServer, watcher: OutputWatcher, since: float) -> dict:
    tree = process_tree(pid)
    rss = {p: rss_mb(p) for p in tree}
    prism = sum(v for p, v in rss.items() if process_name(p) == "prism")
    lat = latencies(server, watcher, readable_between=(since, since + 60))
    return {
        "minute": minute,
        "rss_akhbar_mb": round(sum(rss.values()) - prism, 1),
        "rss_prism_mb": round(prism, 1),
        "rss_total_mb": round(sum(rss.values()), 1),
        "open_files": sum(open_files(p) for p in tree),
        "items_published": len(server.items),
        "items_served": len(server.served),
        "articles_written": watcher.article_rows,
        "dead_letters": watcher.dead_rows,
        "latency_n": len(lat),
        "latency_p50_s": None if not lat else round(percentile(lat, 50), 1),
        "latency_p95_s": None if not lat else round(percentile(lat, 95), 1),
    }


def memory_slope(minutes: list[dict], warmup_min: float) -> dict:
    """Least-squares slope of the total RSS after the warm-up, as % of its mean per 10 minutes."""
    points = [(m["minute"], m["rss_total_mb"]) for m in minutes if m["minute"] > warmup_min]
    if len(points) < 3:
        return {"points": len(points), "slope_mb_per_10min": None, "slope_pct_per_10min": None}
    x, y = np.array(points, dtype=float).T
    slope = float(np.polyfit(x, y, 1)[0]) * 10
    return {"points": len(points), "mean_mb": round(float(y.mean()), 1), "slope_mb_per_10min": round(slope, 2),
            "slope_pct_per_10min": round(100 * slope / float(y.mean()), 2)}


def evaluate(args, server: SoakServer, watcher: OutputWatcher, minutes: list[dict], log_path: Path, rc: int,
             started: float, ended: float, command: list[str]) -> dict:
    log = log_path.read_text(encoding="utf-8", errors="replace")
    found = re.search(r"streaming until (\S+ \S+) UTC", log)
    deadline = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp() \
        if found else None
    written = set(watcher.article_urls)
    served = {canonical_url(link) for link in server.served}
    lost = sorted(served - written - watcher.dead_urls)
    warmup_min = max(5.0, args.minutes / 3)
    steady = latencies(server, watcher, since=started + warmup_min * 60)
    every = latencies(server, watcher)
    target = args.poll_interval + args.write_interval + 30
    memory = memory_slope(minutes, warmup_min)
    summary_lines = [line for line in log.splitlines() if re.match(r"^(feeds polled|items seen|articles written|"
                                                                   r"duplicates dropped|dead letters|accounted for|took)",
                                                                   line)]
    checks = {
        "exit_status_0": rc == 0,
        "counters_balance": "accounted for       yes" in log,
        "nothing_lost": not lost,
        "nothing_doubled": len(watcher.article_ids) == len(set(watcher.article_ids)) == len(written),
        "memory_flat": memory["slope_pct_per_10min"] is not None and abs(memory["slope_pct_per_10min"]) <= 5.0,
        "latency_p95_within_target": bool(steady) and percentile(steady, 95) <= target,
        "stopped_in_time": deadline is not None and ended - deadline <= args.write_interval + 30,
    }
    kinds = {}
    for item in server.items:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    return {
        "command": "python -m bench.soak " + " ".join(args.argv),
        "job_command": " ".join(command[1:]),
        "machine": machine(),
        "minutes": args.minutes,
        "feeds": args.feeds,
        "rate_per_min": args.rate,
        "requests": server.requests,
        "faults": dict(sorted(server.faults.counts.items())),
        "items_published": len(server.items),
        "items_by_kind": kinds,
        "links_served": len(served),
        "links_lost": lost[:20],
        "articles_written": watcher.article_rows,
        "dead_letters": watcher.dead_rows,
        "dead_letters_by_kind": dict(sorted(watcher.dead_kinds.items())),
        "latency_target_s": target,
        "latency_after_warmup": {"n": len(steady), "p50_s": _round(percentile(steady, 50)),
                                 "p95_s": _round(percentile(steady, 95)), "max_s": _round(max(steady, default=None))},
        "latency_all": {"n": len(every), "p50_s": _round(percentile(every, 50)), "p95_s": _round(percentile(every, 95))},
        "warmup_minutes": warmup_min,
        "memory": memory,
        "open_files": {"min": min((m["open_files"] for m in minutes), default=None),
                       "max": max((m["open_files"] for m in minutes), default=None)},
        "stopped_after_deadline_s": None if deadline is None else round(ended - deadline, 1),
        "wall_s": round(ended - started, 1),
        "run_summary": summary_lines,
        "checks": checks,
        "ok": all(checks.values()),
        "per_minute": minutes,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def chart(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["per_minute"]
    x = [r["minute"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    ax = axes[0][0]
    ax.plot(x, [r["rss_total_mb"] for r in rows], label="total")
    ax.plot(x, [r["rss_akhbar_mb"] for r in rows], label="akhbar (Python, SDK worker)")
    ax.plot(x, [r["rss_prism_mb"] for r in rows], label="Prism")
    ax.axvline(report["warmup_minutes"], color="grey", linestyle=":", label="end of warm-up")
    ax.set_title(f"memory (RSS, MB): slope {report['memory']['slope_pct_per_10min']}% / 10 min")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    ax.plot(x, [r["articles_written"] for r in rows], label="articles written")
    ax.plot(x, [r["dead_letters"] for r in rows], label="dead letters")
    ax.plot(x, [r["items_published"] for r in rows], label="items published", linestyle="--")
    ax.set_title("rows readable in Parquet (cumulative)")
    ax.legend(fontsize=8)
    ax = axes[1][0]
    ax.plot(x, [r["latency_p50_s"] for r in rows], label="p50", marker=".")
    ax.plot(x, [r["latency_p95_s"] for r in rows], label="p95", marker=".")
    ax.axhline(report["latency_target_s"], color="red", linestyle="--", label="p95 target")
    ax.set_title("latency, item published -> row readable (s)")
    ax.set_xlabel("minute")
    ax.legend(fontsize=8)
    ax = axes[1][1]
    ax.plot(x, [r["open_files"] for r in rows])
    ax.set_title("open file handles (akhbar + Prism)")
    ax.set_xlabel("minute")
    fig.suptitle(f"akhbar streaming soak on Prism: {report['feeds']} feeds, {report['rate_per_min']} items/min, "
                 f"{sum(report['faults'].values())} of {report['requests']} requests faulted, {report['minutes']} min")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--rate", type=float, default=30.0, help="items published per minute, over all feeds")
    parser.add_argument("--initial_items", type=int, default=3, help="items per feed before the job starts")
    parser.add_argument("--fault_rate", type=float, default=0.10)
    parser.add_argument("--poll_interval", type=int, default=60)
    parser.add_argument("--write_interval", type=int, default=30)
    parser.add_argument("--read_timeout", type=float, default=5.0)
    parser.add_argument("--ttl", type=int, default=600, help="dedup and near-dup TTL (s)")
    parser.add_argument("--retention", type=float, default=300.0,
                        help="seconds an item stays listed in its feed; keep it below --ttl")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--work", default="build/soak", help="folder for the output, the job's log and the report")
    parser.add_argument("--chart", default="docs/soak.png")
    args, pipeline_args = parser.parse_known_args(argv)
    args.pipeline_args, args.argv = pipeline_args, argv
    if args.retention >= args.ttl:
        parser.error("--retention must be below --ttl: an entry listed past its key's TTL is written again")
    report = soak(args)
    report_path = Path(args.work) / "report.json"
    report_path.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    chart(report, Path(args.chart))
    print(json.dumps({k: v for k, v in report.items() if k != "per_minute"}, ensure_ascii=False, indent=2))
    print(f"report: {report_path}; chart: {args.chart}; {'OK' if report['ok'] else 'FAILED'}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
