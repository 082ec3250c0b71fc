"""DuckDB, pandas, Polars and PySpark read the same output: the same rows, the same types, nested columns too.

Also schema evolution: a partition written in an older version (the current
schema minus its newest columns) reads together with a current one through
DuckDB's ``union_by_name`` and Spark's ``mergeSchema``.

One Spark session (local mode) serves the whole module.
"""
from __future__ import annotations

import os
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from akhbar.schemas.article import (
    ARTICLE_SCHEMA,
    ARTICLES_TABLE,
    PARTITION_COLUMN,
    SCHEMA_VERSION,
    SCHEMA_VERSION_KEY,
    table_glob,
)
from akhbar.transforms.parquet import partition_dir
from tests.analytics.conftest import enriched_rows

NESTED = [f.name for f in ARTICLE_SCHEMA if pa.types.is_list(f.type)]


# -- one abstract type per column, from each engine's own type system -------------------
def arrow_kind(t: pa.DataType):
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_timestamp(t):
        return f"timestamp[{t.tz}]"
    if pa.types.is_int32(t):
        return "int32"
    if pa.types.is_int64(t):
        return "int64"
    if pa.types.is_float32(t):
        return "float32"
    if pa.types.is_float64(t):
        return "float64"
    if pa.types.is_list(t):
        return ("list", arrow_kind(t.value_type))
    if pa.types.is_struct(t):
        return ("struct", tuple((t.field(i).name, arrow_kind(t.field(i).type)) for i in range(t.num_fields)))
    return str(t)


def duckdb_kind(t):
    simple = {"varchar": "string", "timestamp with time zone": "timestamp[UTC]", "integer": "int32", "float": "float32",
              "bigint": "int64", "double": "float64"}
    if t.id in simple:
        return simple[t.id]
    if t.id == "list":
        return ("list", duckdb_kind(t.child))
    if t.id == "struct":
        return ("struct", tuple((name, duckdb_kind(child)) for name, child in t.children))
    return t.id


def polars_kind(t):
    if t == pl.String:
        return "string"
    if isinstance(t, pl.Datetime):
        return f"timestamp[{t.time_zone}]"
    if t == pl.Int32:
        return "int32"
    if t == pl.Int64:
        return "int64"
    if t == pl.Float32:
        return "float32"
    if t == pl.Float64:
        return "float64"
    if isinstance(t, pl.List):
        return ("list", polars_kind(t.inner))
    if isinstance(t, pl.Struct):
        return ("struct", tuple((f.name, polars_kind(f.dtype)) for f in t.fields))
    return str(t)


def spark_kind(t):
    from pyspark.sql import types as st

    if isinstance(t, st.StringType):
        return "string"
    if isinstance(t, st.TimestampType):  # an instant (TimestampNTZType would be a wall-clock time)
        return "timestamp[UTC]"
    if isinstance(t, st.IntegerType):
        return "int32"
    if isinstance(t, st.LongType):
        return "int64"
    if isinstance(t, st.FloatType):
        return "float32"
    if isinstance(t, st.DoubleType):
        return "float64"
    if isinstance(t, st.ArrayType):
        return ("list", spark_kind(t.elementType))
    if isinstance(t, st.StructType):
        return ("struct", tuple((f.name, spark_kind(f.dataType)) for f in t.fields))
    return t.simpleString()


EXPECTED_KINDS = {f.name: arrow_kind(f.type) for f in ARTICLE_SCHEMA}


# -- one canonical Python value per cell ---------------------------------------------
def canonical(value):
    if value is None or value is pd.NaT or (isinstance(value, (float, np.floating)) and np.isnan(value)):
        return None  # pandas marks a missing string or float with NaN
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is None:  # Spark returns instants in the session time zone, set to UTC
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (float, np.floating)):
        return float(np.float32(value))
    if isinstance(value, (np.integer,)):
        return int(value)
    if hasattr(value, "asDict"):  # a Spark Row (struct)
        value = value.asDict()
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [canonical(v) for v in value]
    return value


