"""akhbar compact: rewrite a date partition's many small files into a few large, sorted ones.

A streaming run writes one file per window per partition; a day ends with
hundreds of small files, which every reader pays for. Compaction rewrites a
partition into files of about ``--target-bytes`` (default 128 MB, so usually
one file per day), sorted by the table's time column, in the current schema
version (files of an older version get their missing columns as nulls)::

    akhbar compact OUTPUT [--table articles|dead_letters] [--date 2026-11-24] [--target-bytes N]

Without ``--date`` it compacts every partition of more than one file except
today's (UTC), which a streaming run may still be writing.

Atomic swap. Readers glob ``OUTPUT/<table>/*/*.parquet``; they must see the
old files or the new ones, never both, never neither. Files cannot be
renamed together, but a directory can be swapped with another in one step
(Linux ``renameat2(RENAME_EXCHANGE)``). So, for partition D of a table::

    1. write the new files to   OUTPUT/.akhbar-compact/<table>/date=D.<id>/   (outside every reader's glob)
    2. check their row count, then write the manifest   .../date=D.<id>.json   (atomic rename; "staged")
    3. hard-link into the new folder any file the pipeline added to the partition since step 1
    4. exchange the two folders: the partition now holds the new files, the staging path the old ones
    5. move over any file the pipeline added in between, delete the old files, delete the manifest

A crash before 2 leaves an unfinished staging folder: the next run deletes
it (roll back). A crash after 4 leaves the manifest and a partition holding
the manifest's outputs: the next run finishes steps 5 (roll forward).
Between 2 and 4 the next run rolls back. Where the exchange is not available
(not Linux, old kernel, some filesystems) step 4 is two renames, old folder
aside then new folder in, and recovery finishes an interrupted pair; there the
partition is absent for the instant between the renames.

Other partitions, and the pipeline writing them, are never touched. A reader
that has listed the old files but not yet opened them when the swap happens
gets a "file not found" error (and can retry); it cannot read a mix.

Crash tests set ``AKHBAR_COMPACT_CRASH_AT`` to a step name (see ``STEPS``):
the process kills itself with SIGKILL there.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import logging
import math
import os
import shutil
import signal
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from akhbar.lib.progress import Progress
from akhbar.schemas.article import ID_COLUMN, PARTITION_COLUMN, PARTITION_TIME_COLUMN, SCHEMA_VERSION, SCHEMAS
from akhbar.settings import settings

LOG = logging.getLogger(__name__)

DEFAULT_TARGET_BYTES = 128 * 1024 * 1024
# Rows per row group: several per file, so one file still scans on every core.
ROW_GROUP_ROWS = 5_000
STAGING_DIR = ".akhbar-compact"
CRASH_ENV = "AKHBAR_COMPACT_CRASH_AT"
# The points where a crash can be injected, in the order they are reached.
STEPS = ("writing", "staged", "manifested", "linked", "swapped", "finishing")
# Reached only where the folders cannot be exchanged: between the two renames.
FALLBACK_STEP = "aside"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


class CompactionError(RuntimeError):
    pass


def _checkpoint(step: str) -> None:
    """Crash here (SIGKILL, no clean-up) when the crash test asks for this step."""
    if settings().compact_crash_at == step:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class PartitionPaths:
    """Where one compaction of one partition keeps its files."""

    root: Path
    table: str
    date: str
    compaction_id: str

    @property
    def live(self) -> Path:
        return self.root / self.table / f"{PARTITION_COLUMN}={self.date}"

    @property
    def staging_root(self) -> Path:
        return self.root / STAGING_DIR / self.table

    @property
    def staging(self) -> Path:
        return self.staging_root / f"{PARTITION_COLUMN}={self.date}.{self.compaction_id}"

    @property
    def manifest(self) -> Path:
        return self.staging.with_name(self.staging.name + ".json")

    @property
    def aside(self) -> Path:
        """Where the old folder goes when the exchange is unavailable."""
        return self.staging.with_name(self.staging.name + ".old")

    @property
    def scratch(self) -> Path:
        return self.staging.with_name(self.staging.name + ".tmp")


@dataclass
class CompactionResult:
    table: str
    date: str
    source_files: int
    source_bytes: int
    rows: int
    output_files: int = 0
    output_bytes: int = 0
    skipped: str = ""
    carried: list[str] = field(default_factory=list)

    def render(self) -> str:
        head = f"{self.table} {PARTITION_COLUMN}={self.date}:"
        if self.skipped:
            return f"{head} skipped ({self.skipped})"
        return (
            f"{head} {self.source_files} files ({_mb(self.source_bytes)}) -> {self.output_files} "
            f"files ({_mb(self.output_bytes)}), {self.rows} rows"
            + (f"; {len(self.carried)} files written meanwhile kept" if self.carried else "")
        )


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


# -- filesystem steps -------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _parquet_files(directory: Path) -> list[Path]:
    """The files a reader's ``*.parquet`` glob sees (in-progress files are hidden and end otherwise)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix == ".parquet" and not p.name.startswith("."))


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the kernel or filesystem cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, f"renameat2 exchange of {a} and {b}: {os.strerror(err)}")


