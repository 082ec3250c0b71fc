"""WriteParquet: rows -> Hive-partitioned, zstd Parquet files that appear atomically.

Layout: ``OUTPUT/<table>/date=YYYY-MM-DD/part-<window>-<digest>.parquet``, the
date being the UTC date of the table's time column. Each file is written
under a hidden in-progress name in the same folder and renamed into place,
so readers never see half a file. Names are derived from the window and the
rows' ids, so a retried bundle rewrites the same file instead of adding a
copy. Files go through Beam's FileSystems, so ``gs://`` and ``s3://`` outputs
work where their Beam extras are installed.

Beam's own ``WriteToParquet``/``WriteToFiles`` were not used: in streaming the
first left truncated files, the second silently lost files whose partition
folder did not exist (see the README's notes on Beam).
"""
from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import window as beam_window

from akhbar.schemas.article import (
    ARTICLES_TABLE,
    ID_COLUMN,
    PARTITION_COLUMN,
    PARTITION_TIME_COLUMN,
    SCHEMAS,
    partition_date,
)
from akhbar.transforms import counters
from akhbar.transforms.isolation import dead_letter, guarded
from akhbar.transforms.outputs import DEAD_LETTER, StageOutput

LOG = logging.getLogger(__name__)
def partition_dir(output: str, table: str, date: str) -> str:
    return FileSystems.join(output, table, f"{PARTITION_COLUMN}={date}")


def _required_present(row: dict[str, Any], schema: pa.Schema) -> None:
    for field in schema:
        if not field.nullable and row.get(field.name) is None:
            raise ValueError(f"column {field.name!r} may not be null")