def canonical_rows(records) -> list[dict]:
    rows = [{k: canonical(v) for k, v in r.items()} for r in records]
    return sorted(rows, key=lambda r: r["article_id"])


# -- the readers ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI") == "true":
            pytest.fail("PySpark needs Java 17+ (java on PATH or JAVA_HOME)")
        pytest.skip("PySpark needs Java 17+ (java on PATH or JAVA_HOME)")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    session = (
        SparkSession.builder.master("local[1]")
        .appName("akhbar-readers-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def duckdb_read(analytics_output: Path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.sql(f"SELECT * FROM read_parquet('{table_glob(str(analytics_output), ARTICLES_TABLE)}', hive_partitioning = true)")
    kinds = {name: duckdb_kind(t) for name, t in zip(rel.columns, rel.types)}
    return kinds, canonical_rows(dict(zip(rel.columns, r)) for r in rel.fetchall())


def _schema_kinds(kinds: dict) -> dict:
    return {k: v for k, v in kinds.items() if k != PARTITION_COLUMN}


def test_duckdb_reads_every_column_with_its_type_and_the_nested_values(duckdb_read, analytics_output: Path):
    kinds, rows = duckdb_read
    assert _schema_kinds(kinds) == EXPECTED_KINDS
    assert kinds[PARTITION_COLUMN] == "date"
    written = sum(pq.read_metadata(p).num_rows for p in analytics_output.glob(f"{ARTICLES_TABLE}/*/*.parquet"))
    assert len(rows) == written > len(enriched_rows())
    by_id = {r["article_id"]: r for r in rows}
    for expected in canonical_rows(enriched_rows()):
        got = by_id[expected["article_id"]]
        for column in NESTED + ["story_id", "primary_event"]:
            assert got[column] == expected[column], column
    assert any(r["entities"] for r in rows) and any(r["entities"] == [] for r in rows) and any(r["entities"] is None for r in rows)


def test_pandas_reads_the_same_rows_and_types(duckdb_read, analytics_output: Path):
    _, expected = duckdb_read
    df = pd.read_parquet(analytics_output / ARTICLES_TABLE)
    for field in ARTICLE_SCHEMA:
        dtype = df.dtypes[field.name]
        if pa.types.is_string(field.type):
            assert pd.api.types.is_string_dtype(dtype), (field.name, dtype)
        elif pa.types.is_timestamp(field.type):
            assert isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == "UTC", (field.name, dtype)
        elif pa.types.is_floating(field.type):
            assert dtype == field.type.to_pandas_dtype(), (field.name, dtype)
        else:  # nested lists: Python objects by default; the pyarrow backend below keeps the types
            assert dtype == object, (field.name, dtype)  # noqa: E721 - a numpy dtype equals object
    assert canonical_rows(df.to_dict("records")) == expected
    exact = pd.read_parquet(analytics_output / ARTICLES_TABLE, dtype_backend="pyarrow")
    kinds = {name: arrow_kind(exact.dtypes[name].pyarrow_dtype) for name in ARTICLE_SCHEMA.names}
    assert kinds == EXPECTED_KINDS


def test_polars_reads_the_same_rows_and_types(duckdb_read, analytics_output: Path):
    _, expected = duckdb_read
    df = pl.read_parquet(table_glob(str(analytics_output), ARTICLES_TABLE), hive_partitioning=True)
    kinds = {name: polars_kind(t) for name, t in df.schema.items()}
    assert _schema_kinds(kinds) == EXPECTED_KINDS
    assert df.schema[PARTITION_COLUMN] == pl.Date
    assert canonical_rows(df.iter_rows(named=True)) == expected


@pytest.mark.slow  # a Spark JVM start-up
def test_pyspark_reads_the_same_rows_and_types(spark, duckdb_read, analytics_output: Path):
    from pyspark.sql import types as st

    _, expected = duckdb_read
    df = spark.read.parquet(str(analytics_output / ARTICLES_TABLE))
    kinds = {f.name: spark_kind(f.dataType) for f in df.schema.fields}
    assert _schema_kinds(kinds) == EXPECTED_KINDS
    assert isinstance(df.schema[PARTITION_COLUMN].dataType, st.DateType)
    assert canonical_rows(r.asDict() for r in df.collect()) == expected


# -- schema evolution ----------------------------------------------------------------
def sample_value(t: pa.DataType):
    """A non-null value of any Arrow type, for columns this test does not know by name."""
    if pa.types.is_string(t):
        return "قيمة"
    if pa.types.is_floating(t):
        return 0.25
    if pa.types.is_integer(t):
        return 7
    if pa.types.is_boolean(t):
        return True
    if pa.types.is_timestamp(t):
        return datetime(2026, 11, 22, tzinfo=timezone.utc)
    if pa.types.is_list(t):
        return [sample_value(t.value_type)]
    if pa.types.is_struct(t):
        return {t.field(i).name: sample_value(t.field(i).type) for i in range(t.num_fields)}
    raise TypeError(f"no sample value for {t}")


def older_schema(dropped: int = 2) -> pa.Schema:
    """The current schema as it was before its last ``dropped`` columns were added, with an older version."""
    fields = list(ARTICLE_SCHEMA)
    assert all(f.nullable for f in fields[-dropped:]), "a column added in a new version must be nullable"
    return pa.schema(fields[:-dropped], metadata={SCHEMA_VERSION_KEY: previous_version().encode()})


def previous_version() -> str:
    return str(int(SCHEMA_VERSION) - 1) if SCHEMA_VERSION.isdigit() else f"{SCHEMA_VERSION}-older"


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory) -> tuple[Path, list[str], set[str], set[str]]:
    """date=2026-11-20 in the older version, date=2026-11-21 in the current one, newest columns filled."""
    out = tmp_path_factory.mktemp("versions")
    old = older_schema()
    added = [f.name for f in ARTICLE_SCHEMA if f.name not in old.names]
    old_ids, new_ids = set(), set()
    for day, schema, ids in (("2026-11-20", old, old_ids), ("2026-11-21", ARTICLE_SCHEMA, new_ids)):
        rows = []
        for row in enriched_rows():
            row = dict(row, article_id=f"{row['article_id']}-{day}")
            for name in added:
                row[name] = sample_value(ARTICLE_SCHEMA.field(name).type)
            rows.append({k: row[k] for k in schema.names})
            ids.add(row["article_id"])
        directory = Path(partition_dir(str(out), ARTICLES_TABLE, day))
        directory.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), directory / "part-0.parquet", compression="zstd")
    return out, added, old_ids, new_ids


