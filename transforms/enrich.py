"""Enrich: run model branches (NER, event types, …) in parallel and join them back.

Each branch is an ``Enricher`` (``akhbar.lib.enrichment``): its model is loaded
once per worker process and shared by the process's threads
(``apache_beam.utils.shared.Shared``), and applied to batches of articles. Branches run side by
side on the same articles and are joined by ``article_id``; an article is
always written, with whatever the branches that succeeded on it produced. A
branch that fails on an article yields a dead letter (stage
``enrich_<name>``) and leaves that article's columns null. The join counts
each article's parts (``GatherParts``): in keyed state on Flink, where a
windowed join dropped late parts, in fixed windows on the other streaming
runners.

An enricher that reads other branches' columns (``Enricher.needs``: geocoding
reads the NER's entities and the event classifier's primary type) runs after
the join instead, in the order given: the same per-process model sharing and
dead letters, but it applies to the joined article and passes it on, changed
or, when it fails on it, as it was.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import apache_beam as beam
from apache_beam.transforms import window as beam_window
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.shared import Shared
from apache_beam.utils.timestamp import Timestamp

from akhbar.lib.enrichment import Enricher
from akhbar.schemas.records import Article, DeadLetter
from akhbar.transforms import counters
from akhbar.transforms.joins import GatherParts
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput

LOG = logging.getLogger(__name__)
_ARTICLE = "__article__"


class EnrichFn(beam.DoFn):
    def __init__(self, enricher: Enricher):
        self._enricher = enricher
        self._shared = Shared()  # one handle, pickled with the DoFn: every copy in a process finds the same model
        self._enriched = counters.counter(counters.ENRICHED_PREFIX + enricher.name)
        self._failed = counters.counter(counters.ENRICH_FAILED_PREFIX + enricher.name)

    def setup(self) -> None:
        template = self._enricher

        def load() -> Enricher:
            loaded = copy.copy(template)
            loaded.load()
            return loaded

        self._enricher = self._shared.acquire(load, tag=f"{template.name}:{template.model_id}")

    def process(self, batch: list[tuple[Article, Timestamp]]) -> Iterator:
        """A batch of (article, its timestamp): each output keeps its article's timestamp.

        BatchElements stamps a batch with the end of its window, in streaming the end of time;
        an article's own time is what its write window and the joins' watermark need.
        """
        articles = [article for article, _timestamp in batch]
        try:
            results = self._checked(articles)
        except Exception:
            results = None
        if results is not None:
            for (article, timestamp), fields in zip(batch, results):
                self._enriched.inc()
                yield TimestampedValue(self._output(article, fields), timestamp)
            return
        for article, timestamp in batch:
            try:
                (fields,) = self._checked([article])
            except Exception as exc:
                self._failed.inc()
                LOG.warning("%s failed on %s: %s", self._enricher.name, article.article_id, exc)
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, TimestampedValue(self._dead_letter(article, exc), timestamp))
                for unchanged in self._unchanged(article):
                    yield TimestampedValue(unchanged, timestamp)
                continue
            self._enriched.inc()
            yield TimestampedValue(self._output(article, fields), timestamp)

    def _output(self, article: Article, fields: dict[str, Any]) -> Any:
        """A branch's columns, keyed for the join."""
        return article.article_id, (self._enricher.name, fields)

    def _unchanged(self, article: Article) -> Iterator:
        """What a failed article yields besides its dead letter: the branch's part, with no columns.

        The join counts parts: every branch gives one per article, failed or not.
        """
        yield article.article_id, (self._enricher.name, {})

    def _checked(self, batch: list[Article]) -> list[dict[str, Any]]:
        results = self._enricher.enrich(batch)
        if len(results) != len(batch):
            raise ValueError(f"{self._enricher.name} returned {len(results)} results for {len(batch)} articles")
        allowed = set(self._enricher.columns)
        for fields in results:
            unknown = set(fields) - allowed
            if unknown:
                raise ValueError(f"{self._enricher.name} set columns it does not own: {sorted(unknown)}")
        return results

    def _dead_letter(self, article: Article, exc: Exception) -> DeadLetter:
        summary = {"article_id": article.article_id, "url": article.url, "title": article.title}
        return DeadLetter(
            stage=f"enrich_{self._enricher.name}",
            error_kind="model_error",
            error=f"{type(exc).__name__}: {exc}",
            input=json.dumps(summary, ensure_ascii=False),
            feed_url=article.feed_url,
            url=article.url,
        )


