"""DedupExact: drop articles already seen under any of three exact keys; SkipWritten: and those already written.

Keys, applied in order: the article's identity (canonical URL, or feed-scoped
GUID), the feed GUID (scoped to the outlet's host, since GUIDs like "123" are
only unique within a site) and a hash of the normalized text (the same wire
story republished verbatim); see ``akhbar.lib.identity``.

* First, what an earlier run already wrote to the same output is dropped
  (``SkipWritten``, counted as ``duplicates_in_output``): the keys are read
  from the output's own key columns when a worker starts
  (``akhbar.lib.output_keys``). The same check runs on feed items before
  their pages are fetched (url and guid keys), so a rerun does not fetch
  again what it will not write.
* Batch runs group by key and keep the earliest article of each group, so a
  rerun over the same input keeps the same articles.
* Streaming runs keep, per key, only the fact that it was seen, in Beam state
  that an event-time timer clears after the TTL: memory is one small value
  per distinct key seen within the TTL, and no key lives longer.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import apache_beam as beam
from apache_beam.coders import BooleanCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.shared import Shared
from apache_beam.utils.timestamp import Duration

from akhbar.lib.articles import plausible_publication_time
from akhbar.lib.identity import DEDUP_KEYS, article_digests, item_digests, keep_order
from akhbar.lib.output_keys import OutputKeys, OutputKeysSpec
from akhbar.schemas.records import Article, FeedItem, utc_now
from akhbar.transforms import counters
from akhbar.transforms.isolation import per_item
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput

DEFAULT_TTL_S = 7 * 24 * 3600
STAGE = "dedup_exact"
IN_OUTPUT = "in_output"  # counted as counters.DUPLICATES_PREFIX + IN_OUTPUT


class _WrittenKeys:
    """A weak-referenceable holder, as ``Shared`` needs, of the keys one run read from its output."""

    def __init__(self, keys: OutputKeys):
        self.keys = keys


class SkipWrittenFn(beam.DoFn):
    """Drop feed items or articles whose keys an earlier run already wrote to the output.

    The keys are loaded once per worker process (``Shared``) and per run (the
    spec's token), in ``setup()``.
    """

    def __init__(self, spec: OutputKeysSpec, shared: Shared):
        self._spec = spec
        self._shared = shared
        self._keys: OutputKeys | None = None
        self._dropped = counters.counter(counters.DUPLICATES_PREFIX + IN_OUTPUT)

    def setup(self) -> None:
        holder = self._shared.acquire(lambda: _WrittenKeys(self._spec.load()), tag=self._spec.token)
        self._holder = holder  # a strong reference keeps the shared keys alive while this DoFn lives
        self._keys = holder.keys

    def process(self, element: FeedItem | Article) -> Iterator:
        assert self._keys is not None, "setup() was not called"
        try:
            if isinstance(element, Article):
                digests, published = article_digests(element), element.published_at
            else:
                digests = item_digests(element)
                published = plausible_publication_time(element.published, utc_now())
        except ValueError:
            # No key (a link with no canonical form): the stage that builds the article dead-letters it.
            yield element
            return
        if self._keys.holds(digests, published):
            self._dropped.inc()
            return
        yield element


class SkipWritten(beam.PTransform):
    """Feed items or articles -> those the output does not hold yet (the rest counted)."""

    def __init__(self, spec: OutputKeysSpec, shared: Shared | None = None):
        super().__init__()
        self._spec = spec
        self._shared = shared or Shared()

    def expand(self, elements):
        return elements | "DropWrittenBefore" >> beam.ParDo(SkipWrittenFn(self._spec, self._shared))


class KeepEarliestFn(beam.DoFn):
    def __init__(self, key_name: str):
        self._key_name = key_name
        self._dropped = counters.counter(counters.DUPLICATES_PREFIX + key_name)

    def process(self, element: tuple[str, Iterable[Article]]) -> Iterator[Article]:
        _key, group = element
        ordered = sorted(group, key=keep_order)
        if len(ordered) > 1:
            self._dropped.inc(len(ordered) - 1)
        yield ordered[0]


class FirstSeenFn(beam.DoFn):
    """Streaming: pass the first article per key, drop later ones until the TTL clears the key."""

    SEEN = ReadModifyWriteStateSpec("seen", BooleanCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, key_name: str, ttl_s: int):
        self._key_name = key_name
        self._ttl = Duration(seconds=ttl_s)
        self._dropped = counters.counter(counters.DUPLICATES_PREFIX + key_name)

    def process(
        self,
        element: tuple[str, Any],
        timestamp=beam.DoFn.TimestampParam,
        seen=beam.DoFn.StateParam(SEEN),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[Article]:
        _key, article = element
        if seen.read():
            self._dropped.inc()
            return
        seen.write(True)
        expiry.set(timestamp + self._ttl)
        yield article

    @on_timer(EXPIRY)
    def expire(self, seen=beam.DoFn.StateParam(SEEN)) -> None:
        seen.clear()


class KeyByFn(beam.DoFn):
    """Article -> (key, article); an article whose key cannot be computed is its own dead letter."""

    def __init__(self, key_fn: Callable[[Article], str]):
        self._key_fn = key_fn

    @per_item(STAGE)
    def process(self, article: Article) -> Iterator[tuple[str, Article]]:
        yield self._key_fn(article), article


class DedupExact(beam.PTransform):
    """Articles -> a ``StageOutput``: ``main`` articles with exact duplicates removed (counted per key).

    A duplicate is counted, not dead-lettered; ``dead_letter`` holds the articles whose keys could not be computed.

    With ``written`` (the output's keys), articles an earlier run wrote are
    dropped first, so a rerun or a restart over the same output writes each
    article once.
    """

    def __init__(self, streaming: bool = False, ttl_s: int = DEFAULT_TTL_S,
                 written: OutputKeysSpec | None = None, shared: Shared | None = None):
        super().__init__()
        self._streaming = streaming
        self._ttl_s = ttl_s
        self._written = written
        self._shared = shared

    def expand(self, articles) -> StageOutput:
        dead_letters = []
        if self._written is not None:
            articles = articles | "SkipWritten" >> SkipWritten(self._written, self._shared)
        for name, key_fn in DEDUP_KEYS:
            outputs = articles | f"KeyBy{name.title()}" >> beam.ParDo(KeyByFn(key_fn)).with_output_types(
                tuple[str, Any]
            ).with_outputs(DEAD_LETTER, main="keyed")
            dead_letters.append(outputs[DEAD_LETTER])
            keyed = outputs.keyed
            if self._streaming:
                articles = keyed | f"FirstSeenBy{name.title()}" >> beam.ParDo(FirstSeenFn(name, self._ttl_s))
            else:
                articles = (
                    keyed
                    | f"GroupBy{name.title()}" >> beam.GroupByKey()
                    | f"KeepEarliestBy{name.title()}" >> beam.ParDo(KeepEarliestFn(name))
                )
        return StageOutput(main=articles, dead_letter=dead_letters | "KeyFailures" >> beam.Flatten())
