"""The event classifier stage: decision rules, the shipped model, and the Enrich branch on a real runner."""
from __future__ import annotations

import json

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from akhbar.lib.events.decision import EVENT_TYPES, decide
from akhbar.lib.events.enricher import EventEnricher
from akhbar.lib.events.model import EventModel
from akhbar.lib.models import EVENT_MODEL as DEFAULT_EVENT_MODEL
from akhbar.lib.models import ModelError, choose_event_model
from akhbar.sample.corpus import load_corpus
from akhbar.transforms import counters
from akhbar.transforms.enrich import Enrich
from tests.factories import article

IDX = {code: i for i, code in enumerate(EVENT_TYPES)}


def _row(**scores: float) -> np.ndarray:
    row = np.zeros(len(EVENT_TYPES), dtype=np.float32)
    for code, value in scores.items():
        row[IDX[code]] = value
    return row


def test_decide_thresholds_per_type_and_primary_among_the_types():
    thresholds = [0.5] * len(EVENT_TYPES)
    thresholds[IDX["STATEMENT"]] = 0.7
    scores = np.stack([_row(DIPLOMACY=0.9, STATEMENT=0.65, ARMED_CONFLICT=0.6)])
    probs = np.stack([_row(ARMED_CONFLICT=0.3, DIPLOMACY=0.6, OTHER=0.1)])
    (p,) = decide(scores, probs, thresholds)
    assert p.codes == ["DIPLOMACY", "ARMED_CONFLICT"]  # STATEMENT is under its own threshold
    assert p.primary == "DIPLOMACY"


def test_decide_never_combines_other():
    thresholds = [0.5] * len(EVENT_TYPES)
    scores = np.stack([_row(OTHER=0.9, PROTEST=0.8), _row(OTHER=0.9), _row(ECONOMY=0.2)])
    probs = np.stack([_row(OTHER=0.7, PROTEST=0.3), _row(OTHER=0.8, ECONOMY=0.2), _row(ECONOMY=0.6, OTHER=0.4)])
    first, second, third = decide(scores, probs, thresholds)
    assert (first.codes, first.primary) == (["PROTEST"], "PROTEST")
    assert (second.codes, second.primary) == (["OTHER"], "OTHER")
    # Nothing passes its threshold: the primary head's choice is the one type.
    assert (third.codes, third.primary) == (["ECONOMY"], "ECONOMY")


def test_decide_adds_a_confident_primary_the_type_head_missed():
    thresholds = [0.5] * len(EVENT_TYPES)
    (p,) = decide(np.stack([_row(STATEMENT=0.8, SANCTIONS=0.4)]), np.stack([_row(SANCTIONS=0.7, STATEMENT=0.3)]), thresholds)
    assert p.primary == "SANCTIONS" and set(p.codes) == {"SANCTIONS", "STATEMENT"}


@pytest.fixture(scope="module")
def shipped() -> EventModel:
    return EventModel(DEFAULT_EVENT_MODEL)


def test_shipped_config_has_a_threshold_per_type(shipped):
    config = json.loads((DEFAULT_EVENT_MODEL / "config.json").read_text(encoding="utf-8"))
    assert tuple(config["labels"]) == EVENT_TYPES
    assert set(config["thresholds"]) == set(EVENT_TYPES)
    assert all(0.0 < t < 1.0 for t in config["thresholds"].values())
    assert "gold" in config["thresholds_tuned_on"] and set(config["primary_bias"]) == set(EVENT_TYPES)


def test_shipped_model_scores_are_probabilities_and_batch_independent(shipped):
    corpus = load_corpus()[:6]
    pairs = [(a.title, a.text) for a in corpus]
    scores, probs = shipped.scores(pairs)
    assert scores.shape == probs.shape == (6, len(EVENT_TYPES))
    assert ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    alone, _ = shipped.scores(pairs[2:3])  # padding in a batch must not change an article's scores
    np.testing.assert_allclose(alone[0], scores[2], atol=1e-4)


def test_shipped_model_on_the_bundled_sample(shipped):
    """The sample corpus is never trained on: a sanity floor on articles written for every type."""
    corpus = load_corpus()
    predictions = shipped.predict([(a.title, a.text) for a in corpus])
    hits = sum(p.primary == a.primary for p, a in zip(predictions, corpus))
    assert hits / len(corpus) >= 0.5, f"primary right on {hits}/{len(corpus)} sample articles"
    for p in predictions:
        assert p.primary in p.codes and ("OTHER" not in p.codes or p.codes == ["OTHER"])


def test_event_enricher_fills_both_columns_of_every_article():
    good = [article(text=a.text, title=a.title, link=f"https://n.example/{i}", guid=f"g{i}")
            for i, a in enumerate(load_corpus()[:5])]
    with TestPipeline() as p:
        out = p | beam.Create(good) | Enrich([EventEnricher(DEFAULT_EVENT_MODEL, "events-test")])
        assert_that(
            out.main | beam.Map(lambda a: (a.article_id, a.primary_event is not None,
                                                   bool(a.event_types) and a.primary_event in [e["code"] for e in a.event_types])),
            equal_to([(a.article_id, True, True) for a in good]),
        )
    totals = counters.query_counters(p.result)
    assert totals["enriched_events"] == len(good)


def test_event_enricher_failing_on_an_article_still_writes_it():
    class Choking(EventEnricher):
        def enrich(self, articles):
            if any(a.title == "boom" for a in articles):
                raise RuntimeError("tokenizer choked")
            return super().enrich(articles)

    items = [article(text=a.text, title="boom" if i == 1 else a.title, link=f"https://n.example/{i}", guid=f"g{i}")
             for i, a in enumerate(load_corpus()[:4])]
    with TestPipeline() as p:
        out = p | beam.Create(items) | Enrich([Choking(DEFAULT_EVENT_MODEL, "events-test")])
        assert_that(out.main | beam.Map(lambda a: (a.title, a.primary_event is None)),
                    equal_to([(a.title, a.title == "boom") for a in items]))
        assert_that(out.dead_letter | beam.Map(lambda d: (d.stage, "tokenizer choked" in d.error)),
                    equal_to([("enrich_events", True)]), label="DeadLetters")


def test_event_model_option():
    assert choose_event_model("none") is None
    with pytest.raises(ModelError, match="no-such-folder"):
        choose_event_model("/no-such-folder")
    chosen = choose_event_model("default")
    assert chosen is not None and chosen.location == str(DEFAULT_EVENT_MODEL)
    assert chosen.model_id.startswith("events-ar-small@")
