"""Where the primary event happened: dateline, headline, first sentence, locatives and the event's cue words."""
from akhbar.lib.geo.event_location import choose_event_location, event_location_fields, title_keys
from tests.geo.test_resolve import ents


def choose(resolver, text, names, title=None, codes=(), home=None):
    mentions = resolver.resolve(text, ents(text, *names), home)
    best, scores = choose_event_location(text, title, mentions, codes)
    return best, scores


def test_the_dateline_names_the_place(resolver):
    text = "بيروت - (رويترز) قال مسؤولون في بيروت إن وفدا من القاهرة سيصل غدا، وإن الرياض ترحب."
    best, _ = choose(resolver, text, ["بيروت", "بيروت", "القاهرة", "الرياض"])
    assert best.text == "بيروت" and best.start == 0


def test_the_event_cue_and_locative_beat_an_actor(resolver):
    text = "دعت فرنسا إلى التهدئة بعد أن خرجت مظاهرة حاشدة في صفاقس احتجاجا على البطالة."
    best, _ = choose(resolver, text, ["فرنسا", "صفاقس"], title="مظاهرة في صفاقس", codes=["PROTEST"])
    fields = event_location_fields(best)
    assert fields["country"] == "TN" and fields["geonameid"] == 2467454 and fields["text"] == "صفاقس"


def test_a_city_beats_its_own_country(resolver):
    text = "شهدت سوريا اليوم قصفا عنيفا على حلب."
    best, _ = choose(resolver, text, ["سوريا", "حلب"], codes=["ARMED_CONFLICT"])
    assert best.text == "حلب"


def test_no_resolved_place_no_event_location(resolver):
    text = "اجتمع الوزراء في الشرق الأوسط."
    best, scores = choose(resolver, text, ["الشرق الأوسط"])
    assert best is None and scores == {} and event_location_fields(None) is None


def test_title_keys_cover_clitics_and_multiword_names():
    keys = title_keys("قصف على حلب ومظاهرات بالدار البيضاء")
    assert {"حلب", "دار بيضاء"} <= keys
    assert title_keys(None) == set()
