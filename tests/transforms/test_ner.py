"""NER enrichment with the shipped model (models/ner-ar-small) on ONNX Runtime: offsets, windows, bad input."""
from __future__ import annotations

import dataclasses
import itertools
import json

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that

from akhbar.cli.evaluate import eval_ner
from akhbar.core.metrics import bio_spans
from akhbar.core.text import proclitic_stems
from akhbar.lib import ner
from akhbar.lib.models import NER_MODEL, ModelError, choose_ner_model
from akhbar.lib.ner.features import split_words
from akhbar.transforms.enrich import Enrich
from tests.factories import article

# Written for these tests (not taken from any corpus).
NEWS = (
    "أعلنت وزارة الخارجية المصرية أن الوزير سامح شكري سيزور باريس الأسبوع المقبل للقاء نظيره الفرنسي، "
    "وقال المتحدث باسم الوزارة إن المحادثات ستتناول الأوضاع في ليبيا والسودان. "
    "وكان الرئيس عبد الفتاح السيسي قد استقبل في القاهرة وفدا من الاتحاد الأوروبي."
)


@pytest.fixture(scope="module")
def runtime():
    return ner.load_runtime(NER_MODEL)


def _check_offsets(text: str, entities: list[dict]) -> None:
    for e in entities:
        assert 0 <= e["start"] < e["end"] <= len(text)
        assert text[e["start"]: e["end"]] == e["text"]
        assert e["type"] in ner.ENTITY_TYPES
        assert 0.0 <= e["score"] <= 1.0
    # Whole words: an entity starts where a word starts and ends where a word ends.
    spans = split_words(text)
    starts, ends = {a for a, _ in spans}, {b for _, b in spans}
    for e in entities:
        assert e["start"] in starts and e["end"] in ends, e


def test_finds_people_places_and_organizations(runtime):
    (entities,) = ner.find_entities([NEWS], runtime)
    _check_offsets(NEWS, entities)
    found = {(e["text"], e["type"]) for e in entities}
    assert ("القاهرة", "LOC") in found and ("باريس", "LOC") in found, found
    assert any(t == "PERS" and "شكري" in s for s, t in found), found


def test_empty_and_non_arabic_text_give_no_entities(runtime):
    assert ner.find_entities(["", "   ", "Breaking news: the minister met the press in Paris."], runtime) == [[], [], []]


def test_urls_and_emoji_keep_offsets_exact(runtime):
    text = ("🔥🔥 عاجل 📢 https://example.com/ar/news?id=5&utm_source=x 👈 " + NEWS +
            " #مصر @user 😀😀 http://t.co/abc" + "🇪🇬" * 10)
    (entities,) = ner.find_entities([text], runtime)
    _check_offsets(text, entities)
    assert any(e["text"] == "القاهرة" for e in entities)


def test_a_200k_character_article_is_read_to_its_end(runtime):
    filler = "وتحدث المسؤولون عن خطط جديدة للتنمية والاستثمار في المنطقة خلال الفترة المقبلة. "
    text = NEWS + " " + filler * (200_000 // len(filler)) + " " + NEWS
    assert len(text) > 200_000
    (entities,) = ner.find_entities([text], runtime, batch_size=64)
    _check_offsets(text, entities)
    tail = len(text) - len(NEWS)
    assert any(e["start"] >= tail and e["text"] == "القاهرة" for e in entities), "the end of the text was not read"
    assert any(e["start"] < len(NEWS) and e["text"] == "القاهرة" for e in entities)


def test_windows_cover_every_word_with_overlap():
    for n, size, overlap in itertools.product([0, 1, 63, 64, 65, 200, 1001], [64, 16], [0, 8]):
        spans = ner.windows(n, size, overlap)
        covered = sorted({i for s, e in spans for i in range(s, e)})
        assert covered == list(range(n))
        assert all(e - s <= size for s, e in spans)


def test_window_ownership_matches_one_window_reading(runtime):
    words = [NEWS[a:b] for a, b in split_words(NEWS)]
    whole = ner.tag_words([words], runtime)[0]
    windowed = ner.tag_words([words], type("Small", (), {"max_words": 24, "tag": runtime.tag})(), overlap=8)[0]
    agree = np.mean([a[0] == b[0] for a, b in zip(whole, windowed)])
    assert len(whole) == len(windowed) == len(words) and agree > 0.9


def test_viterbi_finds_the_best_path_by_brute_force():
    rng = np.random.default_rng(0)
    em, tr, st, en = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)

    def score(p):
        return st[p[0]] + en[p[-1]] + sum(em[i, t] for i, t in enumerate(p)) + sum(tr[a, b] for a, b in zip(p, p[1:]))

    best = max(itertools.product(range(3), repeat=5), key=score)
    assert ner.viterbi(em, tr, st, en) == list(best)
    assert ner.viterbi(em[:0], tr, st, en) == []


