"""The one output shape of every pipeline stage: the main output plus its dead letters.

Every composite PTransform of the flow (PollFeeds, FetchArticles, DedupExact,
DedupNear, Enrich) returns a ``StageOutput``, so the pipeline wires each stage
the same way: ``out.main`` goes on to the next stage, ``out.dead_letter`` (a
PCollection of ``DeadLetter`` records) to the dead-letter table. A stage that has
nothing to dead-letter still returns an (empty) dead-letter PCollection.

Beam takes a NamedTuple of PCollections as a composite's output and tags its
outputs by field name (``main``, ``dead_letter``). WriteParquet is the sink: its
output is the paths of the files it wrote.
"""
from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam

from akhbar.schemas.records import DeadLetter

DEAD_LETTER = "dead_letter"


class StageOutput(NamedTuple):
    """What a stage emits: ``main`` (its records) and ``dead_letter`` (``DeadLetter`` records)."""

    main: beam.PCollection
    dead_letter: beam.PCollection


def from_tagged(outputs, main_tag: str) -> StageOutput:
    """A ``ParDo(...).with_outputs(DEAD_LETTER, main=main_tag)`` result as a StageOutput."""
    return StageOutput(main=outputs[main_tag], dead_letter=outputs[DEAD_LETTER])


def no_dead_letters(pcoll: beam.PCollection, label: str = "NoDeadLetters") -> beam.PCollection:
    """An empty dead-letter PCollection with the windowing and boundedness of ``pcoll``."""
    return pcoll | label >> beam.FlatMap(lambda _element: ()).with_output_types(DeadLetter)
