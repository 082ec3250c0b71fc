"""Locate the read-only shared data package that sits beside the repository.

The data (real pages, legacy-encoded samples, feeds) is never copied into the
repo, so tests read it from ../shared/data: skipped where it is absent, but a
failure under CI=true, where a silent skip would hide lost coverage.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """Path to shared/data/<parts>; skip (or fail under CI=true) if it is missing."""
    path = SHARED_DATA.joinpath(*parts).resolve()
    if not path.exists():
        reason = f"shared data not found: {path} (expected ../shared/data beside the repo)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path
