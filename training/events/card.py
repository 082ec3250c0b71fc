"""Write the model card (README.md) of a trained event model from its config.json and metrics.json.

    python -m training.events.card models/events-ar-small --compare "transformer=build/events/transformer"

Every number in the card is read from the files the training run wrote; the
card says which command produced them.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from akhbar.lib.events.decision import EVENT_TYPES
from akhbar.lib.events.features import LINEAR_BODY_CHARS, LINEAR_MODEL_TYPE


def _f(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _summary_row(name: str, scores: dict | None) -> str:
    if not scores:
        return f"| {name} | – | – | – | – |"
    return (f"| {name} | {scores['articles']} | {_f(scores['micro_f1'])} | {_f(scores['macro_f1'])} | "
            f"{_f(scores['primary_accuracy'])} |")


def per_type_table(columns: dict[str, dict | None]) -> list[str]:
    names = [n for n, s in columns.items() if s]
    lines = ["| type | " + " | ".join(f"{n} P / R / F1 (n)" for n in names) + " |",
             "|---|" + "---|" * len(names)]
    for code in EVENT_TYPES:
        cells = []
        for n in names:
            t = columns[n]["per_type"][code]
            cells.append(f"{t['precision']:.2f} / {t['recall']:.2f} / **{t['f1']:.2f}** ({t['support']})")
        lines.append(f"| {code} | " + " | ".join(cells) + " |")
    return lines


def _describe(config: dict) -> list[str]:
    if config.get("model_type") == LINEAR_MODEL_TYPE:
        return [
            f"- **Model:** sublinear TF-IDF over character 2-5-grams inside words ({config['features']:,} features,",
            "  `akhbar.lib.events.features.char_ngrams`) of the normalized headline (twice) and the body's first",
            f"  {LINEAR_BODY_CHARS} characters; one logistic regression per type (balanced classes, C={config['C']}) and",
            "  a multinomial logistic regression for the primary type. Inference is numpy only",
            "  (`akhbar.lib.events.model.LinearScorer`: `linear.safetensors` + `ngrams.json`).",
        ]
    encoder = config["encoder"]
    lines = [
        f"- **Encoder:** {encoder['description']}. Initialised from "
        + ("`models/encoder-ar-small`" if encoder["source"] == "encoder-ar-small" else "scratch")
        + f", then fine-tuned on the first {config['max_length']} words (headline, then body).",
        "- **Heads:** masked mean pooling, then a sigmoid head (one score per type) and a softmax head",
        "  (the primary type), trained jointly. Exported to ONNX (onnxruntime + tokenizers at inference).",
    ]
    if config.get("wide_features"):
        lines += [
            f"- **Wide part** (Wide & Deep): sublinear TF-IDF over {config['wide_features']:,} character 2-5-grams of the",
            f"  headline (twice) and the body's first {LINEAR_BODY_CHARS} characters, through one linear table per head;",
            "  its logits add to the transformer's, and both are trained together from the start",
            "  (`training/events/model.py: WideDeepClassifier`; ONNX inputs `ngram_ids`, `ngram_values`).",
        ]
    return lines


def card(model_dir: Path, others: dict[str, Path]) -> str:
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    compared = {name: (json.loads((p / "config.json").read_text(encoding="utf-8")),
                       json.loads((p / "metrics.json").read_text(encoding="utf-8")))
                for name, p in others.items() if (p / "metrics.json").is_file()}
    data, cfg = config["data"], config["train_config"]
    dev = metrics.get("dev")
    lines = [
        f"# {model_dir.name}",
        "",
        "Event types of `../shared/spec/event-taxonomy.md` for Arabic news articles: a score per type",
        "(multi-label), the thresholded set, and one primary type. Trained by akhbar (`training/events/`) on CPU.",
        "",
        "## Model",
        "",
        *_describe(config),
        *([f"- **Why this one:** akhbar targets a compact transformer; one was trained by the same command "
           f"({', '.join(compared)}, scores below) and scored lower on the dev set, so this model is shipped."]
          if compared and config.get("model_type") == LINEAR_MODEL_TYPE else []),
        *([f"- **Why this one:** akhbar targets a compact transformer, and this one reaches dev micro-F1 "
           f"{_f(dev['micro_f1'])} and primary accuracy {_f(dev['primary_accuracy'])}. Compared, trained and tuned "
           "the same way: " + "; ".join(f"{n} {_f((m.get('dev') or {}).get('micro_f1'))} / "
                                       f"{_f((m.get('dev') or {}).get('primary_accuracy'))}"
                                       for n, (_, m) in compared.items()) + " (scores below)."]
          if compared and dev and config.get("model_type") != LINEAR_MODEL_TYPE else []),
        *(["- **Primary calibration:** per-type biases on the primary head's log-probabilities, fitted on "
           "the gold articles' out-of-fold scores (L2-regularized likelihood, `training/events/tuning.py`), "
           "applied by `akhbar.lib.events.decision.calibrate_primary`: "
           + ", ".join(f"{c} {b:+.2f}" for c, b in config["primary_bias"].items()) + "."]
          if any(config.get("primary_bias", {}).values()) else []),
        "- **Decision** (`akhbar.lib.events.decision.decide`): a type is on when its score reaches its threshold; the",
        "  primary is the primary head's most likely type among those on (or its overall choice when it is",
        "  confident in a type the type head missed, which is then added); OTHER never combines.",
        f"- **Thresholds** (in `config.json`), tuned per type for F1 on {config['thresholds_tuned_on']}, never on the dev set:",
        "",
        "| " + " | ".join(EVENT_TYPES) + " |",
        "|" + "---|" * len(EVENT_TYPES),
        "| " + " | ".join(f"{config['thresholds'][c]:.2f}" for c in EVENT_TYPES) + " |",
        "",
        "## Data",
        "",
        "- **Written** (`training/events/data/written_*.jsonl`, datasheets there): wire-style paragraphs written",
        f"  for this project; {data['train_by_origin'].get('written', 0)} in training, weight {cfg['written_weight']}.",
        "- **Weak** (`training/events/weak_labels.py`, ids in `training/events/data/weak_labels.jsonl`): real ANT /",
        "  ANT multi-source articles labeled by keyword rules, text re-read from `../shared/data` at train time",
        f"  (never committed), at most {cfg['weak_max_per_primary']} per primary type; "
        f"{data['train_by_origin'].get('weak', 0)} in training, weighted by the rules' confidence.",
        "  Dev docnos and any article with a dev article's headline or body are excluded.",
        *([f"- **Gold** (`training/events/data/gold_labels.jsonl`, `DATASHEET_gold.md`): {data['gold']} real articles "
           f"labeled by reading, disjoint from dev, weight {cfg['gold_weight']}; "
           + (f"{data['gold_folds']}-fold cross-fitting: every gold article is scored by a model that did not "
              "train on it (thresholds and primary calibration come from those scores), and the shipped model "
              "trains on all of them." if data.get("gold_folds", 0) >= 2 else
              f"{data['tune']} set aside for the thresholds, the rest trained on.")]
          if data.get("gold") else []),
        f"- **Held-out split:** {data['heldout']} examples ({cfg['heldout_fraction']:.0%} of the written + weak data, by",
        f"  headline key, seed {cfg['seed']}): held-out scores, and thresholds for types with under 5 gold positives.",
        "  Held-out labels are mostly the rules' labels.",
        f"- **Dev** (`training/events/data/dev_labels.jsonl`): {dev['articles'] if dev else '–'} real articles labeled by reading them; evaluation only.",
        "",
        "Written + weak training examples per primary type: "
        + ", ".join(f"{c} {n}" for c, n in data["train_primary"].items()) + ".",
        *(["", "Gold articles per primary type: " + ", ".join(f"{c} {n}" for c, n in data["gold_primary"].items()) + "."]
          if data.get("gold_primary") else []),
        "",
        "## Scores",
        "",
        "| model, set | articles | micro-F1 | macro-F1 | primary acc. |",
        "|---|---|---|---|---|",
        _summary_row(f"**{model_dir.name}** (shipped), dev", dev),
        _summary_row(f"**{model_dir.name}** (shipped), held-out", metrics["heldout"]),
        *([_summary_row(f"**{model_dir.name}** (shipped), gold out-of-fold", metrics["gold_tune"])]
          if metrics.get("gold_tune") else []),
    ]
    for name, (_, m) in compared.items():
        lines.append(_summary_row(f"{name}, dev", m.get("dev")))
        lines.append(_summary_row(f"{name}, held-out", m.get("heldout")))
        if m.get("gold_tune"):
            lines.append(_summary_row(f"{name}, gold out-of-fold", m["gold_tune"]))
    for name, (other, _) in compared.items():
        d = other["data"]
        what = other.get("encoder", {}).get("description", other.get("model_type", ""))
        epochs = f"{other['train_config']['epochs']} epochs, " if "epochs" in other["train_config"] and other.get("encoder") else ""
        lines += ["", f"*{name}*: {what}; trained on {d['train']} examples (written "
                      f"{d['train_by_origin'].get('written', 0)}, weak {d['train_by_origin'].get('weak', 0)}, at most "
                      f"{other['train_config']['weak_max_per_primary']} weak per primary type) + {d.get('gold', 0)} gold "
                      f"({d.get('gold_folds', 0)}-fold), {epochs}{other['train_seconds']:.0f} s."]
    lines += ["", "Per type on dev (precision / recall / **F1** (gold support)):", ""]
    columns = {"shipped": dev} | {name: m.get("dev") for name, (_, m) in compared.items()}
    lines += per_type_table(columns)
    lines += [
        "",
        "## Reproduce",
        "",
        "```sh",
        "make train-events   # the shipped model and the ones compared here, then this card",
        "python -m training.events.make_dev_jsonl --out /tmp/dev.jsonl && akhbar eval events --jsonl /tmp/dev.jsonl",
        "```",
        "",
        f"Seed {cfg['seed']}; this model's training took {config['train_seconds']:.0f} s on the shared 2-core machine.",
        "",
        "## Limitations",
        "",
        "- Most real training labels are weak (keyword rules): the model learns the rules' blind spots too.",
        "- The gold and dev labels come from different readers (see the datasheets); where they drew a borderline",
        "  case differently, the calibration and thresholds follow gold, not dev.",
        "- The dev set is mostly one Tunisian outlet (JawharaFM) plus 60 multi-source articles; scores elsewhere may differ.",
        "- Rare types (MILITARY_POSTURE, AID_COOPERATION, SANCTIONS) have few real examples; their dev scores rest",
        "  on a handful of articles and are the least reliable.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", nargs="?", default="models/events-ar-small")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=FOLDER",
                        help="another trained model folder whose scores the card shows beside the shipped one")
    args = parser.parse_args(argv)
    model_dir = Path(args.model)
    others = {}
    for item in args.compare:
        name, _, folder = item.partition("=")
        others[name] = Path(folder)
    (model_dir / "README.md").write_text(card(model_dir, others), encoding="utf-8")
    print(f"wrote {model_dir / 'README.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
