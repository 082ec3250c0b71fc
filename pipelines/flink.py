"""Running akhbar on Apache Flink: runner defaults and a streaming tick source that works there.

Why a separate tick source: on Beam's portable Flink runner, ``PeriodicImpulse``
(a splittable DoFn) runs, but its watermark estimate is not honoured: the
Impulse under it sends Flink's MAX watermark at once, so every event-time
window downstream is closed before its articles arrive and they are dropped
as late (seen here: Flink 1.19.3, Beam 2.62 runner, Python SDK 2.77; compare
apache/beam#19637, #27648). ``FlinkTicks`` uses Java's unbounded
``GenerateSequence`` instead, expanded by Beam's Java expansion service and
read natively by the Flink runner, whose watermark follows processing time.
Each feed still keeps its own schedule and conditional-GET state in
``PollFeedFn``; the ticks only ask it whether a feed is due.

The jars (Beam's Flink job server and expansion service, from Maven Central)
are fetched into the cache (``.cache/flink`` in a checkout) by
``deploy/flink/local/flink_local.py fetch``; ``$AKHBAR_FLINK_CACHE`` points
elsewhere (the Docker image sets it).
"""
from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import FlinkRunnerOptions, PipelineOptions, PortableOptions, StandardOptions
from apache_beam.transforms.window import TimestampedValue

from akhbar.pipelines.options import has_flag
from akhbar.settings import settings

LOG = logging.getLogger(__name__)
FLINK_VERSION = "1.19"
GENERATE_SEQUENCE_URN = "beam:external:java:generate_sequence:v1"


class FlinkClusterOptions(PipelineOptions):
    """Options of Beam's Java Flink runner that Python does not declare; declared here so they
    parse without a warning and are forwarded to the job server (which reads them by name)."""

    @classmethod
    def _add_argparse_args(cls, parser) -> None:
        parser.add_argument("--checkpointing_interval", type=int, default=None,
                            help="Flink: milliseconds between checkpoints (streaming; off when unset).")
        parser.add_argument("--checkpointing_mode", choices=["EXACTLY_ONCE", "AT_LEAST_ONCE"], default=None)
        parser.add_argument("--state_backend", default=None,
                            help="Flink: keyed state backend for this job (e.g. rocksdb).")
        parser.add_argument("--state_backend_storage_path", default=None,
                            help="Flink: checkpoint storage URL (file://, s3://, gs://).")
        parser.add_argument("--max_bundle_size", type=int, default=None)
        parser.add_argument("--max_bundle_time_ms", type=int, default=None)
        parser.add_argument("--savepoint_path", default=None,
                            help="Flink: start from this savepoint (an upgrade: see docs/flink.md); empty = fresh state.")
        parser.add_argument("--allow_non_restored_state", action="store_true", default=None,
                            help="Flink: start from a savepoint even if some of its state maps to no step any more.")


def flink_cache() -> Path:
    return settings().flink_cache


def job_server_jar() -> Path:
    return flink_cache() / "jobserver" / "beam-flink-job-server.jar"


def expansion_service_jar() -> Path:
    return flink_cache() / "jobserver" / "beam-expansion-service.jar"


def is_flink(options: PipelineOptions) -> bool:
    runner = options.view_as(StandardOptions).runner
    name = runner if isinstance(runner, str) else type(runner).__name__ if runner else ""
    return "flink" in (name or "").lower()


def apply_defaults(options: PipelineOptions, argv: Sequence[str]) -> None:
    """Defaults for a FlinkRunner run that leaves them out, set on ``options`` in place.

    * ``--flink_version=1.19`` and ``--flink_job_server_jar``: the job server
      fetched into the cache (Beam would otherwise download a jar that the
      registry here does not serve).
    * ``--environment_type=LOOPBACK`` with ``--flink_master=[local]`` (the
      default DOCKER needs a Docker engine); a cluster needs EXTERNAL with a
      worker pool, or DOCKER/PROCESS, which the caller names.
    * an empty ``--savepoint_path`` means none (a fresh start).
    """
    flink_options = options.view_as(FlinkRunnerOptions)
    if not has_flag(argv, "--flink_version"):
        flink_options.flink_version = FLINK_VERSION
    if not has_flag(argv, "--flink_job_server_jar") and not has_flag(argv, "--job_endpoint"):
        jar = job_server_jar()
        if jar.is_file():
            flink_options.flink_job_server_jar = str(jar)
    master = flink_options.flink_master or "[auto]"
    if not has_flag(argv, "--environment_type") and master in ("[local]", "[auto]"):
        options.view_as(PortableOptions).environment_type = "LOOPBACK"
    cluster = options.view_as(FlinkClusterOptions)
    if not (cluster.savepoint_path or "").strip():
        # The Kubernetes Job passes --savepoint_path=$(SAVEPOINT_PATH), empty unless upgrading.
        cluster.savepoint_path = None


def wait_for_streaming_run(result, duration_s: float | None, grace_s: float, flink_master: str | None) -> None:
    """Wait for a Flink streaming job; with a duration, cancel it after duration + grace seconds.

    The job server's cancel ends the Beam job but (Beam 2.62 runner, remote cluster) leaves
    the Flink job running, so the Flink job of the same name is cancelled over REST too.
    """
    if not duration_s:
        result.wait_until_finish()
        return
    state = result.wait_until_finish(duration=int((duration_s + grace_s) * 1000))
    if str(state or result.state).upper().endswith(("DONE", "FAILED", "CANCELLED")):
        return
    try:
        result.cancel()
        result.wait_until_finish(duration=30_000)
    except Exception as exc:
        LOG.info("job ended by cancel: %s", exc)
    if flink_master and not flink_master.startswith("["):
        cancel_flink_job(flink_master, str(result._job_id).split("_")[0])


