"""Near-duplicate detection (plain library: numpy + datasketch, no Beam): which articles tell the same story, across outlets.

Exact dedup (``transforms/dedup.py``) misses wire stories that an outlet edited,
retitled or translated itself. Here:

1. **Candidates.** MinHash LSH (datasketch) over character 5-grams of the
   normalized text (``normalize.text_key``) finds pairs with some overlap.
2. **Pair score.** Overlap alone misleads: same-outlet follow-ups repeat the
   earlier text under a new lead, and templated reports (markets, matches,
   missile intercepts) share most of their words while reporting a different
   story. A small logistic model (``models/neardup/pair_scorer.json``, trained
   on hand-labeled pairs by ``training/neardup/train.py``) combines body
   Jaccard, containment both ways, lead and headline similarity, number and
   name-like token overlap, the time gap and whether the outlets differ.
3. **Clusters.** Pairs scoring at least ``NearDupConfig.score_threshold`` are
   joined with union-find; each cluster is a story: ``story_id`` is the id of
   its earliest article, ``duplicate_of`` the earlier article an article
   matched best, ``near_dup_score`` that match's score.

The Beam wiring (batch: global clustering; streaming: a sharded index in Beam
state with a TTL) is ``akhbar.transforms.neardup.DedupNear``.
"""
from akhbar.lib.neardup.index import NearDupIndex, UnionFind, annotate, cluster, order_key, route_keys
from akhbar.lib.neardup.scorer import FEATURES, MODEL_FEATURES, Match, PairScorer, decide, pair_features, threshold_of
from akhbar.lib.neardup.sketch import (
    DEFAULT_TTL_S,
    Fingerprint,
    MinHasher,
    NearDupConfig,
    article_fingerprint,
    content_tokens,
    fingerprint,
    shingle_hashes,
)

__all__ = [
    "DEFAULT_TTL_S", "FEATURES", "MODEL_FEATURES", "Fingerprint", "Match", "MinHasher", "NearDupConfig",
    "NearDupIndex", "PairScorer", "UnionFind", "annotate", "article_fingerprint", "cluster", "content_tokens",
    "decide", "fingerprint", "order_key", "pair_features", "route_keys", "shingle_hashes", "threshold_of",
]
