"""The output tables of akhbar: one Arrow schema per table, versioned.

Every writer, reader, report and test imports the schemas from here, so a
column change is made once and is always a version bump (see
``schemas/CHANGELOG.md`` and ``schemas/COLUMNS.md``).
"""
from __future__ import annotations

import posixpath
from datetime import datetime, timezone

import pyarrow as pa

SCHEMA_VERSION = "3"
SCHEMA_VERSION_KEY = b"akhbar.schema_version"
TABLE_KEY = b"akhbar.table"

ARTICLES_TABLE = "articles"
DEAD_LETTERS_TABLE = "dead_letters"
PARTITION_COLUMN = "date"

_UTC_MICROS = pa.timestamp("us", tz="UTC")

ENTITY_TYPE = pa.struct(
    [
        pa.field("text", pa.string()),
        pa.field("type", pa.string()),
        pa.field("start", pa.int32()),
        pa.field("end", pa.int32()),
        pa.field("score", pa.float32()),
        # Geocoding (LOC entities; null for other types and for unresolved places).
        pa.field("country", pa.string()),
        pa.field("geonameid", pa.int64()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
    ]
)

COUNTRY_COUNT_TYPE = pa.struct([pa.field("country", pa.string()), pa.field("mentions", pa.int32())])

EVENT_LOCATION_TYPE = pa.struct(
    [
        pa.field("text", pa.string()),
        pa.field("start", pa.int32()),
        pa.field("end", pa.int32()),
        pa.field("country", pa.string()),
        pa.field("geonameid", pa.int64()),
        pa.field("lat", pa.float64()),
        pa.field("lon", pa.float64()),
    ]
)

# List children are named "element", as the Parquet spec (and every reader) names them.
EVENT_TYPE = pa.struct([pa.field("code", pa.string()), pa.field("score", pa.float32())])

ARTICLE_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("url", pa.string(), nullable=False),
        pa.field("canonical_url", pa.string(), nullable=False),
        pa.field("feed_url", pa.string(), nullable=False),
        pa.field("outlet", pa.string()),
        pa.field("guid", pa.string()),
        pa.field("title", pa.string()),
        pa.field("summary", pa.string()),
        pa.field("text", pa.string(), nullable=False),
        pa.field("text_source", pa.string(), nullable=False),
        pa.field("fetch_error", pa.string()),
        pa.field("language", pa.string()),
        pa.field("published_at", _UTC_MICROS, nullable=False),
        pa.field("published_source", pa.string(), nullable=False),
        pa.field("fetched_at", _UTC_MICROS, nullable=False),
        pa.field("text_hash", pa.string(), nullable=False),
        pa.field("entities", pa.list_(pa.field("element", ENTITY_TYPE))),
        pa.field("event_types", pa.list_(pa.field("element", EVENT_TYPE))),
        pa.field("primary_event", pa.string()),
        pa.field("story_id", pa.string()),
        pa.field("duplicate_of", pa.string()),
        pa.field("near_dup_score", pa.float32()),
        pa.field("ner_model", pa.string()),
        pa.field("event_model", pa.string()),
        pa.field("countries", pa.list_(pa.field("element", COUNTRY_COUNT_TYPE))),
        pa.field("event_location", EVENT_LOCATION_TYPE),
        pa.field("geo_model", pa.string()),
    ],
    metadata={SCHEMA_VERSION_KEY: SCHEMA_VERSION.encode(), TABLE_KEY: ARTICLES_TABLE.encode()},
)

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("dead_letter_id", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("error_kind", pa.string(), nullable=False),
        pa.field("error", pa.string(), nullable=False),
        pa.field("feed_url", pa.string()),
        pa.field("url", pa.string()),
        pa.field("input", pa.string()),
        pa.field("occurred_at", _UTC_MICROS, nullable=False),
    ],
    metadata={SCHEMA_VERSION_KEY: SCHEMA_VERSION.encode(), TABLE_KEY: DEAD_LETTERS_TABLE.encode()},
)

SCHEMAS: dict[str, pa.Schema] = {
    ARTICLES_TABLE: ARTICLE_SCHEMA,
    DEAD_LETTERS_TABLE: DEAD_LETTER_SCHEMA,
}

# The column whose UTC date names each table's Hive partition.
PARTITION_TIME_COLUMN: dict[str, str] = {
    ARTICLES_TABLE: "published_at",
    DEAD_LETTERS_TABLE: "occurred_at",
}

# The column that identifies a row of each table (file names and sort order use it).
ID_COLUMN: dict[str, str] = {
    ARTICLES_TABLE: "article_id",
    DEAD_LETTERS_TABLE: "dead_letter_id",
}


def partition_date(value: datetime) -> str:
    """The Hive partition value of a time: its UTC date, zero-padded ``YYYY-MM-DD``."""
    day = value.astimezone(timezone.utc)
    # Not strftime: it writes year 1 as "1-01-01", and one such folder makes readers type the column as text.
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def table_glob(output: str, table: str) -> str:
    """The glob that reads a table back, e.g. with DuckDB's read_parquet."""
    return posixpath.join(output, table, "*", "*.parquet")
