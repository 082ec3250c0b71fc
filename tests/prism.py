"""Helpers for tests that run a streaming job (Prism, Flink) in a subprocess."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from akhbar.pipelines.runners import find_prism
from tests.paths import REPO_ROOT

if TYPE_CHECKING:
    from akhbar.sample.server import SampleNewsServer


def require_prism() -> None:
    """Skip without the Prism binary; in CI (CI=true) its absence is a failure."""
    if find_prism() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Prism binary is missing: `make prism` builds it")
        pytest.skip("the Prism binary is missing: run `make prism`")


@contextmanager
def served_sample(tmp_path: Path, faults: bool = False) -> Iterator[tuple[SampleNewsServer, Path, Path]]:
    """The bundled sample served on loopback (with the bad feeds and pages when ``faults``), its feed
    list written: (server, feeds file, output folder)."""
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=faults) as server:
        feeds = tmp_path / "feeds.txt"
        server.write_feed_list(feeds)
        yield server, feeds, tmp_path / "out"


def story_groups(server: SampleNewsServer) -> dict[str, set[str]]:
    """Canonical URLs by story: an original with its verbatim republications (exact duplicates,
    of which streaming keeps whichever arrives first), or a single article; each article under
    every link the feeds give it (the section feed lists some under a second URL, the same GUID)."""
    from akhbar.core.urls import canonical_url

    by_id = {a.id: a for a in server.articles}
    groups: dict[str, set[str]] = {}
    for article in server.articles:
        original = by_id.get(article.republished_from or "")
        story = original.id if original is not None and original.body == article.body else article.id
        groups.setdefault(story, set()).update(canonical_url(url) for url in server.listed_urls(article))
    return groups


_DEADLINE = re.compile(r"streaming until (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")


def deadline_from_log(log: Path) -> datetime:
    """The --duration deadline the job printed when it started (UTC, to the second)."""
    found = _DEADLINE.search(log.read_text(encoding="utf-8", errors="replace"))
    assert found, f"the job did not print its deadline\n{log_tail(log)}"
    return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def streaming_command(feeds: Path, out: Path, *extra: str) -> list[str]:
    """`akhbar run --streaming` on the loopback sample, polling and writing every few seconds."""
    return [
        sys.executable, "-m", "akhbar", "run", "--feeds", str(feeds), "--output", str(out),
        "--streaming", "--poll_interval", "3", "--write_interval", "3", "--allow_loopback",
        "--host_delay", "0", "--host_concurrency", "4", *extra,
    ]


def start_job(command: list[str], log) -> subprocess.Popen:
    """Start a job in its own process group, so that ``kill_job`` also ends the Prism it starts."""
    return subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def kill_job(proc: subprocess.Popen) -> None:
    """End a job that is still running, with its runner's processes (a failed test leaves none behind)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def wait_for(predicate, proc: subprocess.Popen, timeout_s: float, what: str,
             explain: Callable[[], str] | None = None, log: Path | None = None):
    """Poll ``predicate`` until it returns something truthy; fail if the job ends first or time runs out.

    A failure says what was still missing (``explain``) and ends with the job's log
    (``log``), so that a run that failed on a CI machine can be understood from its output.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            raise AssertionError(_failure(f"the job ended (exit {proc.returncode}) before {what}", explain, log))
        time.sleep(1)
    raise AssertionError(_failure(f"timed out after {timeout_s:.0f}s waiting for {what}", explain, log))


def _failure(message: str, explain: Callable[[], str] | None, log: Path | None) -> str:
    parts = [message]
    if explain is not None:
        parts.append(explain())
    if log is not None:
        parts.append(log_tail(log))
    return "\n".join(parts)


def log_tail(log: Path, lines: int = 60) -> str:
    """The end of a log file, labeled, for an assertion message."""
    if not log.exists():
        return f"({log} does not exist)"
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"last {len(text)} lines of {log}:\n" + "\n".join(text)


__all__ = ["REPO_ROOT", "deadline_from_log", "kill_job", "log_tail", "require_prism", "served_sample", "start_job",
           "story_groups", "streaming_command", "wait_for"]
