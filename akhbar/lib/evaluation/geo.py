"""Geocoding scored against hand-labeled articles (``akhbar eval geo --jsonl FILE``).

FILE holds one line per article: ``{docno, corpus, split, label_end, mentions:
[{start, end, country, kind, geonameid?, lat?, lon?}], event_location}`` (the
format of ``data/geo/labels.jsonl``; ``data/geo/DATASHEET.md`` gives the
conventions). Only ids, offsets and places are stored: the texts are read by
docno from the shared corpora (``ant/ant.jsonl.gz``,
``ant_multisource/multisource.jsonl.gz`` under ``--data``).

Every article runs through the shipped NER, event model and geocoder as in the
pipeline ("end_to_end"), and through the geocoder alone on the gold spans
("gold_spans": geocoding without NER errors). Scores, per split and overall:

- mention level: the share of gold place mentions (those with a country) that a LOC
  entity covers ("detected": the NER's recall), the share that come out resolved (of
  all, and of the detected), the country accuracy of the resolved ones, how many of the gold
  mentions of no single country ("الشرق الأوسط") were given one anyway, and the
  resolved LOC entities that match no gold place (NER false alarms);
- cities: of the gold populated places with coordinates that got coordinates, the
  share within 50 km;
- article level: of the articles whose event location is labeled, the share whose
  predicted ``event_location`` is in the right country, and (where the gold is a
  populated place with coordinates) within 50 km of it.
"""
from __future__ import annotations

import gzip
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from akhbar.lib.evaluation import read_jsonl
from akhbar.schemas.records import Article

CORPUS_FILES = {"ant": ("ant", "ant.jsonl.gz"), "ant_multisource": ("ant_multisource", "multisource.jsonl.gz")}
KINDS = ("country", "city", "region", "place", "none")
CITY_KM = 50.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _check_label_row(row: dict) -> str | None:
    if not row.get("docno") or row.get("corpus") not in CORPUS_FILES:
        return f"needs docno and corpus in {sorted(CORPUS_FILES)}"
    if not isinstance(row.get("label_end"), int) or not isinstance(row.get("mentions"), list):
        return "needs label_end (int) and mentions (list)"
    for m in row["mentions"]:
        if not (isinstance(m.get("start"), int) and isinstance(m.get("end"), int) and m["start"] < m["end"]):
            return f"bad mention offsets {m!r}"
        if m.get("kind") not in KINDS or (m["kind"] != "none" and not m.get("country")):
            return f"bad mention {m!r}: kind in {KINDS}, and a country unless kind is none"
    return None


def read_labels(path: str | Path) -> list[dict]:
    """Labeled articles, checked."""
    return list(read_jsonl(path, _check_label_row))


def read_texts(data_dir: str | Path, wanted: Iterable[tuple[str, str]]) -> dict[str, dict]:
    """The corpus records of the (corpus, docno) pairs wanted, by docno."""
    by_corpus: dict[str, set[str]] = {}
    for corpus, docno in wanted:
        by_corpus.setdefault(corpus, set()).add(docno)
    found: dict[str, dict] = {}
    for corpus, docnos in by_corpus.items():
        path = Path(data_dir).joinpath(*CORPUS_FILES[corpus])
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: pass --data, the folder holding ant/ and ant_multisource/")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                if record["docno"] in docnos and record["docno"] not in found:
                    found[record["docno"]] = record
    missing = sorted(d for ds in by_corpus.values() for d in ds if d not in found)
    if missing:
        raise ValueError(f"{len(missing)} labeled articles are not in the corpora under {data_dir}, e.g. {missing[:3]}")
    return found


def as_article(record: dict) -> Article:
    now = datetime(2018, 1, 1, tzinfo=timezone.utc)
    url = record.get("url") or ""
    return Article(record["docno"], url, url, "", record.get("src"), None, record.get("title"), None,
                   record["text"], "page", None, "ar", now, "feed", now, "")


@dataclass
class Tally:
    """Counts for one split and one mode."""

    mentions: int = 0
    detected: int = 0
    resolved: int = 0
    correct: int = 0
    none_mentions: int = 0
    none_resolved: int = 0
    spurious: int = 0
    cities: int = 0
    cities_with_coords: int = 0
    cities_within: int = 0
    events: int = 0
    events_country: int = 0
    events_cities: int = 0
    events_within: int = 0
    errors: list[dict] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "place_mentions": self.mentions,
            "detected_share": ratio(self.detected, self.mentions),
            "resolved_share": ratio(self.resolved, self.mentions),
            "resolved_share_of_detected": ratio(self.resolved, self.detected),
            "country_accuracy_resolved": ratio(self.correct, self.resolved),
            "no_country_mentions": self.none_mentions,
            "no_country_mentions_resolved": self.none_resolved,
            "spurious_resolved_entities": self.spurious,
            "city_mentions": self.cities,
            "city_mentions_with_coordinates": self.cities_with_coords,
            f"city_within_{int(CITY_KM)}km": ratio(self.cities_within, self.cities_with_coords),
            "articles_with_event_location": self.events,
            "event_location_country_accuracy": ratio(self.events_country, self.events),
            "event_location_city_articles": self.events_cities,
            f"event_location_within_{int(CITY_KM)}km": ratio(self.events_within, self.events_cities),
        }


