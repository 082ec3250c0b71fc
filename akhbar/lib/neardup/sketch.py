"""What the near-dup index keeps of an article: MinHash of its content words and shingle sketches.

A fingerprint is a few KB of hashes and a few dozen words, never the text, so
the streaming index holds days of articles in bounded memory. Every hash is
stable across processes and runs (crc32 and a vectorized polynomial hash, not
Python's ``hash``), so workers and reruns agree.
"""
from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from akhbar.core.text import strip_proclitic, text_key
from akhbar.schemas.records import Article

DEFAULT_TTL_S = 3 * 24 * 3600

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
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


def content_tokens(key: str) -> list[str]:
    """Words of a normalized key that can name something: no digits, no stopwords, proclitics stripped."""
    out = []
    for token in key.split():
        if token in _STOPWORDS or token.isdigit() or len(token) < 3:
            continue
        stem = strip_proclitic(token, min_stem=3)
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




def article_fingerprint(article: Article, config: NearDupConfig, hasher: MinHasher) -> Fingerprint:
    """The fingerprint of an article; its outlet, else its feed's host, tells same-outlet pairs apart."""
    outlet = article.outlet or urlsplit(article.feed_url).hostname or ""
    return fingerprint(
        article.article_id, outlet, article.title, article.text, article.published_at.timestamp(), config, hasher
    )