def _write_json_atomically(path: Path, value: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _finish(paths: PartitionPaths, manifest: dict, old: Path) -> list[str]:
    """Step 5: keep files the pipeline wrote meanwhile, drop the old files, then the manifest."""
    sources = set(manifest["sources"])
    present = {p.name for p in _parquet_files(paths.live)}
    carried = []
    for path in _parquet_files(old):
        if path.name not in sources and path.name not in present:
            os.rename(path, paths.live / path.name)
            carried.append(path.name)
    if old.exists():
        shutil.rmtree(old)
    _checkpoint("finishing")
    paths.manifest.unlink(missing_ok=True)
    _fsync_dir(paths.staging_root)
    return carried


def recover(root: Path, table: str) -> list[str]:
    """Finish or roll back every compaction of ``table`` that a crash interrupted; say what was done."""
    staging_root = root / STAGING_DIR / table
    if not staging_root.is_dir():
        return []
    done = []
    # Entries are date=D.<id>, date=D.<id>.json, .old, .tmp (and a hidden .json.tmp): group them by id.
    names = {".".join(p.name.lstrip(".").split(".")[:2]) for p in staging_root.iterdir() if "." in p.name.lstrip(".")}
    for name in sorted(names):
        date_part, compaction_id = name.split(".", 1)
        if not date_part.startswith(f"{PARTITION_COLUMN}="):
            continue
        paths = PartitionPaths(root, table, date_part.split("=", 1)[1], compaction_id)
        shutil.rmtree(paths.scratch, ignore_errors=True)
        paths.manifest.with_name(f".{paths.manifest.name}.tmp").unlink(missing_ok=True)
        if not paths.manifest.exists():
            shutil.rmtree(paths.staging, ignore_errors=True)
            done.append(f"{table} {date_part}: rolled back an unfinished compaction ({compaction_id})")
            continue
        manifest = json.loads(paths.manifest.read_text(encoding="utf-8"))
        live_names = {p.name for p in _parquet_files(paths.live)}
        if not paths.live.exists() and paths.aside.exists():
            os.rename(paths.staging, paths.live)  # the second of the two fallback renames
            _finish(paths, manifest, paths.aside)
            done.append(f"{table} {date_part}: finished a compaction ({compaction_id})")
        elif set(manifest["outputs"]) <= live_names:
            _finish(paths, manifest, paths.staging if paths.staging.exists() else paths.aside)
            done.append(f"{table} {date_part}: finished a compaction ({compaction_id})")
        else:
            shutil.rmtree(paths.staging, ignore_errors=True)
            paths.manifest.unlink()
            done.append(f"{table} {date_part}: rolled back a compaction that had not swapped ({compaction_id})")
    return done


class _TableLock:
    """One compaction per table at a time (an advisory lock on a file beside the staging folders)."""

    def __init__(self, root: Path, table: str):
        self.path = root / STAGING_DIR / f"{table}.lock"
        self._handle = None

    def __enter__(self) -> _TableLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a")
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise CompactionError(f"another compaction of {self.path.parent.parent} {self.path.stem} is running") from None
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


# -- rewriting ----------------------------------------------------------------
def _current_table(batch: pa.RecordBatch, schema: pa.Schema) -> pa.Table:
    """A batch in the current schema: missing (older-version) columns become nulls."""
    columns = []
    for f in schema:
        if f.name in batch.schema.names:
            columns.append(batch.column(f.name).cast(f.type))
        else:
            columns.append(pa.nulls(batch.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _rewrite(sources: list[Path], table: str, staging: Path, scratch: Path, rows_per_file: int, progress: Progress) -> list[str]:
    """Sorted rows of ``sources`` -> files of at most ``rows_per_file`` rows in ``staging``.

    DuckDB sorts (spilling to ``scratch`` when the day does not fit in memory);
    pyarrow writes, so the files carry the exact Arrow schema and its metadata.
    """
    import duckdb

    schema = SCHEMAS[table]
    time_column, id_column = PARTITION_TIME_COLUMN[table], ID_COLUMN[table]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET temp_directory = '{scratch}'")
    files_sql = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in sources) + "]"
    source = f"read_parquet({files_sql}, union_by_name = true, hive_partitioning = false)"
    found = [row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    unknown = [c for c in found if c not in schema.names]
    if unknown:
        raise CompactionError(
            f"{sources[0].parent} has columns {unknown} that schema version {SCHEMA_VERSION} of {table!r} "
            "does not know; compact it with the akhbar version that wrote them"
        )
    select = ", ".join(f'"{c}"' for c in schema.names if c in found)
    reader = con.sql(f'SELECT {select} FROM {source} ORDER BY "{time_column}", "{id_column}"').to_arrow_reader(
        min(rows_per_file, ROW_GROUP_ROWS)
    )
    outputs: list[str] = []
    writer = None
    rows_in_file = 0
    tag = staging.name.rsplit(".", 1)[1]

    def close_file() -> None:
        nonlocal writer
        if writer is not None:
            writer.close()
            writer = None
            _checkpoint("writing")

    for batch in reader:
        offset = 0
        while offset < batch.num_rows:
            if writer is None:
                name = f"part-compact-{tag}-{len(outputs):04d}.parquet"
                writer = pq.ParquetWriter(staging / name, schema, compression="zstd")
                outputs.append(name)
                rows_in_file = 0
            take = min(batch.num_rows - offset, rows_per_file - rows_in_file)
            writer.write_table(_current_table(batch.slice(offset, take), schema))
            offset += take
            rows_in_file += take
            progress.advance(take)
            if rows_in_file >= rows_per_file:
                close_file()
    close_file()
    con.close()
    return outputs


def compact_partition(
    root: Path,
    table: str,
    date: str,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    progress: Progress | None = None,
    force: bool = False,
) -> CompactionResult:
    """Rewrite one partition atomically (see the module docstring). Call under the table's lock."""
    paths = PartitionPaths(root, table, date, uuid.uuid4().hex[:12])
    sources = _parquet_files(paths.live)
    metas = {p.name: pq.read_metadata(p) for p in sources}
    rows = sum(m.num_rows for m in metas.values())
    source_bytes = sum(p.stat().st_size for p in sources)
    result = CompactionResult(table, date, len(sources), source_bytes, rows)
    if not sources:
        result.skipped = "no files"
        return result
    if len(sources) == 1 and not force:
        result.skipped = "already one file"
        if progress:
            progress.advance(rows)
        return result
    progress = progress or Progress(f"compact {table} {date}", total=rows, unit="rows")
    rows_per_file = max(1, math.ceil(target_bytes * max(rows, 1) / max(source_bytes, 1)))
    paths.staging.mkdir(parents=True)
    paths.scratch.mkdir()
    try:
        outputs = _rewrite(sources, table, paths.staging, paths.scratch, rows_per_file, progress)
    except BaseException:
        shutil.rmtree(paths.staging, ignore_errors=True)
        shutil.rmtree(paths.scratch, ignore_errors=True)
        raise
    shutil.rmtree(paths.scratch, ignore_errors=True)
    written = sum(pq.read_metadata(paths.staging / name).num_rows for name in outputs)
    if written != rows:
        shutil.rmtree(paths.staging)
        raise CompactionError(f"{paths.live}: read {rows} rows but wrote {written}; the partition is unchanged")
    for name in outputs:
        with open(paths.staging / name, "rb") as handle:
            os.fsync(handle.fileno())
    _fsync_dir(paths.staging)
    _checkpoint("staged")
    _write_json_atomically(
        paths.manifest,
        {
            "table": table,
            "date": date,
            "id": paths.compaction_id,
            "schema_version": SCHEMA_VERSION,
            "rows": rows,
            "sources": [p.name for p in sources],
            "outputs": outputs,
            "created_at": datetime.now(timezone.utc).isoformat(),
        },
    )
    _checkpoint("manifested")
    # Files the pipeline added since we listed the partition go along with the new ones.
    for path in _parquet_files(paths.live):
        if path.name not in metas:
            os.link(path, paths.staging / path.name)
    _checkpoint("linked")
    if _exchange(paths.staging, paths.live):
        old = paths.staging
    else:
        os.rename(paths.live, paths.aside)
        _checkpoint("aside")
        os.rename(paths.staging, paths.live)
        old = paths.aside
    _fsync_dir(paths.live.parent)
    _checkpoint("swapped")
    manifest = json.loads(paths.manifest.read_text(encoding="utf-8"))
    result.carried = _finish(paths, manifest, old)
    result.output_files = len(outputs)
    result.output_bytes = sum((paths.live / name).stat().st_size for name in outputs)
    return result


def needs_compaction(files: Sequence[Path], target_bytes: int) -> bool:
    """More than one file, unless they are all our own output already at about the target size."""
    if len(files) <= 1:
        return False
    if all(f.name.startswith("part-compact-") for f in files):
        return len(files) > math.ceil(sum(f.stat().st_size for f in files) / target_bytes)
    return True


def _chosen(files: Sequence[Path], target_bytes: int, force: bool) -> bool:
    return bool(files) if force else needs_compaction(files, target_bytes)


def partition_dates(root: Path, table: str) -> list[str]:
    prefix = f"{PARTITION_COLUMN}="
    table_dir = root / table
    if not table_dir.is_dir():
        return []
    return sorted(p.name[len(prefix) :] for p in table_dir.iterdir() if p.is_dir() and p.name.startswith(prefix))


def compact(
    root: Path,
    tables: Sequence[str],
    dates: Sequence[str] | None = None,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    force: bool = False,
    stream=None,
) -> list[CompactionResult]:
    """Recover interrupted compactions, then compact the chosen partitions of each table."""
    results = []
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    for table in tables:
        with _TableLock(root, table):
            for line in recover(root, table):
                LOG.warning("%s", line)
                print(f"recovered: {line}", file=stream or sys.stderr)
            chosen = list(dates) if dates else [d for d in partition_dates(root, table) if d != today]
            chosen = [d for d in chosen if _chosen(_parquet_files(root / table / f"{PARTITION_COLUMN}={d}"), target_bytes, force)]
            if not chosen:
                continue
            total = sum(pq.read_metadata(p).num_rows for d in chosen for p in _parquet_files(root / table / f"{PARTITION_COLUMN}={d}"))
            with Progress(f"compact {table}", total=total, unit="rows", stream=stream) as progress:
                for date in chosen:
                    progress.extra = f"{PARTITION_COLUMN}={date}"
                    results.append(compact_partition(root, table, date, target_bytes, progress, force))
    return results