FLINK_ENDED_STATES = ("FINISHED", "CANCELED", "FAILED")


class DuplicateJobError(RuntimeError):
    """A streaming job of the same name is already active on the Flink cluster (or that cannot be checked)."""


def active_jobs(flink_master: str, job_name: str, timeout_s: float = 10.0) -> list[str]:
    """Ids of the jobs named ``job_name`` that have not ended, from Flink's REST API (``/jobs/overview``)."""
    base = flink_master if "://" in flink_master else f"http://{flink_master}"
    with urllib.request.urlopen(f"{base}/jobs/overview", timeout=timeout_s) as response:
        jobs = json.load(response)["jobs"]
    return [job["jid"] for job in jobs if job["name"] == job_name and job["state"] not in FLINK_ENDED_STATES]


def refuse_duplicate_job(options: PipelineOptions) -> None:
    """Streaming on a Flink cluster under a fixed ``--job_name``: refuse to submit while a job of that name is active.

    A submitter that is retried or applied again (a Kubernetes Job) would otherwise start a
    second copy that polls the same feeds into the same output. When the cluster cannot be
    asked, nothing is submitted either. An upgrade stops the job with a savepoint first and
    submits with ``--savepoint_path`` (docs/flink.md).
    """
    job_name = options.get_all_options().get("job_name")
    master = options.view_as(FlinkRunnerOptions).flink_master or "[auto]"
    if not job_name or master.startswith("[") or not options.view_as(StandardOptions).streaming:
        return
    try:
        active = active_jobs(master, job_name)
    except (OSError, ValueError, KeyError) as exc:
        raise DuplicateJobError(f"cannot ask Flink at {master} whether a job named {job_name!r} is already running "
                                f"({exc}); nothing submitted") from None
    if active:
        raise DuplicateJobError(
            f"a Flink job named {job_name!r} is already running on {master} ({', '.join(active)}); not submitting "
            "a second copy. To upgrade it, stop it with a savepoint and submit with --savepoint_path (docs/flink.md)"
        )


def cancel_flink_job(flink_master: str, job_name: str) -> list[str]:
    """Cancel the running Flink jobs named ``job_name`` via the REST API; return their ids."""
    base = flink_master if "://" in flink_master else f"http://{flink_master}"
    with urllib.request.urlopen(f"{base}/jobs/overview", timeout=10) as response:
        jobs = json.load(response)["jobs"]
    cancelled = []
    for job in jobs:
        if job["name"] == job_name and job["state"] not in ("FINISHED", "CANCELED", "FAILED"):
            request = urllib.request.Request(f"{base}/jobs/{job['jid']}?mode=cancel", method="PATCH")
            urllib.request.urlopen(request, timeout=10).close()
            cancelled.append(job["jid"])
    return cancelled


def stamp_processing_time(pcoll, label: str):
    """Re-stamp elements with the current time, for event-time windows after stateful stages.

    On the portable Flink runner, elements leaving a stateful DoFn with event-time timers
    (DedupExact's TTL) arrived behind the watermark and every one was dropped as late at
    the next windowed GroupByKey (Flink's droppedDueToLateness counter: all 76 of 76).
    Dead letters too: the fetcher's, stamped with their poll's tick, reached the dead-letter
    writer after the watermark had passed their window when a poll's pages took longer to
    fetch than ``--write_interval`` (seen in the Flink streaming test under load: the
    fetcher's dead letters missing, the poller's written). Moving a timestamp forward to
    "now" is always allowed, and a window of write time is what the streaming output is
    grouped by anyway.
    """
    return pcoll | label >> beam.Map(lambda element: TimestampedValue(element, time.time()))


class FlinkTicks(beam.PTransform):
    """An unbounded tick every ``interval_s`` seconds, for Flink streaming."""

    def __init__(self, interval_s: float, expansion_service=None):
        super().__init__()
        self._interval_ms = max(int(interval_s * 1000), 1)
        self._expansion_service = expansion_service

    def _service(self):
        if self._expansion_service is not None:
            return self._expansion_service
        address = settings().expansion_service
        if address:
            return address
        from apache_beam.transforms.external import JavaJarExpansionService

        jar = expansion_service_jar()
        if not jar.is_file():
            raise FileNotFoundError(
                f"Beam's Java expansion service is missing at {jar}: run "
                "`python deploy/flink/local/flink_local.py fetch` or set AKHBAR_EXPANSION_SERVICE=host:port"
            )
        # use_deprecated_read: expand to a primitive unbounded Read that Flink runs natively
        # (the SDF form needs a Java SDK harness, i.e. Docker).
        return JavaJarExpansionService(str(jar), extra_args=["{{PORT}}", "--experiments=use_deprecated_read"])

    def expand(self, pbegin):
        from apache_beam.transforms.external import ExternalTransform, ImplicitSchemaPayloadBuilder

        # No max_read_time: Java expands that into a ParDo that needs a Java SDK harness.
        # A run with --duration is cancelled by run_on_flink() instead.
        config = {"start": 0, "period": self._interval_ms, "elements_per_period": 1}
        return pbegin | ExternalTransform(
            GENERATE_SEQUENCE_URN, ImplicitSchemaPayloadBuilder(config), self._service()
        )
