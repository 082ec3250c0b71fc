"""NER enrichment: fill ``entities`` with (text, type, start, end, score) found in each article's text.

Two runtimes behind one interface, chosen by what the model folder holds:

* the shipped word-level model (``models/ner-ar-small``): ONNX Runtime +
  tokenizers + numpy only (the light ``ml`` install), or its safetensors
  weights on torch (``backend="torch"``, for the benchmark);
* any Hugging Face token-classification model (path or hub id) on
  transformers/torch (the ``train`` extra), its labels mapped to PERS/LOC/ORG/MISC.

Text is split into words with character offsets (``ner_features.split_words``);
long texts are read in overlapping windows of words, and each word takes the
tag from the window where it sits farthest from an edge, so nothing is skipped
and no word is read without context. Entities are whole words by construction:
subword pieces never reach the output.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from schemas.records import Article
from transforms.enrich import Enricher
from transforms.ner_features import Vocab, WordFeaturizer, bio_spans, split_words
from transforms.normalize import arabic_ratio

LOG = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO_ROOT / "models" / "ner-ar-small"
ENTITY_TYPES = ("PERS", "LOC", "ORG", "MISC")
WORD_MODEL_TYPE = "akhbar-word-ner"

# Label names used by common Arabic/English NER models -> our four types (others are dropped).
_TYPE_MAP = {
    "PERS": "PERS", "PER": "PERS", "PERSON": "PERS",
    "LOC": "LOC", "LOCATION": "LOC", "GPE": "LOC",
    "ORG": "ORG", "ORGANIZATION": "ORG", "ORGANISATION": "ORG",
    "MISC": "MISC", "MISCELLANEOUS": "MISC", "NORP": "MISC", "EVENT": "MISC",
}


def map_label(label: str) -> str:
    """A model's label -> our BIO tag: 'B-PER' -> 'B-PERS', 'I-GPE' -> 'I-LOC', unknown types -> 'O'."""
    label = label.upper()
    if label in ("O", "") or "-" not in label and "_" not in label:
        kind = _TYPE_MAP.get(label)
        return f"B-{kind}" if kind else "O"
    prefix, _, kind = label.replace("_", "-").partition("-")
    if prefix not in ("B", "I", "E", "S"):
        prefix, kind = "B", label
    mapped = _TYPE_MAP.get(kind)
    if mapped is None:
        return "O"
    return f"{'I' if prefix in ('I', 'E') else 'B'}-{mapped}"


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
    """The shipped word-level model: features in numpy, emissions from ONNX Runtime or torch, CRF in numpy."""

    def __init__(self, path: str | Path, backend: str = "onnx", threads: int = 1, onnx_file: str | None = None) -> None:
        from tokenizers import Tokenizer

        path = Path(path)
        self.config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        self.labels = [self.config["id2label"][str(i)] for i in range(len(self.config["id2label"]))]
        self.max_words = int(self.config["encoder"]["max_words"])
        crf = self.config["crf"]
        self.crf = tuple(np.asarray(crf[k], np.float32) for k in ("transitions", "start", "end"))
        self.featurizer = WordFeaturizer(Vocab.load(path / "vocab.json"), Tokenizer.from_file(str(path / "tokenizer.json")))
        self.backend = backend
        if backend == "onnx":
            import onnxruntime as ort

            onnx_file = path / (onnx_file or self.config.get("onnx", "model.onnx"))
            if not onnx_file.exists():
                raise FileNotFoundError(f"no ONNX model at {onnx_file} (export it: python -m training.ner.export)")
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            self.session = ort.InferenceSession(str(onnx_file), so, providers=["CPUExecutionProvider"])
            self.input_names = [i.name for i in self.session.get_inputs()]
        elif backend == "torch":
            from training.ner.model import load_ner_model  # needs the train extra

            self.model = load_ner_model(path)
        else:
            raise ValueError(f"unknown NER backend {backend!r}: expected 'onnx' or 'torch'")

    def emissions(self, arrays: dict[str, np.ndarray]) -> np.ndarray:
        if self.backend == "onnx":
            return self.session.run(None, {k: arrays[k] for k in self.input_names})[0]
        import torch

        with torch.inference_mode():
            return self.model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).numpy()

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]:
        if not sentences:
            return []
        arrays = self.featurizer.encode(sentences)
        em = self.emissions(arrays)
        out = []
        for i, words in enumerate(sentences):
            n = len(words)
            path = viterbi(em[i, :n], *self.crf)
            probs = _softmax(em[i, :n])
            out.append([(self.labels[t], float(probs[j, t])) for j, t in enumerate(path)])
        return out


class HuggingFaceRuntime:
    """Any token-classification model (path or hub id); a word's tag is its first subword's."""

    def __init__(self, name: str, max_words: int = 128) -> None:
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(name)
        self.model = AutoModelForTokenClassification.from_pretrained(name).eval()
        self.max_words = max_words
        id2label = self.model.config.id2label
        self.labels = [map_label(id2label[i]) for i in range(len(id2label))]

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[tuple[str, float]]]:
        if not sentences:
            return []
        enc = self.tokenizer([list(s) for s in sentences], is_split_into_words=True, truncation=True,
                             max_length=512, padding=True, return_tensors="pt")
        with self.torch.inference_mode():
            probs = self.torch.softmax(self.model(**enc).logits, -1).numpy()
        out = []
        for i, words in enumerate(sentences):
            tags: list[tuple[str, float]] = [("O", 1.0)] * len(words)
            seen: set[int] = set()
            for j, w in enumerate(enc.word_ids(i)):
                if w is not None and w not in seen:
                    seen.add(w)
                    k = int(probs[i, j].argmax())
                    tags[w] = (self.labels[k], float(probs[i, j, k]))
            out.append(tags)
        return out


