"""The rules after the NER model: datelines and credits are never persons; norm and canonical forms."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from akhbar.lib.models import NER_MODEL
from akhbar.lib.ner import find_entities, load_runtime
from akhbar.lib.ner.canonical import KnownForms, add_canonical_forms, entity_norm
from akhbar.lib.ner.dateline import apply_dateline_rule, dateline_regions, is_credit_name
from akhbar.lib.ner.gazetteer import Gazetteer
from akhbar.sample.corpus import load_corpus


def _regions(text: str, outlet: str | None = None) -> list[tuple[str, bool]]:
    return [(text[r.start: r.end].strip(), r.credit) for r in dateline_regions(text, outlet)]


@pytest.mark.parametrize(
    ("text", "place", "credit"),
    [
        ("عمّان - الوسط نيوز: أجرى رئيس الوزراء تعديلا", "عمّان", "- الوسط نيوز:"),
        ("بيروت، 25 نوفمبر (المشرق) - أصدرت المحكمة حكما", "بيروت، 25 نوفمبر", "(المشرق) -"),
        ("نواكشوط - الساحل اليوم (عن المشرق): وقّع الصندوق", "نواكشوط", "- الساحل اليوم (عن المشرق):"),
        ("(CNN)-- ثار بركان في إندونيسيا", None, "(CNN)--"),
        ("دبي، الإمارات العربية المتحدة (CNN)— قال ولي العهد", "دبي، الإمارات العربية المتحدة", "(CNN)—"),
        ("القاهرة - (أ ف ب) - قال مسؤول", "القاهرة", "- (أ ف ب) -"),
        ("واشنطن – رويترز: قال البيت الأبيض", "واشنطن", "– رويترز:"),
        ("العنوان\nالقدس ـ رويترز ـ قال الجيش", "القدس", "ـ رويترز ـ"),
    ],
)
def test_dateline_forms(text, place, credit):
    found = _regions(text)
    assert (credit, True) in found
    if place is not None:
        assert (place, False) in found


@pytest.mark.parametrize(
    "text",
    [
        "قال الرئيس: إن الاتفاق جاهز",
        "وقال ماكرون - في مؤتمر صحفي - إن فرنسا مستعدة",
        "السطر الأول\nالسطر الثاني\nالسطر الثالث\nبيروت - الخبر: نص في الفقرة الرابعة",
        "أعلنت الحكومة أن الوزير سيزور باريس - الأسبوع المقبل",
    ],
)
def test_sentences_with_a_dash_or_colon_are_not_datelines(text):
    assert [r for r in _regions(text) if r[1]] == []


def test_closing_credit_lines():
    assert ("(رويترز)", True) in _regions("نص الخبر.\n(رويترز)")
    assert ("المصدر: وكالات", True) in _regions("نص الخبر.\nالمصدر: وكالات")


def _entity(text: str, surface: str, kind: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return {"text": surface, "type": kind, "start": start, "end": start + len(surface), "score": 0.9}


def test_the_dateline_rule_drops_credits_keeps_the_place_and_types_in_sentence_credits_org():
    text = "عمّان - الوسط نيوز: قالت وكالة رويترز إن سامي نيوز التقى مراسل الوسط نيوز في عمّان."
    entities = [
        _entity(text, "عمّان", "LOC"), _entity(text, "نيوز", "PERS"),  # the dateline: place kept, credit dropped
        _entity(text, "رويترز", "PERS"),  # an agency in the sentence: ORG, never a person
        _entity(text, "سامي نيوز", "PERS"),  # a person whose name merely contains the word stays a person
        _entity(text, "الوسط نيوز", "PERS", nth=1),  # the outlet's own name in the sentence: ORG
        _entity(text, "عمّان", "LOC", nth=1),
    ]
    kept = apply_dateline_rule(text, entities, outlet="الوسط نيوز")
    assert [(e["text"], e["type"], e["start"]) for e in kept] == [
        ("عمّان", "LOC", 0), ("رويترز", "ORG", text.index("رويترز")), ("سامي نيوز", "PERS", text.index("سامي")),
        ("الوسط نيوز", "ORG", text.index("الوسط نيوز", 10)), ("عمّان", "LOC", text.index("عمّان", 5)),
    ]
    for e in kept:  # offsets untouched
        assert text[e["start"]: e["end"]] == e["text"]


def test_credit_names():
    assert is_credit_name("رويترز") and is_credit_name("لرويترز") and is_credit_name("أ ف ب") and is_credit_name("وام")
    assert is_credit_name("الساحل اليوم", outlet="الساحل اليوم") and not is_credit_name("الساحل", outlet="الساحل اليوم")
    assert not is_credit_name("أم") and not is_credit_name("بوتين") and not is_credit_name("")


@pytest.fixture(scope="module")
def runtime():
    return load_runtime(NER_MODEL)


def test_no_outlet_or_credit_is_a_person_in_the_demo_corpus(runtime):
    """The demo report's persons: no outlet name, no agency, nothing from a dateline."""
    corpus = load_corpus()
    outlets = {"wasat": "الوسط نيوز", "anba": "وكالة أنباء المشرق", "sahil": "الساحل اليوم"}
    texts = [a.text for a in corpus]
    found = find_entities(texts, runtime, outlets=[outlets[a.outlet] for a in corpus])
    credit_words = {w for name in outlets.values() for w in name.split()} | {"المشرق"}
    for text, entities in zip(texts, found):
        credit_ends = [r.end for r in dateline_regions(text) if r.credit]
        for e in entities:
            if e["type"] == "PERS":
                assert not set(e["text"].split()) & credit_words, e
                assert not is_credit_name(e["text"]), e
            assert all(e["start"] >= end or e["type"] == "LOC" for end in credit_ends if e["start"] < end), e


