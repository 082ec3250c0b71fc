"""Near-duplicate detection: which articles tell the same story, across outlets.

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
state with a TTL) is ``DedupNear`` at the end of this module.
"""
from __future__ import annotations

import json
import math
import re
import zlib
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import apache_beam as beam
import numpy as np
from apache_beam.coders import PickleCoder, VarIntCoder
from apache_beam.transforms import window as beam_window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import BagStateSpec, ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Duration, Timestamp

from transforms import metrics
from transforms.normalize import text_key

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO_ROOT / "models" / "neardup" / "pair_scorer.json"
DEFAULT_TTL_S = 3 * 24 * 3600

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_PROCLITICS = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ب", "ل", "ف")
# Function words and very common news verbs/nouns that carry no identity (written normalized).
_STOPWORDS = frozenset(
    """
    في من الي علي عن مع ان او ثم قد لا لم لن ما ماذا هذا هذه ذلك تلك التي الذي الذين هو هي هم هن كان كانت
    يكون تكون بين بعد قبل حتي اذا اذ كل بعض غير عند منذ خلال حول ضد دون لدي لكن بل اي ايضا كما حيث وقد
    وفي ومن وان الا انه انها اليوم امس يوم العام عام قال قالت وقال وقالت اكد اكدت واضاف واضافت اعلن اعلنت
    الثلاثاء الاربعاء الخميس الجمعه السبت الاحد الاثنين وكاله رويترز فرانس برس الانباء مصدر مصادر وفقا
    نحو اكثر اقل الف مليون مليار دولار بالمئه المئه ساعه ساعات عدد تم يتم جديد جديده اول الاول الثانيه
    """.split()
)


@dataclass(frozen=True)
class NearDupConfig:
    """Every knob and threshold of the near-duplicate stage (the scorer's own threshold ships in its JSON)."""

    num_perm: int = 128
    shingle: int = 5
    max_chars: int = 6000  # of the normalized text, so one huge page cannot dominate cost
    lead_chars: int = 300
    sample_mod: int = 2  # keep shingles whose hash % sample_mod == 0 (bounded, unbiased set sketch)
    # Candidates: MinHash LSH over the set of content words (normalized, stopwords and proclitics
    # dropped). On the labeled pairs it separates stories better than character 5-grams, whose
    # common Arabic shingles put unrelated articles at Jaccard 0.05-0.1.
    lsh_threshold: float = 0.15
    lsh_only_threshold: float = 0.5  # the baseline decision without the pair scorer
    score_threshold: float | None = None  # scorer probability for "duplicate"; None: the model's own threshold
    exact_jaccard: float = 0.95  # bodies this alike are duplicates whatever the scorer says
    max_gap_s: float = DEFAULT_TTL_S  # pairs further apart in time are never compared
    # LSH buckets also return pairs that share only common words; the MinHash estimate of the
    # word Jaccard (one vectorized comparison) drops those before the full features are computed.
    # On the labeled pairs, 98% of near-duplicates estimate >= 0.13, and the least 0.078.
    min_word_jaccard: float = 0.1
    max_candidates: int = 50  # per article, the most similar candidates scored (bounds templated floods)
    # "best": an article joins the story of its best earlier match only, so one article that
    # resembles two stories (a round-up, a follow-up quoting both) never bridges them;
    # "all": union every matching pair (single linkage: more recall, more false merges).
    link: str = "best"
    seed: int = 1


@dataclass
class Fingerprint:
    """What the index keeps of one article: hashes and a few dozen words (a few KB), never the text."""

    doc_id: str
    outlet: str
    time: float  # seconds since the epoch (UTC)
    minhash: np.ndarray  # MinHash of the content words, num_perm values
    body: np.ndarray  # sampled shingle hashes of the body: sorted unique uint32 (4 bytes each)
    lead: np.ndarray  # shingle hashes of the first lead_chars, sorted unique uint32
    title: frozenset  # title words (normalized, proclitics stripped)
    numbers: frozenset
    names: frozenset  # name-like tokens of title + lead
    length: int
    sample_mod: int = 2
    story_id: str = ""


def _hash32(data: str) -> int:
    return zlib.crc32(data.encode("utf-8"))