def test_bio_spans_and_label_mapping():
    assert bio_spans(["B-PERS", "I-PERS", "O", "I-LOC", "B-LOC", "I-ORG"]) == [
        ("PERS", 0, 2), ("LOC", 3, 4), ("LOC", 4, 5), ("ORG", 5, 6)]
    assert ner.map_label("B-PER") == "B-PERS" and ner.map_label("I-GPE") == "I-LOC"
    assert ner.map_label("I-ORGANIZATION") == "I-ORG" and ner.map_label("B-DATE") == "O" and ner.map_label("O") == "O"
    assert ner.map_label("LABEL_3") == "O"
    assert proclitic_stems("وبالقاهره")[0] == "قاهره" and "القاهره" in proclitic_stems("وبالقاهره")


def test_enricher_dead_letters_a_broken_article_and_enriches_the_rest():
    good = [article(text=NEWS, link=f"https://n.example/{i}", guid=f"g{i}") for i in range(3)]
    # Bytes where text belongs (a producer bug upstream): the model code raises on it.
    broken = dataclasses.replace(article(text=NEWS, link="https://n.example/bad", guid="bad"), text=NEWS.encode("utf-8"))
    with TestPipeline() as p:
        out = p | beam.Create(good + [broken]) | Enrich([ner.NerEnricher(NER_MODEL, "ner-test", batch_size=4)])

        def check_articles(rows):
            by_url = {a.url: a for a in rows}
            assert len(by_url) == 4, "every article is written"
            assert by_url["https://n.example/bad"].entities is None
            for i in range(3):
                ents = by_url[f"https://n.example/{i}"].entities
                assert ents and all(NEWS[e["start"]: e["end"]] == e["text"] for e in ents)

        def check_dead(rows):
            assert len(rows) == 1
            assert rows[0].stage == "enrich_ner" and rows[0].url == "https://n.example/bad"
            assert "TypeError" in rows[0].error

        assert_that(out.main, check_articles, label="articles")
        assert_that(out.dead_letter, check_dead, label="dead")


def test_enricher_options_choose_the_model(tmp_path):
    assert choose_ner_model("none") is None
    chosen = choose_ner_model("default")
    assert chosen.location == str(NER_MODEL) and chosen.model_id.startswith("ner-ar-small@")
    enricher = ner.NerEnricher(chosen.location, chosen.model_id, batch_size=8)
    with pytest.raises(RuntimeError, match="before load"):
        enricher.enrich([article()])
    # A mistyped local path is an error, never a hub id; so is a folder without a model.
    with pytest.raises(ModelError, match="no such model folder"):
        choose_ner_model("models/ner-ar-smal")
    with pytest.raises(ModelError, match="no such model folder"):
        choose_ner_model(str(tmp_path / "missing" / "model"))
    with pytest.raises(ModelError, match="config.json is missing"):
        choose_ner_model(str(tmp_path))


def test_a_hugging_face_token_classification_folder_is_mapped_to_our_types(tmp_path):
    """A real (randomly initialized) BERT token classifier saved with save_pretrained, labels in another scheme."""
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tok = transformers.PreTrainedTokenizerFast(tokenizer_file=str(NER_MODEL / "tokenizer.json"),
                                               unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                               sep_token="[SEP]", mask_token="[MASK]")
    labels = ["O", "B-PER", "I-PER", "B-GPE", "I-GPE", "B-ORGANIZATION", "B-DATE"]
    config = transformers.BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, id2label=dict(enumerate(labels)),
                                     label2id={name: i for i, name in enumerate(labels)})
    transformers.BertForTokenClassification(config).save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    runtime = ner.load_runtime(tmp_path)
    assert isinstance(runtime, ner.HuggingFaceRuntime)
    assert runtime.labels == ["O", "B-PERS", "I-PERS", "B-LOC", "I-LOC", "B-ORG", "O"]
    (entities,) = ner.find_entities([NEWS], runtime)
    _check_offsets(NEWS, entities)
    assert entities, "a random classifier over 7 labels tags some words"


def test_eval_command_prints_scores_and_names_a_bad_tag(tmp_path, capsys):
    conll = tmp_path / "tiny.txt"
    conll.write_text("استقبل O\nالرئيس O\nفي O\nالقاهرة B-LOC\nوفدا O\n.\tO\n\nزار O\nباريس B-LOC\n", encoding="utf-8")
    assert eval_ner(["--conll", str(conll)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["micro"]["support"] == 2 and out["per_type"]["LOC"]["support"] == 2
    assert out["sentences"] == 2 and out["tokens"] == 8
    bad = tmp_path / "bad.txt"
    bad.write_text("القاهرة B-CITY\n", encoding="utf-8")
    assert eval_ner(["--conll", str(bad)]) == 2
    assert "B-CITY" in capsys.readouterr().err
