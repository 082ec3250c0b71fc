"""The event classifier: the event types of ``../shared/spec/event-taxonomy.md`` for each article.

An event model folder holds ``config.json`` (labels, per-type thresholds and
the primary head's calibration biases, tuned on hand-labeled articles the
model did not train on) and one of two scorers, both on the default install (ONNX Runtime, numpy):

- ``model.onnx`` + input files: the compact transformer (two heads over the
  project encoder ``models/encoder-ar-small``), on onnxruntime + tokenizers.
  The shipped ``models/events-ar-small`` is its Wide & Deep form: the inputs
  also carry the article's TF-IDF character n-grams (``WideInputs``), read by
  a linear part whose logits add to the transformer's.
- ``linear.safetensors`` + ``ngrams.json``: TF-IDF character n-grams + logistic
  regression, scored in numpy (``LinearScorer``), the comparison model.

Either gives a sigmoid score per type and a softmax over the types for the
primary one; ``decide`` applies the thresholds and the taxonomy's rules.
The classifier sees ``Article.title`` and ``Article.text`` as extracted, i.e.
without the page's "related news" boilerplate (``akhbar.lib.extract``).
"""
from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from akhbar.lib.events.decision import EventPrediction, calibrate_primary, decide
from akhbar.lib.events.features import INPUT_KINDS, LINEAR_MODEL_TYPE, TfidfFeatures
from akhbar.settings import settings


class LinearScorer:
    """``TfidfFeatures`` + one logistic regression per type + a softmax for the primary."""

    files = ("linear.safetensors", "ngrams.json")

    def __init__(self, path: Path, config: dict[str, Any]):
        from safetensors.numpy import load_file

        arrays = load_file(str(path / "linear.safetensors"))
        self.type_weights = arrays["type_weights"].astype(np.float32)  # [features, labels]
        self.type_bias = arrays["type_bias"].astype(np.float32)
        self.primary_weights = arrays["primary_weights"].astype(np.float32)
        self.primary_bias = arrays["primary_bias"].astype(np.float32)
        self.features = TfidfFeatures.from_folder(path, arrays["idf"], config)

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        rows = self.features(pairs)
        type_logits = np.stack([v @ self.type_weights[c] for c, v in rows]) + self.type_bias
        primary_logits = np.stack([v @ self.primary_weights[c] for c, v in rows]) + self.primary_bias
        primary_logits -= primary_logits.max(axis=1, keepdims=True)
        probs = np.exp(primary_logits)
        return 1.0 / (1.0 + np.exp(-type_logits)), probs / probs.sum(axis=1, keepdims=True)


class EventModel:
    """A saved event classifier folder: ``config.json`` + ``model.onnx`` and its tokenizer files
    (the transformer), or ``linear.safetensors`` + ``ngrams.json`` (the TF-IDF baseline)."""

    def __init__(self, path: str | os.PathLike, threads: int | None = None):
        self.path = Path(path)
        config_path = self.path / "config.json"
        if not config_path.is_file():
            raise FileNotFoundError(f"no event model at {self.path}: {config_path} is missing")
        self.config: dict[str, Any] = json.loads(config_path.read_text(encoding="utf-8"))
        self.labels: tuple[str, ...] = tuple(self.config["labels"])
        self.thresholds: list[float] = [float(self.config["thresholds"][code]) for code in self.labels]
        bias = self.config.get("primary_bias") or {}
        self.primary_bias = np.array([float(bias.get(code, 0.0)) for code in self.labels], dtype=np.float32)
        if self.config.get("model_type") == LINEAR_MODEL_TYPE:
            self._score = LinearScorer(self.path, self.config)
            return
        import onnxruntime

        kind = self.config.get("inputs", "wordpiece")
        if kind not in INPUT_KINDS:
            raise ValueError(f"{config_path}: unknown inputs {kind!r}; expected one of {sorted(INPUT_KINDS)}")
        self.inputs = INPUT_KINDS[kind].from_folder(self.path, self.config)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or settings().model_threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(self.path / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self._score = self._onnx_scores

    def _onnx_scores(self, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        type_scores, primary_probs = self.session.run(["type_scores", "primary_probs"], self.inputs.encode(pairs))
        return type_scores, primary_probs

    def scores(self, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """Per-type sigmoid scores and primary-type probabilities (calibrated), each [len(pairs), len(labels)]."""
        if not pairs:
            empty = np.zeros((0, len(self.labels)), dtype=np.float32)
            return empty, empty
        type_scores, primary_probs = self._score(pairs)
        return type_scores, calibrate_primary(primary_probs, self.primary_bias)

    def predict(self, pairs: Sequence[tuple[str, str]]) -> list[EventPrediction]:
        """(title, text) pairs -> one prediction each, with the model's own thresholds."""
        type_scores, primary_probs = self.scores(pairs)
        return decide(type_scores, primary_probs, self.thresholds, self.labels)


