"""Train the transformer event classifier and save it as a model folder (ONNX + tokenizer + config).

    make train-events                                           # both event models + the card
    python -m training.events.train --config training/events/configs/full.json
    python -m training.events.train --config training/events/configs/smoke.json --out /tmp/ev  # seconds

Steps: assemble the data (``dataset.py``), cut a held-out split of it, build
the encoder (``model.py``: the project's ``models/encoder-ar-small`` if
present, else a small BERT of our own), fine-tune both heads, tune one
threshold per type on the held-out split (never on the dev set), export
``model.onnx`` and write ``config.json`` (labels, thresholds, tokenizer
settings) and ``metrics.json``. Everything is seeded; runs are CPU-only.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from pipelines.eval_events import event_scores
from pipelines.progress import Progress
from training.events import dataset
from training.events.corpus import REPO_ROOT, iter_articles
from training.events.model import EncoderInfo, EventClassifier, ExportWrapper, load_project_encoder, new_bert, train_wordpiece
from transforms.events import EVENT_TYPES, PieceInputs, decide, model_inputs

THRESHOLD_GRID = [round(0.05 * i, 2) for i in range(1, 20)]


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
    heldout_fraction: float = 0.15
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
    def from_file(cls, path: str | Path, **overrides) -> "TrainConfig":
        values = json.loads(Path(path).read_text(encoding="utf-8"))
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
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


def assemble(cfg: TrainConfig) -> tuple[list[dataset.Example], list[dataset.Example]]:
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
    return dataset.split_heldout(examples, cfg.heldout_fraction, cfg.seed)


def encode(inputs, examples: Sequence[dataset.Example]) -> list[torch.Tensor]:
    """The model's input tensors (in ``inputs.names`` order, the mask last) for the examples."""
    arrays = inputs.encode([(e.title, e.text) for e in examples])
    return [torch.from_numpy(arrays[name]) for name in inputs.names]


def targets(examples: Sequence[dataset.Example]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    index = {code: i for i, code in enumerate(EVENT_TYPES)}
    multi = torch.zeros(len(examples), len(EVENT_TYPES))
    for row, e in enumerate(examples):
        for code in e.labels:
            multi[row, index[code]] = 1.0
    primary = torch.tensor([index[e.primary] for e in examples], dtype=torch.long)
    weights = torch.tensor([e.weight for e in examples], dtype=torch.float32)
    return multi, primary, weights


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
                       f"{'MLM-pretrained %d steps' % cfg.pretrain_steps if cfg.pretrain_steps else 'random init'}")
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
def predict_scores(model: EventClassifier, tensors: list[torch.Tensor], batch_size: int = 64):
    model.eval()
    wrapper = ExportWrapper(model)
    scores, probs = [], []
    with torch.no_grad():
        for i in range(0, len(tensors[0]), batch_size):
            s, p = wrapper(*[t[i : i + batch_size] for t in tensors])
            scores.append(s)
            probs.append(p)
    return torch.cat(scores).numpy(), torch.cat(probs).numpy()


def tune_thresholds(scores: np.ndarray, gold: np.ndarray, min_support: int = 3) -> dict[str, float]:
    """Per type, the grid threshold with the best F1 on the held-out split (0.5 where it has too few positives)."""
    thresholds = {}
    for j, code in enumerate(EVENT_TYPES):
        positives = int(gold[:, j].sum())
        if positives < min_support:
            thresholds[code] = 0.5
            continue
        best = (-1.0, 0.5)
        for t in THRESHOLD_GRID:
            predicted = scores[:, j] >= t
            tp = float((predicted & (gold[:, j] > 0)).sum())
            f1 = 2 * tp / (predicted.sum() + positives) if predicted.sum() + positives else 0.0
            if f1 > best[0] + 1e-9:
                best = (f1, t)
        thresholds[code] = best[1]
    return thresholds


def fit(model: EventClassifier, tensors: list[torch.Tensor], multi, primary, weights, cfg: TrainConfig,
        on_epoch=None) -> None:
    generator = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(tensors[0]) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=0.01)
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
            width = int(tensors[-1][rows].sum(1).max())  # trim the padding this batch does not need
            type_logits, primary_logits = model(*[t[rows, :width] for t in tensors])
            w = weights[rows]
            loss = ((bce(type_logits, multi[rows]).mean(1) + ce(primary_logits, primary[rows])) * w).sum() / w.sum()
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


