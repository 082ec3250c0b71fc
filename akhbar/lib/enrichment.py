"""The model interface of the enrichment branches (NER, event types, ...): no Beam here.

An ``Enricher`` names the columns it fills and the model that fills them
(``model_id``, written into every row it enriches). ``load`` builds the model;
the Beam stage (``akhbar.transforms.enrich``) calls it once per worker process
and shares the loaded enricher between the process's threads.
"""
from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

from akhbar.schemas.records import Article


class Enricher(abc.ABC):
    """One enrichment branch. Subclasses are pickled to workers, so keep models out of __init__."""

    name: str = "enricher"
    columns: tuple[str, ...] = ()
    batch_size: int = 16
    model_id: str = ""
    # Columns this enricher reads from other branches: it then runs after they are joined.
    needs: tuple[str, ...] = ()

    @abc.abstractmethod
    def load(self) -> None:
        """Build the model; called once per worker process."""

    @abc.abstractmethod
    def enrich(self, articles: Sequence[Article]) -> list[dict[str, Any]]:
        """One dict of column values per article, in order; keys must be in ``columns``."""
