"""The keys already in an output folder (akhbar.lib.output_keys), read back from real Parquet files."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from akhbar.lib.identity import article_digests, item_digests
from akhbar.lib.output_keys import DigestSet, OutputKeys, OutputKeysSpec
from akhbar.schemas.article import ARTICLES_TABLE, partition_date
from akhbar.transforms.parquet import partition_dir, write_parquet_file
from tests.factories import article, feed_item

NOW = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


def _write(out: Path, articles, name="part-batch-test.parquet") -> None:
    by_date: dict[str, list] = {}
    for a in articles:
        by_date.setdefault(partition_date(a.published_at), []).append(a.to_row())
    for day, rows in by_date.items():
        directory = partition_dir(str(out), ARTICLES_TABLE, day)
        Path(directory).mkdir(parents=True, exist_ok=True)
        write_parquet_file(rows, ARTICLES_TABLE, directory, name)


def _article(i: int, days_ago: float, **kw):
    return article(text=f"خبر رقم {i} عن الاجتماع", link=f"https://news.example/a/{i}", guid=f"g-{i}",
                   published=NOW - timedelta(days=days_ago), **kw)


def test_reads_only_partitions_inside_the_ttl_and_finds_every_key(tmp_path: Path):
    recent = [_article(i, days_ago=i % 3) for i in range(20)]
    old = [_article(100 + i, days_ago=30) for i in range(5)]
    _write(tmp_path, recent + old)
    spec = OutputKeysSpec.for_run(str(tmp_path), ttl_s=7 * 24 * 3600, now=NOW)
    keys = spec.load()
    assert keys.rows == 20 and keys.partitions == {partition_date(a.published_at) for a in recent}
    for a in recent:
        for digest in article_digests(a):
            assert keys.holds([digest]), digest
    unseen = _article(999, days_ago=0)
    assert not keys.holds(article_digests(unseen))
    # An article from before the window is checked against its own partition, read on demand.
    assert keys.holds(article_digests(old[0]), old[0].published_at)
    assert keys.rows == 25


def test_the_same_text_or_guid_under_another_url_is_found(tmp_path: Path):
    written = _article(1, days_ago=0)
    _write(tmp_path, [written])
    keys = OutputKeys.load(str(tmp_path), "2000-01-01")
    same_text = article(text=written.text, link="https://copy.example/x", guid="c-1", feed_url="https://copy.example/rss")
    same_guid = article(text="نص آخر تماما", link="https://news.example/section/1", guid=written.guid)
    assert keys.holds(article_digests(same_text))
    assert keys.holds(article_digests(same_guid))
    assert keys.holds(item_digests(feed_item(link="https://www.news.example/a/1?utm_source=x", guid="zz")))


def test_in_progress_files_of_a_killed_writer_are_invisible(tmp_path: Path):
    written = _article(1, days_ago=0)
    _write(tmp_path, [written])
    directory = Path(partition_dir(str(tmp_path), ARTICLES_TABLE, partition_date(written.published_at)))
    complete = next(directory.glob("*.parquet")).read_bytes()
    (directory / ".part-batch-x.parquet.1234abcd.inprogress").write_bytes(complete[: len(complete) // 2])
    keys = OutputKeys.load(str(tmp_path), "2000-01-01")
    assert keys.rows == 1 and keys.files == 1


def test_missing_output_is_empty_and_older_schema_versions_read(tmp_path: Path):
    assert OutputKeys.load(str(tmp_path / "nothing"), "2000-01-01").size == 0
    written = _article(1, days_ago=0)
    row = written.to_row()
    v1 = pa.table({k: [row[k]] for k in ("article_id", "url", "canonical_url", "feed_url", "guid", "text_hash")})
    directory = Path(partition_dir(str(tmp_path), ARTICLES_TABLE, partition_date(written.published_at)))
    directory.mkdir(parents=True)
    pq.write_table(v1, directory / "part-v1.parquet")
    keys = OutputKeys.load(str(tmp_path), "2000-01-01")
    assert keys.rows == 1 and keys.holds(article_digests(written))


def test_each_run_gets_its_own_token():
    a = OutputKeysSpec.for_run("out", 3600, now=NOW)
    b = OutputKeysSpec.for_run("out", 3600, now=NOW)
    assert a.since == b.since == "2026-11-30" and a.token != b.token


@given(st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=300),
       st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=50))
def test_digest_set_membership_is_exact(stored, probes):
    digests = DigestSet(np.array(stored, dtype=np.uint64))
    assert len(digests) == len(set(stored))
    for value in stored + probes:
        assert (value in digests) == (value in set(stored))
