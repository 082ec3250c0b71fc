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

    def potentials(self, sentences: Sequence[Sequence[str]]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """(emissions, transitions, start, end) of each word list: the model's, plus the feature CRF's if on."""
        if not sentences:
            return []
        em = self.emissions(self.featurizer.encode(sentences))
        transitions, start, end = self.crf
        if self.feature_crf is not None:
            transitions = transitions + self.crf_weight * self.feature_crf.transitions
        out = []
        for i, words in enumerate(sentences):
            e = em[i, : len(words)]
            if self.feature_crf is not None:
                e = e + self.crf_weight * self.feature_crf.emissions(words)
            if self.tag_bias is not None:
                e = e + self.tag_bias
            out.append((e, transitions, start, end))
        return out

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]:
        out = []
        for em, transitions, start, end in self.potentials(sentences):
            path = viterbi(em, transitions, start, end)
            probs = _softmax(em)
            out.append([(self.labels[t], float(probs[j, t])) for j, t in enumerate(path)])
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