def test_duckdb_union_by_name_reads_both_versions(two_versions):
    out, added, old_ids, new_ids = two_versions
    glob = table_glob(str(out), ARTICLES_TABLE)
    con = duckdb.connect()
    versions = {
        v for (v,) in con.execute(f"SELECT DISTINCT decode(value) FROM parquet_kv_metadata('{glob}') WHERE decode(key) = ?", [SCHEMA_VERSION_KEY.decode()]).fetchall()
    }
    assert versions == {SCHEMA_VERSION, previous_version()}
    rel = con.sql(f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true)")
    assert rel.columns == ARTICLE_SCHEMA.names + [PARTITION_COLUMN]
    rows = {r[0]: dict(zip(rel.columns, r)) for r in rel.fetchall()}
    assert set(rows) == old_ids | new_ids
    for name in added:
        assert all(rows[i][name] is None for i in old_ids), name
        assert all(rows[i][name] is not None for i in new_ids), name


@pytest.mark.slow
def test_spark_merge_schema_reads_both_versions(spark, two_versions):
    out, added, old_ids, new_ids = two_versions
    df = spark.read.option("mergeSchema", "true").parquet(str(out / ARTICLES_TABLE))
    assert sorted(f.name for f in df.schema.fields) == sorted(ARTICLE_SCHEMA.names + [PARTITION_COLUMN])
    rows = {r["article_id"]: r.asDict() for r in df.collect()}
    assert set(rows) == old_ids | new_ids
    for name in added:
        assert all(rows[i][name] is None for i in old_ids), name
        assert all(rows[i][name] is not None for i in new_ids), name
