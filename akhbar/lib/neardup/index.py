"""The near-dup index and clustering: candidates by MinHash LSH, decisions by the pair scorer, stories by union-find.

Batch clusters a whole run at once (``cluster``); streaming keeps one
``NearDupIndex`` per shard (``route_keys``) in Beam state. Both give an
article the ``story_id`` of its story's earliest article.
"""
from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable

import numpy as np

from akhbar.lib.neardup.scorer import Match, PairScorer, decide, threshold_of
from akhbar.lib.neardup.sketch import Fingerprint, MinHasher, NearDupConfig
from akhbar.schemas.records import Article


class NearDupIndex:
    """An LSH index of recent fingerprints, bounded by a TTL and a size cap (oldest evicted first).

    ``add`` scores the new article against earlier candidates and returns its
    best match (or none) before inserting it: the streaming stage holds one
    index per shard in Beam state, batch clustering one for the whole run.
    """

    def __init__(self, config: NearDupConfig, scorer: PairScorer | None, max_items: int = 200_000):
        self._hasher = MinHasher(config.num_perm, config.seed)  # first: it names the missing extra
        from datasketch import MinHashLSH

        self.config = config
        self.scorer = scorer
        self.max_items = max_items
        self._threshold = threshold_of(config, scorer)
        self._lsh = MinHashLSH(threshold=config.lsh_threshold, num_perm=config.num_perm)
        self._items: dict[str, Fingerprint] = {}
        self._order: deque[str] = deque()  # insertion order, for eviction
        self._now = float("-inf")  # the latest article time seen: the index's clock

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._items

    def evict(self, now: float) -> int:
        """Drop fingerprints older than the TTL before the latest time seen, and beyond the size cap."""
        self._now = now = max(self._now, now)
        dropped = 0
        while self._order:
            oldest = self._items.get(self._order[0])
            if oldest is not None and len(self._items) <= self.max_items and now - oldest.time <= self.config.max_gap_s:
                break
            doc_id = self._order.popleft()
            if self._items.pop(doc_id, None) is not None:
                self._lsh.remove(doc_id)
                dropped += 1
        return dropped

    def candidates(self, fp: Fingerprint) -> list[Fingerprint]:
        found = [self._items[k] for k in self._lsh.query(self._hasher.minhash(fp.minhash)) if k in self._items]
        found = [c for c in found if abs(c.time - fp.time) <= self.config.max_gap_s and c.doc_id != fp.doc_id]
        if not found:
            return []
        estimate = (np.stack([c.minhash for c in found]) == fp.minhash).mean(axis=1)
        ranked = sorted(
            (i for i in range(len(found)) if estimate[i] >= self.config.min_word_jaccard),
            key=lambda i: (-estimate[i], abs(found[i].time - fp.time), found[i].doc_id),
        )
        return [found[i] for i in ranked[: self.config.max_candidates]]

    def scored(self, fp: Fingerprint) -> list[tuple[float, Fingerprint]]:
        """Candidates at or above the decision threshold, best first."""
        out = []
        for cand in self.candidates(fp):
            s = decide(cand, fp, self.config, self.scorer)
            if s >= self._threshold:
                out.append((s, cand))
        out.sort(key=lambda t: (-t[0], t[1].time, t[1].doc_id))
        return out

    def insert(self, fp: Fingerprint) -> None:
        if fp.doc_id in self._items:
            return
        self._items[fp.doc_id] = fp
        self._order.append(fp.doc_id)
        self._lsh.insert(fp.doc_id, self._hasher.minhash(fp.minhash))
        self.evict(fp.time)

    def add(self, fp: Fingerprint) -> Match:
        """Match ``fp`` against the index (streaming: first match wins), then remember it."""
        if fp.doc_id in self._items:
            known = self._items[fp.doc_id]
            return Match(fp.doc_id, known.story_id or fp.doc_id, None, None)
        best = self.scored(fp)
        if best:
            score, other = best[0]
            match = Match(fp.doc_id, other.story_id or other.doc_id, other.doc_id, score)
        else:
            match = Match(fp.doc_id, fp.doc_id, None, None)
        fp.story_id = match.story_id
        self.insert(fp)
        return match


class UnionFind:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self._parent.setdefault(x, x)
        if parent != x:
            root = self.find(parent)
            self._parent[x] = root
            return root
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self._parent[max(ra, rb)] = min(ra, rb)


def order_key(fp: Fingerprint) -> tuple:
    """The order articles are visited in: by time, then id (deterministic across runs)."""
    return (fp.time, fp.doc_id)


def cluster(fps: Iterable[Fingerprint], config: NearDupConfig, scorer: PairScorer | None) -> dict[str, Match]:
    """Batch: every article against every earlier one within the time window, then union-find.

    Deterministic: articles are visited by (time, id), the story id is the
    earliest member's id, so a rerun over the same input gives the same ids.
    """
    ordered = sorted(fps, key=order_key)
    index = NearDupIndex(config, scorer, max_items=max(len(ordered), 1))
    uf = UnionFind()
    best: dict[str, tuple[float, str]] = {}
    rank = {fp.doc_id: i for i, fp in enumerate(ordered)}
    for fp in ordered:
        if fp.doc_id in index:
            continue
        uf.find(fp.doc_id)
        matches = index.scored(fp)
        for _score, other in matches if config.link == "all" else matches[:1]:
            uf.union(fp.doc_id, other.doc_id)
        if matches:
            best[fp.doc_id] = (matches[0][0], matches[0][1].doc_id)
        index.insert(fp)
    members: dict[str, list[str]] = {}
    for fp in ordered:
        members.setdefault(uf.find(fp.doc_id), []).append(fp.doc_id)
    out: dict[str, Match] = {}
    for group in members.values():
        story = min(group, key=rank.__getitem__)
        for doc_id in group:
            score, other = best.get(doc_id, (None, None))
            out[doc_id] = Match(doc_id, story, other, score)
    return out


def route_keys(fp: Fingerprint, shards: int, routes: int) -> list[str]:
    """The index shards an article is checked against and stored in (streaming).

    Each of the first ``routes`` MinHash values of the content words, modulo
    ``shards``: two articles meet in a shard when they share one of those
    minimum hashes (probability 1 - (1 - J)^routes for word Jaccard J), or by
    chance. ``shards == 1`` is one global index.
    """
    if shards <= 1:
        return ["0"]
    return sorted({str(int(v) % shards) for v in fp.minhash[:routes]})




def annotate(article: Article, match: Match | None) -> Article:
    """The article with its story columns; a story's first article carries no duplicate_of/score."""
    if match is None:
        return dataclasses.replace(article, story_id=article.article_id, duplicate_of=None, near_dup_score=None)
    return dataclasses.replace(
        article, story_id=match.story_id, duplicate_of=match.duplicate_of, near_dup_score=match.score
    )