def load_runtime(model: str | Path, backend: str = "auto", threads: int = 1, onnx_file: str | None = None) -> TagRuntime:
    """The runtime for a model folder of ours (``onnx_file`` overrides its config's), or a Hugging Face model."""
    path = Path(model)
    config = path / "config.json"
    if config.is_file() and json.loads(config.read_text(encoding="utf-8")).get("model_type") == WORD_MODEL_TYPE:
        return WordModelRuntime(path, backend="onnx" if backend == "auto" else backend, threads=threads,
                                onnx_file=onnx_file)
    if backend == "onnx":
        raise ValueError(f"{model}: the ONNX backend needs an akhbar word-level model folder")
    return HuggingFaceRuntime(str(model))


@dataclass(frozen=True)
class Window:
    doc: int
    start: int  # first word
    words: list[str]


def windows(n_words: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """(start, end) word ranges of overlapping windows that cover 0..n_words."""
    if n_words <= size:
        return [(0, n_words)] if n_words else []
    step = max(1, size - overlap)
    starts = list(range(0, n_words - size, step)) + [n_words - size]
    return [(s, s + size) for s in starts]


def tag_words(sentences: Sequence[Sequence[str]], runtime: TagRuntime, batch_size: int = 32,
              overlap: int = 16) -> list[list[tuple[str, float]]]:
    """(tag, probability) per word of each word list, reading long lists in overlapping windows."""
    jobs: list[Window] = []
    for d, words in enumerate(sentences):
        for s, e in windows(len(words), runtime.max_words, overlap):
            jobs.append(Window(d, s, list(words[s:e])))
    best: list[list[tuple[int, str, float]]] = [[(-1, "O", 0.0)] * len(words) for words in sentences]
    for i in range(0, len(jobs), batch_size):
        chunk = jobs[i: i + batch_size]
        for job, tags in zip(chunk, runtime.tag([j.words for j in chunk])):
            slots = best[job.doc]
            last = len(tags) - 1
            for k, (tag, prob) in enumerate(tags):
                margin = min(k, last - k)
                if margin > slots[job.start + k][0]:
                    slots[job.start + k] = (margin, tag, prob)
    return [[(tag, prob) for _, tag, prob in slots] for slots in best]


def find_entities(texts: Sequence[str], runtime: TagRuntime, batch_size: int = 32, overlap: int = 16,
                  min_arabic: float = 0.2) -> list[list[dict[str, Any]]]:
    """Entities of each text with character offsets; texts with too little Arabic get none."""
    spans = [split_words(t) if t and arabic_ratio(t) >= min_arabic else [] for t in texts]
    tagged = tag_words([[t[a:b] for a, b in sp] for t, sp in zip(texts, spans)], runtime, batch_size, overlap)
    result = []
    for text, sp, tags in zip(texts, spans, tagged):
        entities = []
        for kind, first, stop in bio_spans([tag for tag, _ in tags]):
            start, end = sp[first][0], sp[stop - 1][1]
            score = float(np.mean([p for _, p in tags[first:stop]]))
            entities.append({"text": text[start:end], "type": kind, "start": start, "end": end, "score": round(score, 4)})
        result.append(entities)
    return result


class NerEnricher(Enricher):
    """The ``entities`` column. The model is loaded once per worker process, in ``load``."""

    name = "ner"
    columns = ("entities",)

    def __init__(self, model: str | Path = DEFAULT_MODEL, backend: str = "auto", batch_size: int = 16,
                 overlap: int = 16) -> None:
        self.model = str(model)
        self.backend = backend
        self.batch_size = batch_size
        self.overlap = overlap
        self._runtime: TagRuntime | None = None

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_runtime"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._runtime = None

    def load(self) -> None:
        self._runtime = load_runtime(self.model, self.backend)
        LOG.info("NER model %s loaded (%s)", self.model, type(self._runtime).__name__)

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if self._runtime is None:
            raise RuntimeError("NerEnricher.enrich called before load()")
        found = find_entities([a.text or "" for a in articles], self._runtime, batch_size=self.batch_size * 4,
                              overlap=self.overlap)
        return [{"entities": e} for e in found]


def ner_enricher(model: str | None, backend: str = "auto", batch_size: int = 16) -> NerEnricher | None:
    """The NER branch for ``--ner_model``: 'default' (the shipped model), 'none', a model folder or a hub id."""
    if model is None or model.lower() == "none":
        return None
    path = DEFAULT_MODEL if model == "default" else model
    if backend in ("auto", "onnx") and Path(path, "config.json").is_file():
        import importlib.util

        if importlib.util.find_spec("onnxruntime") is None:
            raise ValueError(f"--ner_model {model}: needs onnxruntime and tokenizers (pip install 'akhbar[ml]'), "
                             "or pass --ner_model none")
    elif not Path(path).exists() and model == "default":
        raise ValueError(f"--ner_model default: the shipped model is missing at {DEFAULT_MODEL}")
    return NerEnricher(path, backend=backend, batch_size=batch_size)
