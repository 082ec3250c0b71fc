"""The geocoding step: fills the entities' geo fields, ``countries``, ``event_location`` and ``geo_model``.

It needs what two parallel branches produce (the NER's entities, the event
classifier's primary type), so it runs after they are joined
(``needs``; ``akhbar.transforms.enrich.Enrich`` runs it after its join). The
gazetteer is loaded once per worker process, from its cached file.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from akhbar.lib.enrichment import Enricher
from akhbar.lib.geo.event_location import EventLocationConfig, choose_event_location, event_location_fields
from akhbar.lib.geo.gazetteer import GazetteerError, data_file, fingerprint, load_gazetteer
from akhbar.lib.geo.outlets import home_country
from akhbar.lib.geo.resolve import GeoConfig, Resolver, country_counts, geo_fields
from akhbar.lib.geo.spot import spot_places
from akhbar.lib.models import ModelError
from akhbar.schemas.records import Article


class GeoEnricher(Enricher):
    """Resolves every LOC entity of an article and names where its primary event happened."""

    name = "geo"
    columns = ("entities", "countries", "event_location", "geo_model")
    needs = ("entities", "primary_event", "event_types")
    batch_size = 64

    def __init__(self, cache_dir: str | Path | None = None, config: GeoConfig | None = None,
                 location_config: EventLocationConfig | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.config = config or GeoConfig()
        self.location_config = location_config or EventLocationConfig()
        # Checked here, in the launching process: a missing package fails before the run starts.
        try:
            self.model_id = f"gazetteer@{fingerprint(data_file('aliases.tsv'))}"
        except (GazetteerError, OSError) as exc:
            raise ModelError(f"--geo default: {exc} (or pass --geo none)") from None
        self._resolver: Resolver | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_resolver": None}

    def load(self) -> None:
        if self._resolver is None:
            self._resolver = Resolver(load_gazetteer(self.cache_dir), self.config)

    def geocode(self, article: Article, spot_missed: bool | None = None) -> dict[str, Any]:
        """The geo columns of one article; nothing when the NER has not filled its entities.

        ``spot_missed`` overrides the config's choice of adding the place names the NER missed.
        """
        if self._resolver is None:
            raise RuntimeError("GeoEnricher.enrich called before load()")
        if article.entities is None:
            return {}
        text = article.text or ""
        found = list(article.entities)
        if self.config.spot_missed if spot_missed is None else spot_missed:
            found = sorted(found + spot_places(text, found, self._resolver), key=lambda e: (e["start"], e["end"]))
        mentions = self._resolver.resolve(text, found, home_country(article.canonical_url or article.url))
        by_index = {m.index: m for m in mentions}
        entities = []
        for i, e in enumerate(found):
            fields = geo_fields(by_index[i]) if i in by_index else dict.fromkeys(("country", "geonameid", "lat", "lon"))
            entities.append({**e, **fields})
        codes = [article.primary_event] if article.primary_event else [t["code"] for t in article.event_types or ()]
        where, _scores = choose_event_location(text, article.title, mentions, codes, self.location_config)
        return {
            "entities": entities,
            "countries": country_counts(mentions),
            "event_location": event_location_fields(where),
            "geo_model": self._resolver.gazetteer.model_id,
        }

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        return [self.geocode(a) for a in articles]
