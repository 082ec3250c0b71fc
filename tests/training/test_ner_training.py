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


@pytest.fixture(scope="module")
def levers_run(smoke_run, tmp_path_factory):
    """The whole recipe on the tiny configuration: feature CRF, teacher, silver, gazetteer, student, ship."""
    import shutil

    from training.ner import train

    shared_data("wojood_sample", "train.txt")
    src, _ = smoke_run
    out = tmp_path_factory.mktemp("ner-levers")
    for name in ("vocab.json", "tokenizer.json", "sg.pt", "pretrained_embeddings.pt"):
        shutil.copy(src / name, out / name)  # vocabulary and pretraining as in the smoke run
    ship = out / "ship"
    assert train.main(["--config", "smoke_levers", "--out", str(out), "--seed", "3", "--ship", str(ship)]) == 0
    return out, ship


def test_the_recipe_runs_every_lever_and_ships_them(levers_run):
    out, ship = levers_run
    for name in ("crf.npz", "teacher.pt", "silver.jsonl", "gazetteer.json", "ner.pt", "ner.json"):
        assert (out / name).is_file(), name
    rows = [json.loads(line) for line in (out / "silver.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows and all(len(r["tokens"]) == len(r["tags"]) and 0.0 <= r["conf"] <= 1.0 for r in rows)
    assert {type(r["agree"]) for r in rows} == {bool}
    phrases = json.loads((out / "gazetteer.json").read_text(encoding="utf-8"))["phrases"]
    assert phrases.get("دونالد ترامب") == "PERS"  # the written list of today's names is in
    result = json.loads((out / "ner.json").read_text())
    assert result["wojood"] and result["swap"] == 0.5 and result["silver"] and result["gazetteer"]
    assert result["silver_sentences"] > 0
    gold_only = json.loads((out / "teacher.json").read_text())["sequences_per_epoch"]
    assert min(result["sequences_per_epoch"]) > max(gold_only), "silver and swapped sentences join each epoch"
    config = json.loads((ship / "config.json").read_text())
    assert config["gazetteer"] == "gazetteer.json" and config["feature_crf"] == {"file": "crf.npz", "weight": 0.5}
    assert config["encoder"]["max_sparse"] == 40
    for name in ("crf.npz", "gazetteer.json", "model.onnx"):
        assert (ship / name).is_file(), name


def test_the_shipped_ensemble_runs_without_torch_parts(levers_run):
    _, ship = levers_run
    from akhbar.lib.ner import find_entities, load_runtime

    rt = load_runtime(ship)
    assert rt.feature_crf is not None and rt.crf_weight == 0.5 and rt.featurizer.gazetteer is not None
    text = "قال الرئيس الأمريكي دونالد ترامب في واشنطن إن الاتفاق جاهز."
    (entities,) = find_entities([text], rt)
    for e in entities:
        assert text[e["start"]: e["end"]] == e["text"] and "canonical" in e
    alone = load_runtime(ship, crf_weight=0.0)
    words = [["قال", "دونالد", "ترامب", "في", "واشنطن"]]
    (both,), (solo,) = rt.potentials(words), alone.potentials(words)
    expected = solo[0] + 0.5 * rt.feature_crf.emissions(words[0])
    np.testing.assert_allclose(both[0], expected, atol=1e-5)


def test_tune_chooses_the_crf_weight_and_pers_bias_on_dev_and_ships_them(levers_run):
    out, _ = levers_run
    from akhbar.lib.ner import load_runtime
    from training.ner import train
    from training.ner.export import ship

    cfg = train.CONFIGS["smoke_levers"]
    choice = train.tune(cfg, out, "ner", out / "crf.npz")
    grid = choice["grid"]
    assert len(grid) == len(train.CRF_WEIGHTS) * len(train.PERS_BIASES)
    assert choice["dev_f1"] == max(r["dev_f1"] for r in grid)
    assert choice["dev_sentences"] == len(train.gold_data(cfg)[1])
    assert json.loads((out / "ner-tune.json").read_text())["crf_weight"] == choice["crf_weight"]
    bias = train.pers_bias(1.5)
    assert [b for b, label in zip(bias, train.LABELS) if b] == [1.5, 1.5]
    folder = out / "biased"
    ship(out, "ner", folder, quantize=False, crf=out / "crf.npz", crf_weight=0.0, tag_bias=bias)
    assert json.loads((folder / "config.json").read_text())["tag_bias"] == bias
    words = [["قال", "دونالد", "ترامب", "في", "واشنطن"]]
    plain = load_runtime(out / "ner-model", crf_weight=0.0)
    (biased,), (unbiased,) = load_runtime(folder).potentials(words), plain.potentials(words)
    np.testing.assert_allclose(biased[0] - unbiased[0], np.tile(bias, (5, 1)), atol=1e-5)


def test_a_tag_bias_of_the_wrong_size_is_refused(levers_run, tmp_path):
    import shutil

    from akhbar.lib.models import ModelError, choose_ner_model

    _, ship = levers_run
    folder = tmp_path / "m"
    shutil.copytree(ship, folder)
    config = json.loads((folder / "config.json").read_text())
    config["tag_bias"] = [1.0, 2.0]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="tag_bias"):
        choose_ner_model(str(folder))


def test_the_numpy_crf_decodes_as_crfsuite_does():
    shared_data("anercorp", "train.txt")
    import sklearn_crfsuite

    from akhbar.lib.ner.crf import FeatureCrf, sentence_features
    from training.ner.data import ANERCORP, LABELS, read_conll

    sentences = read_conll(ANERCORP / "train.txt")[:300]
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.05, c2=0.05, max_iterations=30, all_possible_transitions=True)
    crf.fit([sentence_features(t) for t, _ in sentences[:250]], [y for _, y in sentences[:250]])
    exported = FeatureCrf.from_crfsuite(crf, LABELS)
    held = [t for t, _ in sentences[250:]]
    expected = [list(tags) for tags in crf.predict([sentence_features(t) for t in held])]
    got = [[tag for tag, _ in row] for row in exported.tag(held)]
    assert got == expected
    for row in exported.tag(held[:5]):  # marginals of the chosen tags
        assert all(0.0 < p <= 1.0 + 1e-6 for _, p in row)