def _stem(token: str) -> str:
    for prefix in _PROCLITICS:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix) :]
    return token


def content_tokens(key: str) -> list[str]:
    """Words of a normalized key that can name something: no digits, no stopwords, proclitics stripped."""
    out = []
    for token in key.split():
        if token in _STOPWORDS or token.isdigit() or len(token) < 3:
            continue
        stem = _stem(token)
        if stem not in _STOPWORDS:
            out.append(stem)
    return out


def _identity(value: int) -> int:
    return value


class MinHasher:
    """datasketch MinHash over pre-hashed shingles (crc32: fast, and the same in every process)."""

    def __init__(self, num_perm: int, seed: int):
        try:
            from datasketch import MinHash
        except ImportError as exc:
            raise ImportError(
                "near-duplicate detection needs datasketch: pip install 'akhbar[neardup]', "
                "or run with --near_dup_policy off"
            ) from exc

        self.num_perm = num_perm
        self.seed = seed
        self._template = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity)
        self.scheme = self._template.scheme

    def hashvalues(self, hashes: Sequence[int]) -> np.ndarray:
        m = self._template.copy()
        if hashes:
            m.update_batch(list(hashes))
        return m.hashvalues

    def minhash(self, hashvalues: np.ndarray):
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=hashvalues, scheme=self.scheme)


def fingerprint(
    doc_id: str,
    outlet: str,
    title: str | None,
    text: str,
    time: float,
    config: NearDupConfig,
    hasher: MinHasher,
) -> Fingerprint:
    key = text_key(text)[: config.max_chars]
    body = shingle_hashes(key, config.shingle)
    words = {_hash32(w) for w in content_tokens(key)}
    title_key = text_key(title or "")
    return Fingerprint(
        doc_id=doc_id,
        outlet=outlet or "",
        time=float(time),
        minhash=hasher.hashvalues(sorted(words)),
        body=_sampled(body, config.sample_mod),
        lead=shingle_hashes(key[: config.lead_chars], config.shingle),
        title=frozenset(content_tokens(title_key)),
        numbers=frozenset(_NUMBER.findall(key)),
        names=frozenset(content_tokens(title_key + " " + key[: config.lead_chars * 2])),
        length=len(key),
        sample_mod=config.sample_mod,
    )


def _jaccard(a, b) -> float:
    """Jaccard of two sets, or of two sorted unique hash arrays."""
    if not len(a) and not len(b):
        return 0.0
    inter = _overlap(a, b)
    return inter / (len(a) + len(b) - inter)


_MASK32 = np.uint64(0xFFFFFFFF)


def shingle_hashes(key: str, k: int) -> np.ndarray:
    """32-bit hashes of every k-character shingle of ``key``, sorted and unique.

    A polynomial hash over the code points, vectorized, then mixed so that its
    low bits are uniform (the body sketch keeps hashes by ``h % sample_mod``).
    The same on every worker and run, unlike Python's ``hash``.
    """
    if not key:
        return np.zeros(0, dtype=np.uint32)
    cps = np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(len(cps) - k + 1, 1)
    h = np.zeros(n, dtype=np.uint64)
    for j in range(min(k, len(cps))):
        h = (h * np.uint64(1_000_003) + cps[j : j + n]) & _MASK32
    h = (h * np.uint64(0x9E3779B1)) & _MASK32
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x85EBCA6B)) & _MASK32
    h ^= h >> np.uint64(13)
    return np.unique(h.astype(np.uint32))


def _sampled(hashes: np.ndarray, mod: int) -> np.ndarray:
    return hashes[hashes % mod == 0]


def _overlap(a, b) -> int:
    if isinstance(a, np.ndarray):
        return len(np.intersect1d(a, b, assume_unique=True))
    return len(a & b)


def _containment(a, b) -> float:
    """Share of ``a`` found in ``b``."""
    return _overlap(a, b) / len(a) if len(a) else 0.0


FEATURES = (
    "body_jaccard",
    "contain_max",
    "contain_min",
    "lead_jaccard",
    "title_jaccard",
    "names_jaccard",
    "numbers_jaccard",
    "new_numbers",
    "log_gap_h",
    "same_outlet",
    "length_ratio",
    "lead_in_other_min",
    "lead_in_other_max",
    "title_in_lead",
)


