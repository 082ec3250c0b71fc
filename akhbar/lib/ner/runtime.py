"""NER runtimes: word lists in, one (BIO tag, probability) per word out.

* ``WordModelRuntime``: the shipped word-level model (``models/ner-ar-small``):
  features in numpy, emissions from ONNX Runtime, the CRF decoded in numpy.
  The default install's runtime: no torch.
* ``akhbar.lib.ner.hf.HuggingFaceRuntime``: any Hugging Face token-classification
  model (path or hub id) on transformers/torch (the ``hf`` extra), its labels
  mapped to PERS/LOC/ORG/MISC.

``load_runtime`` picks one by what the model folder holds.
"""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from akhbar.lib.ner.canonical import KnownForms
from akhbar.lib.ner.crf import FeatureCrf
from akhbar.lib.ner.features import MAX_SPARSE, Vocab, WordFeaturizer
from akhbar.lib.ner.gazetteer import Gazetteer

LOG = logging.getLogger(__name__)
WORD_MODEL_TYPE = "akhbar-word-ner"


def viterbi(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[int]:
    """Best tag path of one sequence under a linear-chain CRF (transitions[from, to])."""
    n = emissions.shape[0]
    if n == 0:
        return []
    score = start + emissions[0]
    back = np.zeros((n, emissions.shape[1]), np.int64)
    for i in range(1, n):
        cand = score[:, None] + transitions + emissions[i][None, :]
        back[i] = cand.argmax(0)
        score = cand.max(0)
    best = [int((score + end).argmax())]
    for i in range(n - 1, 0, -1):
        best.append(int(back[i, best[-1]]))
    return best[::-1]


def viterbi_batch(emissions: np.ndarray, lengths: Sequence[int], transitions: np.ndarray, start: np.ndarray,
                  end: np.ndarray) -> list[list[int]]:
    """``viterbi`` of several sequences at once: emissions (batch, words, tags), sequence b is its first lengths[b] words.

    The same sums, maxima and first-best ties as ``viterbi`` on each sequence, one step of all sequences per numpy call.
    """
    batch, n = emissions.shape[0], max(lengths, default=0)
    if n == 0:
        return [[] for _ in range(batch)]
    lengths_arr = np.asarray(lengths)
    score = start + emissions[:, 0]
    back = np.zeros((n, batch, emissions.shape[2]), np.int64)
    for i in range(1, n):
        cand = score[:, :, None] + transitions + emissions[:, i, None, :]
        back[i] = cand.argmax(1)
        # A sequence that has ended keeps its last score.
        score = np.where((lengths_arr > i)[:, None], cand.max(1), score)
    rows = np.arange(batch)
    best = (score + end).argmax(1)
    paths = np.zeros((batch, n), np.int64)
    paths[:, n - 1] = best
    for i in range(n - 1, 0, -1):
        best = np.where(lengths_arr > i, back[i, rows, best], best)
        paths[:, i - 1] = best
    return [path[:length] for path, length in zip(paths.tolist(), lengths)]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class TagRuntime(Protocol):
    """Word lists -> one (BIO tag, probability) per word."""

    max_words: int

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]: ...


