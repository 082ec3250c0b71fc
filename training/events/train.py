"""Train the transformer event classifier and save it as a model folder (ONNX + tokenizer + config).

    make train-events                                           # the shipped model, the comparison, the card
    python -m training.events.train --config training/events/configs/events.json   # -> models/events-ar-small
    python -m training.events.train --config training/events/configs/smoke.json --out /tmp/ev  # seconds
    python -m training.events.train --config ... --set gold_folds=1 --set wide_ngrams=false   # an experiment

Steps: assemble the data (``dataset.py``: written, weak, gold), cut a
held-out split of the written + weak data, build the encoder (``model.py``:
the project's ``models/encoder-ar-small`` if present, else a small BERT of
our own; with ``wide_ngrams`` a linear part over TF-IDF n-grams beside it),
fine-tune both heads, tune one threshold per type and the primary head's
calibration on gold articles the model did not train on (``tuning.py``,
never the dev set), export ``model.onnx`` and write ``config.json`` (labels,
thresholds, calibration, input settings) and ``metrics.json``. Everything is
seeded; it runs on the CPU.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from akhbar.lib.evaluation.events import event_scores
from akhbar.lib.events.decision import EVENT_TYPES, decide
from akhbar.lib.events.features import PieceInputs, TfidfFeatures, WideInputs, linear_document, model_inputs
from akhbar.lib.progress import Progress
from training.events import dataset, tuning
from training.events.corpus import REPO_ROOT, iter_articles
from training.events.model import (
    EncoderInfo,
    EventClassifier,
    ExportWrapper,
    WideDeepClassifier,
    load_project_encoder,
    new_bert,
    train_wordpiece,
)


@dataclass
class TrainConfig:
    out: str = "build/events/transformer"
    seed: int = 13
    written: list[str] = field(default_factory=lambda: ["training/events/data/written_a.jsonl",
                                                        "training/events/data/written_b.jsonl"])
    written_weight: float = 2.0
    sample_corpus: bool = False  # the bundled demo corpus: smoke runs only
    weak: bool = True
    weak_labels: str = "training/events/data/weak_labels.jsonl"  # the committed ids + labels, when present
    weak_labels_cache: str = "build/events/weak_labels.jsonl"  # else weak_labels.py writes them here
    weak_min_confidence: float = 0.0
    weak_max_per_primary: int = 1200
    weak_primary_weight: float = 1.0  # scales the primary loss on weak examples (the rules guess the primary worst)
    heldout_fraction: float = 0.15
    gold: str = "training/events/data/gold_labels.jsonl"  # hand-labeled real articles, when the file exists
    gold_weight: float = 3.0
    gold_folds: int = 3  # cross-fitting folds over gold for the thresholds (tuning.py); <2: a fixed split
    gold_tune_fraction: float = 0.4  # with gold_folds < 2: this share of gold tunes the thresholds, untrained on
    calibrate_primary: bool = True  # fit the primary head's per-type biases on gold (tuning.fit_primary_bias)
    wide_ngrams: bool = False  # add a linear "wide" part over TF-IDF character n-grams beside the transformer
    wide_max_features: int = 150_000
    wide_lr: float = 0.005
    encoder: str = "models/encoder-ar-small"  # used when the folder exists; "" forces our own
    vocab_size: int = 16000
    hidden_size: int = 256
    layers: int = 2
    heads: int = 4
    max_length: int = 128
    pretrain_steps: int = 0  # MLM steps on unlabeled ANT text for our own encoder
    freeze_embeddings: bool = True  # keep the project encoder's pretrained word/piece tables as they are
    epochs: int = 3
    batch_size: int = 32
    lr: float = 5e-4
    threads: int = 2
    evaluate_dev: bool = True  # report dev scores in metrics.json (dev never trains or tunes anything)

    @classmethod
    def from_file(cls, path: str | Path, **overrides) -> TrainConfig:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"{path} (or an override): unknown config keys {sorted(unknown)}")
        return cls(**values)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def repo_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else REPO_ROOT / path


# -- data ---------------------------------------------------------------------
def weak_labels_file(cfg: TrainConfig) -> Path:
    """The committed weak labels, else run weak_labels.py (cached under build/ until the rules change).

    A cache older than the dev labels is still safe: ``dataset.load_weak`` drops
    every dev docno and dev copy itself.
    """
    committed = repo_path(cfg.weak_labels) if cfg.weak_labels else None
    if committed is not None and committed.is_file():
        return committed
    cache = repo_path(cfg.weak_labels_cache)
    rules = Path(__file__).with_name("weak_labels.py")
    if not cache.is_file() or rules.stat().st_mtime > cache.stat().st_mtime:
        cache.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "training.events.weak_labels", "--out", str(cache)], check=True, cwd=REPO_ROOT)
    return cache


@dataclass
class Data:
    """What one training run sees: ``train`` (written + weak); ``heldout`` (a split of those, for
    reporting, and for thresholds where gold lacks positives); ``gold`` (hand-labeled real articles,
    trained on and tuned on as ``tuning.fit_and_tune`` decides; empty without the gold file)."""

    train: list[dataset.Example]
    heldout: list[dataset.Example]
    gold: list[dataset.Example]

    def fit_and_tune(self, cfg: TrainConfig, train_fn, score_fn) -> tuning.Tuned:
        return tuning.fit_and_tune(self.train, self.heldout, self.gold, train_fn, score_fn,
                                   cfg.gold_folds, cfg.gold_tune_fraction, cfg.seed, cfg.calibrate_primary)


def assemble(cfg: TrainConfig) -> Data:
    examples: list[dataset.Example] = []
    written = [repo_path(p) for p in cfg.written if repo_path(p).is_file()]
    examples += dataset.load_labeled_jsonl(written, "written", weight=cfg.written_weight)
    if cfg.sample_corpus:
        examples += dataset.load_sample_corpus()
    if cfg.weak:
        examples += dataset.load_weak(weak_labels_file(cfg), dataset.dev_keys(), cfg.weak_min_confidence,
                                      cfg.weak_max_per_primary, cfg.seed)
    if not examples:
        raise ValueError("no training examples: no written files, no sample corpus and no weak labels")
    train, heldout = dataset.split_heldout(examples, cfg.heldout_fraction, cfg.seed)
    gold_path = repo_path(cfg.gold) if cfg.gold else None
    gold = dataset.load_gold(gold_path, dataset.dev_keys(), cfg.gold_weight) if gold_path and gold_path.is_file() else []
    return Data(train, heldout, gold)


def encode(inputs, examples: Sequence[dataset.Example]) -> list[torch.Tensor]:
    """The model's input tensors (in ``inputs.names`` order, the mask last) for the examples."""
    arrays = inputs.encode([(e.title, e.text) for e in examples])
    return [torch.from_numpy(arrays[name]) for name in inputs.names]


