"""ClassifyEvents: the event types of ``../shared/spec/event-taxonomy.md`` for each article.

An event model folder holds ``config.json`` (labels, per-type thresholds and
the primary head's calibration biases, tuned on hand-labeled articles the
model did not train on) and one of two scorers, both on the light ``ml`` extra:

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
without the page's "related news" boilerplate (``transforms/extract.py``).
"""
from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from schemas.records import Article
from transforms.enrich import Enricher
from transforms.normalize import normalize_arabic

# The taxonomy's codes, in the order of the models' output columns.
EVENT_TYPES: tuple[str, ...] = (
    "DIPLOMACY",
    "STATEMENT",
    "AID_COOPERATION",
    "MILITARY_POSTURE",
    "SANCTIONS",
    "PROTEST",
    "ARREST_LEGAL",
    "ARMED_CONFLICT",
    "POLITICS_GOVERNANCE",
    "DISASTER_ACCIDENT",
    "ECONOMY",
    "OTHER",
)
OTHER = "OTHER"
LOG = logging.getLogger(__name__)
DEFAULT_EVENT_MODEL = Path(__file__).resolve().parents[1] / "models" / "events-ar-small"
# Text past this many characters never reaches the model (max_length tokens come first); cut it early.
MAX_INPUT_CHARS = 4000


def model_inputs(title: str | None, text: str | None, normalize: bool = False) -> tuple[str, str]:
    """(headline, body) as the model reads them, at training and at inference alike.

    ``normalize`` applies ``normalize_arabic`` (the model's config says whether its tokenizer expects it).
    """
    title = " ".join((title or "").split())
    body = " ".join((text or "")[:MAX_INPUT_CHARS].split())
    if normalize:
        title, body = normalize_arabic(title), normalize_arabic(body)
    return title, body


@dataclass(frozen=True)
class EventPrediction:
    """The thresholded types (with their scores, best first) and the primary type of one article."""

    types: tuple[tuple[str, float], ...]
    primary: str

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.types]


def decide(
    type_scores: np.ndarray, primary_probs: np.ndarray, thresholds: Sequence[float], labels: Sequence[str] = EVENT_TYPES
) -> list[EventPrediction]:
    """Scores -> predictions: a type is on when its score reaches its threshold.

    The taxonomy's rules are applied here, so every caller agrees on them: the
    primary type is one of the article's types, and OTHER never combines with
    another type (when real types pass their thresholds, OTHER is dropped and
    the primary is the most likely of them).
    """
    thresholds_arr = np.asarray(thresholds, dtype=np.float32)
    other = list(labels).index(OTHER)
    predictions = []
    for scores, probs in zip(type_scores, primary_probs):
        on = scores >= thresholds_arr
        on[other] = False
        if on.any():
            primary = int(np.argmax(np.where(on, probs, -1.0)))
            if probs.argmax() != other and not on[probs.argmax()]:
                # The primary head is confident in a type the sigmoid head missed: trust it, add the type.
                primary = int(probs.argmax())
                on[primary] = True
        else:
            primary = int(probs.argmax())
            on[primary] = True
        chosen = sorted(np.flatnonzero(on), key=lambda i: -float(scores[i]))
        predictions.append(
            EventPrediction(types=tuple((labels[i], round(float(scores[i]), 4)) for i in chosen), primary=labels[primary])
        )
    return predictions


