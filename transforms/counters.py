"""One namespace and one list of counter names for the whole pipeline.

Counters are how a run is audited: ``items_seen == articles_written +
duplicates + item dead letters`` must hold after any run, on any runner.
"""
from __future__ import annotations

from apache_beam.metrics import Metrics
from apache_beam.metrics.metric import MetricsFilter

NAMESPACE = "akhbar"

FEEDS_POLLED = "feeds_polled"
FEEDS_UNCHANGED = "feeds_unchanged"
FEEDS_FAILED = "feeds_failed"
FEEDS_BACKING_OFF = "feeds_backing_off"
FEEDS_CHARSET_REPAIRED = "feeds_charset_repaired"
ITEMS_SEEN = "items_seen"
ITEMS_REPEATED = "items_repeated"  # entries the poller already emitted in an earlier poll
ITEMS_DEAD_LETTERED = "items_dead_lettered"
PAGES_FETCHED = "pages_fetched"
PAGES_FAILED = "pages_failed"
TEXT_FROM_FEED = "text_from_feed"
FIELDS_TRUNCATED = "fields_truncated"  # text fields cut to their cap (akhbar.lib.articles.FIELD_LIMITS)
FEEDS_READ = "feeds_read"  # polls that read the feed (parsed, or unchanged since the last poll)
DUPLICATES_PREFIX = "duplicates_"  # + key name: url, guid, text
ROWS_WRITTEN_PREFIX = "rows_written_"  # + table name
ROWS_REJECTED_PREFIX = "rows_rejected_"  # + table name: rows Arrow could not store (never articles: those are dead letters)
FILES_WRITTEN = "files_written"
ENRICHED_PREFIX = "enriched_"  # + enricher name
ENRICH_FAILED_PREFIX = "enrich_failed_"  # + enricher name: the article is still written


def counter(name: str):
    return Metrics.counter(NAMESPACE, name)


def query_counters(result) -> dict[str, int]:
    """Committed counter values of a finished run, summed over steps."""
    totals: dict[str, int] = {}
    for c in result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]:
        value = c.committed if c.committed is not None else c.attempted
        totals[c.key.metric.name] = totals.get(c.key.metric.name, 0) + int(value or 0)
    return totals


def duplicates_total(counters: dict[str, int]) -> int:
    return sum(v for k, v in counters.items() if k.startswith(DUPLICATES_PREFIX)) + counters.get(
        ITEMS_REPEATED, 0
    )