def pair_features(a: Fingerprint, b: Fingerprint) -> dict[str, float]:
    """The similarities the scorer weighs, the same for (a, b) and (b, a): ``b`` is the later article."""
    if (b.time, b.doc_id) < (a.time, a.doc_id):
        a, b = b, a
    c_ab, c_ba = _containment(a.body, b.body), _containment(b.body, a.body)
    later_numbers = b.numbers
    lead_a_in_b = _containment(_sampled(a.lead, a.sample_mod), b.body)
    lead_b_in_a = _containment(_sampled(b.lead, b.sample_mod), a.body)
    return {
        "body_jaccard": _jaccard(a.body, b.body),
        "contain_max": max(c_ab, c_ba),
        "contain_min": min(c_ab, c_ba),
        "lead_jaccard": _jaccard(a.lead, b.lead),
        "title_jaccard": _jaccard(a.title, b.title),
        "names_jaccard": _jaccard(a.names, b.names),
        "numbers_jaccard": _jaccard(a.numbers, b.numbers),
        # Numbers the later article adds (a new toll, a new score): the mark of a follow-up or template.
        "new_numbers": len(later_numbers - a.numbers) / len(later_numbers) if later_numbers else 0.0,
        "log_gap_h": math.log1p(abs(b.time - a.time) / 3600.0),
        "same_outlet": 1.0 if a.outlet == b.outlet else 0.0,
        "length_ratio": min(a.length, b.length) / max(a.length, b.length, 1),
        # Is each lead found in the other body? A follow-up's new lead is not in the earlier article.
        "lead_in_other_min": min(lead_a_in_b, lead_b_in_a),
        "lead_in_other_max": max(lead_a_in_b, lead_b_in_a),
        "title_in_lead": max(_containment(a.title, b.names), _containment(b.title, a.names)),
    }


# The scorer's inputs: every feature, and every feature gated by same_outlet, so the model can
# weigh lead and headline similarity differently for a same-outlet pair (follow-ups) than across outlets.
MODEL_FEATURES = FEATURES + tuple(f"same_outlet*{f}" for f in FEATURES if f != "same_outlet")


def feature_value(features: dict[str, float], name: str) -> float:
    """A named model input: a feature, or a product ``a*b`` of features."""
    value = 1.0
    for part in name.split("*"):
        value *= features[part]
    return value


@dataclass(frozen=True)
class PairScorer:
    """Logistic regression over standardized ``MODEL_FEATURES``; weights come from JSON."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float = 0.5

    @classmethod
    def load(cls, path: str | Path = DEFAULT_MODEL) -> "PairScorer":
        try:
            spec = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read the near-dup pair scorer {str(path)!r}: {exc}") from exc
        names = tuple(spec.get("features", ()))
        unknown = [n for n in names if any(part not in FEATURES for part in n.split("*"))]
        if not names or unknown or not len(names) == len(spec["weights"]) == len(spec["mean"]) == len(spec["scale"]):
            raise ValueError(f"pair scorer {str(path)!r} does not fit this code (unknown features {unknown})")
        return cls(
            features=names,
            weights=tuple(spec["weights"]),
            bias=float(spec["bias"]),
            mean=tuple(spec["mean"]),
            scale=tuple(spec["scale"]),
            threshold=float(spec.get("threshold", 0.5)),
        )

    def score(self, features: dict[str, float]) -> float:
        z = self.bias
        for name, w, m, s in zip(self.features, self.weights, self.mean, self.scale):
            z += w * (feature_value(features, name) - m) / s
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass(frozen=True)
class Match:
    """The decision for one article: the story it joins, the earlier article it duplicates."""

    doc_id: str
    story_id: str
    duplicate_of: str | None
    score: float | None


def decide(a: Fingerprint, b: Fingerprint, config: NearDupConfig, scorer: PairScorer | None) -> float:
    """Duplicate score of a pair in [0, 1]: the scorer's probability, or the Jaccard alone without one."""
    feats = pair_features(a, b)
    if feats["body_jaccard"] >= config.exact_jaccard:
        return 1.0
    if scorer is None:
        return feats["body_jaccard"]
    return scorer.score(feats)


