"""Progress of long commands: items done, rate and ETA.

On a terminal (the stream is a tty) one status line is redrawn in place, at
most ``redraw_s`` apart. Anywhere else (CI logs, pipes, files) the reporter
stays quiet apart from a plain log line every ``log_every_s`` seconds and one
at the end, so logs stay readable and greppable::

    with Progress("compact articles", total=12, unit="files") as progress:
        for f in files:
            ...
            progress.advance()

``watch_output`` is for a job whose counters are not readable while it runs
(a Beam pipeline): it polls the Parquet files that appear under the output
folder and reports them; there is no total, so no ETA.
"""
from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO


def format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class Progress:
    """Counts items done and shows them; a tty gets a live line, anything else periodic log lines."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "items",
        stream: TextIO | None = None,
        tty: bool | None = None,
        redraw_s: float = 0.1,
        log_every_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.tty = _isatty(self.stream) if tty is None else tty
        self.redraw_s = redraw_s
        self.log_every_s = log_every_s
        self.done = 0
        self.extra = ""
        self._clock = clock
        self._started = clock()
        self._last_shown = float("-inf")
        self._done_shown: int | None = None
        self._lock = threading.Lock()
        self._closed = False

    # -- counting ---------------------------------------------------------
    def advance(self, n: int = 1, extra: str | None = None) -> None:
        self.update(self.done + n, extra)

    def update(self, done: int, extra: str | None = None) -> None:
        with self._lock:
            self.done = done
            if extra is not None:
                self.extra = extra
            now = self._clock()
            if now - self._last_shown >= (self.redraw_s if self.tty else self.log_every_s):
                self._show(now)

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started

    def rate(self) -> float:
        elapsed = self.elapsed
        return self.done / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left at the mean rate so far; None without a total or a rate yet."""
        rate = self.rate()
        if self.total is None or rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / rate)

    def status(self) -> str:
        done = f"{self.done}/{self.total}" if self.total is not None else f"{self.done}"
        parts = [f"{self.label}: {done} {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.done / self.total:.0f}%)"
        parts.append(f"{self.rate():.1f} {self.unit}/s")
        eta = self.eta()
        if eta is not None and self.done < (self.total or 0):
            parts.append(f"ETA {format_duration(eta)}")
        parts.append(f"elapsed {format_duration(self.elapsed)}")
        if self.extra:
            parts.append(self.extra)
        return ", ".join(parts)

    # -- drawing ----------------------------------------------------------
    def _show(self, now: float) -> None:
        self._last_shown = now
        self._done_shown = self.done
        if self.tty:
            # \r + "erase line" redraws in place; nothing else is written to the terminal.
            self.stream.write("\r\x1b[2K" + self.status())
        else:
            stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            self.stream.write(f"{stamp} {self.status()}\n")
        self.stream.flush()

    def close(self) -> None:
        """Show the final state once (a finished line on a tty, a last log line otherwise)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self.tty or self._done_shown != self.done:  # a log needs no second line with the same count
                self._show(self._clock())
            if self.tty:
                self.stream.write("\n")
                self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class OutputCache:
    """What ``count_output`` learnt on earlier calls: per partition folder, its mtime and its
    files' (size, mtime, rows)."""

    folders: dict[Path, tuple[int, dict[str, tuple[int, int, int]]]] = field(default_factory=dict)


def count_output(output: str, cache: OutputCache | None = None) -> tuple[int, int]:
    """(Parquet files, rows) under an output folder, from the files' footers; hidden files skipped.

    With a ``cache``, a partition folder whose mtime has not changed is not listed again, and a
    file's footer is read once: a watcher calling this every second costs a stat per partition
    folder, not a footer read per file, so a streaming run of days (thousands of files) is not
    slowed by its own progress line. The writer adds and replaces files by rename, which
    changes the folder's mtime.
    """
    import pyarrow.parquet as pq

    cache = cache if cache is not None else OutputCache()
    root = Path(output)
    if not root.is_dir():
        return 0, 0
    seen: set[Path] = set()
    for folder in root.glob("*/*"):
        if any(part.startswith(".") for part in folder.relative_to(root).parts):
            continue
        try:
            mtime = folder.stat().st_mtime_ns
        except OSError:
            continue
        if not folder.is_dir():
            continue
        seen.add(folder)
        known = cache.folders.get(folder)
        if known is not None and known[0] == mtime:
            continue
        previous = known[1] if known is not None else {}
        files: dict[str, tuple[int, int, int]] = {}
        for path in folder.glob("*.parquet"):
            if path.name.startswith("."):
                continue
            try:
                stat = path.stat()
                entry = previous.get(path.name)
                if entry is None or entry[:2] != (stat.st_size, stat.st_mtime_ns):
                    entry = (stat.st_size, stat.st_mtime_ns, pq.read_metadata(path).num_rows)
            except (OSError, ValueError):
                continue  # replaced or removed while we looked
            files[path.name] = entry
        cache.folders[folder] = (mtime, files)
    for gone in cache.folders.keys() - seen:
        del cache.folders[gone]
    totals = [entry[2] for _mtime, files in cache.folders.values() for entry in files.values()]
    return len(totals), sum(totals)


@contextmanager
def watch_output(output: str, label: str, stream: TextIO | None = None, poll_s: float = 1.0) -> Iterator[Progress]:
    """Report the rows written under ``output`` by a job running in this process, until the block ends.

    Only local folders can be watched; rows already there when the block starts are not counted.
    """
    progress = Progress(label, unit="rows", stream=stream, redraw_s=0.0)
    if "://" in output:  # gs://, s3://: not polled
        yield progress
        return
    cache = OutputCache()
    _, rows_before = count_output(output, cache)
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(poll_s):
            files, rows = count_output(output, cache)
            progress.update(max(0, rows - rows_before), extra=f"{files} files in {output}")

    thread = threading.Thread(target=poll, name="akhbar-progress", daemon=True)
    thread.start()
    try:
        yield progress
    finally:
        stop.set()
        thread.join()
        files, rows = count_output(output, cache)
        progress.update(max(0, rows - rows_before), extra=f"{files} files in {output}")
        progress.close()
