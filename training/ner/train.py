"""Train the Arabic NER model: tokenizer -> skip-gram pretraining -> fine-tuning -> export.

    python -m training.ner.train --out build/ner --seed 13            # the full recipe (make train-ner)
    python -m training.ner.train --config smoke --out /tmp/ner-smoke  # the tiny test configuration

Each stage writes its result into --out and is skipped when that result is
already there, so an interrupted run resumes: pretraining checkpoints every
``--checkpoint_s`` seconds and continues from the last checkpoint; fine-tuning
keeps its best epoch. Uses a CUDA GPU when present, the CPU otherwise.

Why this recipe (measured on 2 CPU cores): subword MLM from scratch stays on
the unigram plateau for the first half hour, so the encoder reads *words*
(ANERcorp is labelled per word) through several views that learn fast: a
word table and a clitic-stripped stem table pretrained with fastText-style
skip-gram (word + its WordPiece pieces, negative sampling, minutes to
converge), character CNN, hashed affixes and shape. A 2-layer transformer
over the words and a CRF head are trained on ANERcorp with a large learning rate.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from akhbar.core.metrics import entity_scores as ner_scores
from akhbar.lib.ner.features import MAX_PIECES, UNK, Vocab, WordFeaturizer, norm_word, split_words
from akhbar.lib.progress import Progress
from training.ner.data import (
    ANERCORP,
    ANERCORP_DEV_SENTENCES,
    LABELS,
    anercorp_train_dev,
    held_out_docs,
    news_texts,
    read_conll,
    wojood_train_dev,
)
from training.ner.model import EncoderConfig, NerModel, WordEncoder

LOG = logging.getLogger("train-ner")


@dataclass
class RecipeConfig:
    news_articles: int | None = None  # None: all of ant + ant_multisource
    word_vocab: int = 30000
    min_count: int = 3
    piece_vocab: int = 8000
    pretrain_minutes: float = 8.0  # time budget when pretrain_steps is None
    pretrain_steps: int | None = None  # a fixed step count makes the run reproducible
    sg_window: int = 5
    sg_negatives: int = 5
    sg_batch: int = 8192
    sg_lr: float = 0.005
    epochs: int = 6
    batch_sentences: int = 32
    lr: float = 2e-3
    word_dropout: float = 0.2
    freeze_embeddings: bool = False  # keep the pretrained word/piece tables fixed while fine-tuning
    train_sentences: int | None = None
    dev_sentences: int = ANERCORP_DEV_SENTENCES
    test_sentences: int | None = None  # None: all of ANERcorp test
    wojood: bool = False  # also train on Wojood's train split, mapped to the four types (its dev part held out)
    swap: float = 0.0  # per epoch, this share of the PERS sentences again with today's names (training/ner/augment.py)
    silver: str | None = None  # teacher-labelled news (training/ner/silver.py) added to every epoch
    silver_ratio: float = 1.0  # silver words per gold word in an epoch (a fresh draw each epoch)
    silver_conf: float = 0.9  # a silver sentence is kept when both teachers agree and its path has this confidence
    silver_agree: bool = True  # keep only silver sentences where the model alone and the CRF alone find the same
    gazetteer: str | None = None  # gazetteer features (training/ner/gazetteer.py: the mined gazetteer.json)
    embeddings: str | None = None  # pretrained tables to start from (default: OUT/pretrained_embeddings.pt)
    # The whole recipe (stage "all"): a feature CRF, a teacher, silver data, a gazetteer, then the student.
    crf_iters: int = 150  # the feature CRF (training/ner/crf_baseline.py), trained on the same gold data
    self_train: bool = False  # teacher (this recipe without silver/gazetteer) x CRF label news for the student
    silver_articles: int = 6000
    teacher_crf_weight: float = 0.5
    mine_gazetteer: bool = False  # gazetteer features mined from the teacher's silver labels
    crf_weight: float = 0.0  # the feature CRF beside the shipped model at inference (0: shipped, off)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)


CONFIGS = {
    # 2,317 steps: what the shipped encoder got from a 9-minute budget on the shared 2-core machine.
    "full": RecipeConfig(pretrain_steps=2317, encoder=EncoderConfig(dropout=0.3, context_conv=5, sparse_features=True)),
    "smoke": RecipeConfig(
        news_articles=150, word_vocab=3000, min_count=2, piece_vocab=600, pretrain_steps=20, sg_batch=1024,
        epochs=2, train_sentences=200, dev_sentences=40, test_sentences=60,
        encoder=EncoderConfig(emb_dim=24, char_dim=8, char_filters=16, affix_dim=8, shape_dim=4, d_model=32,
                              layers=1, heads=2, ff=64, context_conv=3, sparse_features=True),
    ),
}
# Every lever of the full recipe at the smoke test's size (tests/training/test_ner_training.py).
CONFIGS["smoke_levers"] = replace(CONFIGS["smoke"], wojood=True, swap=0.5, self_train=True, silver_articles=20,
                                  mine_gazetteer=True, crf_weight=0.5, crf_iters=20, silver_conf=0.0,
                                  silver_agree=False)  # a tiny teacher's members never agree


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


# ---------------------------------------------------------------- stage 1: vocabularies
def news_words(cfg: RecipeConfig) -> list[list[str]]:
    """Normalized words of each news article (normalized as a whole text: the same forms, much faster)."""
    docs = []
    # The articles of the labelled news paragraphs (and their copies) stay unread by every stage.
    for text in news_texts(limit=cfg.news_articles, skip=held_out_docs()):
        nt = norm_word(text)
        docs.append([nt[s:e] for s, e in split_words(nt)])
    return docs


def build_vocab_and_tokenizer(cfg: RecipeConfig, docs: list[list[str]], out: Path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    counts = Counter(w for doc in docs for w in doc)
    for tokens, _ in read_conll(ANERCORP / "train.txt"):
        counts.update(norm_word(t) for t in tokens)
    words = ["[PAD]", "[UNK]"] + [w for w, c in counts.most_common(cfg.word_vocab - 2) if c >= cfg.min_count]
    chars = Counter(c for w, n in counts.items() for c in w for _ in range(1))
    char_list = ["[PAD]", "[UNK]"] + [c for c, _ in chars.most_common(cfg.encoder.char_vocab - 2)]
    vocab = Vocab(words=words, chars=char_list)
    vocab.save(out / "vocab.json")

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=50))
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=cfg.piece_vocab, min_frequency=2,
                                        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    # One line per distinct word, repeated by a damped count: the pieces follow word frequency cheaply.
    def lines():
        for w, c in counts.items():
            for _ in range(min(c, 20)):
                yield w
    tok.train_from_iterator(lines(), trainer=trainer)
    tok.save(str(out / "tokenizer.json"))
    LOG.info("vocab: %d words, %d chars, %d pieces", len(words), len(char_list), tok.get_vocab_size())


def load_featurizer(out: Path, gazetteer: str | None = None, max_sparse: int = 32) -> WordFeaturizer:
    from tokenizers import Tokenizer

    from akhbar.lib.ner.gazetteer import Gazetteer

    return WordFeaturizer(Vocab.load(out / "vocab.json"), Tokenizer.from_file(str(out / "tokenizer.json")),
                          max_sparse=max_sparse, gazetteer=Gazetteer.load(gazetteer) if gazetteer else None)


# ---------------------------------------------------------------- stage 2: skip-gram pretraining
class SkipGram(nn.Module):
    """fastText-style: a word's input vector is its word vector + the mean of its WordPiece vectors."""

    def __init__(self, n_words: int, n_pieces: int, dim: int, word_pieces: torch.Tensor) -> None:
        super().__init__()
        self.words = nn.Embedding(n_words, dim, padding_idx=0, sparse=True)
        self.pieces = nn.Embedding(n_pieces, dim, padding_idx=0, sparse=True)
        self.context = nn.Embedding(n_words, dim, sparse=True)
        nn.init.uniform_(self.words.weight, -0.5 / dim, 0.5 / dim)
        nn.init.uniform_(self.pieces.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.context.weight)
        self.register_buffer("word_pieces", word_pieces)

    def forward(self, center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
        wp = self.word_pieces[center]
        present = (wp != 0).unsqueeze(-1).float()
        v = self.words(center) + (self.pieces(wp) * present).sum(1) / present.sum(1).clamp(min=1.0)
        pos = (v * self.context(context)).sum(-1)
        neg = torch.bmm(self.context(negatives), v.unsqueeze(2)).squeeze(2)
        return -(nn.functional.logsigmoid(pos).mean() + nn.functional.logsigmoid(-neg).sum(1).mean())


def pretrain(cfg: RecipeConfig, docs: list[list[str]], out: Path, seed: int) -> None:
    """Skip-gram with negative sampling over the news words, for a time budget; resumes from sg.pt."""
    feat = load_featurizer(out)
    vocab = feat.vocab
    n_words = len(vocab.words)
    corpus = np.fromiter((vocab.word_id(w) for doc in docs for w in doc), dtype=np.int64)
    counts = np.bincount(corpus, minlength=n_words).astype(np.float64)
    counts[:2] = 0
    freq = counts / counts.sum()
    keep = np.minimum(1.0, np.sqrt(1e-4 / np.maximum(freq, 1e-12)) + 1e-4 / np.maximum(freq, 1e-12))
    noise = torch.tensor(counts ** 0.75 / (counts ** 0.75).sum(), dtype=torch.float)
    word_pieces = np.zeros((n_words, MAX_PIECES), np.int64)
    for i, w in enumerate(vocab.words[2:], 2):
        p = feat.pieces(w)
        word_pieces[i, : len(p)] = p
    dev = device()
    model = SkipGram(n_words, feat.tokenizer.get_vocab_size(), cfg.encoder.emb_dim, torch.tensor(word_pieces)).to(dev)
    opt = torch.optim.SparseAdam(list(model.parameters()), lr=cfg.sg_lr)
    ckpt = out / "sg.pt"
    state = {"seconds": 0.0, "steps": 0, "pairs": 0}
    if ckpt.exists():
        saved = torch.load(ckpt, map_location=dev)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
        LOG.info("pretraining resumes at %.0fs, %d steps", state["seconds"], state["steps"])
    rng = np.random.default_rng(seed + state["steps"])
    gen = torch.Generator().manual_seed(seed + state["steps"])
    budget = cfg.pretrain_minutes * 60
    started, last_ckpt, losses = time.monotonic(), time.monotonic(), []
    valid = np.flatnonzero(corpus > 1)
    def more() -> bool:
        if cfg.pretrain_steps is not None:
            return state["steps"] < cfg.pretrain_steps
        return state["seconds"] + (time.monotonic() - started) < budget

    progress = Progress("pretraining", total=cfg.pretrain_steps, unit="steps")
    progress.update(state["steps"])
    while more():
        pos = valid[rng.integers(0, len(valid), cfg.sg_batch * 2)]
        pos = pos[rng.random(len(pos)) < keep[corpus[pos]]][: cfg.sg_batch]
        off = rng.integers(1, cfg.sg_window + 1, len(pos)) * rng.choice([-1, 1], len(pos))
        ctx_pos = np.clip(pos + off, 0, len(corpus) - 1)
        center, context = corpus[pos], corpus[ctx_pos]
        ok = context > 1
        center_t = torch.from_numpy(center[ok]).to(dev)
        context_t = torch.from_numpy(context[ok]).to(dev)
        negs = torch.multinomial(noise, len(center_t) * cfg.sg_negatives, True, generator=gen).view(-1, cfg.sg_negatives).to(dev)
        loss = model(center_t, context_t, negs)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state["steps"] += 1
        state["pairs"] += len(center_t)
        losses.append(loss.item())
        progress.update(state["steps"], extra=f"loss {losses[-1]:.3f}")
        if state["steps"] % 100 == 0:
            LOG.info("sg step %d pairs %.1fM loss %.3f (%.0fs)", state["steps"], state["pairs"] / 1e6,
                     np.mean(losses[-100:]), state["seconds"] + time.monotonic() - started)
        if time.monotonic() - last_ckpt > 120:
            _save_sg(ckpt, model, opt, state, started)
            last_ckpt = time.monotonic()
    progress.close()
    _save_sg(ckpt, model, opt, state, started)
    emb = {"words": model.words.weight.detach().cpu(), "pieces": model.pieces.weight.detach().cpu()}
    torch.save(emb, out / "pretrained_embeddings.pt")
    LOG.info("pretraining done: %d steps, %.1fM pairs, %.0fs", state["steps"], state["pairs"] / 1e6,
             state["seconds"] + time.monotonic() - started)


def _save_sg(path: Path, model, opt, state, started) -> None:
    snap = dict(state, seconds=state["seconds"] + time.monotonic() - started)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": snap}, path)


# ---------------------------------------------------------------- stage 3: fine-tuning
def pack(sentences, max_words: int):
    """Consecutive sentences packed into sequences of at most max_words words (long ones split)."""
    packed, cur_t, cur_y = [], [], []
    for tokens, tags in sentences:
        for i in range(0, len(tokens), max_words):
            t, y = tokens[i: i + max_words], tags[i: i + max_words]
            if cur_t and len(cur_t) + len(t) > max_words:
                packed.append((cur_t, cur_y))
                cur_t, cur_y = [], []
            cur_t, cur_y = cur_t + t, cur_y + y
    if cur_t:
        packed.append((cur_t, cur_y))
    return packed


def to_batch(feat: WordFeaturizer, sentences, dev, word_dropout: float = 0.0, rng=None):
    arrays = feat.encode([t for t, _ in sentences])
    if word_dropout and rng is not None:
        drop = (rng.random(arrays["word_ids"].shape) < word_dropout) & (arrays["mask"] == 1)
        arrays["word_ids"][drop] = UNK
        # Sparse indicator features drop out too, so the encoder cannot lean on memorized words alone.
        arrays["sparse_ids"][rng.random(arrays["sparse_ids"].shape) < word_dropout * 2] = 0
    batch = {k: torch.from_numpy(v).to(dev) for k, v in arrays.items()}
    length = arrays["mask"].shape[1]
    tags = torch.zeros((len(sentences), length), dtype=torch.long)
    for i, (_, y) in enumerate(sentences):
        tags[i, : len(y)] = torch.tensor([LABELS.index(x) for x in y[:length]])
    return batch, tags.to(dev)


def evaluate(model: NerModel, feat: WordFeaturizer, sentences, dev, batch_size: int = 64) -> dict:
    model.eval()
    pred = []
    for i in range(0, len(sentences), batch_size):
        chunk = sentences[i: i + batch_size]
        # Sentences longer than the position table are read in consecutive pieces.
        max_w = model.encoder.cfg.max_words
        pieces, owners = [], []
        for j, (t, y) in enumerate(chunk):
            for k in range(0, len(t), max_w):
                pieces.append((t[k: k + max_w], y[k: k + max_w]))
                owners.append(j)
        batch, _ = to_batch(feat, pieces, dev)
        out = model.predict(batch)
        merged = [[] for _ in chunk]
        for j, ids in zip(owners, out):
            merged[j].extend(LABELS[x] for x in ids)
        pred.extend(merged)
    return ner_scores([y for _, y in sentences], pred)


def init_from_pretrained(encoder: WordEncoder, out: Path, path: str | Path | None = None) -> bool:
    path = Path(path) if path else out / "pretrained_embeddings.pt"
    if not path.exists():
        return False
    emb = torch.load(path)
    with torch.no_grad():
        # Scale up: skip-gram vectors are small next to the other (randomly initialized) inputs.
        for name in ("words", "pieces"):
            w = emb[name]
            w = w / w[2:].norm(dim=1).mean().clamp(min=1e-6)
            getattr(encoder.embed, name).weight.copy_(w)
    return True


def read_silver(path: str, min_conf: float, need_agree: bool = True) -> list[tuple[list[str], list[str]]]:
    """The confident silver sentences: both teachers agree (``need_agree``) and the path's smallest marginal is >= min_conf."""
    kept = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if (not need_agree or row.get("agree") is not False) and row["conf"] >= min_conf:
                kept.append((row["tokens"], row["tags"]))
    return kept


def weak_person_labels(sentences, gazetteer) -> tuple[list, int]:
    """The gazetteer as weak labels: a listed person name or surname the teacher tagged O becomes PERS.

    The teacher never saw a 2018 name such as "ترامب" alone, so it labels it O
    with confidence; the gazetteer (mined from its own full-name spans across
    articles) knows better. Only words the teacher left O are touched.
    """
    from akhbar.lib.ner.features import norm_word

    out, fixed = [], 0
    for tokens, tags in sentences:
        keys = gazetteer.keys([norm_word(t) for t in tokens])
        new = list(tags)
        i = 0
        while i < len(tokens):
            if "gz:B-PERS" in keys[i] or "gz:P-PERS" in keys[i]:
                j = i + 1
                while j < len(tokens) and "gz:I-PERS" in keys[j]:
                    j += 1
                if all(t == "O" for t in tags[i:j]):
                    new[i:j] = ["B-PERS"] + ["I-PERS"] * (j - i - 1)
                    fixed += 1
                i = j
            else:
                i += 1
        out.append((tokens, new))
    return out, fixed


class EpochData:
    """The packed sequences of each epoch: the gold sentences, plus fresh swap copies and a fresh silver draw."""

    def __init__(self, cfg: RecipeConfig, gold, feat: WordFeaturizer, rng: random.Random, max_words: int) -> None:
        self.cfg, self.gold, self.rng, self.max_words = cfg, gold, rng, max_words
        self.gold_packed = pack(gold, max_words)
        self.names: list[list[str]] = []
        self.silver: list = []
        if cfg.swap > 0:
            from akhbar.lib.ner.canonical import KnownForms
            from training.ner.augment import read_names

            self.names = read_names()
            if cfg.gazetteer:
                phrases = json.loads(Path(cfg.gazetteer).read_text(encoding="utf-8"))["phrases"]
                self.names += [p.split() for p, t in phrases.items() if t == "PERS" and len(p.split()) >= 2]
            self.known = KnownForms.from_vocab(feat.vocab.words)
            self.with_persons = [s for s in gold if "B-PERS" in s[1] or "I-PERS" in s[1]]
        if cfg.silver:
            self.silver = read_silver(cfg.silver, cfg.silver_conf, cfg.silver_agree)
            LOG.info("silver: %d confident sentences from %s", len(self.silver), cfg.silver)
            if cfg.gazetteer:
                from akhbar.lib.ner.gazetteer import Gazetteer

                self.silver, fixed = weak_person_labels(self.silver, Gazetteer.load(cfg.gazetteer))
                LOG.info("silver: %d person names the teacher left O, labelled from the gazetteer", fixed)
        self.gold_words = sum(len(t) for t, _ in gold)

    def epoch(self) -> list:
        extra = []
        if self.names:
            from training.ner.augment import swap_persons

            for tokens, tags in self.with_persons:
                if self.rng.random() < self.cfg.swap:
                    extra.append(swap_persons(tokens, tags, self.names, self.rng, self.known))
        if self.silver:
            budget = self.cfg.silver_ratio * self.gold_words
            order = list(range(len(self.silver)))
            self.rng.shuffle(order)
            for i in order:
                if budget <= 0:
                    break
                extra.append(self.silver[i])
                budget -= len(self.silver[i][0])
        self.rng.shuffle(extra)
        return self.gold_packed + pack(extra, self.max_words)


def gold_data(cfg: RecipeConfig) -> tuple[list, list]:
    """(train, dev) of a recipe: ANERcorp train less its dev part (+ Wojood's train part), dev = both dev parts.

    Wojood's held-out train segments join the dev set in every run, so runs with
    and without Wojood compare. Neither the model nor the feature CRF trains on
    the dev set: it picks the best epoch, the CRF weight and the tag bias.
    """
    train, dev_set = anercorp_train_dev(cfg.dev_sentences, cfg.train_sentences)
    wojood_train, wojood_dev = wojood_train_dev()
    if cfg.train_sentences:
        wojood_train, wojood_dev = wojood_train[: cfg.train_sentences // 4], wojood_dev[: cfg.dev_sentences // 4]
    if cfg.wojood:
        train = train + wojood_train
    return train, dev_set + wojood_dev


def finetune(cfg: RecipeConfig, out: Path, seed: int, use_pretrained: bool = True, use_crf: bool = True,
             tag: str = "ner") -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    random.seed(seed)
    dev = device()
    max_sparse = cfg.encoder.max_sparse + (8 if cfg.gazetteer else 0)
    feat = load_featurizer(out, cfg.gazetteer, max_sparse)
    train, dev_set = gold_data(cfg)
    ecfg = replace(cfg.encoder, word_vocab=len(feat.vocab.words), piece_vocab=feat.tokenizer.get_vocab_size(),
                   char_vocab=len(feat.vocab.chars), max_sparse=max_sparse)
    model = NerModel(ecfg, len(LABELS), use_crf=use_crf).to(dev)
    pretrained = use_pretrained and init_from_pretrained(model.encoder, out, cfg.embeddings)
    data = EpochData(cfg, train, feat, random.Random(seed), ecfg.max_words)
    def is_emb(name: str) -> bool:
        return name.startswith("encoder.embed.words") or name.startswith("encoder.embed.pieces")

    emb_params = [p for n, p in model.named_parameters() if is_emb(n)]
    other = [p for n, p in model.named_parameters() if not is_emb(n)]
    groups, max_lr = [{"params": other, "weight_decay": 0.01}], [cfg.lr]
    if pretrained and cfg.freeze_embeddings:
        # Words seen in training would drift away from the unseen ones they were close to.
        for p in emb_params:
            p.requires_grad_(False)
    else:
        groups.append({"params": emb_params, "weight_decay": 0.0})
        max_lr.append(cfg.lr * (0.5 if pretrained else 1.0))
    opt = torch.optim.AdamW(groups, lr=cfg.lr)
    epochs = [data.epoch() for _ in range(cfg.epochs)]  # drawn up front: the schedule knows every step
    steps = sum(math.ceil(len(e) / cfg.batch_sentences) for e in epochs)
    # At least one warm-up step: OneCycleLR divides by zero when a tiny run's warm-up rounds to none.
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=steps, pct_start=max(0.1, 1.5 / steps))
    best, best_epoch, history = -1.0, -1, []
    started = time.monotonic()
    progress = Progress(f"fine-tuning {tag}", total=steps, unit="batches")
    for epoch in range(cfg.epochs):
        model.train()
        packed = epochs[epoch]
        order = rng.permutation(len(packed))
        total = 0.0
        for i in range(0, len(order), cfg.batch_sentences):
            batch, tags = to_batch(feat, [packed[j] for j in order[i: i + cfg.batch_sentences]], dev,
                                   cfg.word_dropout, rng)
            loss = model.loss(batch, tags)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item()
            progress.advance(extra=f"epoch {epoch + 1}/{cfg.epochs}")
        scores = evaluate(model, feat, dev_set, dev)
        f1 = scores["micro"]["f1"]
        history.append({"epoch": epoch + 1, "loss": round(total, 2), "dev_f1": f1,
                        "seconds": round(time.monotonic() - started, 1)})
        LOG.info("[%s] epoch %d loss %.1f dev F1 %.2f (%.0fs)", tag, epoch + 1, total, f1, time.monotonic() - started)
        if f1 > best:
            best, best_epoch = f1, epoch + 1
            torch.save({"model": model.state_dict(), "encoder": ecfg.to_dict(), "use_crf": use_crf,
                        "gazetteer": cfg.gazetteer}, out / f"{tag}.pt")
    progress.close()
    saved = torch.load(out / f"{tag}.pt")
    model.load_state_dict(saved["model"])
    test = evaluate(model, feat, read_conll(ANERCORP / "test.txt")[: cfg.test_sentences], dev)
    result = {"tag": tag, "pretrained": pretrained, "frozen_embeddings": pretrained and cfg.freeze_embeddings,
              "context_conv": ecfg.context_conv, "sparse_features": ecfg.sparse_features, "chars": ecfg.use_chars, "affixes": ecfg.use_affixes,
              "crf": use_crf, "wojood": cfg.wojood, "swap": cfg.swap, "silver": cfg.silver, "silver_ratio": cfg.silver_ratio,
              "gazetteer": cfg.gazetteer, "silver_sentences": len(data.silver),
              "sequences_per_epoch": [len(e) for e in epochs],
              "best_epoch": best_epoch, "dev_f1": best, "test": test, "history": history,
              "train_seconds": round(time.monotonic() - started, 1), "seed": seed,
              "params": sum(p.numel() for p in model.parameters())}
    (out / f"{tag}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    LOG.info("[%s] test micro F1 %.2f", tag, test["micro"]["f1"])
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", choices=sorted(CONFIGS), default="full")
    ap.add_argument("--out", default="build/ner")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--pretrain_minutes", type=float, default=None, help="Pretrain for this many minutes instead of a step count.")
    ap.add_argument("--pretrain_steps", type=int, default=None, help="Override the pretraining step count.")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--stage", choices=["all", "vocab", "pretrain", "finetune", "ablations", "export"], default="all")
    ap.add_argument("--no_pretrained", action="store_true", help="Fine-tune from random embeddings (ablation).")
    ap.add_argument("--no_chars", action="store_true", help="Drop the character CNN (ablation).")
    ap.add_argument("--no_affixes", action="store_true", help="Drop the hashed affix embeddings (ablation).")
    ap.add_argument("--no_crf", action="store_true", help="Softmax tagger instead of the CRF (ablation).")
    ap.add_argument("--dropout", type=float, default=None, help="Dropout of the encoder (default 0.2).")
    ap.add_argument("--word_dropout", type=float, default=None, help="Share of words replaced by [UNK] in training.")
    ap.add_argument("--freeze_embeddings", action="store_true", default=None,
                    help="Keep the pretrained word/piece tables fixed while fine-tuning.")
    ap.add_argument("--sparse_features", action="store_true", default=None,
                    help="Add a linear layer over hashed CRF-style indicator features to the tag scores.")
    ap.add_argument("--context_conv", type=int, default=None, help="Width of a convolution over words before the layers (0: none).")
    ap.add_argument("--threads", type=int, default=1,
                    help="CPU threads for torch: 1 avoids spinning OpenMP barriers on a shared, busy machine.")
    ap.add_argument("--wojood", action="store_true", default=None, help="Also train on Wojood's train split (mapped).")
    ap.add_argument("--swap", type=float, default=None, help="Entity-swap share of PERS sentences per epoch.")
    ap.add_argument("--silver", default=None, help="Teacher-labelled news JSONL (training/ner/silver.py).")
    ap.add_argument("--silver_ratio", type=float, default=None, help="Silver words per gold word in an epoch.")
    ap.add_argument("--silver_conf", type=float, default=None, help="Smallest path marginal of a kept silver sentence.")
    ap.add_argument("--gazetteer", default=None, help="Gazetteer features from this gazetteer.json.")
    ap.add_argument("--self_train", action="store_true", default=None,
                    help="Stage all: train a teacher, label the news with it and the CRF, train the student on both.")
    ap.add_argument("--mine_gazetteer", action="store_true", default=None,
                    help="Stage all: mine a gazetteer from the silver data and give the student its features.")
    ap.add_argument("--crf_weight", type=float, default=None, help="Feature CRF weight in the shipped model.")
    ap.add_argument("--embeddings", default=None, help="Pretrained tables to start from (default OUT/pretrained_embeddings.pt).")
    ap.add_argument("--score", default=None, metavar="CRF_NPZ",
                    help="After fine-tuning, export to OUT/TAG-model and score it (alone and with this feature CRF) "
                         "on ANERcorp test, Wojood val and the news paragraphs: OUT/TAG-scores.json.")
    ap.add_argument("--tag", default="ner", help="Name of the fine-tuning run (checkpoint and results file).")
    ap.add_argument("--tune", action="store_true",
                    help="Choose the feature CRF weight and a PERS bias on the dev set (overrides --crf_weight).")
    ap.add_argument("--ship", default=None, help="Write the shipped model folder here after fine-tuning.")
    ap.add_argument("--encoder_out", default=None, help="Write the pretrained encoder folder here.")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # tiny Adam moments as denormals slow CPU steps down many-fold
    cfg = CONFIGS[args.config]
    if args.pretrain_minutes is not None:
        cfg = replace(cfg, pretrain_minutes=args.pretrain_minutes, pretrain_steps=None)
    if args.pretrain_steps is not None:
        cfg = replace(cfg, pretrain_steps=args.pretrain_steps)
    if args.epochs is not None:
        cfg = replace(cfg, epochs=args.epochs)
    cfg = replace(cfg, encoder=replace(cfg.encoder, use_chars=not args.no_chars, use_affixes=not args.no_affixes))
    if args.dropout is not None:
        cfg = replace(cfg, encoder=replace(cfg.encoder, dropout=args.dropout))
    if args.word_dropout is not None:
        cfg = replace(cfg, word_dropout=args.word_dropout)
    if args.freeze_embeddings is not None:
        cfg = replace(cfg, freeze_embeddings=args.freeze_embeddings)
    if args.context_conv is not None:
        cfg = replace(cfg, encoder=replace(cfg.encoder, context_conv=args.context_conv))
    if args.sparse_features is not None:
        cfg = replace(cfg, encoder=replace(cfg.encoder, sparse_features=args.sparse_features))
    for name in ("wojood", "swap", "silver", "silver_ratio", "silver_conf", "gazetteer", "embeddings", "self_train",
                 "mine_gazetteer", "crf_weight"):
        if getattr(args, name) is not None:
            cfg = replace(cfg, **{name: getattr(args, name)})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    docs = None
    if args.stage in ("all", "vocab", "pretrain") and not (out / "tokenizer.json").exists():
        docs = news_words(cfg)
        build_vocab_and_tokenizer(cfg, docs, out)
    if args.stage in ("all", "pretrain") and not (out / "pretrained_embeddings.pt").exists():
        pretrain(cfg, docs if docs is not None else news_words(cfg), out, args.seed)
    if args.encoder_out:
        from training.ner.export import save_encoder
        save_encoder(cfg, out, Path(args.encoder_out))
    if args.stage == "all":
        cfg = prepare_student(cfg, out, args.seed, need_crf=args.tune)
    if args.stage in ("all", "finetune"):
        finetune(cfg, out, args.seed, use_pretrained=not args.no_pretrained, use_crf=not args.no_crf, tag=args.tag)
    if args.score and args.stage in ("all", "finetune", "export"):
        score_run(out, args.tag, args.score)
    crf = out / "crf.npz"
    tag_bias = None
    if args.tune and args.stage in ("all", "finetune", "export"):
        choice = tune(cfg, out, args.tag, crf if crf.exists() else None)
        cfg = replace(cfg, crf_weight=choice["crf_weight"])
        tag_bias = pers_bias(choice["pers_bias"]) if choice["pers_bias"] else None
    if args.ship and args.stage in ("all", "finetune", "export"):
        from training.ner.export import ship
        ship(out, args.tag, Path(args.ship), crf=crf if crf.exists() else None, crf_weight=cfg.crf_weight,
             tag_bias=tag_bias)
    return 0


def prepare_student(cfg: RecipeConfig, out: Path, seed: int, need_crf: bool = False) -> RecipeConfig:
    """The stages between pretraining and the student, each kept when its output exists (resumable).

    feature CRF (out/crf.npz) -> teacher (out/teacher.pt, this recipe without silver or gazetteer) ->
    silver data (out/silver.jsonl: teacher x CRF on the unlabelled news) -> gazetteer (out/gazetteer.json).
    Returns the student's recipe, pointing at the silver data and the gazetteer.
    """
    from training.ner import crf_baseline

    crf = out / "crf.npz"
    if not crf.exists() and (need_crf or cfg.self_train or cfg.crf_weight > 0):
        # The student's gold data (as training/ner/crf_baseline.py trains it): the dev set stays unseen.
        gold = gold_data(cfg)[0]
        started = time.monotonic()
        crf_baseline.train_crf(gold, iters=cfg.crf_iters).save(crf)
        LOG.info("feature CRF: %d sentences, %.0fs -> %s", len(gold), time.monotonic() - started, crf)
    if not cfg.self_train:
        return cfg
    from training.ner import gazetteer, silver
    from training.ner.export import ship

    teacher_cfg = replace(cfg, silver=None, gazetteer=None, swap=0.0)  # the gold data alone
    if not (out / "teacher.pt").exists():
        finetune(teacher_cfg, out, seed, tag="teacher")
    silver_file = out / "silver.jsonl"
    if not silver_file.exists():
        ship(out, "teacher", out / "teacher-model", quantize=False)
        partial = out / "silver.jsonl.part"
        silver.main(["--teacher", str(out / "teacher-model"), "--crf", str(crf), "--crf_weight",
                     str(cfg.teacher_crf_weight), "--articles", str(cfg.silver_articles), "--seed", str(seed),
                     "--news_articles", str(cfg.news_articles or 0), "--out", str(partial)])
        partial.replace(silver_file)
    cfg = replace(cfg, silver=str(silver_file))
    if cfg.mine_gazetteer:
        gaz = out / "gazetteer.json"
        if not gaz.exists():
            gazetteer.main(["--silver", str(silver_file), "--vocab", str(out / "vocab.json"), "--out", str(gaz)])
        cfg = replace(cfg, gazetteer=str(gaz))
    return cfg


CRF_WEIGHTS = (0.0, 0.25, 0.5, 1.0)
PERS_BIASES = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def pers_bias(value: float) -> list[float]:
    """A tag bias (``tag_bias`` of the model config) that adds ``value`` to B-PERS and I-PERS."""
    return [value if label.endswith("-PERS") else 0.0 for label in LABELS]


def tune(cfg: RecipeConfig, out: Path, tag: str, crf: Path | None) -> dict:
    """The feature CRF weight and a PERS bias of the run, chosen by micro F1 on the dev set alone.

    Every pair of the grid (CRF_WEIGHTS x PERS_BIASES; weight 0 only without a
    CRF) is scored on ``gold_data(cfg)[1]``, which neither the model nor the CRF
    trained on; ties go to the smaller weight, then the smaller bias. The grid
    and the choice are written to OUT/TAG-tune.json.
    """
    from akhbar.lib.evaluation.ner import evaluate as evaluate_runtime
    from akhbar.lib.ner.runtime import WordModelRuntime
    from training.ner.export import ship

    folder = out / f"{tag}-model"
    ship(out, tag, folder, quantize=False, crf=crf)
    dev_set = gold_data(cfg)[1]
    grid = []
    for weight in CRF_WEIGHTS if crf is not None else (0.0,):
        runtime = WordModelRuntime(folder, crf_weight=weight)
        for bias in PERS_BIASES:
            runtime.tag_bias = np.asarray(pers_bias(bias), np.float32)
            scores = evaluate_runtime(dev_set, runtime)
            grid.append({"crf_weight": weight, "pers_bias": bias, "dev_f1": scores["micro"]["f1"],
                         "dev_pers_recall": scores["per_type"].get("PERS", {}).get("recall", 0.0)})
            LOG.info("[%s] dev: CRF weight %.2f, PERS bias %.1f: F1 %.2f", tag, weight, bias, grid[-1]["dev_f1"])
    best = max(grid, key=lambda r: (r["dev_f1"], -r["crf_weight"], -r["pers_bias"]))
    choice = {"crf_weight": best["crf_weight"], "pers_bias": best["pers_bias"], "dev_f1": best["dev_f1"],
              "dev_sentences": len(dev_set), "grid": grid}
    (out / f"{tag}-tune.json").write_text(json.dumps(choice, indent=1))
    LOG.info("[%s] chosen on dev: CRF weight %.2f, PERS bias %.1f (dev F1 %.2f)", tag, best["crf_weight"],
             best["pers_bias"], best["dev_f1"])
    return choice


def score_run(out: Path, tag: str, crf: str, weights: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0)) -> dict:
    """The run exported (ONNX fp32) and scored on the three sets, alone and with the feature CRF at each weight."""
    from akhbar.lib.ner.runtime import WordModelRuntime
    from training.ner.crf_baseline import score_all
    from training.ner.export import ship

    folder = out / f"{tag}-model"
    ship(out, tag, folder, quantize=False, crf=Path(crf))
    report = {}
    for w in weights:
        report[f"crf_weight={w}"] = score_all(WordModelRuntime(folder, crf_weight=w))
    (out / f"{tag}-scores.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    for name, sets in report.items():
        LOG.info("[%s] %s: %s", tag, name, "  ".join(f"{k} {v['micro']['f1']:.2f}" for k, v in sets.items()))
    return report


if __name__ == "__main__":
    raise SystemExit(main())