def threshold_of(config: NearDupConfig, scorer: PairScorer | None) -> float:
    """The decision threshold: the config's, else the one shipped with the model, else the Jaccard baseline's."""
    if scorer is None:
        return config.lsh_only_threshold
    return config.score_threshold if config.score_threshold is not None else scorer.threshold


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


def _order_key(fp: Fingerprint) -> tuple:
    return (fp.time, fp.doc_id)


def cluster(fps: Iterable[Fingerprint], config: NearDupConfig, scorer: PairScorer | None) -> dict[str, Match]:
    """Batch: every article against every earlier one within the time window, then union-find.

    Deterministic: articles are visited by (time, id), the story id is the
    earliest member's id, so a rerun over the same input gives the same ids.
    """
    ordered = sorted(fps, key=_order_key)
    index = NearDupIndex(config, scorer, max_items=max(len(ordered), 1))
    uf = UnionFind()
    best: dict[str, tuple[float, str]] = {}
    rank = {fp.doc_id: i for i, fp in enumerate(ordered)}
    for fp in ordered:
        if fp.doc_id in index:
            continue
        uf.find(fp.doc_id)
        matches = index.scored(fp)
        for score, other in matches if config.link == "all" else matches[:1]:
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


# ---------------------------------------------------------------------------
# Beam wiring
# ---------------------------------------------------------------------------

POLICIES = ("keep", "drop")
DUPLICATES_COUNTER = "near"  # counted as metrics.DUPLICATES_PREFIX + "near" when the policy drops


@dataclass(frozen=True)
class DedupNearOptions:
    """What the pipeline options choose for the stage (``pipelines/options.py``)."""

    policy: str = "keep"
    ttl_s: int = DEFAULT_TTL_S
    shards: int = 1
    routes: int = 8
    max_items_per_shard: int = 200_000
    model_path: str = str(DEFAULT_MODEL)
    window_s: int = 30

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"near_dup_policy must be one of {POLICIES}, not {self.policy!r}")
        if self.shards < 1 or self.routes < 1 or self.ttl_s <= 0:
            raise ValueError(f"near-dup shards, routes and ttl must be positive: {self}")


def article_fingerprint(article, config: NearDupConfig, hasher: MinHasher) -> Fingerprint:
    from urllib.parse import urlsplit

    outlet = article.outlet or urlsplit(article.feed_url).hostname or ""
    return fingerprint(
        article.article_id, outlet, article.title, article.text, article.published_at.timestamp(), config, hasher
    )


def annotate(article, match: Match | None):
    """The article with its story columns; a story's first article carries no duplicate_of/score."""
    import dataclasses

    if match is None:
        return dataclasses.replace(article, story_id=article.article_id, duplicate_of=None, near_dup_score=None)
    return dataclasses.replace(
        article, story_id=match.story_id, duplicate_of=match.duplicate_of, near_dup_score=match.score
    )