def test_entity_swap_keeps_the_proclitic_and_the_rest_of_the_sentence():
    import random

    from akhbar.lib.ner.canonical import KnownForms
    from training.ner.augment import read_names, swap_persons

    names = read_names()
    assert ["إيمانويل", "ماكرون"] in names and all(n and not n[0].startswith("#") for n in names)
    tokens = ["والتقى", "وبوش", "مع", "توني", "بلير", "في", "لندن"]
    tags = ["O", "B-PERS", "O", "B-PERS", "I-PERS", "O", "B-LOC"]
    known = KnownForms(["بوش", "التقى"])
    new_tokens, new_tags = swap_persons(tokens, tags, [["إيمانويل", "ماكرون"]], random.Random(1), known)
    assert new_tokens == ["والتقى", "وإيمانويل", "ماكرون", "مع", "إيمانويل", "ماكرون", "في", "لندن"]
    assert new_tags == ["O", "B-PERS", "I-PERS", "O", "B-PERS", "I-PERS", "O", "B-LOC"]
    assert swap_persons(["في", "لندن"], ["O", "B-LOC"], names, random.Random(1), known) is None


def test_weak_person_labels_tag_only_listed_names_the_teacher_left_o():
    from akhbar.lib.ner.features import norm_word
    from akhbar.lib.ner.gazetteer import Gazetteer
    from training.ner.train import weak_person_labels

    gazetteer = Gazetteer({"دونالد ترامب": "PERS", "البيت الابيض": "LOC"}, {norm_word("نتنياهو"): "PERS"})
    sentences = [
        (["قال", "دونالد", "ترامب", "في", "البيت", "الأبيض"], ["O"] * 6),  # listed person, teacher said O
        (["وقال", "نتنياهو", "أمس"], ["O"] * 3),  # a surname alone
        (["التقى", "دونالد", "ترامب"], ["O", "B-ORG", "I-ORG"]),  # the teacher's own tag is kept
        (["في", "البيت", "الأبيض"], ["O", "O", "O"]),  # only persons are weak-labelled
    ]
    out, fixed = weak_person_labels(sentences, gazetteer)
    assert fixed == 2
    assert out[0][1] == ["O", "B-PERS", "I-PERS", "O", "O", "O"]
    assert out[1][1] == ["O", "B-PERS", "O"]
    assert out[2][1] == ["O", "B-ORG", "I-ORG"] and out[3][1] == ["O", "O", "O"]
    assert [t for t, _ in out] == [t for t, _ in sentences]


