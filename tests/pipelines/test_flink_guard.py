"""A streaming Flink submission under a fixed --job_name is refused while a job of that name is
active on the cluster (pipelines/flink.py), so a retried or re-applied submitter cannot start a
second copy.

The cluster side is Flink's REST endpoint ``/jobs/overview``, served here on 127.0.0.1 in the
shape Flink 1.19 answers with; tests/flink/test_flink_guard.py asks a real cluster.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from akhbar.pipelines.flink import active_jobs
from akhbar.pipelines.options import UsageError, parse_options


class FlinkRestOverview(ThreadingHTTPServer):
    """Answers ``GET /jobs/overview`` with the given jobs and counts the requests."""

    def __init__(self, jobs: list[dict]) -> None:
        self.jobs = jobs
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                if self.path != "/jobs/overview":
                    self.send_error(404)
                    return
                body = json.dumps({"jobs": server.jobs}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def master(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


def job(name: str, state: str, jid: str) -> dict:
    return {"jid": jid, "name": name, "state": state, "start-time": 1, "end-time": -1, "duration": 1,
            "last-modification": 1, "tasks": {"total": 4, "running": 4}}


@pytest.fixture()
def flink_rest():
    servers = []

    def start(jobs: list[dict]) -> FlinkRestOverview:
        servers.append(FlinkRestOverview(jobs))
        return servers[-1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def submit_args(master: str, *extra: str) -> list[str]:
    return ["--feeds=/etc/akhbar/feeds.txt", "--output=s3://bucket/out", "--streaming", "--runner=FlinkRunner",
            f"--flink_master={master}", "--environment_type=EXTERNAL", "--environment_config=localhost:50000", *extra]


def test_a_second_copy_of_a_running_job_is_refused(flink_rest):
    rest = flink_rest([job("akhbar-ingest", "RUNNING", "a1b2"), job("other", "RUNNING", "c3d4")])
    with pytest.raises(UsageError, match="already running") as refused:
        parse_options(submit_args(rest.master, "--job_name=akhbar-ingest"))
    message = str(refused.value)
    assert "'akhbar-ingest'" in message and "a1b2" in message and "c3d4" not in message
    assert "--savepoint_path" in message and "\n" not in message
    assert rest.requests == ["/jobs/overview"]


@pytest.mark.parametrize("state", ["RESTARTING", "CREATED", "FAILING", "CANCELLING", "SUSPENDED"])
def test_a_job_that_has_not_ended_counts_as_running(flink_rest, state):
    rest = flink_rest([job("akhbar-ingest", state, "e5f6")])
    with pytest.raises(UsageError, match="e5f6"):
        parse_options(submit_args(rest.master, "--job_name=akhbar-ingest"))


def test_ended_jobs_of_the_name_do_not_block_a_new_one(flink_rest):
    rest = flink_rest([job("akhbar-ingest", s, f"j{i}") for i, s in enumerate(["FINISHED", "CANCELED", "FAILED"])])
    opts = parse_options(submit_args(rest.master, "--job_name=akhbar-ingest"))
    assert opts.get_all_options()["job_name"] == "akhbar-ingest"
    assert active_jobs(rest.master, "akhbar-ingest") == []


def test_no_fixed_name_batch_or_embedded_flink_is_not_checked(flink_rest):
    rest = flink_rest([job("akhbar-ingest", "RUNNING", "a1b2")])
    parse_options(submit_args(rest.master))  # no --job_name: Beam names each job uniquely
    batch = [a for a in submit_args(rest.master, "--job_name=akhbar-ingest") if a != "--streaming"]
    parse_options([*batch, "--once"])
    parse_options(submit_args("[local]", "--job_name=akhbar-ingest"))
    assert rest.requests == []


def test_an_unreachable_cluster_submits_nothing(flink_rest):
    rest = flink_rest([])
    master = rest.master
    rest.shutdown()
    rest.server_close()
    with pytest.raises(UsageError, match="cannot ask Flink"):
        parse_options(submit_args(master, "--job_name=akhbar-ingest"))
