"""The labeled near-dup pairs and the pair scorer trained on them."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np

from tests.shared_data import shared_data
from training.neardup import train
from training.neardup.pairs import PAIRS, assign_folds, is_duplicate, read_pairs


def test_pairs_file_holds_ids_and_labels_only():
    allowed = {"a_docno", "b_docno", "label", "note", "kind", "hard_negative", "fold"}
    with open(PAIRS, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            assert set(row) <= allowed, f"unexpected fields {set(row) - allowed}: no article text in the repo"
            assert len(row.get("note", "")) < 120


def test_pairs_cover_what_the_issue_asks_for():
    pairs = read_pairs(PAIRS)
    labels = Counter(p["label"] for p in pairs)
    assert len(pairs) >= 300
    assert sum(p["hard_negative"] for p in pairs) >= 100
    assert labels["dup"] > 0 and labels["near_dup"] > 0 and labels["distinct"] > 0
    assert any(p["kind"].startswith("random") for p in pairs)
    keys = [tuple(sorted((p["a_docno"], p["b_docno"]))) for p in pairs]
    assert len(keys) == len(set(keys)), "a pair is labeled twice"
    for p in pairs:
        if p["hard_negative"]:
            assert p["label"] == "distinct"


def test_folds_are_deterministic_and_never_split_a_connected_group():
    pairs = read_pairs(PAIRS)
    folds = assign_folds(pairs)
    assert folds == assign_folds(list(reversed(pairs)))
    for p in pairs:
        assert folds[p["a_docno"]] == folds[p["b_docno"]] == p["fold"]
    assert len(set(folds.values())) == 5


def test_logistic_fit_separates_a_linear_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] - 2 * x[:, 1] > 0).astype(int)
    model = train.fit_logistic(x, y, l2=0.1)
    assert ((train.predict(model, x) >= 0.5).astype(int) == y).mean() >= 0.97
    assert model["weights"][0] > 0 > model["weights"][1] and abs(model["weights"][2]) < abs(model["weights"][0]) / 3


def test_scorer_beats_jaccard_out_of_fold_on_the_real_pairs():
    corpus = shared_data("ant_multisource", "multisource.jsonl.gz")
    from akhbar.lib.neardup import NearDupConfig
    from training.neardup.corpus import read_multisource

    pairs = read_pairs(PAIRS)
    wanted = {d for p in pairs for d in (p["a_docno"], p["b_docno"])}
    docs = {d["docno"]: d for d in read_multisource(corpus) if d["docno"] in wanted}
    x = train.feature_matrix(pairs, docs, NearDupConfig())
    y = np.array([1 if is_duplicate(p) else 0 for p in pairs])
    folds = np.array([p["fold"] for p in pairs])
    cv = train.cross_validate(x, y, folds)
    scorer, baseline = cv["pair_scorer"], cv["jaccard_threshold_tuned_on_train_folds"]
    assert scorer["precision"] >= 0.93 and scorer["f1"] >= 0.88, scorer
    assert scorer["f1"] > baseline["f1"] + 0.1, (scorer, baseline)
