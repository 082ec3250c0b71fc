"""Helpers for tests that run a streaming job (Prism, Flink) in a subprocess."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.ingest import REPO_ROOT, find_prism


def require_prism() -> None:
    """Skip without the Prism binary; in CI (CI=true) its absence is a failure."""
    if find_prism() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Prism binary is missing: `make prism` builds it")
        pytest.skip("the Prism binary is missing: run `make prism`")


def streaming_command(feeds: Path, out: Path, *extra: str) -> list[str]:
    """`akhbar run --streaming` on the loopback sample, polling and writing every few seconds."""
    return [
        sys.executable, "-m", "pipelines.cli", "run", "--feeds", str(feeds), "--output", str(out),
        "--streaming", "--poll_interval", "3", "--write_interval", "3", "--allow_loopback", *extra,
    ]


def wait_for(predicate, proc: subprocess.Popen, timeout_s: float, what: str):
    """Poll ``predicate`` until it returns something truthy; fail if the job ends first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        assert proc.poll() is None, f"the job ended before {what}"
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


__all__ = ["REPO_ROOT", "require_prism", "streaming_command", "wait_for"]