class WordModelRuntime:
    """The shipped word-level model: features in numpy, emissions from ONNX Runtime, CRF in numpy.

    Training subclasses it to run the same folder's torch weights (``_open`` and
    ``emissions``), so both paths share the features and the decoding.
    """

    def __init__(self, path: str | Path, threads: int = 1, onnx_file: str | None = None,
                 crf_weight: float | None = None) -> None:
        from tokenizers import Tokenizer

        path = Path(path)
        self.path = path
        self.config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.labels = [self.config["id2label"][str(i)] for i in range(len(self.config["id2label"]))]
        self.max_words = int(self.config["encoder"]["max_words"])
        crf = self.config["crf"]
        self.crf = tuple(np.asarray(crf[k], np.float32) for k in ("transitions", "start", "end"))
        gazetteer = Gazetteer.load(path / self.config["gazetteer"]) if self.config.get("gazetteer") else None
        self.featurizer = WordFeaturizer(Vocab.load(path / "vocab.json"), Tokenizer.from_file(str(path / "tokenizer.json")),
                                         max_sparse=int(self.config["encoder"].get("max_sparse", MAX_SPARSE)),
                                         gazetteer=gazetteer)
        # The feature CRF beside the model (a product of the two): its scores are added with this weight.
        ensemble = self.config.get("feature_crf") or {}
        self.crf_weight = float(ensemble.get("weight", 0.0) if crf_weight is None else crf_weight)
        self.feature_crf: FeatureCrf | None = None
        if self.crf_weight > 0:
            crf_file = path / ensemble.get("file", "crf.npz")
            if not crf_file.exists():
                raise FileNotFoundError(f"no feature CRF at {crf_file} (train it: python -m training.ner.crf_baseline)")
            self.feature_crf = FeatureCrf.load(crf_file)
            if self.feature_crf.labels != self.labels:
                raise ValueError(f"{crf_file}: tags {self.feature_crf.labels} differ from the model's {self.labels}")
        # Added to every word's tag scores before decoding: a per-tag bias chosen on dev data (training/ner/train.py
        # tune) that trades a type's precision for recall where the model is too shy of it.
        bias = self.config.get("tag_bias")
        self.tag_bias = np.asarray(bias, np.float32) if bias else None
        if self.tag_bias is not None and self.tag_bias.shape != (len(self.labels),):
            raise ValueError(f"{path / 'config.json'}: tag_bias has {self.tag_bias.size} values, the model has "
                             f"{len(self.labels)} tags")
        self._open(path, threads, onnx_file)

    @functools.cached_property
    def known_forms(self) -> KnownForms:
        """The vocabulary's words by frequency: what ``norm`` may strip a proclitic down to."""
        return KnownForms.from_vocab(self.featurizer.vocab.words)

    def _open(self, path: Path, threads: int, onnx_file: str | None) -> None:
        import onnxruntime as ort

        model_file = path / (onnx_file or self.config.get("onnx", "model.onnx"))
        if not model_file.exists():
            raise FileNotFoundError(f"no ONNX model at {model_file} (export it: python -m training.ner.export)")
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_file), so, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]

    def emissions(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(None, {k: arrays[k] for k in self.input_names})[0]

    def _scores(self, sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Tag scores of a batch, (batch, words, tags) (beyond a word list's end: 0), and the transitions."""
        em = self.emissions(self.featurizer.encode(sentences))
        transitions = self.crf[0]
        if self.feature_crf is not None:
            transitions = transitions + self.crf_weight * self.feature_crf.transitions
            crf = self.feature_crf.emissions_batch(sentences)
            if crf.shape != em.shape:  # no words at all: the model still read one padding word
                crf = np.zeros(em.shape, np.float32)
            em = em + self.crf_weight * crf
        if self.tag_bias is not None:
            em = em + self.tag_bias
        for i, words in enumerate(sentences):
            em[i, len(words):] = 0.0
        return em, transitions

    def potentials(self, sentences: Sequence[Sequence[str]]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(emissions, transitions, start, end) of each word list: the model's, plus the feature CRF's if on."""
        if not sentences:
            return []
        em, transitions = self._scores(sentences)
        _, start, end = self.crf
        return [(em[i, : len(words)], transitions, start, end) for i, words in enumerate(sentences)]

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]:
        if not sentences:
            return []
        em, transitions = self._scores(sentences)
        _, start, end = self.crf
        lengths = [len(words) for words in sentences]
        probs = _softmax(em)
        out = []
        for b, path in enumerate(viterbi_batch(em, lengths, transitions, start, end)):
            chosen = probs[b, np.arange(len(path)), path].tolist()
            out.append([(self.labels[t], p) for t, p in zip(path, chosen)])
        return out


def is_word_model(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding one of akhbar's word-level NER models."""
    config = Path(path) / "config.json"
    return config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("model_type") == WORD_MODEL_TYPE


def load_runtime(model: str | Path, threads: int = 1, onnx_file: str | None = None,
                 crf_weight: float | None = None) -> TagRuntime:
    """The runtime for a model folder of ours (``onnx_file``, ``crf_weight`` override its config's), or a HF model."""
    if is_word_model(model):
        return WordModelRuntime(model, threads=threads, onnx_file=onnx_file, crf_weight=crf_weight)
    from akhbar.lib.ner.hf import HuggingFaceRuntime

    return HuggingFaceRuntime(str(model))
