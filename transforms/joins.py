"""GatherParts: a join that waits for a known number of parts per key, instead of a window.

The streaming stages that fan an article out and back in (Enrich's model
branches, DedupNear's index shards) know how many parts each article yields.
A windowed GroupByKey joins them only if every part reaches it before the
watermark passes the window's end; a part that comes later is dropped as late,
and with it the article. That is what lost articles on the portable Flink
runner under load: the windowed join after Enrich's branches dropped all 240
parts of the 80 articles of a run (Flink's ``droppedDueToLateness``), because
the parts came out of the previous join stamped with its window's end and the
model branches took longer than the window. A part is never late for keyed
state: each key's parts are kept until all have arrived, then emitted
together and the state cleared. No timers, no watermark holds; memory is the
parts of the articles still in flight.

Batch keeps Beam's GroupByKey (every part is there when it runs). So does
streaming on Prism and the DirectRunner, in fixed windows (``window_s``):
those runners hold the watermark for parts in flight, so no part is late, and
the windowed join ran 20 ``make demo-streaming`` runs in a row without a
loss, where the gather in state lost one article in about a dozen runs on
Prism (cause not found). The gather is used where the windowed join is known
to drop parts: the portable Flink runner.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.transforms import window
from apache_beam.transforms.userstate import BagStateSpec


class GatherPartsFn(beam.DoFn):
    """(key, (expected, part)) -> (key, [parts]) once ``expected`` parts of the key have arrived."""

    PARTS = BagStateSpec("parts", PickleCoder())

    def process(self, element: tuple[Any, tuple[int, Any]], parts=beam.DoFn.StateParam(PARTS)) -> Iterator:
        key, (expected, part) = element
        parts.add(part)
        gathered = list(parts.read())
        if len(gathered) >= expected:
            parts.clear()
            yield key, gathered


class GatherParts(beam.PTransform):
    """(key, (expected, part)) -> (key, [parts]): each key's (a string's) parts together, as a GroupByKey gives them.

    ``expected`` is how many parts the key will get; every part of a key carries the same number
    (and, in streaming, the same timestamp).
    """

    def __init__(self, streaming: bool, window_s: int | None = None):
        """``window_s``: streaming, join in fixed windows of this many seconds instead of in state."""
        super().__init__()
        self._streaming = streaming
        self._window_s = window_s

    def expand(self, keyed_parts):
        if self._streaming and self._window_s:
            # Every part carries its article's timestamp, so all of an article's parts share a window.
            keyed_parts = keyed_parts | "JoinWindows" >> beam.WindowInto(window.FixedWindows(self._window_s))
        elif self._streaming:
            # Keys are article ids: a string key coder, deterministic as keyed state needs.
            return keyed_parts | "UntilAllArrived" >> beam.ParDo(GatherPartsFn()).with_input_types(tuple[str, Any])
        return (
            keyed_parts
            | "GroupByKey" >> beam.GroupByKey()
            | "DropCounts" >> beam.MapTuple(lambda key, counted: (key, [part for _expected, part in counted]))
        )
