"""Turn hand-written geocoding labels into ``data/geo/labels.jsonl`` (ids, offsets and places only).

The hand-written file (not kept in the repository: it names its places as they
are spelled in the articles) has one block per drawn article::

    ### 12                          # index in training.geo.sample.draw()
    EV: طبلبة#1 | TN:city          # where the primary event happened ("EV: -": not stated; "EV: TN": country only)
    طبلبة | TN:city                # every occurrence in the labeled region ...
    سوسة#2 | TN:region             # ... or only the 2nd; "| -" marks an occurrence that is not a place

A label is ``XX`` (a country named), ``XX:city`` (a populated place), ``XX:region``
(a first-level region or a wider area), ``XX:place`` (a place inside a country that
is not a populated place: a district, a mountain, a crossing) or ``none`` (a place
of no single country). A city's GeoNames id is found through the gazetteer under
the spelling labeled, within the labeled country (``XX:city=ID`` names it outright);
the script prints each choice for review. Occurrences are whole words, with the
proclitics attached to them in the text (و ب ل ...), longest labels first.

    python -m training.geo.make_labels RAW_FILE --out data/geo/labels.jsonl
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from akhbar.lib.geo import gazetteer as gz
from akhbar.lib.geo.gazetteer import load_gazetteer
from akhbar.lib.geo.resolve import Resolver
from training.geo.sample import draw, label_end

_CLITIC = "(?:و|ف|ب|ل|ك|وب|ول|فب|لل|ولل)?"


def parse_raw(path: Path) -> dict[int, dict]:
    blocks: dict[int, dict] = {}
    current = None
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("###"):
            current = blocks.setdefault(int(line[3:].split()[0]), {"ev": None, "labels": []})
            continue
        if current is None:
            raise ValueError(f"{path}:{n}: label before any ### block")
        if line.startswith("EV:"):
            current["ev"] = line[3:].strip()
            continue
        surface, _, label = (part.strip() for part in line.partition("|"))
        current["labels"].append((surface, label, n))
    return blocks


def occurrences(text: str, surface: str) -> list[tuple[int, int]]:
    name, _, nth = surface.partition("#") if not surface.startswith("#") else (surface, "", "")
    if surface.startswith("#") and "#" in surface[1:]:
        name, nth = surface.rsplit("#", 1)
    pattern = re.compile(rf"(?<!\w){_CLITIC}{re.escape(name)}(?!\w)")
    spans = [m.span() for m in pattern.finditer(text)]
    if nth:
        k = int(nth)
        return [spans[k - 1]] if 0 < k <= len(spans) else []
    return spans


class Places:
    def __init__(self):
        self.resolver = Resolver(load_gazetteer())

    def describe(self, surface: str, label: str, where: str) -> dict:
        if label == "none":
            return {"country": None, "kind": "none"}
        country, _, kind = label.partition(":")
        kind, _, given = kind.partition("=")
        out = {"country": country, "kind": kind or "country"}
        if kind == "city":
            name = surface.rsplit("#", 1)[0] if "#" in surface[1:] else surface
            _form, places = self.resolver.lookup(name)
            cities = [p for p in places if p.kind == "city" and p.country == country]
            if given:
                self._cities = getattr(self, "_cities", None) or gz._cities(0)
                cities = [gz._city_place(self._cities[int(given)])]
            if cities:
                best = max(cities, key=lambda p: p.population)
                out.update(geonameid=best.geonameid, lat=best.lat, lon=best.lon, place=best.name)
            else:
                print(f"{where}: no GeoNames city for {name!r} in {country}: country only", file=sys.stderr)
        return out


def build(raw: Path) -> list[dict]:
    rows = draw()
    places = Places()
    out = []
    for index, block in sorted(parse_raw(raw).items()):
        r = rows[index]
        end = label_end(r["text"])
        region = r["text"][:end]
        taken: list[tuple[int, int]] = []
        mentions = []
        for surface, label, line in sorted(block["labels"], key=lambda x: (-len(x[0].rsplit("#", 1)[0]), "#" not in x[0][1:])):
            spans = occurrences(region, surface)
            if not spans:
                raise ValueError(f"line {line}: {surface!r} not found in article {index} ({r['docno']})")
            for start, stop in spans:
                if any(start < b and a < stop for a, b in taken):
                    continue
                taken.append((start, stop))
                if label == "-":
                    continue
                mentions.append({"start": start, "end": stop, **places.describe(surface, label, f"line {line}")})
        mentions.sort(key=lambda m: m["start"])
        event = None
        ev = block["ev"]
        if ev and ev != "-":
            if "|" in ev:
                surface, _, label = (p.strip() for p in ev.partition("|"))
                spans = occurrences(region, surface)
                if not spans:
                    raise ValueError(f"article {index}: event place {surface!r} not found")
                event = {"start": spans[0][0], "end": spans[0][1], **places.describe(surface, label, f"EV {index}")}
            else:
                event = {"country": ev, "kind": "country"}
        out.append({"docno": r["docno"], "corpus": r["corpus"], "split": r["split"], "label_end": end,
                    "mentions": mentions, "event_location": event})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("raw", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    rows = build(args.raw)
    with args.out.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    mentions = sum(len(r["mentions"]) for r in rows)
    print(f"{len(rows)} articles, {mentions} mentions, "
          f"{sum(1 for r in rows if r['event_location'])} with an event location -> {args.out}")


if __name__ == "__main__":
    main()
