"""The feature CRF at inference, in numpy: its features, its exported weights, Viterbi and marginals.

The CRF is trained with sklearn-crfsuite (``training/ner/crf_baseline.py``),
which is a training dependency only. Its weights are exported to one ``.npz``
(attribute names, a weight per attribute and tag, the tag transitions) and
scored here with plain numpy, so the pipeline's install stays ONNX Runtime +
numpy. The features are defined here, once, for training and inference.

Attribute names follow crfsuite's conversion of a feature dict: a string
value ``{"w": "x"}`` is the attribute ``w:x`` with value 1, a number
``{"len": 3}`` is the attribute ``len`` with value 3.
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from akhbar.core.text import proclitic_stems
from akhbar.lib.ner.features import norm_and_shape, norm_word, shape_id

Features = dict[str, object]


def _word_features(nw: str, shape: int, prefix: str) -> Features:
    f: Features = {
        f"{prefix}w": nw,
        f"{prefix}p2": nw[:2], f"{prefix}p3": nw[:3], f"{prefix}s2": nw[-2:], f"{prefix}s3": nw[-3:],
        f"{prefix}shape": shape,
    }
    for stem in proclitic_stems(nw)[:2]:
        f[f"{prefix}stem:{stem}"] = 1.0
    return f


def _own_features(nw: str) -> Features:
    return {"bias": 1.0, "len": min(len(nw), 10), "p1": nw[:1], "s1": nw[-1:], "p4": nw[:4], "s4": nw[-4:]}


_OFFSETS = (-2, -1, 1, 2)
_OWN_ROWS = 14  # own attributes: bias, len, p1, s1, p4, s4, w, p2, p3, s2, s3, shape, at most 2 stems
_VIEW_ROWS = 8  # a neighbour's: w, p2, p3, s2, s3, shape, at most 2 stems


def sentence_features(tokens: Sequence[str], extra: Sequence[Sequence[str]] | None = None) -> list[Features]:
    """Affix, clitic, shape features of each word and its neighbours (+-2), bigrams.

    ``extra`` adds string attributes per word (e.g. gazetteer matches), each with value 1.
    """
    norms = [norm_word(t) for t in tokens]
    shapes = [shape_id(t) for t in tokens]
    feats = []
    for i, nw in enumerate(norms):
        f = _own_features(nw)
        f.update(_word_features(nw, shapes[i], ""))
        for off in _OFFSETS:
            j = i + off
            if 0 <= j < len(tokens):
                f.update(_word_features(norms[j], shapes[j], f"{off}:"))
            else:
                f[f"{off}:edge"] = 1.0
        if i > 0:
            f["bigram-1"] = norms[i - 1] + "|" + nw
        if i + 1 < len(tokens):
            f["bigram+1"] = nw + "|" + norms[i + 1]
        if extra is not None:
            for key in extra[i]:
                f[key] = 1.0
        feats.append(f)
    return feats


def attributes(features: Features) -> list[tuple[str, float]]:
    """crfsuite's (attribute, value) pairs of one word's feature dict."""
    out = []
    for key, value in features.items():
        if isinstance(value, str):
            out.append((f"{key}:{value}", 1.0))
        else:
            out.append((key, float(value)))  # bool and numbers: the value scales the weight
    return out


def forward_backward(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray | None = None,
                     end: np.ndarray | None = None) -> np.ndarray:
    """Per-word tag marginals (n, tags) of a linear-chain CRF (transitions[from, to]), in log space."""
    n, k = emissions.shape
    if n == 0:
        return np.zeros((0, k), np.float64)
    start = np.zeros(k) if start is None else start
    end = np.zeros(k) if end is None else end
    em = emissions.astype(np.float64)
    tr = transitions.astype(np.float64)
    alpha = np.empty((n, k))
    beta = np.empty((n, k))
    alpha[0] = start + em[0]
    for i in range(1, n):
        alpha[i] = np.logaddexp.reduce(alpha[i - 1][:, None] + tr, axis=0) + em[i]
    beta[-1] = end
    for i in range(n - 2, -1, -1):
        beta[i] = np.logaddexp.reduce(tr + (em[i + 1] + beta[i + 1])[None, :], axis=1)
    log_z = np.logaddexp.reduce(alpha[-1] + end)
    return np.exp(alpha + beta - log_z)


class FeatureCrf:
    """A trained feature CRF's weights: emissions from the features of a sentence, transitions between tags."""

    max_words = 64  # windows as the neural model reads them, so both score the same words together

    def __init__(self, labels: Sequence[str], attrs: Sequence[str], weights: np.ndarray, transitions: np.ndarray,
                 cache_words: int = 1 << 16) -> None:
        self.labels = list(labels)
        self.index = {a: i for i, a in enumerate(attrs)}
        self.attrs = list(attrs)
        self.weights = np.asarray(weights, np.float32)
        self.transitions = np.asarray(transitions, np.float32)
        # The weight rows, one zero row (every word's row list starts with it, so none is empty), then rows of
        # numeric attributes' weights times a value (added when first met): every attribute's share is one row.
        self._table = np.vstack([self.weights, np.zeros((1, len(self.labels)), np.float32)])
        self._zero = len(self.attrs)
        self._scaled: dict[tuple[int, float], int] = {}
        # A neighbour's attribute is its position's prefix and the word's own attribute ("-1:" + "w:x"): per
        # position, the known attributes by their unprefixed names, so each word's attributes are made once.
        self._views: dict[str, list[int]] = {}  # unprefixed attribute -> its row at each position (-1: unknown)
        for k, prefix in enumerate(f"{o}:" for o in _OFFSETS):
            for attr, i in self.index.items():
                if attr.startswith(prefix):
                    self._views.setdefault(attr[len(prefix):], [-1] * len(_OFFSETS))[k] = i
        self.cache_words = cache_words
        self._words: dict[str, tuple[int, str]] = {}  # word as written -> (its row in _words_table, its lookup form)
        self._words_table = self._new_words_table(cache_words)
        self._pairs: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()  # one batch at a time fills and reads the tables (a worker's threads share them)

    def _new_words_table(self, words: int) -> np.ndarray:
        """Per word, the table rows of its attributes as itself, then as each neighbour (-2, -1, +1, +2) sees it, -1
        after the last; row 0 stands for the neighbours beyond a sentence's ends: each position's edge attribute."""
        table = np.full((words + 1, _OWN_ROWS + _VIEW_ROWS * len(_OFFSETS)), -1, np.int32)
        for k, off in enumerate(_OFFSETS):
            table[0, _OWN_ROWS + k * _VIEW_ROWS] = self.index.get(f"{off}:edge", -1)
        return table

    def _row(self, j: int, value: float) -> int:
        """The table row of attribute row ``j`` with ``value``: the weight row, or its product with the value."""
        if value == 1.0:
            return j
        scaled = self._scaled.get((j, value))
        if scaled is None:  # the same float32 product as weight row * value
            scaled = self._scaled[(j, value)] = len(self._table)
            product = self._table[j][None, :] * np.asarray([value], np.float32)[:, None]
            self._table = np.vstack([self._table, product])
        return scaled

    def word_rows(self, word: str) -> list[int]:
        """``word``'s row of the words table: its attributes' table rows as itself, then as each neighbour, -1-padded."""
        nw, shape = norm_and_shape(word)
        pairs = attributes(_word_features(nw, shape, ""))
        own = [self._row(self.index[a], v) for a, v in attributes(_own_features(nw)) + pairs if a in self.index]
        views: list[list[int]] = [[] for _ in _OFFSETS]
        for attr, value in pairs:
            rows = self._views.get(attr)
            if rows is not None:
                for view, j in zip(views, rows):
                    if j >= 0:
                        view.append(self._row(j, value))
        out = own + [-1] * (_OWN_ROWS - len(own))
        for view in views:
            out += view + [-1] * (_VIEW_ROWS - len(view))
        return out

    def _word(self, word: str) -> tuple[int, str]:
        hit = self._words.get(word)
        if hit is None:
            slot = len(self._words) + 1
            self._words_table[slot] = self.word_rows(word)
            hit = self._words[word] = (slot, norm_and_shape(word)[0])
        return hit

    def _bigram(self, pair: tuple[str, str]) -> tuple[int, int]:
        """Rows of two neighbours' bigram (-1: unknown): as the right word's attribute (bigram-1), as the left's (bigram+1)."""
        left, right = pair
        hit = (self.index.get(f"bigram-1:{left}|{right}", -1), self.index.get(f"bigram+1:{left}|{right}", -1))
        if len(self._pairs) >= self.cache_words:
            self._pairs.clear()
        self._pairs[pair] = hit
        return hit

    @classmethod
    def from_crfsuite(cls, crf, labels: Sequence[str]) -> FeatureCrf:
        """Export an sklearn_crfsuite.CRF's state and transition weights in ``labels`` order."""
        col = {label: i for i, label in enumerate(labels)}
        attrs = sorted({a for a, _ in crf.state_features_})
        index = {a: i for i, a in enumerate(attrs)}
        weights = np.zeros((len(attrs), len(labels)), np.float32)
        for (attr, label), w in crf.state_features_.items():
            weights[index[attr], col[label]] = w
        transitions = np.zeros((len(labels), len(labels)), np.float32)
        for (a, b), w in crf.transition_features_.items():
            transitions[col[a], col[b]] = w
        return cls(labels, attrs, weights, transitions)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, labels=np.array(self.labels), attrs=np.array(self.attrs),
                            weights=self.weights.astype(np.float16), transitions=self.transitions)

    @classmethod
    def load(cls, path: str | Path) -> FeatureCrf:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["labels"].tolist(), data["attrs"].tolist(), data["weights"].astype(np.float32),
                       data["transitions"])

    def emissions(self, tokens: Sequence[str], extra: Sequence[Sequence[str]] | None = None) -> np.ndarray:
        """(words, tags) state scores: the weighted sum of each word's known attributes (``sentence_features``)."""
        if not tokens:
            return np.zeros((0, len(self.labels)), np.float32)
        return self.emissions_batch([tokens], None if extra is None else [extra])[0]

    def emissions_batch(self, sentences: Sequence[Sequence[str]],
                        extra: Sequence[Sequence[Sequence[str]]] | None = None) -> np.ndarray:
        """``emissions`` of several word lists: (lists, longest, tags), 0 beyond a list's end.

        Each word's sum runs over the rows of its attributes in ``sentence_features``'
        order, after a zero row, in one ``np.add.reduceat``: the rows are
        gathered in numpy from each word's cached table rows and its neighbours'.
        """
        n = len(sentences)
        length = max((len(s) for s in sentences), default=0)
        total = sum(len(s) for s in sentences)
        with self._lock:
            if len(self._words) + total > len(self._words_table) - 1:  # room for every word of the batch being new
                self._words.clear()
                if total > len(self._words_table) - 1:
                    self._words_table = self._new_words_table(total)
            slots = np.zeros((n, length + 4), np.int64)  # two rows of padding on either side: beyond the ends
            bigrams = np.full((n, length, 2), -1, np.int64)
            more: list[tuple[int, list[list[int]]]] = []
            pairs = self._pairs
            for b, tokens in enumerate(sentences):
                m = len(tokens)
                if not m:
                    continue
                known = [self._word(t) for t in tokens]
                norms = [k[1] for k in known]
                slots[b, 2: 2 + m] = [k[0] for k in known]
                if m > 1:
                    found = [pairs.get(pair) or self._bigram(pair) for pair in zip(norms, norms[1:])]
                    bigrams[b, 1:m, 0] = [f[0] for f in found]
                    bigrams[b, : m - 1, 1] = [f[1] for f in found]
                if extra is not None and any(extra[b]):
                    more.append((b, [[self.index[k] for k in keys if k in self.index] for keys in extra[b]]))
            rows = self._words_table[slots]
            table = self._table  # with every scaled row the batch's words need
        parts = [np.full((n, length, 1), self._zero, np.int64), rows[:, 2: length + 2, :_OWN_ROWS]]
        for k, shift in enumerate((0, 1, 3, 4)):
            parts.append(rows[:, shift: shift + length, _OWN_ROWS + k * _VIEW_ROWS: _OWN_ROWS + (k + 1) * _VIEW_ROWS])
        parts.append(bigrams)
        if more:
            keys = np.full((n, length, max(len(r) for _, e in more for r in e)), -1, np.int64)
            for b, e in more:
                for t, r in enumerate(e):
                    keys[b, t, : len(r)] = r
            parts.append(keys)
        real = slots[:, 2: length + 2] > 0
        ids = np.concatenate(parts, axis=2)[real]
        keep = ids >= 0
        counts = keep.sum(1)
        out = np.zeros((n, length, len(self.labels)), np.float32)
        if len(ids):
            out[real] = np.add.reduceat(table[ids[keep]], np.cumsum(counts) - counts, axis=0)
        return out

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]:
        """The ``TagRuntime`` interface: Viterbi tags and each tag's marginal probability."""
        from akhbar.lib.ner.runtime import viterbi

        out = []
        for tokens in sentences:
            em = self.emissions(tokens)
            zeros = np.zeros(len(self.labels), np.float32)
            path = viterbi(em, self.transitions, zeros, zeros)
            marg = forward_backward(em, self.transitions)
            out.append([(self.labels[t], float(marg[j, t])) for j, t in enumerate(path)])
        return out
