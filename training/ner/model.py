"""The NER model: word features -> a compact transformer encoder over words -> tag emissions (+ CRF).

``WordEncoder`` (embeddings + transformer) is the reusable part, saved alone as
``models/encoder-ar-small``; ``NerModel`` adds a linear tag layer and a CRF.
The ONNX graph is the encoder + tag layer (emissions); the CRF's Viterbi runs
in numpy at inference (``transforms/ner.py``), so no ops beyond plain matmuls
are exported.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from akhbar.lib.ner.features import AFFIX_BUCKETS, N_SHAPES, SPARSE_BUCKETS
from akhbar.lib.ner.runtime import WordModelRuntime


@dataclass
class EncoderConfig:
    word_vocab: int = 30000
    piece_vocab: int = 8000
    char_vocab: int = 300
    emb_dim: int = 100
    char_dim: int = 32
    char_filters: int = 64
    affix_dim: int = 32
    shape_dim: int = 16
    d_model: int = 256
    layers: int = 2
    heads: int = 4
    ff: int = 512
    max_words: int = 64
    dropout: float = 0.2
    use_chars: bool = True
    use_affixes: bool = True
    context_conv: int = 0  # >0: a residual 1-D convolution of this width over the words before the layers
    sparse_features: bool = False  # a linear layer over hashed CRF-style indicator features, added to the tag scores
    max_sparse: int = 32  # indicator features per word (more when gazetteer features take some)

    @classmethod
    def from_dict(cls, d: dict) -> EncoderConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict:
        return asdict(self)


class CharCNN(nn.Module):
    def __init__(self, vocab: int, dim: int, filters: int) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=0)
        self.conv = nn.Conv1d(dim, filters, kernel_size=3, padding=1)

    def forward(self, chars: torch.Tensor) -> torch.Tensor:  # (B, T, C) -> (B, T, F)
        b, t, c = chars.shape
        x = self.emb(chars.reshape(b * t, c)).transpose(1, 2)
        x = torch.relu(self.conv(x))
        x = x.masked_fill((chars.reshape(b * t, 1, c) == 0), -1e4).amax(dim=2)
        return x.clamp(min=0).reshape(b, t, -1)


class WordEmbedder(nn.Module):
    """Word + clitic-stripped stem + mean of WordPiece pieces (+ chars, affixes, shape) -> d_model."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.words = nn.Embedding(cfg.word_vocab, cfg.emb_dim, padding_idx=0)
        self.pieces = nn.Embedding(cfg.piece_vocab, cfg.emb_dim, padding_idx=0)
        width = 3 * cfg.emb_dim + cfg.shape_dim
        self.shapes = nn.Embedding(N_SHAPES, cfg.shape_dim)
        if cfg.use_chars:
            self.chars = CharCNN(cfg.char_vocab, cfg.char_dim, cfg.char_filters)
            width += cfg.char_filters
        if cfg.use_affixes:
            self.affixes = nn.Embedding(AFFIX_BUCKETS, cfg.affix_dim, padding_idx=0)
            width += cfg.affix_dim
        self.proj = nn.Linear(width, cfg.d_model)
        self.positions = nn.Embedding(cfg.max_words, cfg.d_model)
        self.norm = nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def piece_mean(self, piece_ids: torch.Tensor) -> torch.Tensor:
        present = (piece_ids != 0).unsqueeze(-1).float()
        return (self.pieces(piece_ids) * present).sum(-2) / present.sum(-2).clamp(min=1.0)

    def forward(self, word_ids, stem_ids, piece_ids, char_ids, affix_ids, shape_ids) -> torch.Tensor:
        parts = [self.words(word_ids), self.words(stem_ids), self.piece_mean(piece_ids), self.shapes(shape_ids)]
        if self.cfg.use_chars:
            parts.append(self.chars(char_ids))
        if self.cfg.use_affixes:
            parts.append(self.affixes(affix_ids).sum(-2))
        x = self.proj(self.drop(torch.cat(parts, dim=-1)))
        pos = torch.arange(word_ids.shape[1], device=word_ids.device).clamp(max=self.cfg.max_words - 1)
        return self.drop(self.norm(x + self.positions(pos)))


class EncoderLayer(nn.Module):
    """Pre-LN transformer layer written with plain ops (exports to ONNX as is)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.ff), nn.GELU(), nn.Linear(cfg.ff, cfg.d_model))
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h) + bias, dim=-1)
        y = (self.drop(att) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.out(y))
        return x + self.drop(self.ff(self.norm2(x)))


class WordEncoder(nn.Module):
    """Contextual word states (B, T, d_model) from the word feature arrays of ``WordFeaturizer``."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = WordEmbedder(cfg)
        if cfg.context_conv:
            self.conv = nn.Conv1d(cfg.d_model, cfg.d_model, cfg.context_conv, padding=cfg.context_conv // 2)
        self.layers = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model)

    def forward(self, word_ids, stem_ids, piece_ids, char_ids, affix_ids, shape_ids, mask, sparse_ids=None) -> torch.Tensor:
        """``sparse_ids`` (made by WordFeaturizer for the NER head) is accepted and not used here."""
        x = self.embed(word_ids, stem_ids, piece_ids, char_ids, affix_ids, shape_ids)
        if self.cfg.context_conv:
            # Local context (the +-2 word window a feature CRF sees) before global attention.
            x = x * mask.unsqueeze(-1).to(x.dtype)
            x = x + torch.relu(self.conv(x.transpose(1, 2))).transpose(1, 2)
        bias = ((1.0 - mask.float()) * -1e4)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return self.norm(x)


