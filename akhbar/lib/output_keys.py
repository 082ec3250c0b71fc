"""The dedup keys already in an output folder: what makes reruns and restarts write nothing twice.

A batch run over an existing output, a cron ``--once`` every few minutes, a
streaming job stopped and started again, a rerun after ``kill -9``: each
starts by reading the key columns of the ``articles`` table already written
(``article_id``, ``guid``, ``feed_url``, ``text_hash``), only from the
partitions inside the dedup TTL (``date >= since``), with pyarrow's column
projection, and keeps 64-bit digests of the three dedup keys
(``akhbar.lib.identity.key_digest``) in sorted numpy arrays with a bucket
index (``DigestSet``): about 10 bytes per key, 30 MB for a million articles. An item or article whose key is there was
written by an earlier run and is dropped (and counted).

Files that a killed run left behind are either complete (renamed into place,
so read here) or hidden in-progress files (``.part-….inprogress``), which no
reader, this one included, sees. An article older than the TTL window is
checked against its own date partition, read on demand. Deleting the output
folder starts fresh.
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from akhbar.lib.identity import feed_host
from akhbar.schemas.article import ARTICLES_TABLE, PARTITION_COLUMN

LOG = logging.getLogger(__name__)

KEY_COLUMNS = ("article_id", "guid", "feed_url", "text_hash")
# Read every file onto this schema: older schema versions and extra columns read the same.
_KEY_SCHEMA = pa.schema([pa.field(name, pa.string()) for name in KEY_COLUMNS])
KEY_NAMES = ("url", "guid", "text")
_PREFIX = f"{PARTITION_COLUMN}="
_BATCH_ROWS = 131_072
# ASCII hex digit -> its value (other bytes map to 0; the columns hold lower-case hex).
_HEX = np.zeros(256, dtype=np.uint64)
for _i, _c in enumerate(b"0123456789abcdef"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"ABCDEF"):
    _HEX[_c] = 10 + _i


class DigestSet:
    """A sorted uint64 array with a bucket index on the top bits: ~1 µs per lookup, ~10 bytes per key.

    The digests are uniform, so 2**bits buckets of about four keys each make a
    lookup one bucket slice instead of a binary search through numpy calls.
    """

    def __init__(self, digests: np.ndarray):
        array = np.sort(digests.astype(np.uint64, copy=False))
        if len(array) > 1:
            array = array[np.concatenate(([True], array[1:] != array[:-1]))]
        self.array = array
        self._bits = int(min(24, max(4, np.ceil(np.log2(max(len(self.array), 1) / 4 + 1)))))
        self._shift = 64 - self._bits
        edges = np.arange(2**self._bits + 1, dtype=np.uint64)[:-1] << np.uint64(self._shift)
        self._starts = np.append(np.searchsorted(self.array, edges), len(self.array)).astype(np.int64)

    def __len__(self) -> int:
        return len(self.array)

    @property
    def nbytes(self) -> int:
        return self.array.nbytes + self._starts.nbytes

    def __contains__(self, digest: int) -> bool:
        bucket = digest >> self._shift
        lo, hi = int(self._starts[bucket]), int(self._starts[bucket + 1])
        return lo < hi and digest in self.array[lo:hi].tolist()

    def union(self, more: list[np.ndarray]) -> DigestSet:
        return DigestSet(np.concatenate([self.array, *more])) if more else self


class OutputKeysError(RuntimeError):
    """The output's keys could not be read; the message names the file."""


@dataclass(frozen=True)
class OutputKeysSpec:
    """Which output to read and how far back: built once per run, pickled into the workers.

    ``token`` is new for every run, so a process never reuses the keys that an
    earlier run in it loaded (they would miss what that run wrote).
    """

    output: str
    since: str  # YYYY-MM-DD: the oldest partition read at start
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def for_run(cls, output: str, ttl_s: int, now: datetime | None = None) -> OutputKeysSpec:
        now = now or datetime.now(timezone.utc)
        return cls(output=output, since=(now - timedelta(seconds=ttl_s)).date().isoformat())

    def load(self) -> OutputKeys:
        return OutputKeys.load(self.output, self.since)


def _filesystem(output: str) -> tuple[pafs.FileSystem, str]:
    if "://" not in output:
        return pafs.LocalFileSystem(), os.path.abspath(output)
    return pafs.FileSystem.from_uri(output)