def calibrate_primary(primary_probs: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Shift the primary head's log-probabilities by per-type biases (fitted on hand-labeled real
    articles at training time, ``training/events/tuning.py``) and renormalize."""
    if not bias.any():
        return primary_probs
    shifted = np.log(np.clip(primary_probs, 1e-9, 1.0)) + bias
    shifted = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    return (shifted / shifted.sum(axis=1, keepdims=True)).astype(primary_probs.dtype)


class PieceInputs:
    """(headline, body) -> a WordPiece pair ``[CLS] headline [SEP] body [SEP]`` (body truncated first)."""

    names = ("input_ids", "attention_mask")
    files = ("tokenizer.json",)

    def __init__(self, tokenizer, max_length: int, normalize: bool, pad_token: str = "[PAD]"):
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.normalize = normalize
        self.pad_token = pad_token
        self.pad_id = tokenizer.token_to_id(pad_token) or 0

    @classmethod
    def from_folder(cls, path: Path, config: dict[str, Any]) -> "PieceInputs":
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        return cls(tokenizer, int(config["max_length"]), bool(config.get("normalize_arabic")), config.get("pad_token", "[PAD]"))

    def save(self, path: Path) -> dict[str, Any]:
        self.tokenizer.save(str(path / "tokenizer.json"))
        return {"inputs": "wordpiece", "max_length": self.max_length, "normalize_arabic": self.normalize,
                "pad_token": self.pad_token}

    def encode(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        self.tokenizer.enable_truncation(max_length=self.max_length, strategy="only_second")
        self.tokenizer.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token)
        encodings = self.tokenizer.encode_batch([model_inputs(t, x, self.normalize) for t, x in pairs])
        return {
            "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
        }


class WordInputs:
    """(headline, body) -> the word feature arrays of the project encoder (``transforms.ner_features``).

    The words of the headline, a "." and the body's words, cut at ``max_words``.
    """

    names = ("word_ids", "stem_ids", "piece_ids", "char_ids", "affix_ids", "shape_ids", "mask")
    files = ("tokenizer.json", "vocab.json")

    def __init__(self, featurizer, max_words: int):
        self.featurizer = featurizer
        self.max_words = max_words

    @classmethod
    def from_folder(cls, path: Path, config: dict[str, Any]) -> "WordInputs":
        from tokenizers import Tokenizer

        from transforms.ner_features import Vocab, WordFeaturizer

        featurizer = WordFeaturizer(Vocab.load(path / "vocab.json"), Tokenizer.from_file(str(path / "tokenizer.json")))
        return cls(featurizer, int(config["max_length"]))

    def save(self, path: Path) -> dict[str, Any]:
        self.featurizer.tokenizer.save(str(path / "tokenizer.json"))
        self.featurizer.vocab.save(path / "vocab.json")
        return {"inputs": "words", "max_length": self.max_words}

    def words(self, title: str, text: str) -> list[str]:
        from transforms.ner_features import split_words

        title, body = model_inputs(title, text)
        words = [title[s:e] for s, e in split_words(title)] + ["."]
        body = body[: self.max_words * 20]
        words += [body[s:e] for s, e in split_words(body)]
        return words[: self.max_words]

    def encode(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        arrays = self.featurizer.encode([self.words(t, x) for t, x in pairs])
        return {name: arrays[name] for name in self.names}


INPUT_KINDS = {"wordpiece": PieceInputs, "words": WordInputs}

# -- the linear alternative: TF-IDF character n-grams + logistic regression, in numpy ------------------
LINEAR_MODEL_TYPE = "akhbar-event-tfidf-lr"
LINEAR_BODY_CHARS = 1500


def linear_document(title: str | None, text: str | None) -> str:
    """What the linear model reads: the headline twice (it names the primary event) and the body's start."""
    title, body = model_inputs(title, text, normalize=True)
    return f"{title} {title} {body[:LINEAR_BODY_CHARS]}".lower()


def char_ngrams(document: str, low: int = 2, high: int = 5) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's ``char_wb``), for training and inference."""
    grams: list[str] = []
    for word in document.split():
        word = f" {word} "
        for n in range(low, high + 1):
            if len(word) <= n:
                grams.append(word)
                break
            grams.extend(word[i : i + n] for i in range(len(word) - n + 1))
    return grams