class CRF(nn.Module):
    """Linear-chain CRF: negative log-likelihood for training, Viterbi for decoding."""

    def __init__(self, n_tags: int) -> None:
        super().__init__()
        self.transitions = nn.Parameter(torch.zeros(n_tags, n_tags))  # [from, to]
        self.start = nn.Parameter(torch.zeros(n_tags))
        self.end = nn.Parameter(torch.zeros(n_tags))

    def nll(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        mask = mask.bool()
        b, t, _ = emissions.shape
        idx = torch.arange(b, device=emissions.device)
        score = self.start[tags[:, 0]] + emissions[idx, 0, tags[:, 0]]
        alpha = self.start + emissions[:, 0]
        for i in range(1, t):
            m = mask[:, i]
            step = self.transitions[tags[:, i - 1], tags[:, i]] + emissions[idx, i, tags[:, i]]
            score = score + step * m
            nxt = torch.logsumexp(alpha.unsqueeze(2) + self.transitions + emissions[:, i].unsqueeze(1), dim=1)
            alpha = torch.where(m.unsqueeze(1), nxt, alpha)
        last = tags[idx, mask.sum(1) - 1]
        score = score + self.end[last]
        return (torch.logsumexp(alpha + self.end, dim=1) - score).mean()

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        from akhbar.lib.ner.runtime import viterbi  # one decoder for training and inference

        params = (self.transitions.cpu().numpy(), self.start.cpu().numpy(), self.end.cpu().numpy())
        lengths = mask.sum(1).tolist()
        em = emissions.cpu().numpy()
        return [viterbi(em[i, :n], *params) for i, n in enumerate(lengths)]


class NerModel(nn.Module):
    def __init__(self, cfg: EncoderConfig, n_tags: int, use_crf: bool = True) -> None:
        super().__init__()
        self.encoder = WordEncoder(cfg)
        self.tagger = nn.Linear(cfg.d_model, n_tags)
        if cfg.sparse_features:
            self.sparse = nn.Embedding(SPARSE_BUCKETS, n_tags, padding_idx=0)
            nn.init.zeros_(self.sparse.weight)
        self.use_crf = use_crf
        self.crf = CRF(n_tags)

    def emissions(self, word_ids, stem_ids, piece_ids, char_ids, affix_ids, shape_ids, mask, sparse_ids=None) -> torch.Tensor:
        em = self.tagger(self.encoder(word_ids, stem_ids, piece_ids, char_ids, affix_ids, shape_ids, mask))
        if self.encoder.cfg.sparse_features:
            em = em + self.sparse(sparse_ids).sum(-2)
        return em

    forward = emissions

    def loss(self, batch: dict[str, torch.Tensor], tags: torch.Tensor) -> torch.Tensor:
        em = self.emissions(**batch)
        if self.use_crf:
            return self.crf.nll(em, tags, batch["mask"])
        flat = batch["mask"].reshape(-1).bool()
        return nn.functional.cross_entropy(em.reshape(-1, em.shape[-1])[flat], tags.reshape(-1)[flat])

    @torch.no_grad()
    def predict(self, batch: dict[str, torch.Tensor]) -> list[list[int]]:
        em = self.emissions(**batch)
        if self.use_crf:
            return self.crf.decode(em, batch["mask"])
        lengths = batch["mask"].sum(1).tolist()
        best = em.argmax(-1).tolist()
        return [row[:n] for row, n in zip(best, lengths)]


def load_ner_model(path) -> NerModel:
    """A shipped model folder (config.json + model.safetensors) -> NerModel in eval mode, fp32."""
    import json
    from pathlib import Path

    from safetensors.torch import load_file

    path = Path(path)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    model = NerModel(EncoderConfig.from_dict(config["encoder"]), len(config["id2label"]), use_crf=config["use_crf"])
    state = {k: v.float() for k, v in load_file(str(path / "model.safetensors")).items()}
    model.load_state_dict(state)
    return model.eval()


class TorchWordRuntime(WordModelRuntime):
    """The shipped model folder's torch weights (``model.safetensors``) behind the runtime interface.

    Training and benchmarks only: the pipeline runs the ONNX export. Features and CRF decoding
    are the runtime's own, so only the emissions differ.
    """

    def _open(self, path, threads: int, onnx_file: str | None) -> None:
        import torch

        torch.set_num_threads(threads)
        self.model = load_ner_model(path)

    def emissions(self, arrays):
        import torch

        with torch.inference_mode():
            return self.model(**{k: torch.from_numpy(v) for k, v in arrays.items()}).numpy()
