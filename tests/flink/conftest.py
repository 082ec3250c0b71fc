"""A real standalone Flink cluster (JobManager + TaskManager processes) and a Beam worker
pool on 127.0.0.1, started once for the Flink tests and stopped after them, failed or not.

The cluster comes from deploy/flink/local/flink_local.py (`make test-flink` fetches it
first). Without Java the tests skip, except in CI, where they fail.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("flink_local", REPO_ROOT / "deploy" / "flink" / "local" / "flink_local.py")
flink_local = importlib.util.module_from_spec(_SPEC)
sys.modules.setdefault("flink_local", flink_local)
_SPEC.loader.exec_module(flink_local)


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must run the Flink tests: `make test-flink` fetches Flink)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def flink_cluster(tmp_path_factory):
    if not flink_local.java_available():
        _unavailable("java is not installed: the Flink tests need a JDK 11 or 17")
    if not flink_local.fetched():
        _unavailable("Flink is not fetched: run `make test-flink` (or deploy/flink/local/flink_local.py fetch)")
    cluster = flink_local.Cluster(state_dir=tmp_path_factory.mktemp("flink-cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "flink: runs on a real Flink (embedded or the local standalone cluster)")