class TfidfFeatures:
    """Sublinear TF-IDF over ``char_ngrams`` of ``linear_document``, L2-normalized (scikit-learn's defaults).

    The same features feed the linear model and the transformer's wide part; the
    vocabulary is ``ngrams.json`` (one n-gram per column) and the idf a float32 array.
    """

    def __init__(self, grams: Sequence[str], idf: np.ndarray, ngram_range: Sequence[int] = (2, 5)):
        self.grams = list(grams)
        self.index = {g: i for i, g in enumerate(self.grams)}
        self.idf = np.asarray(idf, dtype=np.float32)
        self.ngram_range = tuple(ngram_range)

    @classmethod
    def from_folder(cls, path: Path, idf: np.ndarray, config: dict[str, Any]) -> "TfidfFeatures":
        grams = json.loads((path / "ngrams.json").read_text(encoding="utf-8"))
        return cls(grams, idf, config.get("ngram_range", (2, 5)))

    def save_vocabulary(self, path: Path) -> None:
        (path / "ngrams.json").write_text(json.dumps(self.grams, ensure_ascii=False), encoding="utf-8")

    def __call__(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per (title, text): the non-zero columns and their values."""
        rows = []
        for title, text in pairs:
            counts: dict[int, int] = {}
            for gram in char_ngrams(linear_document(title, text), *self.ngram_range):
                column = self.index.get(gram)
                if column is not None:
                    counts[column] = counts.get(column, 0) + 1
            columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self.idf[columns]
            norm = float(np.sqrt((values**2).sum()))
            rows.append((columns, values / norm if norm else values))
        return rows


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


class WideInputs:
    """The transformer's inputs plus its wide part's: the TF-IDF n-gram columns and values of each
    article, padded with column 0 and value 0 (which adds nothing). Wide inputs come first, so the
    deep encoder's mask stays the last input."""

    wide_names = ("ngram_ids", "ngram_values")

    def __init__(self, deep, features: TfidfFeatures):
        self.deep = deep
        self.features = features
        self.names = self.wide_names + tuple(deep.names)

    @classmethod
    def from_folder(cls, path: Path, config: dict[str, Any]) -> "WideInputs":
        from safetensors.numpy import load_file

        deep = INPUT_KINDS[config["deep_inputs"]].from_folder(path, config)
        return cls(deep, TfidfFeatures.from_folder(path, load_file(str(path / "tfidf.safetensors"))["idf"], config))

    def save(self, path: Path) -> dict[str, Any]:
        from safetensors.numpy import save_file

        self.features.save_vocabulary(path)
        save_file({"idf": self.features.idf}, str(path / "tfidf.safetensors"))
        deep = self.deep.save(path)
        return {**deep, "inputs": "wide+" + deep["inputs"], "deep_inputs": deep["inputs"],
                "ngram_range": list(self.features.ngram_range), "wide_features": len(self.features.grams)}

    def encode(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        rows = self.features(pairs)
        width = max(1, max((len(c) for c, _ in rows), default=1))
        ids = np.zeros((len(rows), width), dtype=np.int64)
        values = np.zeros((len(rows), width), dtype=np.float32)
        for i, (columns, vals) in enumerate(rows):
            ids[i, : len(columns)] = columns
            values[i, : len(vals)] = vals
        return {"ngram_ids": ids, "ngram_values": values, **self.deep.encode(pairs)}


INPUT_KINDS.update({"wide+wordpiece": WideInputs, "wide+words": WideInputs})


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
        options.intra_op_num_threads = threads or int(os.environ.get("AKHBAR_MODEL_THREADS", "1"))
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


def event_enricher(option: str | None, threads: int | None = None) -> "EventEnricher | None":
    """The ``--event_model`` option -> the enricher to run, or None.

    ``none`` turns the stage off. ``default`` (or no value) is the shipped model;
    where it is not installed (no model folder, or no ``ml`` extra) the stage is
    skipped with a warning rather than failing the run. An explicit folder must
    hold a model: a wrong path is an error that names it.
    """
    value = (option or "default").strip()
    if value.lower() == "none":
        return None
    if value.lower() == "default":
        missing = [m for m in ("onnxruntime", "tokenizers") if importlib.util.find_spec(m) is None]
        if missing or not (DEFAULT_EVENT_MODEL / "config.json").is_file():
            LOG.warning("event classification skipped: %s", f"missing {missing} (install the ml extra)"
                        if missing else f"no model at {DEFAULT_EVENT_MODEL}")
            return None
        return EventEnricher(DEFAULT_EVENT_MODEL, threads=threads)
    path = Path(value).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"--event_model {value!r}: {path / 'config.json'} is missing")
    return EventEnricher(path, threads=threads)


class EventEnricher(Enricher):
    """Fills ``event_types`` (list of {code, score}) and ``primary_event`` for each article."""

    name = "events"
    columns = ("event_types", "primary_event")
    batch_size = 16

    def __init__(self, model_path: str | os.PathLike = DEFAULT_EVENT_MODEL, threads: int | None = None):
        self.model_path = str(model_path)
        self.threads = threads
        self._model: EventModel | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Workers receive the path and load the model in setup(); the session itself does not pickle.
        return {"model_path": self.model_path, "threads": self.threads, "_model": None}

    def load(self) -> None:
        if self._model is None:
            self._model = EventModel(self.model_path, threads=self.threads)

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if self._model is None:
            raise RuntimeError("EventEnricher.enrich called before load()")
        predictions = self._model.predict([(a.title or "", a.text) for a in articles])
        return [
            {
                "event_types": [{"code": code, "score": score} for code, score in p.types],
                "primary_event": p.primary,
            }
            for p in predictions
        ]
