"""A streaming job on the standalone Flink cluster, checkpointing on: it polls the sample
server with every bad feed and page the demo serves, survives its TaskManager process being
killed and restarted with no article lost and none written twice, picks up items published
after that, dead-letters the bad feeds and items, and is then cancelled."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import duckdb
import pytest

from akhbar.core.urls import canonical_url
from akhbar.schemas.article import table_glob
from tests.flink.conftest import flink_local
from tests.flink.test_flink_batch import model_flags
from tests.paths import REPO_ROOT
from tests.prism import log_tail, served_sample, story_groups, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.flink]


def _article_rows(out: Path) -> list[tuple]:
    if not list(out.glob("articles/date=*/*.parquet")):
        return []
    return duckdb.sql(f"SELECT article_id, canonical_url FROM read_parquet('{table_glob(str(out), 'articles')}')").fetchall()


def _running_job(cluster) -> dict | None:
    jobs = [j for j in cluster.jobs() if j["state"] not in ("FINISHED", "CANCELED", "FAILED")]
    return jobs[0] if jobs else None


def _job_fully_running(cluster, job_id: str) -> bool:
    job = cluster.rest(f"/jobs/{job_id}")
    return job["state"] == "RUNNING" and all(v["status"] == "RUNNING" for v in job["vertices"])


def _each_story_written_once(groups: dict[str, set[str]], written: list[str]) -> bool:
    return all(len(urls & set(written)) == 1 for urls in groups.values())


def _story_report(groups: dict[str, set[str]], out: Path) -> str:
    """Which stories are missing or written more than once, with how each copy got its text."""
    rows = _detail_rows(out)
    by_url: dict[str, list[tuple]] = {}
    for row in rows:
        by_url.setdefault(row[0], []).append(row)
    missing = sorted(story for story, urls in groups.items() if not urls & by_url.keys())
    doubled = {story: [r for u in sorted(urls) for r in by_url.get(u, [])]
               for story, urls in groups.items() if len(urls & by_url.keys()) > 1}
    return (f"{len(rows)} rows written; {len(missing)} of {len(groups)} stories missing: {missing[:20]}; "
            f"{len(doubled)} written more than once (url, text_source, fetch_error, text_hash, file, fetched_at): "
            f"{doubled}")


def _detail_rows(out: Path) -> list[tuple]:
    if not list(out.glob("articles/date=*/*.parquet")):
        return []
    return duckdb.sql(
        "SELECT canonical_url, text_source, fetch_error, left(text_hash, 12), parse_filename(filename), fetched_at "
        f"FROM read_parquet('{table_glob(str(out), 'articles')}', filename = true)"
    ).fetchall()


def _dropped_as_late(cluster, job_id: str) -> dict[str, int]:
    """Per vertex, the elements its windowed GroupByKeys dropped as late (Flink's count of the running attempt)."""
    drops = {}
    for vertex in cluster.rest(f"/jobs/{job_id}")["vertices"]:
        base = f"/jobs/{job_id}/vertices/{vertex['id']}/subtasks/metrics"
        ids = [metric["id"] for metric in cluster.rest(base) if "droppedDueToLateness" in metric["id"]]
        if ids:
            values = cluster.rest(f"{base}?get={urllib.parse.quote(','.join(ids), safe=',')}")
            drops[vertex["name"][:80]] = int(sum(float(value.get("sum", 0)) for value in values))
    return drops


def _checkpoint_completed_after(cluster, job_id: str, since_ms: float) -> bool:
    """Whether a checkpoint triggered after ``since_ms`` has completed (it holds every poll made before)."""
    latest = (cluster.rest(f"/jobs/{job_id}/checkpoints").get("latest") or {}).get("completed") or {}
    return latest.get("trigger_timestamp", 0) > since_ms


@pytest.mark.timeout(900)  # its own waits (up to 240 + 60 + 120 + 180 s) end first, with a diagnosis
def test_streaming_survives_a_taskmanager_kill_and_picks_up_new_items(flink_cluster, tmp_path):
    with served_sample(tmp_path, faults=True) as (server, feeds, out):
        groups = story_groups(server)
        job_log = tmp_path / "job.log"
        log = job_log.open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "akhbar", "run", "--feeds", str(feeds), "--output", str(out),
             "--streaming", "--poll_interval", "3", "--write_interval", "3", "--allow_loopback",
             "--host_delay", "0", "--host_concurrency", "4",
             "--read_timeout", "10", *model_flags(), *flink_local.runner_args(flink_cluster),
             "--checkpointing_interval=2000"],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        job_id = None
        try:
            def all_written():
                return _each_story_written_once(groups, [row[1] for row in _article_rows(out)])

            def explain() -> str:
                try:
                    jobs: object = [(j["jid"], j["state"]) for j in flink_cluster.jobs()]
                except Exception as exc:  # the report must not hide the failure it explains
                    jobs = f"unavailable ({exc})"
                try:
                    late: object = _dropped_as_late(flink_cluster, _running_job(flink_cluster)["jid"])
                except Exception as exc:
                    late = f"unavailable ({exc})"
                return (f"{_story_report(groups, out)}\nFlink jobs: {jobs}\nDropped as late: {late}\n"
                        + log_tail(flink_cluster.log_dir / "worker_pool.out", 30))

            wait_for(all_written, proc, 240, "every sample story", explain=explain, log=job_log)
            written_at_ms = time.time() * 1000
            job_id = _running_job(flink_cluster)["jid"]
            # Kill in steady state: after a checkpoint that holds the polls of every written story.
            # A kill before it replays those polls: their articles are stamped with a new write
            # time, land in another window and file, and are written a second time (docs/flink.md).
            wait_for(lambda: _checkpoint_completed_after(flink_cluster, job_id, written_at_ms), proc, 60,
                     "a checkpoint taken after every story was written", log=job_log)
            checkpoints = flink_cluster.rest(f"/jobs/{job_id}/checkpoints")["counts"]["completed"]
            assert checkpoints > 0, "checkpointing must be on"

            late_before_kill = _dropped_as_late(flink_cluster, job_id)
            print("dropped as late before the kill:", late_before_kill)
            # A TaskManager crash: SIGKILL its process, then start a new one.
            flink_cluster.kill("taskmanager")
            wait_for(lambda: not _job_fully_running(flink_cluster, job_id), proc, 60, "Flink to notice the lost TaskManager",
                     log=job_log)
            flink_cluster.start_taskmanager("taskmanager")
            wait_for(lambda: _job_fully_running(flink_cluster, job_id), proc, 120, "the job to restore from its checkpoint",
                     log=job_log)
            restarts = flink_cluster.rest(f"/jobs/{job_id}/exceptions")["exceptionHistory"]["entries"]
            assert restarts, "the job must have failed over"

            late = server.publish_late(2)
            late_urls = {canonical_url(server.page_url(a)) for a in late}
            wait_for(lambda: late_urls <= {row[1] for row in _article_rows(out)}, proc, 180,
                     "the articles published after the restart", explain=explain, log=job_log)
            late_after_restore = _dropped_as_late(flink_cluster, job_id)
            print("dropped as late after the restore:", late_after_restore)
        finally:
            if job_id is None and flink_cluster.alive():
                running = _running_job(flink_cluster)
                job_id = running["jid"] if running else None
            if job_id is not None:
                flink_cluster.cancel_job(job_id)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # with the job server it started
                proc.wait()
            log.close()
        # Flink cancels asynchronously: give the request a moment to reach the job's tasks.
        deadline = time.monotonic() + 30
        while flink_cluster.rest(f"/jobs/{job_id}")["state"] not in ("CANCELED", "CANCELLING") \
                and time.monotonic() < deadline:
            time.sleep(1)
        assert flink_cluster.rest(f"/jobs/{job_id}")["state"] in ("CANCELED", "CANCELLING")
    # A windowed GroupByKey drops what reaches it behind the watermark: nothing may be (transforms/joins.py).
    assert not any(late_before_kill.values()) and not any(late_after_restore.values()), \
        f"elements dropped as late: before the kill {late_before_kill}, after the restore {late_after_restore}"
    rows = _article_rows(out)
    ids = [row[0] for row in rows]
    assert len(ids) == len(set(ids)), "an article was written twice"
    written = [row[1] for row in rows]
    assert _each_story_written_once(groups, written), _story_report(groups, out)
    assert late_urls <= set(written), "an article published after the restart was lost"
    # Outside the stories: the items of the bad pages and of the hostile links, written from feed text.
    outside = {feed for url, feed in duckdb.sql(
        f"SELECT canonical_url, feed_url FROM read_parquet('{table_glob(str(out), 'articles')}')").fetchall()
        if url not in late_urls and not any(url in urls for urls in groups.values())}
    assert {feed.split("/", 3)[-1] for feed in outside} <= {"bad/pages.xml", "bad/hostile.xml"}, outside
    assert not list(out.rglob("*.inprogress"))
    dead = duckdb.sql(f"SELECT DISTINCT stage, error_kind FROM read_parquet('{table_glob(str(out), 'dead_letters')}')")
    assert {("poll_feed", "http_status"), ("poll_feed", "feed_parse"), ("poll_feed", "xml_entities"),
            ("fetch_article", "no_text"), ("fetch_article", "not_arabic"), ("fetch_article", "bad_url")} \
        <= set(dead.fetchall())
