"""Progress: a live line on a terminal (a real pty), plain log lines elsewhere; rate and ETA from the counts."""
from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from akhbar.lib.progress import Progress, count_output, format_duration
from tests.analytics.test_compact import DAY, _write_small_files

REPO = Path(__file__).resolve().parents[2]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ compact articles: \d+/\d+ rows \(\d+%\), [\d.]+ rows/s")


class Clock:
    """A clock the test moves by hand, so rates and ETAs are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_and_eta_follow_the_counts():
    clock, stream = Clock(), io.StringIO()
    progress = Progress("train", total=10, unit="batches", stream=stream, clock=clock, log_every_s=10)
    clock.now += 5
    progress.update(5)
    assert progress.rate() == 1.0 and progress.eta() == 5.0
    assert "train: 5/10 batches (50%), 1.0 batches/s, ETA 5s" in stream.getvalue()
    clock.now += 1
    progress.advance()  # within log_every_s: no new line
    assert stream.getvalue().count("\n") == 1
    clock.now += 10
    progress.advance(3)  # 9/10, logged: log_every_s has passed
    progress.advance()  # 10/10, not logged yet
    progress.close()  # the final count, once
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and "9/10" in lines[1] and "10/10" in lines[-1] and "ETA" not in lines[-1]
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()
    assert format_duration(3725) == "1h02m" and format_duration(75) == "1m15s"


def test_no_total_means_no_eta():
    clock = Clock()
    progress = Progress("run", unit="rows", stream=io.StringIO(), clock=clock)
    clock.now += 2
    progress.update(10)
    assert progress.eta() is None and "ETA" not in progress.status()


def _run_on_pty(cmd: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run a command with stderr on a pseudo-terminal; return its exit code and what the terminal got."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    return proc.wait(timeout=10), b"".join(chunks).decode("utf-8", "replace")


def test_compact_draws_a_live_line_on_a_terminal(tmp_path: Path):
    out = tmp_path / "out"
    _write_small_files(out, 0, files=8, per_file=40)
    code, terminal = _run_on_pty([sys.executable, "-m", "akhbar", "compact", str(out), "--table", "articles", "--date", DAY])
    assert code == 0, terminal
    assert "\r\x1b[2K" in terminal, "no redraw of the status line on a terminal"
    assert re.search(r"compact articles: \d+/\d+ rows \(100%\), [\d.]+ rows/s", terminal)
    assert not LOG_LINE.search(terminal.replace("\r", "\n")), "a terminal gets the live line, not log lines"


def test_compact_writes_plain_log_lines_when_not_a_terminal(tmp_path: Path):
    out = tmp_path / "out"
    _write_small_files(out, 0, files=8, per_file=40)
    rows = sum(pq.read_metadata(p).num_rows for p in out.glob(f"articles/date={DAY}/*.parquet"))
    proc = subprocess.run(
        [sys.executable, "-m", "akhbar", "compact", str(out), "--table", "articles", "--date", DAY],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "compact articles" in line]
    assert lines and all(LOG_LINE.match(line) for line in lines), lines
    assert f"{rows}/{rows} rows (100%)" in lines[-1]


def test_run_once_reports_the_rows_it_writes(sample_server, tmp_path: Path, capsys):
    """``akhbar run --once`` polls the output folder; its last progress line names the rows written."""
    from akhbar.cli import main

    feeds = tmp_path / "feeds.txt"
    sample_server.write_feed_list(feeds)
    out = tmp_path / "out"
    code = main(["run", "--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback",
                 "--host_delay", "0", "--host_concurrency", "4", "--read_timeout", "2",
                 "--no_fetch_pages", "--ner_model", "none", "--event_model", "none"])
    assert code == 0
    files, rows = count_output(str(out))
    assert rows > 0
    last = [line for line in capsys.readouterr().err.splitlines() if " run: " in line][-1]
    assert f"run: {rows} rows" in last and f"{files} files in {out}" in last, last


def test_count_output_caches_footers_and_sees_new_replaced_and_removed_files(tmp_path: Path):
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq

    from akhbar.lib.progress import OutputCache

    part = tmp_path / "articles" / "date=2026-11-24"
    part.mkdir(parents=True)

    def write(name: str, n: int) -> None:  # as the writer does: a hidden file renamed into place
        pq.write_table(pa.table({"x": list(range(n))}), part / f".{name}.inprogress")
        os.replace(part / f".{name}.inprogress", part / name)

    write("a.parquet", 2)
    write("b.parquet", 3)
    pq.write_table(pa.table({"x": [9]}), part / ".c.parquet.inprogress")
    cache = OutputCache()
    assert count_output(str(tmp_path), cache) == (2, 5)
    assert count_output(str(tmp_path), cache) == (2, 5)
    write("a.parquet", 10)  # a retried window replaces its file
    (part / "b.parquet").unlink()
    assert count_output(str(tmp_path), cache) == (1, 10)
    other = tmp_path / "dead_letters" / "date=2026-11-25"
    other.mkdir(parents=True)
    pq.write_table(pa.table({"x": [1]}), other / "d.parquet")
    assert count_output(str(tmp_path), cache) == (2, 11) == count_output(str(tmp_path))
