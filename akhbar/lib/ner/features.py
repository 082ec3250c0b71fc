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
def _word_ids(nw: str, shape: int) -> tuple[tuple[int, ...], ...]:
    """Hashed ids of a word's own keys, then of its keys as each neighbour (-2, -1, +1, +2) sees it."""
    own = [f"p1:{nw[:1]}", f"s1:{nw[-1:]}", f"p4:{nw[:4]}", f"s4:{nw[-4:]}", f"len:{min(len(nw), 10)}"]
    own += _word_keys(nw, shape, "")
    return (tuple(_hash(k) for k in own), *(tuple(_hash(k) for k in _word_keys(nw, shape, f"{off}:")[:4]) for off in _OFFSETS))


_BIAS = _hash("bias")
_EDGES = {off: _hash(f"{off}:edge") for off in _OFFSETS}


def sparse_feature_ids(words: Sequence[str], norms: Sequence[str], max_sparse: int = MAX_SPARSE,
                       extra: Sequence[Sequence[str]] | None = None) -> list[list[int]]:
    """Hashed ids of a feature CRF's indicator features of each word (itself, +-2 neighbours, bigrams).

    They feed a linear layer added to the transformer's tag scores: the sharp,
    memorizing evidence a CRF is good at, next to the encoder's smooth one.
    ``extra`` holds more keys per word (gazetteer matches), given for the word
    and as context for its neighbours (+-1), ahead of the rest.
    """
    n = len(words)
    cached = [_word_ids(nw, shape_id(w)) for w, nw in zip(words, norms)]
    out = []
    for i, nw in enumerate(norms):
        ids = [_BIAS]
        if extra is not None:
            keys = list(extra[i])
            keys += [f"-1:{k}" for k in extra[i - 1]] if i > 0 else []
            keys += [f"+1:{k}" for k in extra[i + 1]] if i + 1 < n else []
            ids += [_hash(k) for k in keys]
        ids += cached[i][0]
        for k, off in enumerate(_OFFSETS, 1):
            j = i + off
            if 0 <= j < n:
                ids += cached[j][k]
            else:
                ids.append(_EDGES[off])
        if i > 0:
            ids.append(_hash(f"b-1:{norms[i - 1]}|{nw}"))
        if i + 1 < n:
            ids.append(_hash(f"b+1:{nw}|{norms[i + 1]}"))
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


class WordFeaturizer:
    """Words -> the integer arrays the model reads: word, stem, pieces, chars, affixes, shape."""

    def __init__(self, vocab: Vocab, tokenizer, max_sparse: int = MAX_SPARSE, gazetteer=None) -> None:
        self.vocab = vocab
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer (WordPiece), used on single words
        self.max_sparse = max_sparse
        self.gazetteer = gazetteer  # an akhbar.lib.ner.gazetteer.Gazetteer, or None
        self._piece_cache: dict[str, list[int]] = {}

    def pieces(self, nw: str) -> list[int]:
        ids = self._piece_cache.get(nw)
        if ids is None:
            ids = self.tokenizer.encode(nw, add_special_tokens=False).ids[:MAX_PIECES] or [UNK]
            if len(self._piece_cache) < 200_000:
                self._piece_cache[nw] = ids
        return ids

    def encode(self, sentences: Sequence[Sequence[str]], max_len: int | None = None) -> dict[str, np.ndarray]:
        """Batch of word lists -> padded int64 arrays (batch, words[, k]) and a 0/1 mask."""
        n = len(sentences)
        length = max_len or max((len(s) for s in sentences), default=1) or 1
        out = {
            "word_ids": np.zeros((n, length), np.int64),
            "stem_ids": np.zeros((n, length), np.int64),
            "piece_ids": np.zeros((n, length, MAX_PIECES), np.int64),
            "char_ids": np.zeros((n, length, MAX_CHARS), np.int64),
            "affix_ids": np.zeros((n, length, 4), np.int64),
            "shape_ids": np.zeros((n, length), np.int64),
            "sparse_ids": np.zeros((n, length, self.max_sparse), np.int64),
            "mask": np.zeros((n, length), np.int64),
        }
        for b, words in enumerate(sentences):
            words = list(words[:length])
            norms = [norm_word(w) for w in words]
            extra = self.gazetteer.keys(norms) if self.gazetteer is not None else None
            for t, ids in enumerate(sparse_feature_ids(words, norms, self.max_sparse, extra)):
                out["sparse_ids"][b, t, : len(ids)] = ids
            for t, (word, nw) in enumerate(zip(words, norms)):
                out["word_ids"][b, t] = self.vocab.word_id(nw)
                out["stem_ids"][b, t] = self.vocab.stem_id(nw)
                p = self.pieces(nw)
                out["piece_ids"][b, t, : len(p)] = p
                chars = [self.vocab.char_index.get(c, UNK) for c in nw[:MAX_CHARS]]
                out["char_ids"][b, t, : len(chars)] = chars
                out["affix_ids"][b, t] = affix_ids(nw)
                out["shape_ids"][b, t] = shape_id(word)
                out["mask"][b, t] = 1
        return out


