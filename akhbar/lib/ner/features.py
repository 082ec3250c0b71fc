"""Word-level features of Arabic text for the NER model: words with offsets, clitics, affixes, shapes.

Shared by training (``training/ner``) and inference (``transforms/ner.py``) so
the two can never drift apart. Pure Python + numpy: this is on the light
``ml`` install path. The model works on whole words (ANERcorp is annotated per
word), and each word is seen through several small windows that carry the
signals a feature CRF uses: the word, its stem with the clitics و ف ب ك ل ال
stripped, its WordPiece pieces, its characters, its 2/3-letter prefix and
suffix, and its shape.
"""
from __future__ import annotations

import functools
import json
import re
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from akhbar.core.text import ARABIC_LETTER, MARK_CHARS, TATWEEL, normalize_arabic, proclitic_stems

# A word: letters/digits with their tashkeel and tatweel; anything else that is not space is one token.
_WORD = re.compile(rf"[\w{MARK_CHARS}{TATWEEL}]+|[^\w\s]", re.UNICODE)
_DIGITS = re.compile(r"\d")
_LATIN = re.compile("[A-Za-z]")

PAD, UNK = 0, 1
MAX_PIECES = 6
MAX_CHARS = 16
AFFIX_BUCKETS = 4096
N_SHAPES = 32
SPARSE_BUCKETS = 1 << 18
MAX_SPARSE = 32


def split_words(text: str) -> list[tuple[int, int]]:
    """Character spans of the words and punctuation marks of ``text``."""
    return [m.span() for m in _WORD.finditer(text)]


def norm_word(word: str) -> str:
    """The lookup form of a word: normalize_arabic, lower case, digits as 0."""
    return _DIGITS.sub("0", normalize_arabic(word).lower())


def shape_id(word: str) -> int:
    """Script x length class, a small categorical id (< N_SHAPES)."""
    if ARABIC_LETTER.search(word):
        script = 1
    elif _LATIN.search(word):
        script = 2
    elif _DIGITS.search(word):
        script = 3
    elif word.isalnum():
        script = 4
    else:
        script = 5 + min(2, len(word) - 1) if word else 0
    length = 0 if len(word) <= 2 else 1 if len(word) <= 4 else 2 if len(word) <= 7 else 3
    return min(N_SHAPES - 1, script * 4 + length)


def affix_ids(nw: str) -> list[int]:
    """Hashed ids of the 2- and 3-letter prefixes and suffixes (stable across processes)."""
    keys = [f"p2:{nw[:2]}", f"p3:{nw[:3]}", f"s2:{nw[-2:]}", f"s3:{nw[-3:]}"]
    return [2 + zlib.crc32(k.encode("utf-8")) % (AFFIX_BUCKETS - 2) for k in keys]


def _hash(key: str) -> int:
    return 1 + zlib.crc32(key.encode("utf-8")) % (SPARSE_BUCKETS - 1)


def _word_keys(nw: str, shape: int, at: str) -> list[str]:
    keys = [f"{at}w:{nw}", f"{at}p2:{nw[:2]}", f"{at}p3:{nw[:3]}", f"{at}s2:{nw[-2:]}", f"{at}s3:{nw[-3:]}",
            f"{at}sh:{shape}"]
    keys += [f"{at}st:{stem}" for stem in proclitic_stems(nw)[:2]]
    return keys


_OFFSETS = (-2, -1, 1, 2)


@functools.lru_cache(maxsize=1 << 17)
def norm_and_shape(word: str) -> tuple[str, int]:
    """``norm_word`` and ``shape_id`` of a word as written (cached: the same words recur in every article)."""
    return norm_word(word), shape_id(word)


# The running CRC-32 of each neighbour position's key prefix ("-2:", ...): a neighbour's key is the prefix and
# the word's own key, so its hash continues from there (zlib.crc32(b, crc32(a)) == crc32(a + b)).
_PREFIX_CRCS = tuple(zlib.crc32(f"{off}:".encode()) for off in _OFFSETS)


def _word_ids_of(nw: str, shape: int) -> tuple[tuple[int, ...], ...]:
    """Hashed ids of a word's own keys, then of its keys as each neighbour (-2, -1, +1, +2) sees it."""
    own = [f"p1:{nw[:1]}", f"s1:{nw[-1:]}", f"p4:{nw[:4]}", f"s4:{nw[-4:]}", f"len:{min(len(nw), 10)}"]
    keys = [k.encode("utf-8") for k in _word_keys(nw, shape, "")]
    crc, buckets = zlib.crc32, SPARSE_BUCKETS - 1
    return (tuple(1 + crc(k.encode("utf-8")) % buckets for k in own) + tuple(1 + crc(k) % buckets for k in keys),
            *(tuple(1 + crc(k, start) % buckets for k in keys[:4]) for start in _PREFIX_CRCS))


_word_ids = functools.lru_cache(maxsize=1 << 17)(_word_ids_of)


@functools.lru_cache(maxsize=1 << 17)
def _bigram_ids(left: str, right: str) -> tuple[int, int]:
    """Hashed ids of two neighbours' bigram: as the right word's key (b-1), as the left word's (b+1)."""
    return _hash(f"b-1:{left}|{right}"), _hash(f"b+1:{left}|{right}")


