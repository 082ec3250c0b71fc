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

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from akhbar.core.text import proclitic_stems
from akhbar.lib.ner.features import norm_word, shape_id

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

    def __init__(self, labels: Sequence[str], attrs: Sequence[str], weights: np.ndarray, transitions: np.ndarray) -> None:
        self.labels = list(labels)
        self.index = {a: i for i, a in enumerate(attrs)}
        self.attrs = list(attrs)
        self.weights = np.asarray(weights, np.float32)
        self.transitions = np.asarray(transitions, np.float32)
        # One zero row at the end: every word's attribute list starts with it, so none is empty.
        self._table = np.vstack([self.weights, np.zeros((1, len(self.labels)), np.float32)])
        self._zero = len(self.attrs)
        self._edges = {off: self.index.get(f"{off}:edge") for off in _OFFSETS}
        self._cache: dict[tuple[str, int], tuple[list, ...]] = {}

    def _rows(self, features: Features) -> tuple[list[int], list[float]]:
        rows, values = [], []
        for attr, value in attributes(features):
            j = self.index.get(attr)
            if j is not None:
                rows.append(j)
                values.append(value)
        return rows, values

    def _word_rows(self, nw: str, shape: int) -> tuple[list, ...]:
        """(rows, values) of a word's attributes as the word itself and as each neighbour position (cached)."""
        key = (nw, shape)
        hit = self._cache.get(key)
        if hit is None:
            own = _own_features(nw)
            own.update(_word_features(nw, shape, ""))
            hit = (self._rows(own), *(self._rows(_word_features(nw, shape, f"{off}:")) for off in _OFFSETS))
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[key] = hit
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
        """(words, tags) state scores: the weighted sum of each word's known attributes.

        The same sum as over ``sentence_features``, built from cached per-word rows.
        """
        n = len(tokens)
        if n == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        norms = [norm_word(t) for t in tokens]
        words = [self._word_rows(nw, shape_id(t)) for nw, t in zip(norms, tokens)]
        index = self.index
        rows: list[int] = []
        values: list[float] = []
        starts = []
        for i in range(n):
            starts.append(len(rows))
            rows.append(self._zero)
            values.append(0.0)
            r, v = words[i][0]
            rows += r
            values += v
            for k, off in enumerate(_OFFSETS, 1):
                j = i + off
                if 0 <= j < n:
                    r, v = words[j][k]
                    rows += r
                    values += v
                elif self._edges[off] is not None:
                    rows.append(self._edges[off])
                    values.append(1.0)
            keys = []
            if i > 0:
                keys.append(f"bigram-1:{norms[i - 1]}|{norms[i]}")
            if i + 1 < n:
                keys.append(f"bigram+1:{norms[i]}|{norms[i + 1]}")
            if extra is not None:
                keys += extra[i]
            for key in keys:
                j = index.get(key)
                if j is not None:
                    rows.append(j)
                    values.append(1.0)
        contrib = self._table[np.asarray(rows)] * np.asarray(values, np.float32)[:, None]
        return np.add.reduceat(contrib, np.asarray(starts), axis=0)

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