def _storable(value: Any) -> Any:
    """Lone surrogates (from broken character references) cannot be stored as UTF-8: U+FFFD instead."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if not value.isascii() else value
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def arrow_rows(rows: list[dict[str, Any]], schema: pa.Schema) -> tuple[pa.Table, list[tuple[dict, Exception]]]:
    """Rows as an Arrow table, and the rows that cannot be stored under ``schema`` with the reason.

    The whole list is converted at once; only when that fails is each row tried
    alone (after replacing lone surrogates), so one bad row costs its own place, not
    the file's.
    """
    try:
        for row in rows:
            _required_present(row, schema)
        return pa.Table.from_pylist(rows, schema=schema), []
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        pass
    good: list[dict[str, Any]] = []
    rejected: list[tuple[dict, Exception]] = []
    for row in rows:
        try:
            row = _storable(row)
            _required_present(row, schema)
            pa.Table.from_pylist([row], schema=schema)
        except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
            rejected.append((row, exc))
            continue
        good.append(row)
    return pa.Table.from_pylist(good, schema=schema), rejected


def write_arrow_file(arrow_table: pa.Table, directory: str, name: str) -> str:
    """Write a table as one Parquet file, atomically: in-progress name first, then rename."""
    final = FileSystems.join(directory, name)
    tmp = FileSystems.join(directory, f".{name}.{uuid.uuid4().hex[:8]}.inprogress")
    with FileSystems.create(tmp) as handle:
        pq.write_table(arrow_table, handle, compression="zstd")
    # A retried bundle produces the same name: the rename replaces the earlier copy.
    FileSystems.rename([tmp], [final])
    return final


def write_parquet_file(rows: list[dict[str, Any]], table: str, directory: str, name: str) -> str:
    """Write rows as one Parquet file, atomically; raises if any row cannot be stored."""
    schema = SCHEMAS[table]
    for row in rows:
        _required_present(row, schema)
    return write_arrow_file(pa.Table.from_pylist(rows, schema=schema), directory, name)


def _window_tag(window) -> str:
    if isinstance(window, beam_window.IntervalWindow):
        return window.end.to_utc_datetime().strftime("%Y%m%dT%H%M%S")
    return "batch"


class WindowForWrite(beam.PTransform):
    """Streaming: the write windows, fixed windows of ``window_s`` seconds.

    One declared windowing for a table: every PCollection flattened into one
    writer goes through this first, since a Flatten's inputs must be windowed
    alike (Prism fails the bundle otherwise).
    """

    def __init__(self, window_s: int):
        super().__init__()
        self._window_s = window_s

    def expand(self, pcoll):
        return pcoll | "FixedWindows" >> beam.WindowInto(beam_window.FixedWindows(self._window_s))


class ToRowFn(beam.DoFn):
    """Record -> (partition date, row); a record that has no row or no date is its own dead letter."""

    def __init__(self, table: str):
        self._table = table
        self._rejected = counters.counter(_rejected_counter(table))

    def process(self, record) -> Iterator:
        time_column = PARTITION_TIME_COLUMN[self._table]

        def keyed() -> list[tuple[str, dict]]:
            row = record.to_row()
            return [(partition_date(row[time_column]), row)]

        yield from guarded(f"write_{self._table}", record, keyed, self._rejected)


def _rejected_counter(table: str) -> str:
    # A rejected article is an item that leaves through the dead letters; a rejected
    # dead letter has nowhere left to go and is only counted (and logged).
    return counters.ITEMS_DEAD_LETTERED if table == ARTICLES_TABLE else counters.ROWS_REJECTED_PREFIX + table


class WritePartitionFilesFn(beam.DoFn):
    """(date, rows) -> Parquet files of at most ``max_rows`` rows; yields each file's path.

    Rows that Arrow cannot store under the table's schema go to ``dead_letter``.
    """

    def __init__(self, output: str, table: str, max_rows: int):
        self._output = output
        self._table = table
        self._max_rows = max_rows
        self._rows_written = counters.counter(counters.ROWS_WRITTEN_PREFIX + table)
        self._files_written = counters.counter(counters.FILES_WRITTEN)
        self._rejected = counters.counter(_rejected_counter(table))

    def process(self, element: tuple[str, Iterable[dict]], window=beam.DoFn.WindowParam) -> Iterator:
        date, rows = element
        schema = SCHEMAS[self._table]
        time_column = PARTITION_TIME_COLUMN[self._table]
        id_column = ID_COLUMN[self._table]
        ordered = sorted(rows, key=lambda r: (r[time_column], r[id_column]))
        directory = partition_dir(self._output, self._table, date)
        tag = _window_tag(window)
        for start in range(0, len(ordered), self._max_rows):
            chunk, rejected = arrow_rows(ordered[start : start + self._max_rows], schema)
            for row, exc in rejected:
                self._rejected.inc()
                letter = dead_letter(f"write_{self._table}", exc, row)
                LOG.error("a %s row cannot be stored: %s (%s)", self._table, letter.error, letter.input[:300])
                yield beam.pvalue.TaggedOutput(DEAD_LETTER, replace(letter, error_kind="unstorable_row"))
            if chunk.num_rows == 0:
                continue
            digest = hashlib.sha1("\n".join(chunk.column(id_column).to_pylist()).encode()).hexdigest()[:16]
            path = write_arrow_file(chunk, directory, f"part-{tag}-{digest}.parquet")
            self._rows_written.inc(chunk.num_rows)
            self._files_written.inc()
            yield path


class WriteParquet(beam.PTransform):
    """Records with ``to_row()`` -> Parquet files of one table.

    Returns a ``StageOutput``: ``main`` (the written paths) and ``dead_letter`` (the
    records that could not be stored: no partition date, or a row Arrow refuses). In
    streaming, rows are gathered in fixed windows of ``window_s`` seconds so files
    appear while the job runs.
    """

    def __init__(self, output: str, table: str, streaming: bool = False, window_s: int = 60, max_rows: int = 50_000):
        super().__init__()
        if table not in SCHEMAS:
            raise ValueError(f"unknown table {table!r}; expected one of {sorted(SCHEMAS)}")
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, not {max_rows}")
        self._output = output
        self._table = table
        self._streaming = streaming
        self._window_s = window_s
        self._max_rows = max_rows

    def expand(self, records):
        if self._streaming:
            records = records | "Window" >> WindowForWrite(self._window_s)
        rows = records | "ToRow" >> beam.ParDo(ToRowFn(self._table)).with_outputs(DEAD_LETTER, main="rows")
        written = (
            rows.rows
            | "GroupByDate" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(WritePartitionFilesFn(self._output, self._table, self._max_rows))
            .with_outputs(DEAD_LETTER, main="files")
        )
        dead_letters = (rows[DEAD_LETTER], written[DEAD_LETTER]) | "Unstorable" >> beam.Flatten()
        return StageOutput(main=written.files, dead_letter=dead_letters)