@functools.lru_cache(maxsize=1 << 12)
def _key_id(key: str) -> int:
    return _hash(key)


_BIAS = _hash("bias")
_EDGES = {off: _hash(f"{off}:edge") for off in _OFFSETS}


def _extra_ids(extra: Sequence[Sequence[str]]) -> list[list[int]]:
    """Hashed ids of each word's extra keys, then of its neighbours' (-1, +1)."""
    n = len(extra)
    out: list[list[int]] = []
    for i in range(n):
        left = extra[i - 1] if i > 0 else ()
        right = extra[i + 1] if i + 1 < n else ()
        if extra[i] or left or right:
            out.append([_key_id(k) for k in (*extra[i], *(f"-1:{k}" for k in left), *(f"+1:{k}" for k in right))])
        else:
            out.append([])
    return out


def sparse_feature_ids(words: Sequence[str], norms: Sequence[str], max_sparse: int = MAX_SPARSE,
                       extra: Sequence[Sequence[str]] | None = None) -> list[list[int]]:
    """Hashed ids of a feature CRF's indicator features of each word (itself, +-2 neighbours, bigrams).

    They feed a linear layer added to the transformer's tag scores: the sharp,
    memorizing evidence a CRF is good at, next to the encoder's smooth one.
    ``extra`` holds more keys per word (gazetteer matches), given for the word
    and as context for its neighbours (+-1), ahead of the rest.
    ``WordFeaturizer.encode`` makes the same lists for a whole batch at once.
    """
    n = len(words)
    cached = [_word_ids(nw, shape_id(w)) for w, nw in zip(words, norms)]
    gz = _extra_ids(extra) if extra is not None else [[] for _ in words]
    out = []
    for i, nw in enumerate(norms):
        ids = [_BIAS, *gz[i], *cached[i][0]]
        for k, off in enumerate(_OFFSETS, 1):
            j = i + off
            if 0 <= j < n:
                ids += cached[j][k]
            else:
                ids.append(_EDGES[off])
        if i > 0:
            ids.append(_bigram_ids(norms[i - 1], nw)[0])
        if i + 1 < n:
            ids.append(_bigram_ids(nw, norms[i + 1])[1])
        out.append(ids[:max_sparse])
    return out


@dataclass
class Vocab:
    """Word and character vocabularies of one model (saved as vocab.json beside the tokenizer)."""

    words: list[str]
    chars: list[str]

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.char_index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(words=data["words"], chars=data["chars"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"words": self.words, "chars": self.chars}, ensure_ascii=False), encoding="utf-8")

    def word_id(self, nw: str) -> int:
        return self.word_index.get(nw, UNK)

    def stem_id(self, nw: str) -> int:
        """The vocabulary id of the word with its clitics stripped (the longest strip that is a known word)."""
        for stem in proclitic_stems(nw):
            i = self.word_index.get(stem)
            if i is not None:
                return i
        return self.word_index.get(nw, UNK)


# A word's row in ``WordFeaturizer``'s table: the ids the model reads of the word alone (word, stem, pieces and
# chars 0-padded, affixes, shape; ``_COLUMNS``: array name, first column, width or 0 for one column), then its
# hashed sparse ids as itself (0-padded) and as each neighbour (-2, -1, +1, +2) sees it.
_COLUMNS = (("word_ids", 0, 0), ("stem_ids", 1, 0), ("piece_ids", 2, MAX_PIECES), ("char_ids", 2 + MAX_PIECES, MAX_CHARS),
            ("affix_ids", 2 + MAX_PIECES + MAX_CHARS, 4), ("shape_ids", 6 + MAX_PIECES + MAX_CHARS, 0))
_DENSE = 7 + MAX_PIECES + MAX_CHARS
_OWN_IDS = 13  # 5 own keys, 6 word keys and at most 2 stems
_VIEW_IDS = 4  # a neighbour's word, p2, p3 and s2 keys
_ROW = _DENSE + _OWN_IDS + _VIEW_IDS * len(_OFFSETS)


