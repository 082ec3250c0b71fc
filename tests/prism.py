"""Helpers for tests that run a streaming job on the Prism runner in a subprocess."""
from __future__ import annotations

import os
import sys
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


__all__ = ["REPO_ROOT", "require_prism", "streaming_command"]