class FingerprintFn(beam.DoFn):
    """Article -> (article, fingerprint); the MinHash permutations are built once per worker."""

    def __init__(self, config: NearDupConfig):
        self._config = config

    def setup(self) -> None:
        self._hasher = MinHasher(self._config.num_perm, self._config.seed)

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
        self._dropped = metrics.counter(metrics.DUPLICATES_PREFIX + DUPLICATES_COUNTER)
        self._linked = metrics.counter("near_duplicates_linked")

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

    State per shard key: a bag of the fingerprints seen within the TTL and
    their count. The worker keeps the built index in memory and rebuilds it
    from the bag whenever its count disagrees with the state (a restart, or
    the key moved to this worker). An event-time timer drops fingerprints
    older than the TTL; the index also evicts its oldest entries past
    ``max_items_per_shard``, so memory is bounded by both.
    """

    FPS = BagStateSpec("fingerprints", PickleCoder())
    COUNT = ReadModifyWriteStateSpec("count", VarIntCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, config: NearDupConfig, opts: DedupNearOptions):
        self._config = replace(config, max_gap_s=float(opts.ttl_s))
        self._opts = opts

    def setup(self) -> None:
        self._scorer = _load_scorer(self._opts.model_path)
        self._cache: dict[str, tuple[int, NearDupIndex]] = {}

    def _index(self, shard: str, fps_state, count_state) -> NearDupIndex:
        count = count_state.read() or 0
        cached = self._cache.get(shard)
        if cached is not None and cached[0] == count:
            return cached[1]
        index = NearDupIndex(self._config, self._scorer, max_items=self._opts.max_items_per_shard)
        for fp in sorted(fps_state.read(), key=_order_key):
            index.insert(fp)
        self._cache[shard] = (count, index)
        return index

    def process(
        self,
        element: tuple[str, tuple],
        timestamp=beam.DoFn.TimestampParam,
        fps_state=beam.DoFn.StateParam(FPS),
        count_state=beam.DoFn.StateParam(COUNT),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> Iterator[tuple]:
        shard, (article, fp) = element
        index = self._index(shard, fps_state, count_state)
        match = index.add(fp)
        fps_state.add(fp)
        count = (count_state.read() or 0) + 1
        count_state.write(count)
        self._cache[shard] = (count, index)
        if count == 1:
            expiry.set(timestamp + Duration(seconds=self._opts.ttl_s))
        yield article.article_id, (article, match)

    @on_timer(EXPIRY)
    def expire(
        self,
        key=beam.DoFn.KeyParam,
        fire=beam.DoFn.TimestampParam,
        fps_state=beam.DoFn.StateParam(FPS),
        count_state=beam.DoFn.StateParam(COUNT),
        expiry=beam.DoFn.TimerParam(EXPIRY),
    ) -> None:
        horizon = float(fire.micros) / 1e6 - self._opts.ttl_s
        # Strictly newer than the horizon: the article that set this timer goes, so the next timer is later.
        kept = [fp for fp in fps_state.read() if fp.time > horizon]
        fps_state.clear()
        for fp in kept:
            fps_state.add(fp)
        count_state.write(len(kept))
        self._cache.pop(key, None)
        if kept:
            expiry.set(Timestamp(min(fp.time for fp in kept) + self._opts.ttl_s))


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
    """Articles -> articles with ``story_id``, ``duplicate_of`` and ``near_dup_score``.

    Batch clusters all articles of the run together. Streaming routes each
    article to a few index shards (``route_keys``), matches it there against
    the articles of the last ``ttl_s`` seconds and keeps its best match.
    """

    def __init__(self, opts: DedupNearOptions = DedupNearOptions(), streaming: bool = False,
                 config: NearDupConfig = NearDupConfig()):
        super().__init__()
        self._opts = opts
        self._streaming = streaming
        self._config = replace(config, max_gap_s=float(opts.ttl_s))

    def expand(self, articles):
        with_fp = articles | "Fingerprint" >> beam.ParDo(FingerprintFn(self._config))
        if not self._streaming:
            matches = (
                with_fp
                | "FingerprintsOnly" >> beam.Map(lambda pair: pair[1])
                | "AllFingerprints" >> beam.combiners.ToList()
                | "ClusterStories" >> beam.ParDo(ClusterAllFn(self._config, self._opts.model_path))
            )
            return articles | "ApplyPolicy" >> beam.ParDo(
                ApplyPolicyFn(self._opts.policy), matches=beam.pvalue.AsSingleton(matches)
            )
        shards, routes = self._opts.shards, self._opts.routes
        return (
            with_fp
            | "RouteToShards" >> beam.FlatMap(
                lambda pair: [(key, pair) for key in route_keys(pair[1], shards, routes)]
            ).with_output_types(tuple[str, Any])
            | "MatchInShard" >> beam.ParDo(ShardIndexFn(self._config, self._opts))
            | "WindowForJoin" >> beam.WindowInto(beam_window.FixedWindows(self._opts.window_s))
            | "GroupByArticle" >> beam.GroupByKey()
            | "BestOfShards" >> beam.Map(best_of_shards)
            | "ApplyPolicy" >> beam.ParDo(ApplyPolicyFn(self._opts.policy))
        )
