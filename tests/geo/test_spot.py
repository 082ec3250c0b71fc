"""Place names the NER missed, spotted conservatively by the gazetteer."""
from akhbar.lib.geo.spot import spot_places
from tests.geo.test_resolve import ents


def spotted(resolver, text, *entity_names, kind="ORG"):
    return [e["text"] for e in spot_places(text, ents(text, *entity_names, kind=kind), resolver)]


def test_reviewed_names_and_major_cities_are_spotted_with_a_null_score(resolver):
    text = "وصل الوفد إلى بيروت قادما من الجزائر العاصمة، فيما تتواصل المعارك في اليمن وحلب."
    found = spot_places(text, [], resolver)
    assert [e["text"] for e in found] == ["بيروت", "الجزائر العاصمة", "اليمن", "وحلب"]
    assert all(e["type"] == "LOC" and e["score"] is None and text[e["start"]:e["end"]] == e["text"] for e in found)


def test_everyday_words_adjectives_and_names_of_no_country_are_not(resolver):
    text = "نشر صور المدينة في بيان رسمي، وقال المسؤول الأمريكي إن الشرق الأوسط يحتاج إلى القطاع المالي."
    assert spotted(resolver, text) == []


def test_nothing_inside_an_entity_the_ner_found(resolver):
    text = "فاز ريال مدريد على برشلونة في مدريد"
    assert spotted(resolver, text, "ريال مدريد") == ["برشلونة", "مدريد"]
    assert spot_places("", [], resolver) == []
