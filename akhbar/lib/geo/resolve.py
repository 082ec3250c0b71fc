"""Resolve the place mentions of one article to countries and GeoNames places, with evidence.

Each LOC mention is looked up under its name forms (``akhbar.lib.geo.names``)
and every place its name can mean is scored:

- the kind of place: a country name outranks a city of the same name ("الجزائر"
  is Algeria unless "العاصمة" or "مدينة" says Algiers), and cities rank by
  population (log scale), so Tripoli, Libya outranks Tripoli, Lebanon;
- cue words around the mention: "مدينة", "ولاية", "سلطنة", "العاصمة";
- a country adjective next to the mention ("طرابلس اللبنانية", "العاصمة الأردنية عمان");
- the countries that the article's other mentions resolve to;
- the outlet's home country, a weak prior.

An extra candidate stands for "a place this gazetteer does not know": a name
whose only match is a small village abroad stays unresolved. Each country's best
candidate score becomes a probability (softmax, so the scores are log-odds); a
mention is resolved to the most probable country when that probability reaches
``threshold``, and to the best-scored place within it.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from akhbar.lib.geo.gazetteer import Gazetteer, Place
from akhbar.lib.geo.names import NameForm, cue_after, cue_before, marked_forms, name_forms, place_key, words_of

# Entity types of the NER stage that name places (the shipped model's LOC; GPE from other tag sets).
PLACE_TYPES = frozenset({"LOC", "GPE"})


@dataclass(frozen=True)
class GeoConfig:
    """Weights of the evidence (log-odds units) and the confidence below which a mention stays unresolved."""

    country_prior: float = 6.5  # above any city's population term: a country name means the country
    region_prior: float = 5.0
    adjective_prior: float = 5.5
    city_per_decade: float = 1.5  # per factor of 10 in population, above 1,000
    min_population: int = 1000
    unknown: float = 1.0  # the "not in this gazetteer" candidate: a village of 1,000 scores 0
    cue_match: float = 1.5
    cue_mismatch: float = 3.0
    adjective_nearby: float = 3.0
    marked: float = 3.0  # written with the marks of one place's alias: "عمّان" is Amman, "عُمان" Oman
    article_context: float = 1.0  # a country the article's other mentions resolve to ...
    article_share: float = 1.0  # ... and more the larger its share of them
    home_country: float = 1.0
    stripped: float = 0.5  # a name found only without its clitic is a little less sure
    threshold: float = 0.5
    adjective_window: int = 3  # words either side of a mention searched for a country adjective
    spot_missed: bool = True  # add LOC entities for place names the NER missed (akhbar.lib.geo.spot)


@dataclass
class Mention:
    """One place mention of an article and what it resolved to."""

    index: int  # position in the article's entity list
    text: str
    start: int
    end: int
    form: NameForm | None = None
    candidates: list[Place] = field(default_factory=list)
    supranational: bool = False
    cue: str | None = None
    adjectives: frozenset[str] = frozenset()
    marked: list[Place] = field(default_factory=list)  # places whose alias spelling, marks and all, this is
    probabilities: dict[str, float] = field(default_factory=dict)
    place: Place | None = None
    confidence: float = 0.0

    @property
    def country(self) -> str | None:
        return self.place.country if self.place is not None else None

    @property
    def key(self) -> str | None:
        return self.form.key if self.form else None


class Resolver:
    """Scores the candidate places of an article's mentions; one instance serves every article."""

    def __init__(self, gazetteer: Gazetteer, config: GeoConfig | None = None):
        self.gazetteer = gazetteer
        self.config = config or GeoConfig()

    # -- lookup -------------------------------------------------------------------------
    def lookup(self, text: str) -> tuple[NameForm | None, list[Place]]:
        """The first name form of ``text`` that the gazetteer knows, and what it can mean."""
        for form in name_forms(text):
            places = self.gazetteer.lookup(form.key)
            if places:
                return form, places
        return None, []

    def _adjectives_near(self, text: str, start: int, end: int) -> frozenset[str]:
        n = self.config.adjective_window
        before = words_of(text[max(0, start - 12 * n):start])[-n:]
        after = words_of(text[end:end + 12 * n])[:n]
        found = set()
        for word in before + after:
            for p in self.gazetteer.lookup(place_key(word)):
                if p.kind == "adj":
                    found.add(p.country)
        return frozenset(found)

    def mentions(self, text: str, entities: Sequence[dict[str, Any]]) -> list[Mention]:
        out = []
        for i, e in enumerate(entities):
            if e.get("type") not in PLACE_TYPES:
                continue
            start, end = int(e.get("start") or 0), int(e.get("end") or 0)
            m = Mention(i, str(e.get("text") or ""), start, end)
            m.form, places = self.lookup(m.text)
            if any(p.kind == "none" for p in places):
                m.supranational = True
            else:
                m.candidates = places
            if m.candidates:
                m.cue = (m.form.cue if m.form and m.form.cue != "direction" else None) \
                    or cue_before(text, start) or cue_after(text, end)
                m.adjectives = self._adjectives_near(text, start, end)
                m.marked = [p for form in marked_forms(m.text) for p in self.gazetteer.lookup_marked(form)]
            out.append(m)
        return out

    # -- scoring ------------------------------------------------------------------------
    def score(self, m: Mention, place: Place, context: dict[str, float], home: str | None) -> float:
        c = self.config
        if place.kind == "country":
            s = c.country_prior
        elif place.kind == "region":
            s = c.region_prior
        elif place.kind == "adj":
            s = c.adjective_prior
        else:
            s = c.city_per_decade * (math.log10(max(place.population, c.min_population)) - 3.0)
        if m.cue == "city":
            s += c.cue_match if place.kind == "city" else -c.cue_mismatch if place.kind == "country" else 0.0
        elif m.cue == "region":
            s += c.cue_match if place.kind in ("region", "city") else -c.cue_mismatch if place.kind == "country" else 0.0
        elif m.cue == "country":
            s += c.cue_match if place.kind == "country" else -c.cue_mismatch
        if place.country in m.adjectives:
            s += c.adjective_nearby
        if place in m.marked:
            s += c.marked
        if context:
            in_context = context.get(place.country, 0.0)
            s += c.article_context * min(1.0, in_context) + c.article_share * in_context / sum(context.values())
        if home and place.country == home:
            s += c.home_country
        if m.form is not None and m.form.stripped:
            s -= c.stripped
        return s

    def _decide(self, m: Mention, context: dict[str, float], home: str | None) -> None:
        scored = [(self.score(m, p, context, home), p) for p in m.candidates]
        top = max(s for s, _ in scored)
        top = max(top, self.config.unknown)
        weights = [(math.exp(s - top), p) for s, p in scored]
        # A country's weight is its best candidate's: ten small homonyms in one country do not outvote a capital.
        best: dict[str, float] = {}
        for w, p in weights:
            best[p.country] = max(best.get(p.country, 0.0), w)
        total = sum(best.values()) + math.exp(self.config.unknown - top)
        m.probabilities = {country: w / total for country, w in best.items()}
        country, prob = max(m.probabilities.items(), key=lambda kv: (kv[1], kv[0]))
        m.confidence = prob
        if prob >= self.config.threshold:
            m.place = max((sp for sp in scored if sp[1].country == country), key=lambda sp: sp[0])[1]
        else:
            m.place = None

    def resolve(self, text: str, entities: Sequence[dict[str, Any]], home: str | None = None) -> list[Mention]:
        """Resolve every place mention: a first pass alone, a second with the other mentions' countries."""
        mentions = self.mentions(text, entities)
        ranked = [m for m in mentions if m.candidates]
        for m in ranked:
            self._decide(m, {}, home)
        for m in ranked:
            context: Counter[str] = Counter()
            for other in ranked:
                if other is m or other.key == m.key or other.place is None:
                    continue
                context[other.place.country] += other.confidence
            self._decide(m, context, home)
        return mentions


def geo_fields(m: Mention) -> dict[str, Any]:
    """The entity struct's geo fields of one mention (all null when unresolved)."""
    p = m.place
    if p is None:
        return {"country": None, "geonameid": None, "lat": None, "lon": None}
    located = p.kind in ("city", "region")
    return {
        "country": p.country,
        "geonameid": p.geonameid if p.kind == "city" else None,
        "lat": p.lat if located else None,
        "lon": p.lon if located else None,
    }


def country_counts(mentions: Sequence[Mention]) -> list[dict[str, Any]]:
    """``countries``: each resolved country with its number of mentions, most mentioned first."""
    counts = Counter(m.country for m in mentions if m.country)
    return [{"country": c, "mentions": n} for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
