"""The NER enrichment branch: fills ``entities`` and ``ner_model`` for each article."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from akhbar.lib.enrichment import Enricher
from akhbar.lib.ner.entities import find_entities
from akhbar.lib.ner.runtime import TagRuntime, load_runtime
from akhbar.schemas.records import Article

LOG = logging.getLogger(__name__)


class NerEnricher(Enricher):
    """The ``entities`` column: a word-level akhbar model on ONNX Runtime, or a Hugging Face model."""

    name = "ner"
    columns = ("entities", "ner_model")

    def __init__(self, model: str | Path, model_id: str, batch_size: int = 16, overlap: int = 16,
                 crf_weight: float | None = None) -> None:
        self.model = str(model)
        self.model_id = model_id
        self.batch_size = batch_size
        self.overlap = overlap
        self.crf_weight = crf_weight
        self._runtime: TagRuntime | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_runtime": None}

    def load(self) -> None:
        if self._runtime is None:
            self._runtime = load_runtime(self.model, crf_weight=self.crf_weight)
            LOG.info("NER model %s loaded (%s)", self.model_id, type(self._runtime).__name__)

    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        if self._runtime is None:
            raise RuntimeError("NerEnricher.enrich called before load()")
        found = find_entities([a.text or "" for a in articles], self._runtime, batch_size=self.batch_size * 4,
                              overlap=self.overlap, outlets=[a.outlet for a in articles])
        return [{"entities": e, "ner_model": self.model_id} for e in found]
