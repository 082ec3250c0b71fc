"""What the event models read: (headline, body) pairs as WordPiece or word inputs, TF-IDF character n-grams."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from akhbar.core.text import normalize_arabic
from akhbar.lib.ner.features import Vocab, WordFeaturizer, split_words

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
    def from_folder(cls, path: Path, config: dict[str, Any]) -> PieceInputs:
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
    """(headline, body) -> the word feature arrays of the project encoder (``akhbar.lib.ner.features``).

    The words of the headline, a "." and the body's words, cut at ``max_words``.
    """

    names = ("word_ids", "stem_ids", "piece_ids", "char_ids", "affix_ids", "shape_ids", "mask")
    files = ("tokenizer.json", "vocab.json")

    def __init__(self, featurizer, max_words: int):
        self.featurizer = featurizer
        self.max_words = max_words

    @classmethod
    def from_folder(cls, path: Path, config: dict[str, Any]) -> WordInputs:
        from tokenizers import Tokenizer


        featurizer = WordFeaturizer(Vocab.load(path / "vocab.json"), Tokenizer.from_file(str(path / "tokenizer.json")))
        return cls(featurizer, int(config["max_length"]))

    def save(self, path: Path) -> dict[str, Any]:
        self.featurizer.tokenizer.save(str(path / "tokenizer.json"))
        self.featurizer.vocab.save(path / "vocab.json")
        return {"inputs": "words", "max_length": self.max_words}

    def words(self, title: str, text: str) -> list[str]:

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
    def from_folder(cls, path: Path, idf: np.ndarray, config: dict[str, Any]) -> TfidfFeatures:
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
    def from_folder(cls, path: Path, config: dict[str, Any]) -> WideInputs:
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


