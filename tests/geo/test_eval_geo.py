"""``akhbar eval geo``: the scoring itself, the label file's shape, and a run on the real labeled articles."""
import json

import pytest

from akhbar.cli import main
from akhbar.lib.evaluation.geo import Tally, haversine_km, read_labels, score_article
from tests.paths import REPO_ROOT
from tests.shared_data import shared_data

LABELS = REPO_ROOT / "data" / "geo" / "labels.jsonl"


def test_haversine():
    assert haversine_km(36.81897, 10.16579, 36.81897, 10.16579) == 0
    assert 230 < haversine_km(36.81897, 10.16579, 34.74056, 10.76028) < 245  # Tunis - Sfax


def test_scoring_counts_resolved_correct_spurious_and_event():
    label = {"docno": "d", "label_end": 100, "mentions": [
        {"start": 0, "end": 4, "country": "TN", "kind": "city", "geonameid": 1, "lat": 36.8, "lon": 10.2},
        {"start": 10, "end": 14, "country": "SY", "kind": "country"},
        {"start": 20, "end": 24, "country": None, "kind": "none"},
        {"start": 30, "end": 34, "country": "EG", "kind": "country"},
    ], "event_location": {"country": "TN", "kind": "city", "lat": 36.8, "lon": 10.2}}
    predicted = [
        {"text": "a", "type": "LOC", "start": 0, "end": 4, "country": "TN", "lat": 36.9, "lon": 10.2},
        {"text": "b", "type": "LOC", "start": 10, "end": 14, "country": "TR", "lat": None, "lon": None},
        {"text": "c", "type": "LOC", "start": 20, "end": 24, "country": None},
        {"text": "d", "type": "LOC", "start": 50, "end": 54, "country": "FR"},
        {"text": "e", "type": "LOC", "start": 150, "end": 154, "country": "FR"},  # outside the labeled region
        {"text": "f", "type": "PERS", "start": 30, "end": 34, "country": None},
    ]
    t = Tally()
    score_article(label, "x" * 200, predicted, {"country": "TN", "lat": 36.85, "lon": 10.2}, t)
    r = t.report()
    assert (r["place_mentions"], r["detected_share"], r["resolved_share"]) == (3, round(2 / 3, 4), round(2 / 3, 4))
    assert r["country_accuracy_resolved"] == 0.5 and r["spurious_resolved_entities"] == 1
    assert r["no_country_mentions"] == 1 and r["no_country_mentions_resolved"] == 0
    assert r["city_within_50km"] == 1.0 and r["event_location_country_accuracy"] == 1.0
    assert r["event_location_within_50km"] == 1.0


def test_the_label_file_holds_ids_offsets_and_places_only():
    rows = read_labels(LABELS)
    assert len(rows) >= 80 and sum(len(r["mentions"]) for r in rows) >= 300
    assert {r["split"] for r in rows} == {"dev", "test"}
    allowed = {"start", "end", "country", "kind", "geonameid", "lat", "lon", "place"}
    for r in rows:
        assert set(r) == {"docno", "corpus", "split", "label_end", "mentions", "event_location"}
        for m in r["mentions"] + ([r["event_location"]] if r["event_location"] else []):
            assert set(m) <= allowed and m.get("end", 0) <= r["label_end"]


def test_bad_labels_are_refused(tmp_path, capsys):
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"docno": "x", "corpus": "nowhere", "label_end": 5, "mentions": []}\n', encoding="utf-8")
    assert main(["eval", "geo", "--jsonl", str(bad), "--data", str(tmp_path)]) == 2
    assert "corpus" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_geo_on_the_labeled_articles(capsys):
    data = shared_data()
    shared_data("ant", "ant.jsonl.gz")
    assert main(["eval", "geo", "--jsonl", str(LABELS), "--data", str(data)]) == 0
    report = json.loads(capsys.readouterr().out)
    gold = report["gold_spans"]["all"]
    assert gold["place_mentions"] >= 300
    assert gold["country_accuracy_resolved"] >= 0.95 and gold["resolved_share"] >= 0.85
    assert report["end_to_end"]["all"]["country_accuracy_resolved"] >= 0.95
