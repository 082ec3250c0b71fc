from datetime import timedelta

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from akhbar.transforms import counters
from akhbar.transforms.dedup import DedupExact, FirstSeenFn
from tests.factories import T0, article


def _ids(articles):
    return articles | beam.Map(lambda a: a.article_id)


def test_batch_dedup_on_url_guid_and_text_keeps_earliest():
    original = article(link="https://news.example/a/1", guid="g-1", text="نص أول عن القمة")
    same_url = article(link="https://WWW.news.example/a/1/?utm_source=x", guid="g-9", text="نص مختلف تماما",
                       published=T0 + timedelta(hours=1))
    same_guid = article(link="https://news.example/section/1", guid="g-1", text="نص ثالث", published=T0 + timedelta(hours=2))
    republished = article(link="https://other.example/b/7", guid="o-7", text="نصٌّ أوّل عن القمّة!",
                          feed_url="https://other.example/rss", published=T0 + timedelta(hours=3))
    distinct = article(link="https://news.example/a/2", guid="g-2", text="خبر آخر لا علاقة له")
    no_guid = article(link="https://news.example/a/3", guid=None, text="خبر بلا معرف")
    with TestPipeline() as p:
        out = (p | beam.Create([same_guid, republished, original, same_url, distinct, no_guid]) | DedupExact()).main
        assert_that(_ids(out), equal_to([original.article_id, distinct.article_id, no_guid.article_id]))
    totals = counters.query_counters(p.result)
    assert totals["duplicates_url"] == 1
    assert totals["duplicates_guid"] == 1
    assert totals["duplicates_text"] == 1


def test_same_guid_in_two_outlets_is_not_a_duplicate():
    a = article(link="https://one.example/1", guid="123", feed_url="https://one.example/rss", text="خبر أول")
    b = article(link="https://two.example/1", guid="123", feed_url="https://two.example/rss", text="خبر ثان")
    with TestPipeline() as p:
        out = (p | beam.Create([a, b]) | DedupExact()).main
        assert_that(_ids(out), equal_to([a.article_id, b.article_id]))


def test_streaming_first_seen_forgets_keys_after_ttl():
    ttl = 3600
    first = article(text="خبر")
    again = article(text="خبر", link="https://news.example/a/1?x=again")
    base = 1_700_000_000
    stream = (
        TestStream()
        .advance_watermark_to(base)
        .add_elements([TimestampedValue(("k", first), base + 1)])
        .add_elements([TimestampedValue(("k", again), base + 10)])
        .advance_watermark_to(base + ttl + 100)
        .add_elements([TimestampedValue(("k", again), base + ttl + 200)])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with TestPipeline(options=options) as p:
        out = p | stream | beam.ParDo(FirstSeenFn("text", ttl))
        assert_that(out | beam.Map(lambda a: a.url), equal_to([first.url, again.url]))
    # Counters are checked in the Prism end-to-end test: the BundleBasedDirectRunner
    # that runs TestStream drops counters of multi-bundle stateful steps.