class WordFeaturizer:
    """Words -> the integer arrays the model reads: word, stem, pieces, chars, affixes, shape, sparse ids.

    What depends on a word alone is worked out once per word as written and kept
    in a table (``cache_words`` words; it starts over when full); a batch's
    arrays are gathered from it in numpy, and only the bigrams and the gazetteer
    are looked up per sentence.
    """

    def __init__(self, vocab: Vocab, tokenizer, max_sparse: int = MAX_SPARSE, gazetteer=None,
                 cache_words: int = 1 << 16) -> None:
        self.vocab = vocab
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer (WordPiece), used on single words
        self.max_sparse = max_sparse
        self.gazetteer = gazetteer  # an akhbar.lib.ner.gazetteer.Gazetteer, or None
        self._piece_cache: dict[str, list[int]] = {}
        self.cache_words = cache_words
        self._words: dict[str, tuple[int, str]] = {}  # word -> (its row in the table, its lookup form)
        self._table = self._new_table(cache_words)
        self._lock = threading.Lock()  # one batch at a time fills and reads the table (a worker's threads share it)

    @staticmethod
    def _new_table(words: int) -> np.ndarray:
        # Row 0 stands for the padding and for the neighbours beyond a sentence's ends: 0s, and the edge ids.
        table = np.zeros((words + 1, _ROW), np.int32)
        for k, off in enumerate(_OFFSETS):
            table[0, _DENSE + _OWN_IDS + k * _VIEW_IDS] = _EDGES[off]
        return table

    def pieces(self, nw: str) -> list[int]:
        ids = self._piece_cache.get(nw)
        if ids is None:
            ids = self.tokenizer.encode(nw, add_special_tokens=False).ids[:MAX_PIECES] or [UNK]
            if len(self._piece_cache) < 200_000:
                self._piece_cache[nw] = ids
        return ids

    def word_row(self, word: str) -> list[int]:
        """``word``'s row of the table (see ``_ROW``)."""
        nw, shape = norm_and_shape(word)
        pieces = self.pieces(nw)
        chars = [self.vocab.char_index.get(c, UNK) for c in nw[:MAX_CHARS]]
        own, m2, m1, p1, p2 = _word_ids_of(nw, shape)  # at most _OWN_IDS own ids, _VIEW_IDS per view
        return [self.vocab.word_id(nw), self.vocab.stem_id(nw), *pieces, *[0] * (MAX_PIECES - len(pieces)),
                *chars, *[0] * (MAX_CHARS - len(chars)), *affix_ids(nw), shape,
                *own, *[0] * (_OWN_IDS - len(own)), *m2, *m1, *p1, *p2]

    def _word(self, word: str) -> tuple[int, str]:
        hit = self._words.get(word)
        if hit is None:
            slot = len(self._words) + 1
            self._table[slot] = self.word_row(word)
            hit = self._words[word] = (slot, norm_and_shape(word)[0])
        return hit

    def encode(self, sentences: Sequence[Sequence[str]], max_len: int | None = None) -> dict[str, np.ndarray]:
        """Batch of word lists -> padded int64 arrays (batch, words[, k]) and a 0/1 mask.

        ``sparse_ids`` holds each word's ``sparse_feature_ids``, 0-padded.
        """
        n = len(sentences)
        length = max_len or max((len(s) for s in sentences), default=1) or 1
        sentences = [list(words[:length]) for words in sentences]
        total = sum(len(words) for words in sentences)
        with self._lock:
            if len(self._words) + total > len(self._table) - 1:  # room for every word of the batch being new
                self._words.clear()
                if total > len(self._table) - 1:
                    self._table = self._new_table(total)
            # Table rows of the words, with two rows of padding on either side: the neighbours beyond the ends.
            slots = np.zeros((n, length + 4), np.int64)
            bigrams = np.zeros((n, length, 2), np.int64)  # each word's b-1 and b+1 ids (0: none)
            extras: list[tuple[int, list[list[int]]]] = []
            for b, words in enumerate(sentences):
                if not words:
                    continue
                known = [self._word(w) for w in words]
                norms = [k[1] for k in known]
                slots[b, 2: 2 + len(words)] = [k[0] for k in known]
                if len(words) > 1:
                    pairs = [_bigram_ids(x, y) for x, y in zip(norms, norms[1:])]
                    bigrams[b, 1: len(words), 0] = [p[0] for p in pairs]
                    bigrams[b, : len(words) - 1, 1] = [p[1] for p in pairs]
                extra = self.gazetteer.keys(norms) if self.gazetteer is not None else None
                if extra is not None and any(extra):
                    extras.append((b, _extra_ids(extra)))
            rows = self._table[slots]
        mine = rows[:, 2: length + 2]
        out = {}
        for name, first, width in _COLUMNS:
            out[name] = (mine[:, :, first: first + width] if width else mine[:, :, first]).astype(np.int64)
        # The sparse ids: bias, gazetteer, own, the neighbours' views (or the edge), bigrams; the 0s squeezed out.
        gz = np.zeros((n, length, max((len(i) for _, e in extras for i in e), default=0)), np.int64)
        for b, ids in extras:
            for t, i in enumerate(ids):
                gz[b, t, : len(i)] = i
        start = _DENSE + _OWN_IDS
        parts = [np.full((n, length, 1), _BIAS, np.int64), gz, mine[:, :, _DENSE: start]]
        for k, shift in enumerate((0, 1, 3, 4)):
            parts.append(rows[:, shift: shift + length, start + k * _VIEW_IDS: start + (k + 1) * _VIEW_IDS])
        parts.append(bigrams)
        ids = np.concatenate(parts, axis=2)
        mask = slots[:, 2: length + 2] > 0
        ids[~mask] = 0
        keep = ids > 0
        at = np.cumsum(keep, axis=2) - 1
        keep &= at < self.max_sparse
        sparse = np.zeros((n, length, self.max_sparse), np.int64)
        b, t, k = np.nonzero(keep)
        sparse[b, t, at[b, t, k]] = ids[b, t, k]
        out["sparse_ids"] = sparse
        out["mask"] = mask.astype(np.int64)
        return out
