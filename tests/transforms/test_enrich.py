"""The parallel-branch join with two small real enrichers: one that always works and
one that fails on some articles."""
from collections.abc import Sequence
from typing import Any

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from akhbar.lib.enrichment import Enricher
from akhbar.schemas.records import Article
from akhbar.transforms import counters
from akhbar.transforms.enrich import Enrich
from tests.factories import article


class WordCountStory(Enricher):
    name = "story"
    columns = ("story_id",)

    def load(self) -> None:
        self.loaded = True

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        assert self.loaded
        return [{"story_id": f"words-{len(a.text.split())}"} for a in articles]


class FragileTopic(Enricher):
    """Raises on any batch that holds an article titled 'boom', like a model choking on one input."""

    name = "topic"
    columns = ("primary_event",)
    batch_size = 4

    def load(self) -> None:
        pass

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if any(a.title == "boom" for a in articles):
            raise RuntimeError("model exploded")
        return [{"primary_event": "OTHER"} for _ in articles]


class Overreaching(Enricher):
    name = "greedy"
    columns = ("story_id",)

    def load(self) -> None:
        pass

    def enrich(self, articles):
        return [{"title": "rewritten"} for _ in articles]


def _articles(n: int, bad: set[int]) -> list[Article]:
    return [
        article(text=" ".join(["كلمة"] * (i + 1)), link=f"https://n.example/{i}", guid=f"g{i}", title="boom" if i in bad else f"خبر {i}")
        for i in range(n)
    ]


def test_branches_join_and_a_failing_branch_still_writes_the_article():
    articles = _articles(10, bad={3})
    with TestPipeline() as p:
        out = p | beam.Create(articles) | Enrich([WordCountStory(), FragileTopic()])
        summary = out.main | beam.Map(lambda a: (a.title, a.story_id, a.primary_event))
        expected = [
            (a.title, f"words-{len(a.text.split())}", None if a.title == "boom" else "OTHER") for a in articles
        ]
        assert_that(summary, equal_to(expected))
        assert_that(
            out.dead_letter | beam.Map(lambda d: (d.stage, d.error_kind, "model exploded" in d.error)),
            equal_to([("enrich_topic", "model_error", True)]),
            label="DeadLetters",
        )
    totals = counters.query_counters(p.result)
    assert totals["enriched_story"] == 10
    assert totals["enriched_topic"] == 9
    assert totals["enrich_failed_topic"] == 1


def test_an_enricher_may_only_set_its_own_columns():
    articles = _articles(3, bad=set())
    with TestPipeline() as p:
        out = p | beam.Create(articles) | Enrich([Overreaching()])
        assert_that(out.main | beam.Map(lambda a: a.title), equal_to([a.title for a in articles]))
        assert_that(out.dead_letter | beam.Map(lambda d: "does not own" in d.error), equal_to([True] * 3), label="DL")


def test_enrich_needs_an_enricher():
    with pytest.raises(ValueError):
        Enrich([])


class StoryLabel(Enricher):
    """Reads the story branch's column: runs after the join. Fails on the article whose story has 3 words."""

    name = "label"
    columns = ("summary",)
    needs = ("story_id",)

    def load(self) -> None:
        pass

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if any(a.story_id == "words-3" for a in articles):
            raise RuntimeError("cannot label")
        return [{"summary": f"label of {a.story_id}"} for a in articles]


def test_an_enricher_that_needs_a_branch_runs_after_the_join():
    articles = _articles(6, bad=set())
    with TestPipeline() as p:
        out = p | beam.Create(articles) | Enrich([StoryLabel(), WordCountStory()])
        summary = out.main | beam.Map(lambda a: (a.title, a.story_id, a.summary))
        expected = []
        for a in articles:
            story = f"words-{len(a.text.split())}"
            expected.append((a.title, story, a.summary if story == "words-3" else f"label of {story}"))
        assert_that(summary, equal_to(expected))  # every article once: the failing one unchanged
        assert_that(out.dead_letter | beam.Map(lambda d: d.stage), equal_to(["enrich_label"]), label="DeadLetters")
    totals = counters.query_counters(p.result)
    assert totals["enriched_label"] == 5 and totals["enrich_failed_label"] == 1


def test_enrich_needs_a_branch_besides_after_join_steps():
    with pytest.raises(ValueError, match="at least one branch"):
        Enrich([StoryLabel()])


@pytest.mark.parametrize("join_window_s", [None, 30], ids=["gather-in-state", "join-windows"])
def test_streaming_keeps_each_article_and_dead_letter_at_its_own_time_through_every_branch(join_window_s):
    """Batching stamps a batch with the end of its window (in streaming, the end of time); each article,
    part and dead letter must leave Enrich at its own time (joined in windows: within its own window),
    or no write window ever closes on it."""
    articles = _articles(6, bad={2})
    base = 1_800_000_000
    stream = TestStream().advance_watermark_to(base - 1)
    for i, a in enumerate(articles):
        stream = stream.add_elements([TimestampedValue(a, base + 10 * i)]).advance_watermark_to(base + 10 * i + 5)
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True

    def when(seconds: float) -> int:
        """The time an element leaves at: its own, or its join window's start."""
        return int(seconds) // join_window_s * join_window_s if join_window_s else int(seconds)

    with TestPipeline(options=options) as p:
        out = p | stream.advance_watermark_to_infinity() | Enrich([WordCountStory(), FragileTopic(), StoryLabel()],
                                                                  streaming=True, join_window_s=join_window_s)
        stamps = out.main | beam.Map(lambda a, t=beam.DoFn.TimestampParam: (a.title, a.story_id, when(t)))
        assert_that(stamps, equal_to([(a.title, f"words-{len(a.text.split())}", when(base + 10 * i))
                                      for i, a in enumerate(articles)]))
        dead = out.dead_letter | beam.Map(lambda d, t=beam.DoFn.TimestampParam: (d.stage, when(t)))
        assert_that(dead, equal_to([("enrich_topic", when(base + 20)), ("enrich_label", when(base + 20))]),
                    label="DeadStamps")
