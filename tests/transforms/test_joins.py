"""GatherParts joins each key's parts however late they come; a windowed GroupByKey would drop them."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from akhbar.transforms.joins import GatherParts

BASE = 1_800_000_000


def _stream() -> TestStream:
    """Key a's second part comes an hour behind the watermark; key b has one part; key c two at once."""
    return (
        TestStream()
        .advance_watermark_to(BASE - 1)
        .add_elements([TimestampedValue(("a", (2, "a1")), BASE), TimestampedValue(("b", (1, "b1")), BASE),
                       TimestampedValue(("c", (2, "c1")), BASE + 1), TimestampedValue(("c", (2, "c2")), BASE + 1)])
        .advance_watermark_to(BASE + 3600)
        .add_elements([TimestampedValue(("a", (2, "a2")), BASE)])
        .advance_watermark_to_infinity()
    )


def _streaming() -> PipelineOptions:
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return options


def _sorted_groups(pcoll):
    return pcoll | beam.MapTuple(lambda key, parts: (key, tuple(sorted(parts))))


def test_streaming_gathers_every_part_even_behind_the_watermark():
    with TestPipeline(options=_streaming()) as p:
        joined = p | _stream() | GatherParts(streaming=True)
        assert_that(_sorted_groups(joined), equal_to([("a", ("a1", "a2")), ("b", ("b1",)), ("c", ("c1", "c2"))]))


def test_the_windowed_join_drops_a_part_that_comes_behind_the_watermark():
    """Why Flink gets the gather in state: a join in windows loses key a's late part (on runners that
    hold the watermark for parts in flight, no part comes late)."""
    with TestPipeline(options=_streaming()) as p:
        joined = p | _stream() | GatherParts(streaming=True, window_s=3)
        assert_that(_sorted_groups(joined), equal_to([("a", ("a1",)), ("b", ("b1",)), ("c", ("c1", "c2"))]))


def test_batch_groups_by_key():
    with TestPipeline() as p:
        joined = (
            p
            | beam.Create([("a", (2, "a1")), ("a", (2, "a2")), ("b", (1, "b1"))])
            | GatherParts(streaming=False)
        )
        assert_that(_sorted_groups(joined), equal_to([("a", ("a1", "a2")), ("b", ("b1",))]))
