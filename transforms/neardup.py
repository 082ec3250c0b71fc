"""DedupNear: the same story from several outlets gets one ``story_id`` (Beam wiring).

Batch clusters all articles of the run together; streaming routes each article
to a few index shards, matches it there against the articles of the last TTL
(a ``NearDupIndex`` rebuilt from Beam state) and keeps its best match. The
features, scorer and index are ``akhbar.lib.neardup``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import apache_beam as beam
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Duration

from akhbar.lib.models import NEAR_DUP_MODEL
from akhbar.lib.neardup import (
    DEFAULT_TTL_S,
    Fingerprint,
    MinHasher,
    NearDupConfig,
    NearDupIndex,
    PairScorer,
    annotate,
    article_fingerprint,
    cluster,
    order_key,
    route_keys,
)
from akhbar.schemas.records import Article
from akhbar.transforms import counters
from akhbar.transforms.isolation import flatten_dead_letters, per_item
from akhbar.transforms.joins import GatherParts
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput

STAGE = "dedup_near"
POLICIES = ("keep", "drop")
DUPLICATES_COUNTER = "near"  # counted as counters.DUPLICATES_PREFIX + "near" when the policy drops


@dataclass(frozen=True)
class DedupNearOptions:
    """What the pipeline options choose for the stage (``pipelines/options.py``)."""

    policy: str = "keep"
    ttl_s: int = DEFAULT_TTL_S
    shards: int = 1
    routes: int = 8
    max_items_per_shard: int = 200_000
    model_path: str = str(NEAR_DUP_MODEL)

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"near_dup_policy must be one of {POLICIES}, not {self.policy!r}")
        if self.shards < 1 or self.routes < 1 or self.ttl_s <= 0:
            raise ValueError(f"near-dup shards, routes and ttl must be positive: {self}")


class FingerprintFn(beam.DoFn):
    """Article -> (article, fingerprint); the MinHash permutations are built once per worker."""

    def __init__(self, config: NearDupConfig):
        self._config = config

    def setup(self) -> None:
        self._hasher = MinHasher(self._config.num_perm, self._config.seed)

    @per_item(STAGE)
    def process(self, article) -> Iterator[tuple]:
        yield article, article_fingerprint(article, self._config, self._hasher)


def _load_scorer(path: str) -> PairScorer:
    return PairScorer.load(path)


class ClusterAllFn(beam.DoFn):
    """Batch: every fingerprint of the run at once -> {article_id: Match} (global clustering)."""

    def __init__(self, config: NearDupConfig, model_path: str):
        self._config = config
        self._model_path = model_path

    def setup(self) -> None:
        self._scorer = _load_scorer(self._model_path)

    def process(self, fps: list[Fingerprint]) -> Iterator[dict]:
        yield cluster(fps, self._config, self._scorer)


class ApplyPolicyFn(beam.DoFn):
    """Write the story columns; under ``drop`` only a story's first article goes on (the rest are counted)."""

    def __init__(self, policy: str):
        self._policy = policy
        self._dropped = counters.counter(counters.DUPLICATES_PREFIX + DUPLICATES_COUNTER)
        self._linked = counters.counter("near_duplicates_linked")

    @per_item(STAGE)
    def process(self, element: tuple, matches: dict | None = None) -> Iterator:
        article, match = element if matches is None else (element, matches.get(element.article_id))
        annotated = annotate(article, match)
        if annotated.duplicate_of is not None or annotated.story_id != annotated.article_id:
            self._linked.inc()
            if self._policy == "drop":
                self._dropped.inc()
                return
        yield annotated


