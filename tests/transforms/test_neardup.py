"""Near-dup core (fingerprints, pair scorer, clustering) and the DedupNear transform on real runners."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from akhbar.lib.models import NEAR_DUP_MODEL
from akhbar.lib.neardup import (
    MODEL_FEATURES,
    MinHasher,
    NearDupConfig,
    NearDupIndex,
    PairScorer,
    cluster,
    decide,
    fingerprint,
    pair_features,
    route_keys,
)
from akhbar.sample.corpus import load_corpus
from akhbar.transforms import counters
from akhbar.transforms.neardup import DedupNear, DedupNearOptions
from tests.factories import T0, article

CONFIG = NearDupConfig()
HASHER = MinHasher(CONFIG.num_perm, CONFIG.seed)
SCORER = PairScorer.load(NEAR_DUP_MODEL)


def _sample_articles():
    """The bundled sample (authored for akhbar) as Article records, by sample id."""
    out = {}
    for s in load_corpus():
        out[s.id] = article(
            text=s.text,
            title=s.title,
            link=f"https://{s.outlet}.example/{s.id}",
            guid=s.id,
            feed_url=f"https://{s.outlet}.example/rss",
            outlet=s.outlet,
            published=s.published,
        )
    return out, {s.id: s for s in load_corpus()}


ARTICLES, SAMPLES = _sample_articles()
EDITED = {s.id: s.republished_from for s in SAMPLES.values() if s.republished_from and s.body != SAMPLES[s.republished_from].body}


def _fp(a):
    return fingerprint(a.article_id, a.outlet, a.title, a.text, a.published_at.timestamp(), CONFIG, HASHER)


def test_the_sample_has_edited_republications_to_find():
    assert len(EDITED) == 4


def test_shipped_model_matches_the_feature_code():
    spec = json.loads(NEAR_DUP_MODEL.read_text(encoding="utf-8"))
    assert tuple(spec["features"]) == MODEL_FEATURES
    assert 0.0 < SCORER.threshold < 1.0


def test_bad_model_file_names_the_path(tmp_path):
    bad = tmp_path / "scorer.json"
    bad.write_text(json.dumps({"features": ["no_such_feature"], "weights": [1], "mean": [0], "scale": [1], "bias": 0}))
    with pytest.raises(ValueError, match="scorer.json"):
        PairScorer.load(bad)


def test_features_are_symmetric_and_bounded():
    a, b = _fp(ARTICLES["anba-005"]), _fp(ARTICLES["sahil-023"])
    fa, fb = pair_features(a, b), pair_features(b, a)
    assert fa == fb
    for name in ("body_jaccard", "contain_max", "contain_min", "lead_jaccard", "title_jaccard", "names_jaccard"):
        assert 0.0 <= fa[name] <= 1.0, name


def test_edited_republication_scores_high_and_unrelated_stories_low():
    for copy, original in EDITED.items():
        assert decide(_fp(ARTICLES[original]), _fp(ARTICLES[copy]), CONFIG, SCORER) >= SCORER.threshold, copy
    unrelated = [i for i in SAMPLES if i not in EDITED and not SAMPLES[i].republished_from][:6]
    for i, a in enumerate(unrelated):
        for b in unrelated[i + 1 :]:
            assert decide(_fp(ARTICLES[a]), _fp(ARTICLES[b]), CONFIG, SCORER) < SCORER.threshold, (a, b)


def test_identical_body_is_a_duplicate_whatever_the_scorer():
    a = ARTICLES["anba-003"]
    copy = article(text=a.text, title="عنوان آخر تماما", link="https://x.example/1", outlet="x", published=T0)
    assert decide(_fp(a), _fp(copy), CONFIG, SCORER) == 1.0


def test_cluster_is_deterministic_and_story_id_is_the_first_article():
    fps = [_fp(a) for a in ARTICLES.values()]
    first = cluster(fps, CONFIG, SCORER)
    again = cluster(list(reversed([_fp(a) for a in ARTICLES.values()])), CONFIG, SCORER)
    assert first == again
    for copy, original in EDITED.items():
        m = first[ARTICLES[copy].article_id]
        assert m.story_id == ARTICLES[original].article_id
        assert m.duplicate_of == ARTICLES[original].article_id and m.score >= SCORER.threshold
    originals = {first[a.article_id].story_id for i, a in ARTICLES.items() if not SAMPLES[i].republished_from}
    assert len(originals) == sum(1 for s in SAMPLES.values() if not s.republished_from), "two originals were merged"


def test_index_forgets_articles_past_the_ttl_and_the_size_cap():
    config = NearDupConfig(max_gap_s=3600)
    index = NearDupIndex(config, SCORER, max_items=3)
    original, copy = ARTICLES["anba-005"], ARTICLES["sahil-023"]
    index.add(_fp(original))
    late = fingerprint(copy.article_id, copy.outlet, copy.title, copy.text,
                       original.published_at.timestamp() + 7200, config, HASHER)
    assert index.add(late).duplicate_of is None, "matched an article older than the TTL"
    assert original.article_id not in index
    capped = NearDupIndex(NearDupConfig(), SCORER, max_items=3)
    for a in list(ARTICLES.values())[:5]:
        capped.add(_fp(a))
    assert len(capped) == 3


def test_route_keys_are_bounded_and_one_shard_is_global():
    fp = _fp(ARTICLES["anba-005"])
    assert route_keys(fp, 1, 8) == ["0"]
    keys = route_keys(fp, 64, 8)
    assert 1 <= len(keys) <= 8 and all(0 <= int(k) < 64 for k in keys)


def _story_rows(out):
    return out | beam.Map(lambda a: (a.article_id, a.story_id, a.duplicate_of))


def _expected_keep():
    expected = []
    for i, a in ARTICLES.items():
        original = EDITED.get(i)
        story = ARTICLES[original].article_id if original else a.article_id
        expected.append((a.article_id, story, ARTICLES[original].article_id if original else None))
    return expected


def _without_verbatim_copies():
    # DedupExact removes verbatim copies before DedupNear; feed what it would.
    return [a for i, a in ARTICLES.items() if not (SAMPLES[i].republished_from and i not in EDITED)]


def test_batch_keep_annotates_every_article():
    articles = _without_verbatim_copies()
    with TestPipeline() as p:
        out = (p | beam.Create(articles) | DedupNear(DedupNearOptions(policy="keep"))).main
        ids = {a.article_id for a in articles}
        assert_that(_story_rows(out), equal_to([r for r in _expected_keep() if r[0] in ids]))


def test_batch_drop_keeps_the_first_of_each_story_and_counts_the_rest():
    articles = _without_verbatim_copies()
    with TestPipeline() as p:
        out = (p | beam.Create(articles) | DedupNear(DedupNearOptions(policy="drop"))).main
        kept = [a.article_id for a in articles if a.article_id not in {ARTICLES[c].article_id for c in EDITED}]
        assert_that(out | beam.Map(lambda a: a.article_id), equal_to(kept))
    totals = counters.query_counters(p.result)
    assert totals[counters.DUPLICATES_PREFIX + "near"] == len(EDITED)


def test_streaming_index_in_state_finds_republications():
    shards = 4  # several articles per shard, and each article checked in several shards
    articles = sorted(_without_verbatim_copies(), key=lambda a: a.published_at)
    stream = TestStream().advance_watermark_to(articles[0].published_at.timestamp() - 1)
    for a in articles:
        stream = stream.add_elements([TimestampedValue(a, a.published_at.timestamp())])
    stream = stream.advance_watermark_to_infinity()
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    opts = DedupNearOptions(policy="keep", shards=shards, routes=8)
    with TestPipeline(options=options) as p:
        out = (p | stream | DedupNear(opts, streaming=True)).main
        ids = {a.article_id for a in articles}
        assert_that(_story_rows(out), equal_to([r for r in _expected_keep() if r[0] in ids]))


def test_streaming_ttl_expires_the_index():
    original, copy = ARTICLES["anba-005"], ARTICLES["sahil-023"]
    base = original.published_at.timestamp()
    late_copy = article(text=copy.text, title=copy.title, link=copy.url, outlet=copy.outlet,
                        feed_url=copy.feed_url, published=original.published_at + timedelta(hours=3))
    stream = (
        TestStream()
        .advance_watermark_to(base - 1)
        .add_elements([TimestampedValue(original, base)])
        .advance_watermark_to(base + 7200)
        .add_elements([TimestampedValue(late_copy, base + 3 * 3600)])
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    with TestPipeline(options=options) as p:
        out = (p | stream | DedupNear(DedupNearOptions(ttl_s=3600), streaming=True)).main
        assert_that(_story_rows(out), equal_to([
            (original.article_id, original.article_id, None),
            (late_copy.article_id, late_copy.article_id, None),
        ]))


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_streaming_state_expiry_ends_on_prism_with_sub_second_publication_times():
    """Articles whose publication times carry microseconds (items without a date get their read time)
    expire and let the run end on Prism, whose timers fire at millisecond precision."""
    from apache_beam.options.pipeline_options import PrismRunnerOptions

    from akhbar.pipelines.runners import PrismRunner, find_prism
    from tests.prism import require_prism

    require_prism()
    samples = [a for i, a in ARTICLES.items() if not SAMPLES[i].republished_from][:12]
    arrival = 1_800_000_000.0
    stamped = []
    for k, a in enumerate(samples):
        published = datetime.fromtimestamp(arrival + k + 0.123456, tz=timezone.utc)
        stamped.append((arrival + k, dataclasses.replace(a, published_at=published)))
    # Its own Prism: Beam shares one job server per process, and a batch DirectRunner test before this
    # one may have created it without this binary (the DirectRunner tries Prism first).
    options = PipelineOptions(["--streaming", "--experiments=disable_prism_server_singleton"])
    options.view_as(PrismRunnerOptions).prism_location = find_prism()
    with beam.Pipeline(runner=PrismRunner(), options=options) as p:
        out = (
            p
            | beam.Create(stamped)
            | beam.Map(lambda pair: TimestampedValue(pair[1], pair[0]))
            | DedupNear(DedupNearOptions(ttl_s=60, shards=2, routes=2), streaming=True)
        ).main
        assert_that(out | beam.Map(lambda a: a.article_id), equal_to([a.article_id for _t, a in stamped]))
