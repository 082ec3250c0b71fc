"""One output contract for every stage: a StageOutput with ``main`` and ``dead_letter`` PCollections.

The stages are chained as the pipeline chains them, on the loopback sample, with a feed
that answers 404, an entry with no text and an article a model chokes on, so the dead
letters are real.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.pvalue import PCollection
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from akhbar.lib.articles import FetchConfig
from akhbar.lib.feeds import PollConfig
from akhbar.lib.web.http import HttpConfig
from akhbar.schemas.records import DeadLetter
from akhbar.transforms.dedup import DedupExact
from akhbar.transforms.enrich import Enrich
from akhbar.transforms.feeds import PollFeeds
from akhbar.transforms.fetch import FetchArticles
from akhbar.transforms.neardup import DedupNear
from akhbar.transforms.outputs import StageOutput
from tests.factories import article, feed_item
from tests.transforms.test_enrich import FragileTopic


def _is_stage_output(out) -> bool:
    return (isinstance(out, StageOutput) and out._fields == ("main", "dead_letter")
            and isinstance(out.main, PCollection) and isinstance(out.dead_letter, PCollection))


def _stages(dead_letters: PCollection, label: str) -> PCollection:
    """(is a DeadLetter, stage) -> how many."""
    return (dead_letters
            | f"{label}Kinds" >> beam.Map(lambda d: (type(d) is DeadLetter, d.stage))
            | f"{label}Count" >> beam.combiners.Count.PerElement())


def test_every_stage_returns_main_and_dead_letter(sample_server):
    http = HttpConfig(allow_loopback=True, read_timeout=3)
    feeds = [sample_server.feed_urls(faults=False)[0], sample_server.url + "/feeds/does-not-exist.xml"]
    with TestPipeline() as p:
        polled = p | beam.Create(feeds) | "PollFeeds" >> PollFeeds(PollConfig(http=http))
        empty = p | "EmptyEntry" >> beam.Create([feed_item(link=None, summary=None, content=None, guid="empty")])
        fetched = (polled.main, empty) | beam.Flatten() | "FetchArticles" >> FetchArticles(FetchConfig(http=http))
        exact = fetched.main | "DedupExact" >> DedupExact()
        near = exact.main | "DedupNear" >> DedupNear()
        boom = p | "Choking" >> beam.Create([article(title="boom", link="https://n.example/boom")])
        enriched = (near.main, boom) | "Join" >> beam.Flatten() | "Enrich" >> Enrich([FragileTopic()])
        stages = {"poll": polled, "fetch": fetched, "exact": exact, "near": near, "enrich": enriched}
        assert {name: _is_stage_output(out) for name, out in stages.items()} == dict.fromkeys(stages, True)

        assert_that(_stages(polled.dead_letter, "PollDead"), equal_to([((True, "poll_feed"), 1)]), label="PollDead")
        assert_that(_stages(fetched.dead_letter, "FetchDead"), equal_to([((True, "fetch_article"), 1)]), label="FetchDead")
        assert_that(exact.dead_letter, equal_to([]), label="ExactDead")
        assert_that(near.dead_letter, equal_to([]), label="NearDead")
        assert_that(_stages(enriched.dead_letter, "EnrichDead"), equal_to([((True, "enrich_topic"), 1)]), label="EnrichDead")
        # The failed branch still yields its article: everything that left DedupNear is in Enrich's main output.
        assert_that(enriched.main | beam.Map(lambda a: a.title == "boom") | beam.combiners.Count.PerElement(),
                    lambda counts: _has_boom_and_news(counts), label="Written")


def _has_boom_and_news(counts) -> None:
    by_kind = dict(counts)
    assert by_kind.get(True) == 1 and by_kind.get(False, 0) > 0, by_kind