class ApplyAfterJoinFn(EnrichFn):
    """A step after the join: the article with the step's columns, or unchanged when the step fails on it."""

    def _output(self, article: Article, fields: dict[str, Any]) -> Article:
        return dataclasses.replace(article, **fields) if fields else article

    def _unchanged(self, article: Article) -> Iterator[Article]:
        yield article


def _with_timestamp(article: Article, timestamp=beam.DoFn.TimestampParam) -> tuple[Article, Timestamp]:
    return article, timestamp


def _in_batches(articles, label: str, fn: EnrichFn, batch_size: int, main: str):
    """Articles through ``fn`` in batches of up to ``batch_size``, each with its timestamp: its main and dead letters."""
    return (
        articles
        | f"Timestamp{label}" >> beam.Map(_with_timestamp)
        | f"Batch{label}" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch_size)
        | f"Run{label}" >> beam.ParDo(fn).with_outputs(DEAD_LETTER, main=main)
    )


class MergeEnrichmentsFn(beam.DoFn):
    """(article_id, [article, (branch, fields)...]) -> the article with every branch's columns."""

    def process(self, element: tuple[str, Iterable[tuple[str, Any]]]) -> Iterator[Article]:
        _article_id, parts = element
        article: Article | None = None
        updates: dict[str, Any] = {}
        for tag, value in parts:
            if tag == _ARTICLE:
                article = value
            else:
                updates.update(value)
        if article is not None:
            yield dataclasses.replace(article, **updates) if updates else article


class Enrich(beam.PTransform):
    """Articles -> a ``StageOutput``: ``main`` enriched articles and the branches' ``dead_letter``."""

    def __init__(self, enrichers: Sequence[Enricher], streaming: bool = False, join_window_s: int | None = None):
        """``join_window_s``: streaming, join the branches in fixed windows (``GatherParts`` says when)."""
        super().__init__()
        self._enrichers = [e for e in enrichers if not e.needs]
        self._then = [e for e in enrichers if e.needs]
        if not self._enrichers:
            raise ValueError("Enrich needs at least one branch (an enricher that reads only the article)")
        self._streaming = streaming
        self._join_window_s = join_window_s

    def expand(self, articles) -> StageOutput:
        expected = 1 + len(self._enrichers)  # the article and one part per branch
        if self._streaming and self._join_window_s:
            # The branches batch within the join's windows.
            articles = articles | "JoinWindows" >> beam.WindowInto(beam_window.FixedWindows(self._join_window_s))

        def counted(key: str, part: tuple[str, Any]) -> tuple[str, tuple[int, tuple[str, Any]]]:
            return key, (expected, part)

        parts = [
            articles
            | "KeyArticles" >> beam.Map(lambda a: (a.article_id, (expected, (_ARTICLE, a)))).with_output_types(
                tuple[str, Any])
        ]
        dead_letters = []
        for enricher in self._enrichers:
            label = enricher.name.title()
            out = _in_batches(articles, label, EnrichFn(enricher), enricher.batch_size, main="fields")
            parts.append(out.fields | f"Count{label}" >> beam.MapTuple(counted).with_output_types(tuple[str, Any]))
            dead_letters.append(out[DEAD_LETTER])
        joined = (
            parts
            | "AllBranches" >> beam.Flatten()
            | "GatherByArticle" >> GatherParts(self._streaming, self._join_window_s)
            | "MergeBranches" >> beam.ParDo(MergeEnrichmentsFn())
        )
        for step in self._then:
            out = _in_batches(joined, step.name.title(), ApplyAfterJoinFn(step), step.batch_size, main="articles")
            joined = out.articles
            dead_letters.append(out[DEAD_LETTER])
        return StageOutput(main=joined, dead_letter=dead_letters | "EnrichDeadLetters" >> beam.Flatten())
