"""The event classifier's training code, run for real on its smoke config (the bundled sample corpus)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from akhbar.cli.evaluate import eval_events as eval_events_command
from akhbar.lib.evaluation import events as eval_events
from akhbar.lib.events.decision import EVENT_TYPES
from akhbar.lib.events.model import EventModel
from training.events import dataset, train, tuning

SMOKE = Path(train.__file__).with_name("configs") / "smoke.json"


@pytest.fixture(scope="module")
def smoke_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("events-smoke") / "model"
    train.run(train.TrainConfig.from_file(SMOKE, out=str(out)))
    return out


def test_smoke_run_saves_an_onnx_model_with_thresholds_in_its_config(smoke_model):
    for name in ("model.onnx", "tokenizer.json", "config.json", "metrics.json"):
        assert (smoke_model / name).is_file(), name
    config = json.loads((smoke_model / "config.json").read_text(encoding="utf-8"))
    assert config["labels"] == list(EVENT_TYPES)
    assert set(config["thresholds"]) == set(EVENT_TYPES)
    assert all(t in tuning.THRESHOLD_GRID or t == 0.5 for t in config["thresholds"].values())
    assert config["encoder"]["source"] == "own"
    metrics = json.loads((smoke_model / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["heldout"]["articles"] == config["data"]["heldout"] > 0


def test_smoke_model_runs_on_onnxruntime(smoke_model):
    model = EventModel(smoke_model)
    predictions = model.predict([("وزير الخارجية يلتقي نظيره", "بحث الوزيران العلاقات الثنائية"), ("", "")])
    assert len(predictions) == 2
    for p in predictions:
        assert p.primary in EVENT_TYPES and p.primary in p.codes


def test_training_is_seeded(smoke_model, tmp_path):
    again = tmp_path / "again"
    train.run(train.TrainConfig.from_file(SMOKE, out=str(again)))
    pairs = [("اشتباكات عنيفة في المدينة", "قتلى وجرحى في قصف"), ("ارتفاع الأسعار", "البورصة تغلق على ارتفاع")]
    first, _ = EventModel(smoke_model).scores(pairs)
    second, _ = EventModel(again).scores(pairs)
    np.testing.assert_allclose(first, second, atol=1e-5)
    assert json.loads((smoke_model / "config.json").read_text())["thresholds"] == \
        json.loads((again / "config.json").read_text())["thresholds"]


def test_thresholds_maximise_f1_on_the_heldout_scores():
    rng = np.random.default_rng(0)
    gold = (rng.random((200, len(EVENT_TYPES))) < 0.3).astype(np.float32)
    scores = np.clip(gold * 0.35 + rng.random(gold.shape) * 0.6, 0, 1)  # positives sit higher
    thresholds = tuning.tune_thresholds(scores, gold)
    for j, code in enumerate(EVENT_TYPES):
        def f1(t, j=j):
            pred = scores[:, j] >= t
            tp = (pred & (gold[:, j] > 0)).sum()
            return 2 * tp / (pred.sum() + gold[:, j].sum())
        assert f1(thresholds[code]) >= max(f1(t) for t in tuning.THRESHOLD_GRID) - 1e-9


def test_eval_command_prints_scores_for_a_jsonl(smoke_model, tmp_path, capsys):
    from akhbar.sample.corpus import load_corpus

    path = tmp_path / "eval.jsonl"
    rows = [{"title": a.title, "text": a.text, "labels": list(a.event_types), "primary": a.primary} for a in load_corpus()[:12]]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    assert eval_events_command(["--jsonl", str(path), "--model", str(smoke_model)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["articles"] == 12 and result["primary_articles"] == 12
    assert set(result["per_type"]) == set(EVENT_TYPES)
    assert 0.0 <= result["micro_f1"] <= 1.0 and 0.0 <= result["primary_accuracy"] <= 1.0
    supported = sum(v["support"] for v in result["per_type"].values())
    assert supported == sum(len(r["labels"]) for r in rows)


def test_eval_rejects_unknown_codes_naming_them(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"title": "t", "text": "x", "labels": ["WAR"]}) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="WAR"):
        eval_events.read_eval_lines(path)


def test_event_scores_micro_macro_and_primary():
    gold = [["DIPLOMACY", "STATEMENT"], ["PROTEST"], ["OTHER"]]
    pred = [["DIPLOMACY"], ["PROTEST", "ARREST_LEGAL"], ["OTHER"]]
    result = eval_events.event_scores(gold, pred, ["DIPLOMACY", "ARREST_LEGAL", "OTHER"], ["DIPLOMACY", "PROTEST", "OTHER"])
    # tp=3 (DIPLOMACY, PROTEST, OTHER), fp=1 (ARREST_LEGAL), fn=1 (STATEMENT)
    assert result["micro_precision"] == 0.75 and result["micro_recall"] == 0.75 and result["micro_f1"] == 0.75
    assert result["per_type"]["STATEMENT"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    # macro over the 5 types seen in gold or predictions: DIPLOMACY 1, STATEMENT 0, PROTEST 1, ARREST_LEGAL 0, OTHER 1
    assert result["macro_f1"] == 0.6
    assert result["primary_accuracy"] == round(2 / 3, 4)


def test_baseline_saves_a_numpy_model_that_scores_like_scikit_learn(tmp_path):
    from training.events import baseline

    folder = tmp_path / "tfidf"
    result = baseline.run(train.TrainConfig.from_file(SMOKE), folder)  # raises if the saved scorer drifts
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert set(config["thresholds"]) == set(EVENT_TYPES)
    model = EventModel(folder)
    predictions = model.predict([("تظاهرة أمام البرلمان", "خرج آلاف المحتجين في مسيرة"), ("", "")])
    assert all(p.primary in p.codes for p in predictions)
    assert result["heldout"]["articles"] == config["data"]["heldout"]


def test_smoke_run_on_the_project_encoder(tmp_path):
    """The words path: models/encoder-ar-small fine-tuned under the two heads, exported, read by onnxruntime."""
    encoder = train.repo_path("models/encoder-ar-small")
    if not (encoder / "config.json").is_file():
        pytest.skip(f"no project encoder at {encoder}")
    out = tmp_path / "words"
    train.run(train.TrainConfig.from_file(SMOKE, out=str(out), encoder=str(encoder), max_length=24, epochs=1, lr=1e-3))
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["inputs"] == "words" and config["encoder"]["source"] == "encoder-ar-small"
    model = EventModel(out)
    pairs = [("وزير الخارجية يلتقي نظيره", "بحث الوزيران العلاقات الثنائية"), ("عنوان", "")]
    scores, probs = model.scores(pairs)
    assert scores.shape == (2, len(EVENT_TYPES))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)


def test_wide_and_deep_smoke_model_runs_on_onnxruntime_with_its_ngram_inputs(tmp_path):
    """The wide part (TF-IDF n-grams beside the transformer) travels through ONNX with its own inputs."""
    out = tmp_path / "wide"
    cfg = train.TrainConfig.from_file(SMOKE, out=str(out), wide_ngrams=True, epochs=2)
    train.run(cfg)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["inputs"] == "wide+wordpiece" and config["wide_features"] > 100
    model = EventModel(out)
    pairs = [("قصف مدفعي على المدينة", "قتل عشرة أشخاص في قصف مدفعي"), ("", ""), ("عنوان", "نص " * 300)]
    scores, probs = model.scores(pairs)
    assert scores.shape == probs.shape == (3, len(EVENT_TYPES))
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    # The same article with and without its n-grams: the wide part must move the scores.
    arrays = model.inputs.encode(pairs[:1])
    without = dict(arrays, ngram_values=np.zeros_like(arrays["ngram_values"]))
    with_wide = model.session.run(["type_scores"], arrays)[0]
    without_wide = model.session.run(["type_scores"], without)[0]
    assert np.abs(with_wide - without_wide).max() > 1e-3


def _examples(n: int, prefix: str, origin: str = "gold") -> list[dataset.Example]:
    return [dataset.Example(f"{prefix}{i}", f"عنوان {prefix} {i}", "نص", ("OTHER",), "OTHER", 1.0, origin)
            for i in range(n)]


def test_gold_folds_are_disjoint_and_cover_gold():
    gold = _examples(20, "g")
    splits = tuning.gold_splits(gold, 3, 0.4, seed=13)
    assert len(splits) == 3
    scored = [e.id for _, fold in splits for e in fold]
    assert sorted(scored) == sorted(e.id for e in gold)
    for trained_on, fold in splits:
        assert not {e.id for e in trained_on} & {e.id for e in fold}
        assert len(trained_on) + len(fold) == len(gold)


def test_cross_fitting_scores_each_gold_article_with_a_model_that_never_saw_it():
    base, gold, heldout = _examples(5, "w", "written"), _examples(12, "g"), _examples(4, "h", "written")
    seen: dict[str, set[str]] = {}

    def train_fn(examples, name):
        seen[name] = {e.id for e in examples}
        return name

    def score_fn(name, examples):
        for e in examples:  # the thresholds must come from models that did not train on what they score
            assert e.origin != "gold" or e.id not in seen[name] or name == "final model"
        return np.full((len(examples), len(EVENT_TYPES)), 0.5, np.float32), \
            np.full((len(examples), len(EVENT_TYPES)), 1 / len(EVENT_TYPES), np.float32)

    tuned = tuning.fit_and_tune(base, heldout, gold, train_fn, score_fn, folds=3, tune_fraction=0.4, seed=13)
    assert tuned.model == "final model" and seen["final model"] == {e.id for e in base + gold}
    assert sorted(e.id for e in tuned.tune_examples) == sorted(e.id for e in gold)
    assert len(seen) == 4 and "out-of-fold" in tuned.tuned_on
    fixed = tuning.fit_and_tune(base, heldout, gold, train_fn, score_fn, folds=1, tune_fraction=0.25, seed=13)
    assert not {e.id for e in fixed.tune_examples} & seen["final model"]


def test_primary_bias_moves_the_head_to_the_gold_mix():
    rng = np.random.default_rng(3)
    gold = [dataset.Example(f"g{i}", "t", "x", ("STATEMENT",), "STATEMENT", 1.0, "gold") for i in range(60)]
    probs = rng.dirichlet(np.ones(len(EVENT_TYPES)), size=60).astype(np.float32)
    statement = EVENT_TYPES.index("STATEMENT")
    bias = tuning.fit_primary_bias(probs, gold)
    assert bias["STATEMENT"] > 0.5 and max(v for c, v in bias.items() if c != "STATEMENT") < 0.0
    from akhbar.lib.events.decision import calibrate_primary

    shifted = calibrate_primary(probs, np.array([bias[c] for c in EVENT_TYPES], dtype=np.float32))
    np.testing.assert_allclose(shifted.sum(1), 1.0, atol=1e-5)
    assert (shifted.argmax(1) == statement).mean() > (probs.argmax(1) == statement).mean()


def test_event_model_applies_the_primary_bias_in_its_config(smoke_model, tmp_path):
    import shutil

    biased = tmp_path / "biased"
    shutil.copytree(smoke_model, biased)
    config = json.loads((biased / "config.json").read_text(encoding="utf-8"))
    config["primary_bias"] = {code: (30.0 if code == "SANCTIONS" else 0.0) for code in EVENT_TYPES}
    (biased / "config.json").write_text(json.dumps(config), encoding="utf-8")
    pairs = [("قصف مدفعي على المدينة", "قتل عشرة أشخاص"), ("ارتفاع الأسعار", "البورصة تغلق على ارتفاع")]
    assert [p.primary for p in EventModel(biased).predict(pairs)] == ["SANCTIONS", "SANCTIONS"]
    unbiased = EventModel(smoke_model).scores(pairs)[1]
    assert not (unbiased.argmax(1) == EVENT_TYPES.index("SANCTIONS")).all()
