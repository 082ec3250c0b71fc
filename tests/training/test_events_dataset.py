"""Assembly of the event training data: label checks, the held-out split, and no dev article in training."""
from __future__ import annotations

import json

import pytest

from akhbar.core.text import text_hash
from tests.shared_data import shared_data
from training.events import dataset


def _write(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")


def test_written_lines_are_checked_and_other_never_combines(tmp_path):
    path = tmp_path / "w.jsonl"
    _write(path, [
        {"id": "a", "title": "ت", "text": "ن", "labels": ["DIPLOMACY", "STATEMENT"], "primary": "DIPLOMACY"},
        {"id": "b", "title": "ت", "text": "ن", "labels": ["OTHER", "ECONOMY"], "primary": "ECONOMY"},
    ])
    a, b = dataset.load_labeled_jsonl([path], "written")
    assert (a.labels, a.primary) == (("DIPLOMACY", "STATEMENT"), "DIPLOMACY")
    assert b.labels == ("ECONOMY",)
    _write(path, [{"id": "c", "title": "ت", "text": "ن", "labels": ["WAR"], "primary": "WAR"}])
    with pytest.raises(ValueError, match="WAR"):
        dataset.load_labeled_jsonl([path], "written")
    _write(path, [{"id": "d", "title": "ت", "text": "ن", "labels": ["PROTEST"], "primary": "ECONOMY"}])
    with pytest.raises(ValueError, match="primary 'ECONOMY'"):
        dataset.load_labeled_jsonl([path], "written")


def test_heldout_split_is_seeded_and_keeps_copies_of_a_story_together():
    examples = dataset.load_sample_corpus()
    train, held = dataset.split_heldout(examples, 0.25, seed=3)
    again = dataset.split_heldout(examples, 0.25, seed=3)
    assert [e.id for e in held] == [e.id for e in again[1]]
    assert len(train) + len(held) == len(examples) and held
    assert not {text_hash(e.title) for e in train} & {text_hash(e.title) for e in held}


def test_the_committed_written_set_is_valid():
    paths = sorted(dataset.DATA_DIR.glob("written_*.jsonl"))
    if not paths:
        pytest.skip("no written training files yet")
    examples = dataset.load_labeled_jsonl(paths, "written")
    assert len({e.id for e in examples}) == len(examples), "duplicate ids in the written set"


def test_no_dev_article_or_copy_reaches_training(tmp_path):
    shared_data("ant", "ant.jsonl.gz")
    dev = dataset.read_jsonl(dataset.DEV_LABELS)[:20]
    dev_keys = {(r.get("source") or "ant", r["docno"]) for r in dev}
    # A weak-label file that (wrongly) lists dev docnos next to other articles: they must be dropped.
    from training.events.corpus import iter_articles

    others = []
    for article in iter_articles("ant"):
        if ("ant", article.docno) not in dev_keys and len(article.text) > 200:
            others.append(article)
        if len(others) == 30:
            break
    weak = tmp_path / "weak.jsonl"
    _write(weak, [{"docno": d, "source": s, "labels": ["OTHER"], "primary": "OTHER", "confidence": 0.9} for s, d in dev_keys]
           + [{"docno": a.docno, "source": "ant", "labels": ["OTHER"], "primary": "OTHER", "confidence": 0.9} for a in others])
    examples = dataset.load_weak(weak, dev_keys, min_confidence=0.0, max_per_primary=1000, seed=1)
    ids = {e.id for e in examples}
    assert not ids & {f"{s}:{d}" for s, d in dev_keys}
    assert 0 < len(examples) <= len(others)


def test_committed_gold_labels_are_valid_and_disjoint_from_dev():
    gold = dataset.read_jsonl(dataset.GOLD_LABELS)
    dev = {(r.get("source") or "ant", r["docno"]) for r in dataset.read_jsonl(dataset.DEV_LABELS)}
    keys = [(r["source"], r["docno"]) for r in gold]
    assert len(keys) == len(set(keys)) >= 500
    assert not set(keys) & dev, "a dev article is in the gold training set"
    for row in gold:
        dataset._checked_labels(row["labels"], row["primary"], row["docno"])  # raises on a bad line
        assert row["primary"] in row["labels"]


def test_gold_refuses_a_dev_article(tmp_path):
    shared_data("ant", "ant.jsonl.gz")
    dev_row = dataset.read_jsonl(dataset.DEV_LABELS)[0]
    bad = tmp_path / "gold.jsonl"
    _write(bad, [{**dev_row, "source": dev_row.get("source") or "ant"}])
    with pytest.raises(ValueError, match="dev article"):
        dataset.load_gold(bad, dataset.dev_keys(), weight=1.0)


def test_gold_sample_holds_no_copy_of_a_dev_article():
    """The draw removes dev docnos and any article sharing a dev article's body or headline."""
    shared_data("ant", "ant.jsonl.gz")
    from akhbar.core.text import text_hash
    from training.events.dev_sample import title_key
    from training.events.gold_sample import dev_exclusions

    docnos, bodies, titles = dev_exclusions()
    gold = {r["docno"] for r in dataset.read_jsonl(dataset.GOLD_LABELS)}
    from training.events.corpus import iter_articles

    for source in ("ant", "ant_multisource"):
        for article in iter_articles(source):
            if article.docno in gold:
                assert article.docno not in docnos
                assert text_hash(article.text.strip()) not in bodies
                assert title_key(article.title) not in titles or not article.title.strip()