def test_norm_folds_and_strips_a_proclitic_only_onto_a_known_form():
    known = KnownForms(["الامم", "روسيا", "بوتين", "لبنان", "وزير", "المتحده"])
    assert entity_norm("للأمم المتحدة", known) == "الامم المتحده"
    assert entity_norm("وروسيا", known) == "روسيا"
    assert entity_norm("لبنان", known) == "لبنان"  # "بنان" is no known form: the ل is part of the name
    assert entity_norm("بوتين", known) == "بوتين"
    assert entity_norm("وزير", known) == "وزير"  # more frequent as written
    assert entity_norm("القاهرة", known) == "القاهره"  # the article stays
    assert entity_norm("إيمانويل ماكرون", known) == entity_norm("ايمانويل  ماكرون", known) == "ايمانويل ماكرون"
    assert entity_norm("بُوتِيـــن", known) == "بوتين"  # tashkeel and tatweel
    # A proclitic is stripped where the article itself spells the bare form: "ولبنان" with "لبنان" beside it.
    assert entity_norm("ولبنان", KnownForms(), also_known={"لبنان"}) == "لبنان"


def test_canonical_is_the_longest_consistent_full_name_within_the_article():
    text = "قال الرئيس فلاديمير بوتين إن بوتين والرئيس بوتين وفلاديمير يلتقون محمد بن سلمان ومحمد خاتمي ومحمد"
    spans = [("فلاديمير بوتين", 0), ("بوتين", 1), ("الرئيس بوتين", 0), ("وفلاديمير", 0), ("محمد بن سلمان", 0),
             ("ومحمد خاتمي", 0), ("ومحمد", 1)]
    entities = [_entity(text, s, "PERS", n) for s, n in spans]
    known = KnownForms(["محمد", "فلاديمير"])
    out = add_canonical_forms(entities, known)
    canon = {(e["text"], e["start"]): e["canonical"] for e in out}
    assert [canon[(e["text"], e["start"])] for e in entities] == [
        "فلاديمير بوتين", "فلاديمير بوتين", "فلاديمير بوتين", "فلاديمير بوتين", "محمد بن سلمان", "محمد خاتمي",
        "ومحمد",  # two different men called محمد: the short mention stays itself (its norm)
    ][:6] + [out[-1]["norm"]]
    assert out[-1]["norm"] == "محمد"
    for before, after in zip(entities, out):  # text, offsets and the rest unchanged
        assert {k: after[k] for k in before} == before


def test_other_types_resolve_by_norm_only():
    text = "كوريا الشمالية وكوريا وللأمم المتحدة"
    entities = [_entity(text, "كوريا الشمالية", "LOC"), _entity(text, "وكوريا", "LOC"), _entity(text, "للأمم المتحدة", "ORG")]
    out = add_canonical_forms(entities, KnownForms(["كوريا", "الامم"]))
    assert [e["canonical"] for e in out] == ["كوريا الشماليه", "كوريا", "الامم المتحده"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(alphabet="ابتثجحخدذرزسشصضطظعغفقكلمنهويةىأإآءؤئ ـًٌٍَُِّْ", min_size=1, max_size=20),
                          st.sampled_from(["PERS", "LOC", "ORG", "MISC"])), max_size=12))
def test_canonical_forms_never_fail_and_never_touch_offsets(mentions):
    entities = [{"text": t, "type": k, "start": i, "end": i + len(t), "score": 0.5} for i, (t, k) in enumerate(mentions)]
    out = add_canonical_forms(entities, KnownForms(["محمد", "الامم"]))
    assert len(out) == len(entities)
    for before, after in zip(entities, out):
        assert {k: after[k] for k in before} == before
        assert isinstance(after["norm"], str) and isinstance(after["canonical"], str)
        if after["type"] != "PERS":
            assert after["canonical"] == after["norm"]


def test_pipeline_entities_carry_norm_and_canonical(runtime):
    text = ("موسكو - الوسط نيوز: قال الرئيس الروسي فلاديمير بوتين إن روسيا مستعدة للحوار، وأضاف بوتين أن "
            "للأمم المتحدة دورا، فيما دعا الأمين العام للأمم المتحدة إلى التهدئة.")
    (entities,) = find_entities([text], runtime, outlets=["الوسط نيوز"])
    by_text = {e["text"]: e for e in entities}
    assert by_text["بوتين"]["canonical"] == "فلاديمير بوتين"
    assert by_text["للأمم المتحدة"]["norm"] == "الامم المتحده"
    assert not any(e["type"] == "PERS" and "نيوز" in e["text"] for e in entities)
    for e in entities:
        assert text[e["start"]: e["end"]] == e["text"]


def test_gazetteer_keys_mark_the_longest_phrase_and_accept_a_proclitic(tmp_path):
    path = tmp_path / "gazetteer.json"
    Gazetteer.save(path, {"دونالد ترامب": "PERS", "ترامب": "PERS", "الامم المتحده": "ORG", "غزه": "LOC"})
    assert json.loads(path.read_text(encoding="utf-8"))["phrases"]["غزه"] == "LOC"
    gaz = Gazetteer.load(path)
    norms = ["قال", "دونالد", "ترامب", "للامم", "المتحده", "في", "وغزه", "ترامب"]
    assert gaz.keys(norms) == [[], ["gz:B-PERS"], ["gz:I-PERS"], ["gz:B-ORG"], ["gz:I-ORG"], [], ["gz:B-LOC"], ["gz:B-PERS"]]
    assert Gazetteer({}).keys(norms) == [[]] * len(norms)
