"""The duplicate-submission guard asks a real Flink cluster's REST API (the shape the unit
tests in tests/pipelines/test_flink_guard.py serve)."""
from __future__ import annotations

import pytest

from akhbar.pipelines.flink import active_jobs
from akhbar.pipelines.options import parse_options

pytestmark = pytest.mark.flink


def test_the_guard_reads_the_real_jobs_overview(flink_cluster):
    assert active_jobs(flink_cluster.flink_master, "akhbar-guard-no-such-job") == []
    opts = parse_options(["--feeds=f.txt", "--output=out", "--streaming", "--runner=FlinkRunner",
                          f"--flink_master={flink_cluster.flink_master}", "--environment_type=EXTERNAL",
                          f"--environment_config={flink_cluster.worker_pool}", "--job_name=akhbar-guard-no-such-job"])
    assert opts.get_all_options()["job_name"] == "akhbar-guard-no-such-job"
