"""The event enrichment branch: fills ``event_types``, ``primary_event`` and ``event_model``."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from akhbar.lib.enrichment import Enricher
from akhbar.lib.events.model import EventModel
from akhbar.schemas.records import Article


class EventEnricher(Enricher):
    """Event types (list of {code, score}, best first) and the primary type of each article."""

    name = "events"
    columns = ("event_types", "primary_event", "event_model")
    batch_size = 16

    def __init__(self, model_path: str | os.PathLike, model_id: str, threads: int | None = None):
        self.model_path = str(model_path)
        self.model_id = model_id
        self.threads = threads
        self._model: EventModel | None = None

    def __getstate__(self) -> dict[str, Any]:
        # Workers receive the path and load the model in setup(); the session itself does not pickle.
        return {**self.__dict__, "_model": None}

    def load(self) -> None:
        if self._model is None:
            self._model = EventModel(self.model_path, threads=self.threads)

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if self._model is None:
            raise RuntimeError("EventEnricher.enrich called before load()")
        predictions = self._model.predict([(a.title or "", a.text) for a in articles])
        return [
            {
                "event_types": [{"code": code, "score": score} for code, score in p.types],
                "primary_event": p.primary,
                "event_model": self.model_id,
            }
            for p in predictions
        ]
