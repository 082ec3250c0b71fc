"""The geocoding step on whole articles: columns filled, null without entities, picklable for Beam."""
import dataclasses
import pickle

from akhbar.lib.geo.enricher import GeoEnricher
from akhbar.lib.geo.outlets import home_country
from tests.factories import article
from tests.geo.test_resolve import ents


def test_an_article_gets_entity_geo_fields_countries_and_event_location():
    text = "دمشق - قال مسؤول سوري إن قصفا استهدف حلب، فيما دعت تركيا إلى التهدئة، وأكد سالم أن الوضع صعب."
    entities = ents(text, "دمشق", "حلب", "تركيا") + ents(text, "سالم", kind="PERS")
    a = dataclasses.replace(article(text=text, title="قصف على حلب"), entities=entities,
                            primary_event="ARMED_CONFLICT")
    geo = GeoEnricher()
    geo.load()
    (fields,) = geo.enrich([a])
    assert set(fields) == set(GeoEnricher.columns)
    by_text = {e["text"]: e for e in fields["entities"]}
    assert by_text["حلب"]["geonameid"] == 170063 and by_text["حلب"]["country"] == "SY"
    assert by_text["تركيا"]["country"] == "TR" and by_text["تركيا"]["lat"] is None
    assert by_text["سالم"]["country"] is None and by_text["سالم"]["score"] == 0.9
    assert fields["countries"] == [{"country": "SY", "mentions": 2}, {"country": "TR", "mentions": 1}]
    assert fields["event_location"]["text"] == "حلب"
    assert fields["geo_model"] == geo.model_id.replace("gazetteer@", "gazetteer@")


def test_no_entities_no_geo_columns():
    geo = GeoEnricher()
    geo.load()
    assert geo.enrich([article()]) == [{}]


def test_it_pickles_without_its_gazetteer():
    geo = GeoEnricher()
    geo.load()
    clone = pickle.loads(pickle.dumps(geo))
    assert clone._resolver is None and clone.model_id == geo.model_id and clone.needs


def test_home_country_from_the_domain():
    assert home_country("https://www.jawharafm.net/ar/article/1") == "TN"
    assert home_country("http://www.ahram.org.eg/news/1") == "EG"
    assert home_country("https://news.bbc.co.uk/arabic") == "GB"
    assert home_country("https://www.alarabiya.net/ar/1") is None
    assert home_country("https://x.tv/a") is None
    assert home_country("not a url") is None and home_country(None) is None
