"""Which runner a run uses, and what it needs: set on the parsed options, never by editing argv.

* batch (``--once``, the default): the DirectRunner;
* ``--streaming``: Prism, Beam's local streaming runner. Its binary is, in order:
  ``--prism_location``, ``$AKHBAR_PRISM``, the checkout's ``make prism`` build
  (``.cache/gobin/prism``), ``prism`` on PATH, else Beam's own download of the
  release binary (cached under ``~/.apache_beam``). When that download fails
  (no internet), the error says how to build it with ``go install``;
* ``--runner=...`` given: used as is (Flink gets its defaults, see ``flink.py``). A
  streaming Flink run with a fixed ``--job_name`` is refused while a job of that name is
  active on the cluster, so a retried submitter cannot start a second copy.

Prism and Flink run through Beam's portable job service. Beam opens the job's
state and message streams with ``--job_server_timeout`` (300 s) as their gRPC
deadline, so every job that runs longer loses both streams with
DEADLINE_EXCEEDED, and Beam then stops the in-process worker that the job
needs (apache/beam#35867). ``create_runner`` gives those runners a job service
handle that opens the two long-lived streams without a deadline; the short
calls (options, prepare) keep ``--job_server_timeout``.
"""
from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from apache_beam import version as beam_version
from apache_beam.options.pipeline_options import (
    FlinkRunnerOptions,
    PipelineOptions,
    PrismRunnerOptions,
    StandardOptions,
)
from apache_beam.runners.portability import flink_runner, portable_runner, prism_runner
from apache_beam.runners.runner import PipelineRunner

from akhbar.pipelines import flink
from akhbar.pipelines.options import has_flag
from akhbar.settings import settings

PRISM_MODULE = "github.com/apache/beam/sdks/v2/go/cmd/prism"


class RunnerError(ValueError):
    """The chosen runner cannot start; the message says how to fix it."""


def prism_build_hint() -> str:
    return (f"build it with `go install {PRISM_MODULE}@v{beam_version.__version__}` (or `make prism` in a checkout) "
            "and pass --prism_location PATH or set AKHBAR_PRISM")


def find_prism() -> str | None:
    """A local Prism binary: $AKHBAR_PRISM, the checkout's `make prism` build, or `prism` on PATH."""
    cfg = settings()
    built = cfg.cache_dir / "gobin" / "prism"
    for candidate in (cfg.prism, str(built), shutil.which("prism")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _fetch_prism(options: PipelineOptions) -> None:
    """Let Beam download (or find in its cache) the Prism release binary now, so a failure is one line."""
    from apache_beam.runners.portability.prism_runner import PrismJobServer

    try:
        PrismJobServer(options)._get_executable_path()
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RunnerError(f"streaming needs the Prism runner, and Beam could not download it ({reason}); "
                          f"{prism_build_hint()}") from None


# Runners whose job lives inside this process (or a job server it started): it ends when the process does.
IN_PROCESS_RUNNERS = frozenset({"DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner", "PrismRunner"})


def runs_in_process(options: PipelineOptions) -> bool:
    """Whether the job dies with this process, so a launcher must wait for it rather than return."""
    runner = options.view_as(StandardOptions).runner
    name = runner if isinstance(runner, str) else type(runner).__name__
    return (name or "DirectRunner").rsplit(".", 1)[-1] in IN_PROCESS_RUNNERS


def choose_runner(options: PipelineOptions, argv: Sequence[str]) -> None:
    """Fill in the runner (and what it needs) on ``options`` in place."""
    standard = options.view_as(StandardOptions)
    if has_flag(argv, "--runner"):
        if flink.is_flink(options):
            flink.apply_defaults(options, argv)
            try:
                flink.refuse_duplicate_job(options)
            except flink.DuplicateJobError as exc:
                raise RunnerError(str(exc)) from None
        return
    if not standard.streaming:
        standard.runner = "DirectRunner"
        return
    standard.runner = "PrismRunner"
    prism = options.view_as(PrismRunnerOptions)
    if not prism.prism_location:
        prism.prism_location = find_prism()
        if prism.prism_location is None:
            _fetch_prism(options)
    elif not Path(prism.prism_location).is_file() and "://" not in prism.prism_location:
        raise RunnerError(f"--prism_location {prism.prism_location}: no such file; {prism_build_hint()}")


class JobStreamsWithoutDeadline(portable_runner.JobServiceHandle):
    """A job service handle whose state and message streams last as long as the job.

    Beam's handle gives those two streams the same deadline as a one-shot call
    (``--job_server_timeout``); a streaming job outlives it. Only ``run`` (which
    opens the streams and starts the job) drops the deadline.
    """

    def run(self, preparation_id: str):
        timeout, self.timeout = self.timeout, None
        try:
            return super().run(preparation_id)
        finally:
            self.timeout = timeout


class PrismRunner(prism_runner.PrismRunner):
    """Beam's PrismRunner, with job streams that outlive ``--job_server_timeout``."""

    def create_job_service_handle(self, job_service, options):
        return JobStreamsWithoutDeadline(job_service, options, retain_unknown_options=True)


class FlinkRunner(flink_runner.FlinkRunner):
    """Beam's FlinkRunner, with job streams that outlive ``--job_server_timeout``."""

    def create_job_service_handle(self, job_service, options):
        uber_jar = options.view_as(FlinkRunnerOptions).flink_submit_uber_jar
        return JobStreamsWithoutDeadline(job_service, options, retain_unknown_options=uber_jar)


_LONG_LIVED = {"prismrunner": PrismRunner, "flinkrunner": FlinkRunner}


def create_runner(options: PipelineOptions) -> PipelineRunner | str | None:
    """The runner to build the pipeline with: ours for Prism and Flink, else the options' choice."""
    runner = options.view_as(StandardOptions).runner
    if not isinstance(runner, str) or ("." in runner and not runner.startswith("apache_beam.")):
        return runner  # an instance, the default, or a runner class of the user's own
    name = runner.rsplit(".", 1)[-1].lower()
    cls = _LONG_LIVED.get(name) or _LONG_LIVED.get(name + "runner")
    return cls() if cls is not None else runner