def test_mined_surnames_keep_the_written_list_unless_the_news_uses_the_word_otherwise(tmp_path: Path):
    from akhbar.lib.ner.canonical import KnownForms
    from akhbar.lib.ner.features import norm_word
    from training.ner.gazetteer import mine

    rows = []
    for doc in range(4):
        rows.append({"doc": f"d{doc}", "tokens": ["قال", "بنيامين", "نتنياهو", "إن"], "tags": ["O", "B-PERS", "I-PERS", "O"]})
        rows.append({"doc": f"d{doc}", "tokens": ["في", "الربع", "الثاني", "من", "العام"], "tags": ["O"] * 5})
    silver = tmp_path / "silver.jsonl"
    silver.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    listed = [["حمد", "الثاني"], ["كير", "ستارمر"]]
    _, parts = mine(str(silver), KnownForms([]), min_docs=3, listed=listed)
    assert parts.get(norm_word("نتنياهو")) == "PERS"  # the last word of full names in several articles
    assert norm_word("ستارمر") in parts  # listed, never used otherwise
    assert norm_word("الثاني") not in parts  # listed, but the news mostly writes it as "second"


def test_wojood_is_flattened_to_the_four_types(tmp_path: Path):
    from akhbar.lib.evaluation.ner import read_wojood

    path = tmp_path / "w.txt"
    path.write_text(
        "رسالة O\nسكرتير B-OCC\nاللجنة I-OCC B-ORG\nالعربية I-OCC I-ORG\nفي I-OCC\nنابلس I-OCC B-GPE\n"
        "لزهدي B-PERS\nباكير I-PERS\nفي O\nجامعة B-ORG\nبيرزيت I-ORG B-GPE\nعام O\n1948 B-DATE\nالفلسطينيين B-NORP\n$#$ O\n\n"
        "مدينة B-GPE\nالرملة I-GPE\n",
        encoding="utf-8",
    )
    (tokens, tags), (t2, g2) = read_wojood(path)
    assert "$#$" not in tokens
    assert tags == ["O", "O", "B-ORG", "I-ORG", "O", "B-LOC", "B-PERS", "I-PERS", "O", "B-ORG", "I-ORG", "O", "O", "O"]
    assert g2 == ["B-LOC", "I-LOC"]
    bad = tmp_path / "bad.txt"
    bad.write_text("نابلس GPE\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a BIO tag"):
        read_wojood(bad)


def test_news_gold_is_read_back_from_the_shared_corpus_and_checked():
    source = shared_data("ant_multisource", "multisource.jsonl.gz")
    from akhbar.core.metrics import bio_spans
    from akhbar.lib.evaluation.ner import read_news_gold, read_news_paragraphs
    from training.ner.data import NEWS_GOLD

    paragraphs = read_news_paragraphs(NEWS_GOLD, source)
    assert len(paragraphs) >= 40
    sentences = read_news_gold(NEWS_GOLD, source)
    spans = [k for _, tags in sentences for k, *_ in bio_spans(tags)]
    assert len(spans) == sum(len(e) for _, e in paragraphs) and spans.count("PERS") >= 40
    assert "PERS" in spans and "ORG" in spans and "MISC" in spans
