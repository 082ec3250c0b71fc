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
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import window as beam_window

from akhbar.schemas.article import (
    ID_COLUMN,
    PARTITION_COLUMN,
    PARTITION_TIME_COLUMN,
    SCHEMAS,
    partition_date,
)
from akhbar.transforms import counters

LOG = logging.getLogger(__name__)
def partition_dir(output: str, table: str, date: str) -> str:
    return FileSystems.join(output, table, f"{PARTITION_COLUMN}={date}")


def write_parquet_file(rows: list[dict[str, Any]], table: str, directory: str, name: str) -> str:
    """Write rows as one Parquet file, atomically: in-progress name first, then rename."""
    schema = SCHEMAS[table]
    arrow_table = pa.Table.from_pylist(rows, schema=schema)
    final = FileSystems.join(directory, name)
    tmp = FileSystems.join(directory, f".{name}.{uuid.uuid4().hex[:8]}.inprogress")
    with FileSystems.create(tmp) as handle:
        pq.write_table(arrow_table, handle, compression="zstd")
    # A retried bundle produces the same name: the rename replaces the earlier copy.
    FileSystems.rename([tmp], [final])
    return final


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


class WritePartitionFilesFn(beam.DoFn):
    """(date, rows) -> Parquet files of at most ``max_rows`` rows; yields each file's path."""

    def __init__(self, output: str, table: str, max_rows: int):
        self._output = output
        self._table = table
        self._max_rows = max_rows
        self._rows_written = counters.counter(counters.ROWS_WRITTEN_PREFIX + table)
        self._files_written = counters.counter(counters.FILES_WRITTEN)

    def process(self, element: tuple[str, Iterable[dict]], window=beam.DoFn.WindowParam) -> Iterator[str]:
        date, rows = element
        time_column = PARTITION_TIME_COLUMN[self._table]
        id_column = ID_COLUMN[self._table]
        ordered = sorted(rows, key=lambda r: (r[time_column], r[id_column]))
        directory = partition_dir(self._output, self._table, date)
        tag = _window_tag(window)
        for start in range(0, len(ordered), self._max_rows):
            chunk = ordered[start : start + self._max_rows]
            digest = hashlib.sha1("\n".join(r[id_column] for r in chunk).encode()).hexdigest()[:16]
            path = write_parquet_file(chunk, self._table, directory, f"part-{tag}-{digest}.parquet")
            self._rows_written.inc(len(chunk))
            self._files_written.inc()
            yield path


class WriteParquet(beam.PTransform):
    """Records with ``to_row()`` -> Parquet files of one table; outputs the written paths.

    In streaming, rows are gathered in fixed windows of ``window_s`` seconds
    so files appear while the job runs.
    """

    def __init__(self, output: str, table: str, streaming: bool = False, window_s: int = 60, max_rows: int = 50_000):
        super().__init__()
        if table not in SCHEMAS:
            raise ValueError(f"unknown table {table!r}; expected one of {sorted(SCHEMAS)}")
        self._output = output
        self._table = table
        self._streaming = streaming
        self._window_s = window_s
        self._max_rows = max_rows

    def expand(self, records):
        time_column = PARTITION_TIME_COLUMN[self._table]
        rows = records | "ToRow" >> beam.Map(lambda r: r.to_row())
        if self._streaming:
            rows = rows | "Window" >> WindowForWrite(self._window_s)
        return (
            rows
            | "KeyByDate" >> beam.Map(lambda row: (partition_date(row[time_column]), row))
            | "GroupByDate" >> beam.GroupByKey()
            | "WriteFiles" >> beam.ParDo(WritePartitionFilesFn(self._output, self._table, self._max_rows))
        )