def export(model: EventClassifier, inputs, info: EncoderInfo, thresholds: dict[str, float], cfg: TrainConfig,
           out: Path, extra: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    sample = [torch.from_numpy(a) for a in
              (lambda arrays: [arrays[n] for n in inputs.names])(inputs.encode([("عنوان الخبر", "نص قصير"), ("عنوان", "")]))]
    axes = {name: {0: "batch", 1: "tokens"} for name in inputs.names}
    torch.onnx.export(
        ExportWrapper(model), tuple(sample), str(out / "model.onnx"),
        input_names=list(inputs.names), output_names=["type_scores", "primary_probs"],
        dynamic_axes=axes | {name: {0: "batch"} for name in ("type_scores", "primary_probs")},
        opset_version=17, dynamo=False,
    )
    config = {
        "model_type": "akhbar-event-classifier",
        "labels": list(EVENT_TYPES),
        "thresholds": thresholds,
        "thresholds_tuned_on": f"held-out {cfg.heldout_fraction:.0%} of the training data (seed {cfg.seed})",
        **inputs.save(out),
        "encoder": dataclasses.asdict(info),
        "train_config": dataclasses.asdict(cfg),
        **extra,
    }
    (out / "config.json").write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def run(cfg: TrainConfig) -> dict:
    torch.set_num_threads(cfg.threads)
    seed_everything(cfg.seed)
    started = time.monotonic()
    train, heldout = assemble(cfg)
    counts = {origin: sum(e.origin == origin for e in train) for origin in ("written", "weak", "sample")}
    print(f"train {len(train)} {counts}, held-out {len(heldout)}", flush=True)
    encoder, hidden, inputs, info = build_encoder(cfg, train)
    print(f"encoder: {info.description}", flush=True)
    seed_everything(cfg.seed)
    model = EventClassifier(encoder, hidden, len(EVENT_TYPES))
    if cfg.freeze_embeddings and info.source == "encoder-ar-small":
        # Words the labeled data never shows keep their pretrained neighbours (and steps are cheaper).
        for table in (encoder.embed.words, encoder.embed.pieces):
            table.weight.requires_grad_(False)
    tensors = encode(inputs, train)
    held_tensors = encode(inputs, heldout)
    multi, primary, weights = targets(train)
    held_multi = targets(heldout)[0].numpy()

    def report(epoch: int) -> None:
        s, p = predict_scores(model, held_tensors)
        held = scores_of(decide(s, p, [0.5] * len(EVENT_TYPES)), heldout)
        print(f"  held-out @0.5: micro-F1 {held['micro_f1']} primary {held['primary_accuracy']}", flush=True)

    fit(model, tensors, multi, primary, weights, cfg, on_epoch=report)
    held_scores, held_probs = predict_scores(model, held_tensors)
    thresholds = tune_thresholds(held_scores, held_multi)
    held = scores_of(decide(held_scores, held_probs, [thresholds[c] for c in EVENT_TYPES]), heldout)
    held_by_origin = {
        origin: scores_of(decide(held_scores[sel], held_probs[sel], [thresholds[c] for c in EVENT_TYPES]),
                          [e for e, keep in zip(heldout, sel) if keep])
        for origin in ("written", "weak")
        if (sel := np.array([e.origin == origin for e in heldout])).any()
    }
    out = repo_path(cfg.out)
    extra = {
        "data": {"train": len(train), "train_by_origin": counts, "heldout": len(heldout),
                 "train_primary": {c: sum(e.primary == c for e in train) for c in EVENT_TYPES}},
        "train_seconds": round(time.monotonic() - started, 1),
    }
    export(model, inputs, info, thresholds, cfg, out, extra)
    metrics = {"heldout": held, "heldout_by_origin": held_by_origin}
    if cfg.evaluate_dev:
        metrics["dev"] = dev_metrics(out)
    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: (v if k != "heldout_by_origin" else None) for k, v in metrics.items()}, ensure_ascii=False)[:3000])
    print(f"saved {out} in {time.monotonic() - started:.0f}s", flush=True)
    return metrics


def dev_metrics(model_dir: Path) -> dict | None:
    """Scores of the exported model on the real dev set (report only), or None without labels or data."""
    from pipelines.eval_events import evaluate
    from training.events.make_dev_jsonl import dev_rows

    try:
        rows = dev_rows()
    except (FileNotFoundError, KeyError) as exc:
        print(f"dev set not scored: {exc}", flush=True)
        return None
    return evaluate(rows, model_dir) if rows else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(Path(__file__).with_name("configs") / "full.json"))
    parser.add_argument("--out", help="output folder (overrides the config)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args(argv)
    cfg = TrainConfig.from_file(args.config, out=args.out, seed=args.seed, epochs=args.epochs)
    run(cfg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
