"""akhbar.core.metrics, the one precision/recall/F1: pinned edge cases, and entity_scores equal
to seqeval's classification_report (the reference every NER paper's numbers come from)."""
from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akhbar.core.metrics import Scores, bio_spans, entity_scores, prf

seqeval_metrics = pytest.importorskip("seqeval.metrics", reason="seqeval comes with the train extra")


# -- prf --------------------------------------------------------------------------------------


def test_prf_of_counts():
    s = prf(tp=6, fp=2, fn=4)
    assert (s.precision, s.recall) == (0.75, 0.6)
    assert math.isclose(s.f1, 2 * 0.75 * 0.6 / 1.35)
    assert (s.tp, s.fp, s.fn, s.support) == (6, 2, 4, 10)


@pytest.mark.parametrize("tp,fp,fn,expected", [
    (0, 0, 0, (0.0, 0.0, 0.0)),  # nothing predicted, nothing to find: 0, not a ZeroDivisionError
    (0, 3, 0, (0.0, 0.0, 0.0)),  # only false alarms
    (0, 0, 3, (0.0, 0.0, 0.0)),  # nothing predicted
    (0, 2, 2, (0.0, 0.0, 0.0)),  # precision + recall = 0
    (5, 0, 0, (1.0, 1.0, 1.0)),
    (1, 0, 9, (1.0, 0.1, 2 * 0.1 / 1.1)),
])
def test_prf_edge_cases(tp, fp, fn, expected):
    s = prf(tp, fp, fn)
    assert [round(v, 12) for v in (s.precision, s.recall, s.f1)] == [round(v, 12) for v in expected]


def test_scores_as_dict_rounds_and_scales():
    s = prf(1, 2, 0)
    assert s.as_dict() == {"precision": 0.3333, "recall": 1.0, "f1": 0.5, "tp": 1, "fp": 2, "fn": 0}
    assert s.as_dict(percent=True, digits=1)["precision"] == 33.3
    assert isinstance(s, Scores)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, 10_000))
def test_f1_is_the_harmonic_mean_and_lies_between(tp, fp, fn):
    s = prf(tp, fp, fn)
    assert 0.0 <= s.f1 <= 1.0
    assert min(s.precision, s.recall) - 1e-12 <= s.f1 <= max(s.precision, s.recall) + 1e-12
    if tp + fp + fn:
        assert math.isclose(s.f1, 2 * tp / (2 * tp + fp + fn), abs_tol=1e-12)


# -- bio_spans --------------------------------------------------------------------------------


def test_bio_spans_follow_conlleval():
    assert bio_spans(["B-PERS", "I-PERS", "O", "B-LOC"]) == [("PERS", 0, 2), ("LOC", 3, 4)]
    assert bio_spans(["I-ORG", "I-ORG"]) == [("ORG", 0, 2)]  # a stray I- starts an entity
    assert bio_spans(["B-LOC", "B-LOC"]) == [("LOC", 0, 1), ("LOC", 1, 2)]  # B- always starts a new one
    assert bio_spans(["B-LOC", "I-ORG"]) == [("LOC", 0, 1), ("ORG", 1, 2)]  # a type change ends it
    assert bio_spans([]) == [] and bio_spans(["O", "O"]) == []


def test_entity_scores_refuses_misaligned_input():
    with pytest.raises(ValueError, match="gold sequences"):
        entity_scores([["O"]], [])
    with pytest.raises(ValueError, match="predicted tags"):
        entity_scores([["O", "O"]], [["O"]])


# -- against seqeval -----------------------------------------------------------------------------

TAGS = st.sampled_from(["O", "O", "O", "B-PERS", "I-PERS", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"])


@st.composite
def gold_and_pred(draw):
    lengths = draw(st.lists(st.integers(1, 12), min_size=1, max_size=6))
    gold = [draw(st.lists(TAGS, min_size=n, max_size=n)) for n in lengths]
    # Predictions: a noisy copy of gold (realistic) or independent tags.
    pred = []
    for sentence in gold:
        if draw(st.booleans()):
            pred.append([draw(TAGS) if draw(st.integers(0, 4)) == 0 else tag for tag in sentence])
        else:
            pred.append(draw(st.lists(TAGS, min_size=len(sentence), max_size=len(sentence))))
    return gold, pred


@settings(max_examples=300, deadline=None)
@given(gold_and_pred())
def test_entity_scores_equal_seqeval_classification_report(pair):
    gold, pred = pair
    ours = entity_scores(gold, pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns where a score is undefined (0, as ours)
        ref = seqeval_metrics.classification_report(gold, pred, output_dict=True, zero_division=0)
    types = {k for k in ref if not k.endswith(" avg")}
    assert set(ours["per_type"]) == types
    for name, mine in [("micro avg", ours["micro"])] + [(k, ours["per_type"][k]) for k in sorted(types)]:
        theirs = ref[name]
        assert mine["support"] == int(theirs["support"]), name
        for ours_key, ref_key in (("precision", "precision"), ("recall", "recall"), ("f1", "f1-score")):
            # Ours is in % rounded to 2 places.
            assert abs(mine[ours_key] - 100 * float(theirs[ref_key])) <= 0.005 + 1e-9, (name, ours_key, mine, theirs)
    assert ours["sentences"] == len(gold) and ours["tokens"] == sum(map(len, gold))


def test_entity_scores_on_a_worked_example():
    gold = [["B-PERS", "I-PERS", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG", "O"]]
    pred = [["B-PERS", "I-PERS", "O", "B-ORG"], ["B-ORG", "I-ORG", "O", "O"]]
    scores = entity_scores(gold, pred)
    # PERS found; LOC missed (predicted as ORG); the ORG span is cut short: 1 of 3 predictions right.
    assert scores["micro"] == {"precision": 33.33, "recall": 33.33, "f1": 33.33, "support": 3}
    assert scores["per_type"]["PERS"]["f1"] == 100.0
    assert scores["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert scores["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