def _hex_digests(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """uint64 of the first 16 hex digits of each value (article_id, text_hash), vectorized."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    column = column.drop_null()
    if len(column) == 0:
        return np.empty(0, dtype=np.uint64)
    head = pc.utf8_slice_codeunits(column, 0, 16).cast(pa.binary())
    try:
        fixed = head.cast(pa.binary(16))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a value shorter than 16: not ours, do it slowly
        return np.fromiter((int(v, 16) for v in head.to_pylist() if v), dtype=np.uint64)
    raw = np.frombuffer(fixed.buffers()[1], dtype=np.uint8)[fixed.offset * 16 : (fixed.offset + len(fixed)) * 16]
    nibbles = _HEX[raw.reshape(-1, 16)]
    shifts = np.arange(60, -1, -4, dtype=np.uint64)
    return np.bitwise_or.reduce(nibbles << shifts, axis=1)


def _guid_digests(guid: pa.ChunkedArray | pa.Array, feed_url: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Digests of the host-scoped GUID keys (``identity.guid_key_of``) of the rows that have a GUID.

    The keys are built by Arrow (the host once per distinct feed), so the only
    per-row Python is the SHA-1 itself.
    """
    guid = pc.utf8_trim_whitespace(guid.combine_chunks() if isinstance(guid, pa.ChunkedArray) else guid)
    feed_url = feed_url.combine_chunks() if isinstance(feed_url, pa.ChunkedArray) else feed_url
    keep = pc.and_(pc.is_valid(feed_url), pc.greater(pc.utf8_length(guid), 0))
    guid, feed_url = guid.filter(keep), feed_url.filter(keep)
    if len(guid) == 0:
        return np.empty(0, dtype=np.uint64)
    feeds = pc.dictionary_encode(feed_url)
    hosts = pa.array([feed_host(f) for f in feeds.dictionary.to_pylist()], pa.string())
    keys = pc.binary_join_element_wise(hosts.take(feeds.indices), guid, "|").cast(pa.binary())
    sha1 = hashlib.sha1
    packed = b"".join(sha1(key).digest()[:8] for key in keys.to_pylist())
    return np.frombuffer(packed, dtype=">u8").astype(np.uint64)


@dataclass
class OutputKeys:
    """Sorted digests of the url, guid and text keys of the articles already written."""

    output: str
    since: str
    digests: dict[str, DigestSet]
    rows: int = 0
    files: int = 0
    partitions: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def empty(cls, output: str = "", since: str = "9999-12-31") -> OutputKeys:
        return cls(output, since, {name: DigestSet(np.empty(0, dtype=np.uint64)) for name in KEY_NAMES})

    @classmethod
    def load(cls, output: str, since: str) -> OutputKeys:
        """Read the key columns of every ``articles`` partition dated ``since`` or later."""
        keys = cls.empty(output, since)
        started = time.monotonic()
        dates = [d for d in keys._partition_dates() if d >= since]
        keys._add_partitions(dates)
        LOG.info("dedup: %d articles already in %s (%d files, %d partitions since %s) read in %.2fs",
                 keys.rows, output, keys.files, len(dates), since, time.monotonic() - started)
        return keys

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.digests.values())

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.digests.values())

    def holds(self, digests: Iterable[tuple[str, int]], published: datetime | None = None) -> bool:
        """Whether any of these key digests is already in the output.

        ``published`` is the article's publication time: a date before the TTL
        window makes its own partition be read first (once), so an old article
        that an earlier run wrote is still found.
        """
        if published is not None:
            day = published.astimezone(timezone.utc).date().isoformat()
            if day < self.since and day not in self.partitions:
                with self._lock:
                    if day not in self.partitions:
                        self._add_partitions([day])
        return any(digest in self.digests[name] for name, digest in digests)

    # -- reading ---------------------------------------------------------------
    def _table_dir(self) -> tuple[pafs.FileSystem, str]:
        filesystem, root = _filesystem(self.output)
        return filesystem, f"{root.rstrip('/')}/{ARTICLES_TABLE}"

    def _partition_dates(self) -> list[str]:
        filesystem, table_dir = self._table_dir()
        try:
            infos = filesystem.get_file_info(pafs.FileSelector(table_dir, allow_not_found=True))
        except OSError as exc:
            raise OutputKeysError(f"cannot list {table_dir!r}: {exc}") from exc
        return sorted(
            info.base_name[len(_PREFIX):] for info in infos
            if info.type == pafs.FileType.Directory and info.base_name.startswith(_PREFIX)
        )

    def _partition_files(self, filesystem: pafs.FileSystem, table_dir: str, day: str) -> list[str]:
        selector = pafs.FileSelector(f"{table_dir}/{_PREFIX}{day}", allow_not_found=True)
        # Readers' rule: *.parquet, never the hidden in-progress files of a running or killed writer.
        return sorted(
            info.path for info in filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File and info.base_name.endswith(".parquet")
            and not info.base_name.startswith((".", "_"))
        )

    def _batches(self, filesystem: pafs.FileSystem, files: list[str]) -> Iterator[pa.RecordBatch]:
        dataset = ds.dataset(files, format="parquet", filesystem=filesystem, schema=_KEY_SCHEMA)
        yield from dataset.to_batches(columns=list(KEY_COLUMNS), batch_size=_BATCH_ROWS)

    def _add_partitions(self, days: list[str]) -> None:
        filesystem, table_dir = self._table_dir()
        new: dict[str, list[np.ndarray]] = {name: [] for name in KEY_NAMES}
        for day in days:
            files = self._partition_files(filesystem, table_dir, day)
            self.partitions.add(day)
            if not files:
                continue
            try:
                for batch in self._batches(filesystem, files):
                    new["url"].append(_hex_digests(batch.column("article_id")))
                    new["guid"].append(_guid_digests(batch.column("guid"), batch.column("feed_url")))
                    new["text"].append(_hex_digests(batch.column("text_hash")))
                    self.rows += batch.num_rows
            except (OSError, pa.ArrowException) as exc:
                raise OutputKeysError(
                    f"cannot read the dedup keys of {table_dir}/{_PREFIX}{day}: {exc}; "
                    "move a foreign or damaged file out of the output folder"
                ) from exc
            self.files += len(files)
        for name, parts in new.items():
            self.digests[name] = self.digests[name].union(parts)
