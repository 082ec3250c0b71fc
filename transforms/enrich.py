"""Enrich: run model branches (NER, event types, …) in parallel and join them back.

Each branch is an ``Enricher``: a model loaded once per worker (``load`` runs
in ``DoFn.setup``) and applied to batches of articles. Branches run side by
side on the same articles and are joined by ``article_id``; an article is
always written, with whatever the branches that succeeded on it produced. A
branch that fails on an article yields a dead letter (stage
``enrich_<name>``) and leaves that article's columns null.
"""
from __future__ import annotations

import abc
import dataclasses
import json
import logging
from typing import Any, Iterable, Iterator, Sequence

import apache_beam as beam
from apache_beam.transforms import window as beam_window

from schemas.records import Article, DeadLetter
from transforms import metrics

LOG = logging.getLogger(__name__)
DEAD_LETTER = "dead_letter"
_ARTICLE = "__article__"


class Enricher(abc.ABC):
    """One enrichment branch. Subclasses are pickled to workers, so keep models out of __init__."""

    name: str = "enricher"
    columns: tuple[str, ...] = ()
    batch_size: int = 16

    @abc.abstractmethod
    def load(self) -> None:
        """Build the model; called once per worker process (DoFn.setup)."""

    @abc.abstractmethod
    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        """One dict of column values per article, in order; keys must be in ``columns``."""


class EnrichFn(beam.DoFn):
    def __init__(self, enricher: Enricher):
        self._enricher = enricher
        self._enriched = metrics.counter(metrics.ENRICHED_PREFIX + enricher.name)
        self._failed = metrics.counter(metrics.ENRICH_FAILED_PREFIX + enricher.name)

    def setup(self) -> None:
        self._enricher.load()

    def process(self, batch: list[Article]) -> Iterator:
        try:
            results = self._checked(batch)
        except Exception:  # noqa: BLE001 - fall back to one article at a time to isolate the bad one
            results = None
        if results is not None:
            for article, fields in zip(batch, results):
                self._enriched.inc()
                yield article.article_id, (self._enricher.name, fields)
            return
        for article in batch:
            try:
                (fields,) = self._checked([article])
            except Exception as exc:  # noqa: BLE001 - one article must not stop the run
                self._failed.inc()
                LOG.warning("%s failed on %s: %s", self._enricher.name, article.article_id, exc)
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, self._dead_letter(article, exc))
                continue
            self._enriched.inc()
            yield article.article_id, (self._enricher.name, fields)

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
    """Articles -> a dict with the enriched ``articles`` and the branches' ``dead_letter``."""

    def __init__(self, enrichers: Sequence[Enricher], streaming: bool = False, window_s: int = 30):
        super().__init__()
        if not enrichers:
            raise ValueError("Enrich needs at least one enricher")
        self._enrichers = list(enrichers)
        self._streaming = streaming
        self._window_s = window_s

    def expand(self, articles):
        if self._streaming:
            # The join groups by key: an unbounded input needs windows for that.
            articles = articles | "WindowForJoin" >> beam.WindowInto(beam_window.FixedWindows(self._window_s))
        parts = [
            articles
            | "KeyArticles" >> beam.Map(lambda a: (a.article_id, (_ARTICLE, a))).with_output_types(tuple[str, Any])
        ]
        dead_letters = []
        for enricher in self._enrichers:
            label = enricher.name.title()
            out = (
                articles
                | f"Batch{label}" >> beam.BatchElements(min_batch_size=1, max_batch_size=enricher.batch_size)
                | f"Run{label}" >> beam.ParDo(EnrichFn(enricher)).with_outputs(DEAD_LETTER, main="fields")
            )
            parts.append(out.fields)
            dead_letters.append(out[DEAD_LETTER])
        joined = (
            parts
            | "AllBranches" >> beam.Flatten()
            | "GroupByArticle" >> beam.GroupByKey()
            | "MergeBranches" >> beam.ParDo(MergeEnrichmentsFn())
        )
        return {"articles": joined, DEAD_LETTER: dead_letters | "EnrichDeadLetters" >> beam.Flatten()}
