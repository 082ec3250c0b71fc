"""The compact transformer event classifier: an encoder, masked mean pooling, two heads.

- ``types``: one logit per event type (sigmoid, multi-label).
- ``primary``: a softmax over the types (the headline's event).

Two encoders fit under the heads, each with its input encoder from
``transforms/events.py`` (the same code at training and inference):

- ``words``: the project's pretrained Arabic encoder ``models/encoder-ar-small``
  (the NER work's ``WordEncoder``: skip-gram pretrained word/stem/piece
  embeddings, char CNN, affixes, a compact transformer over words), used when
  that folder exists;
- ``wordpiece``: else, a small BERT of our own with a WordPiece vocabulary
  trained here (optionally MLM-warmed on unlabeled ANT text).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from akhbar.core.text import normalize_arabic

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


class BertStates(nn.Module):
    """A Hugging Face BERT as (input_ids, attention_mask) -> token states."""

    def __init__(self, bert: nn.Module):
        super().__init__()
        self.bert = bert
        self.config = bert.config
        self.hidden_size = bert.config.hidden_size

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


class EventClassifier(nn.Module):
    """encoder(*inputs) -> states; the last input is the 0/1 mask used for mean pooling."""

    def __init__(self, encoder: nn.Module, hidden_size: int, n_labels: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.types = nn.Linear(hidden_size, n_labels)
        self.primary = nn.Linear(hidden_size, n_labels)

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states = self.encoder(*inputs)
        mask = inputs[-1].unsqueeze(-1).to(states.dtype)
        pooled = self.dropout((states * mask).sum(1) / mask.sum(1).clamp(min=1.0))
        return self.types(pooled), self.primary(pooled)


class WideDeepClassifier(nn.Module):
    """``EventClassifier`` plus a wide linear part over TF-IDF character n-grams (Wide & Deep).

    The n-grams read the headline and the first 1500 characters of the body,
    where the transformer reads its first ``max_length`` words: the two are
    trained together and their logits add up. The wide tables start at zero,
    so the wide part learns only what the training signal asks of it.
    """

    def __init__(self, deep: EventClassifier, n_features: int, n_labels: int):
        super().__init__()
        self.deep = deep
        self.wide_types = nn.Embedding(n_features, n_labels)
        self.wide_primary = nn.Embedding(n_features, n_labels)
        nn.init.zeros_(self.wide_types.weight)
        nn.init.zeros_(self.wide_primary.weight)

    def forward(self, ngram_ids: torch.Tensor, ngram_values: torch.Tensor, *inputs: torch.Tensor):
        type_logits, primary_logits = self.deep(*inputs)
        values = ngram_values.unsqueeze(-1)
        return (type_logits + (self.wide_types(ngram_ids) * values).sum(1),
                primary_logits + (self.wide_primary(ngram_ids) * values).sum(1))


class ExportWrapper(nn.Module):
    """What model.onnx computes: probabilities, so inference needs no torch."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor):
        type_logits, primary_logits = self.model(*inputs)
        return torch.sigmoid(type_logits), torch.softmax(primary_logits, dim=-1)


@dataclass
class EncoderInfo:
    """Which encoder initialised the classifier, for the config and the model card."""

    source: str  # "encoder-ar-small" or "own"
    path: str | None
    description: str


def train_wordpiece(texts: Iterable[str], vocab_size: int):
    """A WordPiece tokenizer over normalized Arabic text, with [CLS] a [SEP] b [SEP] pairs.

    The vocabulary is built here, deterministically (the ``tokenizers`` trainers
    break frequency ties differently from run to run): every character, the most
    frequent whole words, and the most frequent word-initial prefixes and
    ``##`` suffixes (clitics and inflections), ties broken alphabetically.
    """
    from collections import Counter

    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    pre = pre_tokenizers.BertPreTokenizer()
    words = Counter(w for t in texts for w, _ in pre.pre_tokenize_str(normalize_arabic(t)))
    chars = sorted({c for w in words for c in w})
    vocab = list(SPECIAL_TOKENS) + chars + ["##" + c for c in chars]
    budget = max(0, vocab_size - len(vocab))
    pieces: Counter = Counter()
    for w, n in words.items():
        for k in range(2, min(len(w), 7)):
            pieces[w[:k]] += n
            pieces["##" + w[-k:]] += n
    ranked_words = [w for w, n in sorted(words.items(), key=lambda x: (-x[1], x[0])) if n >= 2 and len(w) > 1]
    ranked_pieces = [p for p, n in sorted(pieces.items(), key=lambda x: (-x[1], x[0])) if n >= 2]
    chosen: dict[str, None] = {}
    for w in ranked_words[: budget // 2]:
        chosen[w] = None
    for p in ranked_pieces:
        if len(chosen) >= budget:
            break
        chosen.setdefault(p, None)
    for w in ranked_words[budget // 2 :]:
        if len(chosen) >= budget:
            break
        chosen.setdefault(w, None)
    vocab += [t for t in chosen if t not in set(vocab)]
    tokenizer = Tokenizer(models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]",
                                           max_input_chars_per_word=50))
    tokenizer.pre_tokenizer = pre
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)]
    )
    return tokenizer


def new_bert(vocab_size: int, hidden: int, layers: int, heads: int, max_positions: int) -> BertStates:
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=vocab_size, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=4 * hidden, max_position_embeddings=max_positions, pad_token_id=0,
    )
    return BertStates(BertModel(config, add_pooling_layer=False))


def load_project_encoder(path: Path, max_words: int):
    """The project's pretrained WordEncoder + its word featurizer, from ``models/encoder-ar-small``."""
    from tokenizers import Tokenizer

    from akhbar.lib.events.features import WordInputs
    from akhbar.lib.ner.features import Vocab, WordFeaturizer
    from training.ner.export import load_encoder

    encoder = load_encoder(path).train()
    cfg = encoder.cfg
    featurizer = WordFeaturizer(Vocab.load(path / "vocab.json"), Tokenizer.from_file(str(path / "tokenizer.json")))
    info = EncoderInfo("encoder-ar-small", str(path),
                       f"the project's pretrained Arabic encoder ({path.name}: skip-gram pretrained word/piece "
                       f"tables, {cfg.layers}-layer transformer over words, d_model {cfg.d_model}, "
                       f"{len(featurizer.vocab.words)} words)")
    return encoder, cfg.d_model, WordInputs(featurizer, max_words), info
