"""The NER training recipe in its tiny smoke configuration: same code as `make train-ner`, seconds not hours."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.shared_data import shared_data

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    shared_data("anercorp", "train.txt")
    shared_data("ant", "ant.jsonl.gz")
    from training.ner import train

    out = tmp_path_factory.mktemp("ner-smoke")
    ship = out / "ship"
    assert train.main(["--config", "smoke", "--out", str(out), "--seed", "3", "--ship", str(ship),
                       "--encoder_out", str(out / "encoder")]) == 0
    return out, ship


def test_smoke_run_writes_every_stage(smoke_run):
    out, ship = smoke_run
    for name in ("vocab.json", "tokenizer.json", "sg.pt", "pretrained_embeddings.pt", "ner.pt", "ner.json"):
        assert (out / name).is_file(), name
    result = json.loads((out / "ner.json").read_text())
    assert result["pretrained"] is True and result["crf"] is True
    assert result["history"] and all(h["loss"] > 0 for h in result["history"])
    config = json.loads((ship / "config.json").read_text())
    assert config["id2label"]["0"] == "O" and set(config["label2id"]) >= {"B-PERS", "I-LOC", "B-ORG", "I-MISC"}
    for name in ("model.safetensors", "model.onnx", "model.int8.onnx", "tokenizer.json", "vocab.json"):
        assert (ship / name).is_file(), name


def test_pretraining_resumes_from_its_checkpoint(smoke_run):
    out, _ = smoke_run
    from training.ner import train

    before = torch.load(out / "sg.pt")["state"]
    (out / "pretrained_embeddings.pt").unlink()
    assert before["steps"] == 20
    assert train.main(["--config", "smoke", "--out", str(out), "--seed", "3", "--stage", "pretrain",
                       "--pretrain_steps", "30"]) == 0
    after = torch.load(out / "sg.pt")["state"]
    assert after["steps"] == 30 and after["seconds"] > before["seconds"] and after["pairs"] > before["pairs"]
    assert (out / "pretrained_embeddings.pt").is_file()


def test_onnx_and_torch_give_the_same_emissions(smoke_run):
    _, ship = smoke_run
    from akhbar.lib.ner.runtime import WordModelRuntime
    from training.ner.model import TorchWordRuntime

    words = [["قال", "الرئيس", "في", "القاهرة", "إن", "الاتفاق", "جاهز", "."], ["وزير", "الخارجية"]]
    onnx = WordModelRuntime(ship)
    arrays = onnx.featurizer.encode(words)
    fp32 = WordModelRuntime.__new__(WordModelRuntime)
    fp32.__dict__.update(onnx.__dict__)
    import onnxruntime as ort

    fp32.session = ort.InferenceSession(str(ship / "model.onnx"), providers=["CPUExecutionProvider"])
    torch_rt = TorchWordRuntime(ship)
    a, b = fp32.emissions(arrays), torch_rt.emissions(arrays)
    assert a.shape == (2, 8, 9)
    np.testing.assert_allclose(a, b, atol=1e-3)
    q = onnx.emissions(arrays)  # int8: close, not equal
    assert np.abs(q - a).max() < 0.5 * np.abs(a).max()


def test_saved_encoder_loads_and_encodes(smoke_run):
    out, _ = smoke_run
    from tokenizers import Tokenizer

    from akhbar.lib.ner.features import Vocab, WordFeaturizer
    from training.ner.export import load_encoder

    enc = load_encoder(out / "encoder")
    feat = WordFeaturizer(Vocab.load(out / "encoder" / "vocab.json"), Tokenizer.from_file(str(out / "encoder" / "tokenizer.json")))
    arrays = feat.encode([["الحكومة", "تعلن"], ["خبر"]])
    with torch.no_grad():
        states = enc(**{k: torch.from_numpy(v) for k, v in arrays.items()})
    assert states.shape == (2, 2, enc.cfg.d_model) and torch.isfinite(states).all()


def test_read_conll_names_the_bad_line(tmp_path: Path):
    from training.ner.data import read_conll

    good = tmp_path / "good.txt"
    good.write_text("القاهرة B-LOC\nتستضيف O\n\nمصر B-LOC\n", encoding="utf-8")
    assert read_conll(good) == [(["القاهرة", "تستضيف"], ["B-LOC", "O"]), (["مصر"], ["B-LOC"])]
    bad = tmp_path / "bad.txt"
    bad.write_text("القاهرة B-CITY\n", encoding="utf-8")
    with pytest.raises(ValueError, match="B-CITY"):
        read_conll(bad)


def test_crf_features_see_clitics_and_context():
    from training.ner.crf_baseline import sentence_features

    feats = sentence_features(["وروسيا", "تعلن"])
    assert feats[0]["stem:روسيا"] == 1.0
    assert feats[0]["1:w"] == "تعلن" and feats[1]["-1:w"] == "وروسيا"
    assert feats[0]["-1:edge"] == 1.0