class ShardIndexFn(beam.DoFn):
    """Streaming: one LSH index per shard, durable in Beam state, cached in memory.

    State per shard key: a bag of (arrival, fingerprint) pairs, their count and
    the oldest arrival. The worker keeps the built index in memory and rebuilds
    it from the bag whenever its count disagrees with the state (a restart, or
    the key moved to this worker). The index evicts by publication time and past
    ``max_items_per_shard``; the bag is pruned by arrival time (the element
    timestamp, the watermark's clock) once its oldest entry is more than
    ``ttl + ttl/8`` old, keeping the last ``ttl``.

    Each article moves the shard's one event-time timer to its arrival + TTL;
    it fires when a shard got nothing for a whole TTL, or when the run ends
    (the watermark jumps to the end of time), and clears the shard at once.
    There is never a chain of timers, each re-set from the last: a chain keyed on
    publication times never ended, because portable runners fire timers at
    millisecond precision and the oldest fingerprint (microseconds) survived
    every firing, so the same timer was set again and the run could not stop.
    """

    FPS = BagStateSpec("fingerprints", PickleCoder())
    COUNT = ReadModifyWriteStateSpec("count", VarIntCoder())
    OLDEST = ReadModifyWriteStateSpec("oldest_arrival_us", VarIntCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, config: NearDupConfig, opts: DedupNearOptions):
        self._config = replace(config, max_gap_s=float(opts.ttl_s))
        self._opts = opts
        self._ttl_us = opts.ttl_s * 1_000_000
        self._prune_after_us = self._ttl_us + self._ttl_us // 8

    def setup(self) -> None:
        self._scorer = _load_scorer(self._opts.model_path)
        self._cache: dict[str, tuple[int, NearDupIndex]] = {}

    def _index(self, shard: str, fps_state, count: int) -> NearDupIndex:
        cached = self._cache.get(shard)
        if cached is not None and cached[0] == count:
            return cached[1]
        index = NearDupIndex(self._config, self._scorer, max_items=self._opts.max_items_per_shard)
        for _arrival, fp in sorted(fps_state.read(), key=lambda entry: order_key(entry[1])):
            index.insert(fp)
        self._cache[shard] = (count, index)
        return index

    def _prune(self, shard: str, now_us: int, fps_state, count_state, oldest_state) -> tuple[int, int | None]:
        """Keep the bag's entries that arrived within the TTL before ``now_us``; return (count, oldest)."""
        kept = [entry for entry in fps_state.read() if entry[0] > now_us - self._ttl_us]
        fps_state.clear()
        for entry in kept:
            fps_state.add(entry)
        count_state.write(len(kept))
        oldest = min((arrival for arrival, _fp in kept), default=None)
        if oldest is None:
            oldest_state.clear()
        else:
            oldest_state.write(oldest)
        self._cache.pop(shard, None)
        return len(kept), oldest

    def process(
        self,
        element: tuple[str, tuple],
        timestamp=beam.DoFn.TimestampParam,
        fps_state=beam.DoFn.StateParam(FPS),
        count_state=beam.DoFn.StateParam(COUNT),
        oldest_state=beam.DoFn.StateParam(OLDEST),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[tuple]:
        shard, (expected, (article, fp)) = element
        now_us = timestamp.micros
        count, oldest = count_state.read() or 0, oldest_state.read()
        if oldest is not None and now_us - oldest > self._prune_after_us:
            count, oldest = self._prune(shard, now_us, fps_state, count_state, oldest_state)
        index = self._index(shard, fps_state, count)
        match = index.add(fp)
        fps_state.add((now_us, fp))
        count += 1
        count_state.write(count)
        if oldest is None:
            oldest_state.write(now_us)
        self._cache[shard] = (count, index)
        expiry.set(timestamp + Duration(seconds=self._opts.ttl_s))
        yield article.article_id, (expected, (article, match))

    @on_timer(EXPIRY)
    def expire(
        self,
        key=beam.DoFn.KeyParam,
        fps_state=beam.DoFn.StateParam(FPS),
        count_state=beam.DoFn.StateParam(COUNT),
        oldest_state=beam.DoFn.StateParam(OLDEST),
    ) -> None:
        fps_state.clear()
        count_state.clear()
        oldest_state.clear()
        self._cache.pop(key, None)


def routed(pair: tuple[Article, Fingerprint], shards: int, routes: int) -> list[tuple[str, tuple]]:
    """Streaming: (shard, (how many shards, (article, fingerprint))) for each shard the article is checked in."""
    keys = route_keys(pair[1], shards, routes)
    return [(key, (len(keys), pair)) for key in keys]


def best_of_shards(element: tuple[str, Iterable[tuple]]) -> tuple:
    """Streaming: an article was checked in several shards; keep its best match."""
    _article_id, results = element
    results = list(results)
    article = results[0][0]
    found = [m for _a, m in results if m.duplicate_of is not None]
    if not found:
        return article, None
    return article, max(found, key=lambda m: (m.score or 0.0, m.duplicate_of))


class DedupNear(beam.PTransform):
    """Articles -> a ``StageOutput``: ``main`` articles with ``story_id``, ``duplicate_of`` and ``near_dup_score``.

    A near-duplicate is linked (or, under ``drop``, counted), never dead-lettered: ``dead_letter`` holds the
    articles the stage itself failed on.

    Batch clusters all articles of the run together. Streaming routes each
    article to a few index shards (``route_keys``), matches it there against
    the articles of the last ``ttl_s`` seconds and keeps its best match.
    """

    def __init__(self, opts: DedupNearOptions = DedupNearOptions(), streaming: bool = False,
                 config: NearDupConfig = NearDupConfig(), join_window_s: int | None = None):
        """``join_window_s``: streaming, join each article's shard answers in fixed windows (``GatherParts``)."""
        super().__init__()
        self._opts = opts
        self._streaming = streaming
        self._join_window_s = join_window_s
        self._config = replace(config, max_gap_s=float(opts.ttl_s))

    def expand(self, articles) -> StageOutput:
        fingerprinted = articles | "Fingerprint" >> beam.ParDo(FingerprintFn(self._config)).with_outputs(
            DEAD_LETTER, main="pairs"
        )
        with_fp = fingerprinted.pairs
        if not self._streaming:
            matches = (
                with_fp
                | "FingerprintsOnly" >> beam.Map(lambda pair: pair[1])
                | "AllFingerprints" >> beam.combiners.ToList()
                | "ClusterStories" >> beam.ParDo(ClusterAllFn(self._config, self._opts.model_path))
            )
            annotated = (
                with_fp
                | "ArticlesOnly" >> beam.Map(lambda pair: pair[0])
                | "ApplyPolicy" >> beam.ParDo(
                    ApplyPolicyFn(self._opts.policy), matches=beam.pvalue.AsSingleton(matches)
                ).with_outputs(DEAD_LETTER, main="articles")
            )
        else:
            shards, routes = self._opts.shards, self._opts.routes
            annotated = (
                with_fp
                | "RouteToShards" >> beam.FlatMap(routed, shards, routes).with_output_types(tuple[str, Any])
                | "MatchInShard" >> beam.ParDo(ShardIndexFn(self._config, self._opts)).with_output_types(tuple[str, Any])
                | "GatherByArticle" >> GatherParts(streaming=True, window_s=self._join_window_s)
                | "BestOfShards" >> beam.Map(best_of_shards)
                | "ApplyPolicy" >> beam.ParDo(ApplyPolicyFn(self._opts.policy)).with_outputs(DEAD_LETTER, main="articles")
            )
        dead_letters = flatten_dead_letters([fingerprinted[DEAD_LETTER], annotated[DEAD_LETTER]], "Failures")
        return StageOutput(main=annotated.articles, dead_letter=dead_letters)
