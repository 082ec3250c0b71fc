"""Runner choice: Prism and Flink run through akhbar's runner classes, whose job streams have no deadline."""
from __future__ import annotations

import time

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, PrismRunnerOptions, StandardOptions
from apache_beam.testing.util import assert_that, equal_to

from akhbar.pipelines import runners
from tests.prism import require_prism


def _options(runner) -> PipelineOptions:
    options = PipelineOptions()
    options.view_as(StandardOptions).runner = runner
    return options


@pytest.mark.parametrize("name", ["PrismRunner", "prism", "apache_beam.runners.portability.prism_runner.PrismRunner"])
def test_prism_by_any_name_gets_the_long_lived_runner(name):
    assert isinstance(runners.create_runner(_options(name)), runners.PrismRunner)


@pytest.mark.parametrize("name", ["FlinkRunner", "flink"])
def test_flink_gets_the_long_lived_runner(name):
    assert isinstance(runners.create_runner(_options(name)), runners.FlinkRunner)


@pytest.mark.parametrize("name", [None, "DirectRunner", "my_company.runners.CustomRunner"])
def test_other_runners_are_left_as_chosen(name):
    assert runners.create_runner(_options(name)) == name


def _slow(x: int) -> int:
    time.sleep(8)
    return x


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_job_longer_than_the_job_server_timeout_finishes_on_prism():
    """With Beam's own PrismRunner this job fails at 3 s: its state stream hits DEADLINE_EXCEEDED."""
    require_prism()
    options = PipelineOptions(["--job_server_timeout=3"])
    options.view_as(PrismRunnerOptions).prism_location = runners.find_prism()
    started = time.monotonic()
    with beam.Pipeline(runner=runners.PrismRunner(), options=options) as p:
        assert_that(p | beam.Create([1, 2]) | beam.Map(_slow), equal_to([1, 2]))
    assert time.monotonic() - started > 8