def _overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def _is_place(entity: dict) -> bool:
    return entity.get("type") in ("LOC", "GPE")


def score_article(label: dict, text: str, entities: Sequence[dict], event: dict | None, tally: Tally) -> None:
    """Add one article's predictions (entities with geo fields, event_location) to ``tally``."""
    end = label["label_end"]
    predicted = [e for e in entities if _is_place(e) and e["start"] < end]
    gold = label["mentions"]
    for g in gold:
        hits = [e for e in predicted if _overlaps(e, g)]
        resolved = [e for e in hits if e.get("country")]
        if g["kind"] == "none":
            tally.none_mentions += 1
            tally.none_resolved += bool(resolved)
            continue
        tally.mentions += 1
        tally.detected += bool(hits)
        if g["kind"] == "city" and g.get("lat") is not None:
            tally.cities += 1
        if not resolved:
            tally.errors.append({"docno": label["docno"], "text": text[g["start"]:g["end"]], "gold": g["country"],
                                 "got": None, "entity": [e["text"] for e in hits] or None})
            continue
        e = resolved[0]
        tally.resolved += 1
        if e["country"] == g["country"]:
            tally.correct += 1
        else:
            tally.errors.append({"docno": label["docno"], "text": text[g["start"]:g["end"]], "gold": g["country"],
                                 "got": e["country"], "entity": e["text"]})
        if g["kind"] == "city" and g.get("lat") is not None and e.get("lat") is not None:
            tally.cities_with_coords += 1
            tally.cities_within += haversine_km(g["lat"], g["lon"], e["lat"], e["lon"]) <= CITY_KM
    for e in predicted:
        if e.get("country") and not any(_overlaps(e, g) for g in gold):
            tally.spurious += 1
    gold_event = label.get("event_location")
    if gold_event:
        tally.events += 1
        ok = bool(event) and event.get("country") == gold_event["country"]
        tally.events_country += ok
        if gold_event.get("kind") == "city" and gold_event.get("lat") is not None:
            tally.events_cities += 1
            tally.events_within += bool(event) and event.get("lat") is not None and haversine_km(
                gold_event["lat"], gold_event["lon"], event["lat"], event["lon"]) <= CITY_KM
        if not ok:
            tally.errors.append({"docno": label["docno"], "event": True, "gold": gold_event["country"],
                                 "got": (event or {}).get("country"), "entity": (event or {}).get("text")})


def gold_entities(label: dict, text: str) -> list[dict]:
    """The gold mentions as LOC entities (for scoring the geocoder without NER errors)."""
    return [{"text": text[m["start"]:m["end"]], "type": "LOC", "start": m["start"], "end": m["end"], "score": 1.0}
            for m in label["mentions"]]


def evaluate(labels: Sequence[dict], texts: dict[str, dict], ner_model: str | Path, event_model: str | Path | None,
             batch_size: int = 16, show_errors: int = 0) -> dict[str, Any]:
    """Scores per split ("dev", "test", "all") for the end-to-end and gold-span modes."""
    import dataclasses

    from akhbar.lib.events.model import EventModel
    from akhbar.lib.geo.enricher import GeoEnricher
    from akhbar.lib.ner.entities import find_entities
    from akhbar.lib.ner.runtime import load_runtime

    started = time.monotonic()
    geo = GeoEnricher()
    t0 = time.monotonic()
    geo.load()
    load_s = time.monotonic() - t0
    runtime = load_runtime(str(ner_model))
    events = EventModel(event_model) if event_model else None
    articles = [as_article(texts[row["docno"]]) for row in labels]
    entities: list[list[dict]] = []
    for i in range(0, len(articles), batch_size):
        entities.extend(find_entities([a.text for a in articles[i:i + batch_size]], runtime))
    if events is not None:
        predictions = events.predict([(a.title or "", a.text) for a in articles])
        articles = [dataclasses.replace(a, primary_event=p.primary, event_types=[{"code": c, "score": s} for c, s in p.types])
                    for a, p in zip(articles, predictions)]
    splits = sorted({row.get("split") or "all" for row in labels} | {"all"})
    tallies = {mode: {s: Tally() for s in splits} for mode in ("end_to_end", "gold_spans")}
    geo_seconds = 0.0
    for row, article, found in zip(labels, articles, entities):
        # gold_spans: the geocoder alone, on the gold spans and nothing spotted beside them
        for mode, spot, ents in (("end_to_end", None, found), ("gold_spans", False, gold_entities(row, article.text))):
            t = time.monotonic()
            out = geo.geocode(dataclasses.replace(article, entities=ents), spot_missed=spot)
            geo_seconds += time.monotonic() - t
            for split in {row.get("split") or "all", "all"}:
                score_article(row, article.text, out["entities"], out["event_location"], tallies[mode][split])
    report: dict[str, Any] = {
        mode: {split: tally.report() for split, tally in by_split.items()} for mode, by_split in tallies.items()
    }
    report.update(
        articles=len(labels), gazetteer=geo.model_id, ner_model=str(ner_model), event_model=str(event_model),
        gazetteer_load_s=round(load_s, 2), geocode_ms_per_article=round(1000 * geo_seconds / max(1, 2 * len(labels)), 3),
        seconds=round(time.monotonic() - started, 1),
    )
    if show_errors:
        report["errors"] = {mode: tallies[mode]["all"].errors[:show_errors] for mode in tallies}
    return report
