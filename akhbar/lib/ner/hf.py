"""Any Hugging Face token-classification model as an akhbar NER runtime (the ``hf`` extra).

The only runtime module that imports torch and transformers, and only when a
model is loaded: the default install never pulls them in.
"""
from __future__ import annotations

from collections.abc import Sequence

from akhbar.lib.ner.labels import map_label


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