def targets(examples: Sequence[dataset.Example], weak_primary_weight: float = 1.0
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Type matrix, primary index, example weight, and the primary loss's scale (lower for weak labels)."""
    index = {code: i for i, code in enumerate(EVENT_TYPES)}
    multi = torch.zeros(len(examples), len(EVENT_TYPES))
    for row, e in enumerate(examples):
        for code in e.labels:
            multi[row, index[code]] = 1.0
    primary = torch.tensor([index[e.primary] for e in examples], dtype=torch.long)
    weights = torch.tensor([e.weight for e in examples], dtype=torch.float32)
    primary_scale = torch.tensor([weak_primary_weight if e.origin == "weak" else 1.0 for e in examples])
    return multi, primary, weights, primary_scale


# -- encoder ------------------------------------------------------------------
def build_encoder(cfg: TrainConfig, train: Sequence[dataset.Example]):
    """(encoder, hidden size, input encoder, info): the project encoder if present, else our own BERT."""
    project = repo_path(cfg.encoder) if cfg.encoder else None
    if project is not None and (project / "config.json").is_file():
        return load_project_encoder(project, cfg.max_length)
    unlabeled = []
    if cfg.pretrain_steps:
        dev = dataset.dev_keys()
        for source in ("ant", "ant_multisource"):
            unlabeled += [a.title + "\n" + a.text for a in iter_articles(source) if (source, a.docno) not in dev]
    tokenizer = train_wordpiece([e.title + "\n" + e.text for e in train] + unlabeled, cfg.vocab_size)
    encoder = new_bert(tokenizer.get_vocab_size(), cfg.hidden_size, cfg.layers, cfg.heads, max(cfg.max_length, 128))
    info = EncoderInfo("own", None,
                       f"own BERT ({cfg.layers} layers, hidden {cfg.hidden_size}, WordPiece {tokenizer.get_vocab_size()} "
                       f"trained on the training text{' + unlabeled ANT' if unlabeled else ''}), "
                       f"{f'MLM-pretrained {cfg.pretrain_steps} steps' if cfg.pretrain_steps else 'random init'}")
    if cfg.pretrain_steps:
        pretrain_mlm(encoder.bert, tokenizer, unlabeled, cfg)
    return encoder, cfg.hidden_size, PieceInputs(tokenizer, cfg.max_length, normalize=True), info


def pretrain_mlm(encoder, tokenizer, texts: list[str], cfg: TrainConfig) -> None:
    """A short masked-LM warm-up of our own encoder on unlabeled ANT text (dev articles excluded)."""
    from transformers import BertForMaskedLM

    mlm = BertForMaskedLM(encoder.config)
    mlm.bert.load_state_dict(encoder.state_dict(), strict=False)
    rng = random.Random(cfg.seed)
    rng.shuffle(texts)
    mask_id = tokenizer.token_to_id("[MASK]")
    optimizer = torch.optim.AdamW(mlm.parameters(), lr=cfg.lr, weight_decay=0.01)
    mlm.train()
    tokenizer.enable_truncation(max_length=cfg.max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    progress = Progress("MLM pretraining", total=cfg.pretrain_steps, unit="steps")
    for step in range(cfg.pretrain_steps):
        batch = [texts[(step * cfg.batch_size + i) % len(texts)] for i in range(cfg.batch_size)]
        enc = tokenizer.encode_batch([model_inputs(text, "", normalize=True)[0] for text in batch])
        ids = torch.tensor([e.ids for e in enc])
        attention = torch.tensor([e.attention_mask for e in enc])
        special = torch.tensor([e.special_tokens_mask for e in enc]).bool() | (attention == 0)
        chosen = (torch.rand(ids.shape) < 0.15) & ~special
        labels = torch.where(chosen, ids, torch.full_like(ids, -100))
        inputs = torch.where(chosen & (torch.rand(ids.shape) < 0.8), torch.full_like(ids, mask_id), ids)
        loss = mlm(input_ids=inputs, attention_mask=attention, labels=labels).loss
        loss.backward()
        nn.utils.clip_grad_norm_(mlm.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        progress.advance(extra=f"loss {loss.item():.3f}")
    progress.close()
    tokenizer.no_padding()
    tokenizer.no_truncation()
    encoder.load_state_dict(mlm.bert.state_dict(), strict=False)


# -- training -----------------------------------------------------------------
def predict_scores(model: nn.Module, tensors: list[torch.Tensor], batch_size: int = 64):
    model.eval()
    wrapper = ExportWrapper(model)
    scores, probs = [], []
    with torch.no_grad():
        for i in range(0, len(tensors[0]), batch_size):
            s, p = wrapper(*[t[i : i + batch_size] for t in tensors])
            scores.append(s)
            probs.append(p)
    return torch.cat(scores).numpy(), torch.cat(probs).numpy()


def batch(tensors: list[torch.Tensor], rows: torch.Tensor, wide: bool) -> list[torch.Tensor]:
    """The rows' inputs, without the padding this batch does not need (wide n-grams and words apart)."""
    picked = [t[rows] for t in tensors]
    n_wide = 2 if wide else 0
    width = int(picked[-1].sum(1).max())
    deep = [t[:, :width] for t in picked[n_wide:]]
    if not wide:
        return deep
    count = max(1, int((picked[1] != 0).sum(1).max()))
    return [t[:, :count] for t in picked[:n_wide]] + deep


def fit(model: nn.Module, tensors: list[torch.Tensor], multi, primary, weights, primary_scale, cfg: TrainConfig,
        on_epoch=None) -> None:
    generator = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(tensors[0]) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    wide = isinstance(model, WideDeepClassifier)
    groups = [{"params": [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("wide_")]}]
    if wide:  # sparse n-gram tables: their own rate, no decay (most rows see few updates)
        groups.append({"params": [model.wide_types.weight, model.wide_primary.weight], "lr": cfg.wide_lr,
                       "weight_decay": 0.0})
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=0.01)
    warmup = max(1, total // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total - s) / max(1, total - warmup)))
    )
    bce = nn.BCEWithLogitsLoss(reduction="none")
    ce = nn.CrossEntropyLoss(reduction="none")
    started = time.monotonic()
    progress = Progress("fine-tuning", total=cfg.epochs * steps_per_epoch, unit="batches")
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(tensors[0]), generator=generator)
        running = 0.0
        for step in range(steps_per_epoch):
            rows = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            type_logits, primary_logits = model(*batch(tensors, rows, wide))
            w = weights[rows]
            per_example = bce(type_logits, multi[rows]).mean(1) + ce(primary_logits, primary[rows]) * primary_scale[rows]
            loss = (per_example * w).sum() / w.sum()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            running += loss.item()
            progress.advance(extra=f"epoch {epoch + 1}/{cfg.epochs}, loss {running / (step + 1):.4f}")
        print(f"epoch {epoch + 1}/{cfg.epochs} loss {running / steps_per_epoch:.4f} "
              f"({time.monotonic() - started:.0f}s)", flush=True)
        if on_epoch is not None:
            on_epoch(epoch)
    progress.close()


def scores_of(decided, examples: Sequence[dataset.Example]) -> dict:
    return event_scores([e.labels for e in examples], [p.codes for p in decided],
                        [e.primary for e in examples], [p.primary for p in decided])


def export(model: nn.Module, inputs, info: EncoderInfo, tuned: tuning.Tuned, cfg: TrainConfig, out: Path,
           extra: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    arrays = inputs.encode([("عنوان الخبر", "نص قصير"), ("عنوان", "")])
    sample = [torch.from_numpy(arrays[name]) for name in inputs.names]
    axes = {name: {0: "batch", 1: "ngrams" if name in WideInputs.wide_names else "tokens"} for name in inputs.names}
    torch.onnx.export(
        ExportWrapper(model), tuple(sample), str(out / "model.onnx"),
        input_names=list(inputs.names), output_names=["type_scores", "primary_probs"],
        dynamic_axes=axes | {name: {0: "batch"} for name in ("type_scores", "primary_probs")},
        opset_version=17, dynamo=False,
    )
    config = {
        "model_type": "akhbar-event-classifier",
        "labels": list(EVENT_TYPES),
        "thresholds": tuned.thresholds,
        "primary_bias": tuned.primary_bias,
        "thresholds_tuned_on": tuned.tuned_on,
        **inputs.save(out),
        "encoder": dataclasses.asdict(info),
        "train_config": dataclasses.asdict(cfg),
        **extra,
    }
    (out / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def wide_features(train: Sequence[dataset.Example], cfg: TrainConfig) -> TfidfFeatures:
    """The wide part's vocabulary and idf, fitted on the training text like the linear model's."""
    from training.events.baseline import tfidf_features, vectorizer_for

    vectorizer = vectorizer_for(cfg.wide_max_features)
    vectorizer.fit([linear_document(e.title, e.text) for e in train])
    return tfidf_features(vectorizer)


@dataclass
class Trained:
    """A fine-tuned classifier with the input encoder and encoder description it was built with."""

    model: nn.Module
    inputs: object
    info: EncoderInfo

    def scores(self, examples: Sequence[dataset.Example]) -> tuning.Scores:
        return predict_scores(self.model, encode(self.inputs, examples))


def train_one(cfg: TrainConfig, train: list[dataset.Example], name: str,
              heldout: Sequence[dataset.Example] = ()) -> Trained:
    """Build a fresh classifier (the encoder reloaded, the wide vocabulary refitted) and fine-tune it."""
    print(f"== {name}: {len(train)} examples "
          f"{ {o: sum(e.origin == o for e in train) for o in ('written', 'weak', 'gold', 'sample')} }", flush=True)
    seed_everything(cfg.seed)
    encoder, hidden, inputs, info = build_encoder(cfg, train)
    seed_everything(cfg.seed)
    model: nn.Module = EventClassifier(encoder, hidden, len(EVENT_TYPES))
    if cfg.wide_ngrams:
        inputs = WideInputs(inputs, wide_features(train, cfg))
        model = WideDeepClassifier(model, len(inputs.features.grams), len(EVENT_TYPES))
    if cfg.freeze_embeddings and info.source == "encoder-ar-small":
        # Words the labeled data never shows keep their pretrained neighbours (and steps are cheaper).
        for table in (encoder.embed.words, encoder.embed.pieces):
            table.weight.requires_grad_(False)
    trained = Trained(model, inputs, info)
    held_tensors = encode(inputs, heldout) if heldout else None

    def report(epoch: int) -> None:
        if held_tensors is not None:
            s, p = predict_scores(model, held_tensors)
            scored = scores_of(decide(s, p, [0.5] * len(EVENT_TYPES)), heldout)
            print(f"  held-out @0.5: micro-F1 {scored['micro_f1']} primary {scored['primary_accuracy']}", flush=True)

    fit(model, encode(inputs, train), *targets(train, cfg.weak_primary_weight), cfg, on_epoch=report)
    return trained


def scored_by_origin(scores: tuning.Scores, examples: Sequence[dataset.Example], cut: list[float]) -> dict:
    return {
        origin: scores_of(decide(scores[0][sel], scores[1][sel], cut), [e for e, keep in zip(examples, sel) if keep])
        for origin in ("written", "weak")
        if (sel := np.array([e.origin == origin for e in examples], dtype=bool)).any()
    }


def run(cfg: TrainConfig) -> dict:
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    started = time.monotonic()
    data = assemble(cfg)
    print(f"train {len(data.train)}, held-out {len(data.heldout)}, gold {len(data.gold)}", flush=True)
    tuned = data.fit_and_tune(
        cfg, lambda examples, name: train_one(cfg, examples, name, data.heldout if name == "final model" else ()),
        lambda trained, examples: trained.scores(examples),
    )
    final = tuned.model
    cut = [tuned.thresholds[c] for c in EVENT_TYPES]
    held_scores = tuned.calibrated(final.scores(data.heldout))
    extra = {
        "data": {"train": len(data.train), "gold": len(data.gold), "gold_folds": cfg.gold_folds,
                 "heldout": len(data.heldout), "tune": len(tuned.tune_examples),
                 "train_by_origin": {o: sum(e.origin == o for e in data.train) for o in ("written", "weak", "sample")},
                 "train_primary": {c: sum(e.primary == c for e in data.train) for c in EVENT_TYPES},
                 "gold_primary": {c: sum(e.primary == c for e in data.gold) for c in EVENT_TYPES}},
        "train_seconds": round(time.monotonic() - started, 1),
    }
    out = repo_path(cfg.out)
    export(final.model, final.inputs, final.info, tuned, cfg, out, extra)
    metrics = {"heldout": scores_of(decide(*held_scores, cut), data.heldout),
               "heldout_by_origin": scored_by_origin(held_scores, data.heldout, cut)}
    if tuned.tune_scores is not None:
        metrics["gold_tune"] = scores_of(decide(*tuned.calibrated(tuned.tune_scores), cut), tuned.tune_examples)
    if cfg.evaluate_dev:
        metrics["dev"] = dev_metrics(out)
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: (v if k != "heldout_by_origin" else None) for k, v in metrics.items()}, ensure_ascii=False)[:3000])
    print(f"saved {out} in {time.monotonic() - started:.0f}s", flush=True)
    return metrics


def dev_metrics(model_dir: Path) -> dict | None:
    """Scores of the exported model on the real dev set (report only), or None without labels or data."""
    from akhbar.lib.evaluation.events import evaluate
    from training.events.make_dev_jsonl import dev_rows

    try:
        rows = dev_rows()
    except (FileNotFoundError, KeyError) as exc:
        print(f"dev set not scored: {exc}", flush=True)
        return None
    return evaluate(rows, model_dir) if rows else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(Path(__file__).with_name("configs") / "events.json"))
    parser.add_argument("--out", help="output folder (overrides the config)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                        help="override one config key for an experiment, e.g. --set gold_weight=6 (repeatable)")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = json.loads(value)
    cfg = TrainConfig.from_file(args.config, out=args.out, seed=args.seed, epochs=args.epochs, **overrides)
    run(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
