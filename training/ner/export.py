"""Write the shipped folders: the NER model (safetensors, ONNX, int8 ONNX, tokenizer, config, card) and the encoder.

    python -m training.ner.export --run build/ner --tag ner --out models/ner-ar-small

The weights are stored in fp16 safetensors (half the size; loaded back as
fp32); ONNX files are exported from those fp16-rounded weights, so every
runtime evaluates the same numbers.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch

from training.ner.data import LABELS
from training.ner.model import EncoderConfig, NerModel, WordEncoder, load_ner_model

INPUTS = ["word_ids", "stem_ids", "piece_ids", "char_ids", "affix_ids", "shape_ids", "mask", "sparse_ids"]


def _copy_tokenizer(run: Path, out: Path) -> None:
    for name in ("tokenizer.json", "vocab.json"):
        shutil.copy(run / name, out / name)


def ship(run: Path, tag: str, out: Path, quantize: bool = True, crf: Path | None = None, crf_weight: float = 0.0,
         tag_bias: list[float] | None = None) -> None:
    """Fine-tuned checkpoint run/<tag>.pt -> the model folder used by transforms/ner.py.

    The gazetteer the run was trained with is copied beside it (``gazetteer.json``);
    ``crf`` (a feature CRF's .npz) is copied as ``crf.npz`` and used at inference
    with ``crf_weight`` (0: shipped but off, ``--ner_crf_weight`` turns it on);
    ``tag_bias`` (one number a tag, chosen on dev data) is added to the tag scores.
    """
    from safetensors.torch import save_file

    saved = torch.load(run / f"{tag}.pt")
    out.mkdir(parents=True, exist_ok=True)
    _copy_tokenizer(run, out)
    extra = {}
    if saved.get("gazetteer"):
        shutil.copy(saved["gazetteer"], out / "gazetteer.json")
        extra["gazetteer"] = "gazetteer.json"
    if crf is not None:
        shutil.copy(crf, out / "crf.npz")
        extra["feature_crf"] = {"file": "crf.npz", "weight": crf_weight}
    if tag_bias is not None:
        extra["tag_bias"] = [float(x) for x in tag_bias]
    state = {k: v.detach().half().contiguous() for k, v in saved["model"].items()}
    save_file(state, str(out / "model.safetensors"))
    config = {
        "model_type": "akhbar-word-ner",
        "encoder": saved["encoder"],
        "use_crf": saved["use_crf"],
        "id2label": {str(i): name for i, name in enumerate(LABELS)},
        "label2id": {name: i for i, name in enumerate(LABELS)},
        "onnx": "model.onnx",  # fp32 by default: int8 costs about 1 F1 here (see the model card)
        **extra,
    }
    (out / "config.json").write_text(json.dumps(config, indent=1))
    model = load_ner_model(out)
    config["crf"] = {
        "transitions": model.crf.transitions.tolist() if saved["use_crf"] else [[0.0] * len(LABELS)] * len(LABELS),
        "start": model.crf.start.tolist() if saved["use_crf"] else [0.0] * len(LABELS),
        "end": model.crf.end.tolist() if saved["use_crf"] else [0.0] * len(LABELS),
    }
    (out / "config.json").write_text(json.dumps(config, indent=1))
    export_onnx(model, out / "model.onnx")
    if quantize:
        quantize_int8(out / "model.onnx", out / "model.int8.onnx")
    store_fp16(out / "model.onnx")


def export_onnx(model: NerModel, path: Path) -> None:
    """Emissions graph with dynamic batch and length (CRF decoding stays in numpy)."""
    from akhbar.lib.ner.features import MAX_CHARS, MAX_PIECES

    b, t = 2, 7
    dummy = (
        torch.ones(b, t, dtype=torch.long), torch.ones(b, t, dtype=torch.long),
        torch.ones(b, t, MAX_PIECES, dtype=torch.long), torch.ones(b, t, MAX_CHARS, dtype=torch.long),
        torch.ones(b, t, 4, dtype=torch.long), torch.ones(b, t, dtype=torch.long), torch.ones(b, t, dtype=torch.long),
        torch.ones(b, t, model.encoder.cfg.max_sparse, dtype=torch.long),
    )
    inputs = INPUTS if model.encoder.cfg.sparse_features else INPUTS[:-1]
    dummy = dummy[: len(inputs)]
    axes = {name: {0: "batch", 1: "words"} for name in inputs}
    axes["emissions"] = {0: "batch", 1: "words"}
    torch.onnx.export(model.eval(), dummy, str(path), input_names=inputs, output_names=["emissions"],
                      dynamic_axes=axes, opset_version=17, dynamo=False)


def store_fp16(path: Path, min_elements: int = 4096) -> None:
    """Store large fp32 initializers as fp16 + a Cast back to fp32: half the file, the same numbers.

    The weights were already rounded to fp16 (the safetensors file), so the
    graph computes exactly what the fp32 export did, in fp32.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    kept, casts = [], []
    for init in graph.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and arr.size >= min_elements:
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "__fp16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT))
        else:
            kept.append(init)
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(path))


def quantize_int8(src: Path, dst: Path, op_types: tuple[str, ...] | None = None) -> None:
    """Dynamic int8 quantization (weights int8, activations fp32) of ``op_types`` (None: matmuls and gathers)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8,
                     op_types_to_quantize=list(op_types) if op_types else None)


def save_encoder(cfg, run: Path, out: Path) -> None:
    """The pretrained encoder (embedding tables from skip-gram, fresh transformer layers) + tokenizer."""
    from dataclasses import replace

    from safetensors.torch import save_file

    from training.ner.train import init_from_pretrained, load_featurizer

    feat = load_featurizer(run)
    ecfg = replace(cfg.encoder, word_vocab=len(feat.vocab.words), piece_vocab=feat.tokenizer.get_vocab_size(),
                   char_vocab=len(feat.vocab.chars))
    torch.manual_seed(0)
    encoder = WordEncoder(ecfg)
    init_from_pretrained(encoder, run)
    out.mkdir(parents=True, exist_ok=True)
    _copy_tokenizer(run, out)
    save_file({k: v.detach().half().contiguous() for k, v in encoder.state_dict().items()}, str(out / "model.safetensors"))
    (out / "config.json").write_text(json.dumps({"model_type": "akhbar-word-encoder", "encoder": ecfg.to_dict()}, indent=1))


def load_encoder(path) -> WordEncoder:
    """models/encoder-ar-small -> WordEncoder (fp32). Features come from akhbar.lib.ner.features.WordFeaturizer."""
    from safetensors.torch import load_file

    path = Path(path)
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    encoder = WordEncoder(EncoderConfig.from_dict(config["encoder"]))
    encoder.load_state_dict({k: v.float() for k, v in load_file(str(path / "model.safetensors")).items()})
    return encoder.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run", default="build/ner")
    ap.add_argument("--tag", default="ner")
    ap.add_argument("--out", default="models/ner-ar-small")
    ap.add_argument("--no_quantize", action="store_true")
    args = ap.parse_args(argv)
    ship(Path(args.run), args.tag, Path(args.out), quantize=not args.no_quantize)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
