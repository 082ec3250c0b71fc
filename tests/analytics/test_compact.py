"""Compaction: rows and values survive, files come out sorted, and a crash at any step loses nothing."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from akhbar.cli.compact import main
from akhbar.lib import compact as compact_mod
from akhbar.lib.compact import STAGING_DIR, STEPS, compact
from akhbar.schemas.article import ARTICLE_SCHEMA, ARTICLES_TABLE, SCHEMA_VERSION, SCHEMA_VERSION_KEY, table_glob
from akhbar.transforms.parquet import partition_dir, write_parquet_file
from tests.analytics.conftest import enriched_rows
from tests.factories import T0, article

REPO = Path(__file__).resolve().parents[2]
DAY = T0.strftime("%Y-%m-%d")
OTHER_DAY = (T0 + timedelta(days=1)).strftime("%Y-%m-%d")


def _write_small_files(out: Path, day_offset: int = 0, files: int = 6, per_file: int = 15, tag: str = "w") -> None:
    """Like a streaming run: many small files per day, times interleaved across files."""
    rng = random.Random(day_offset)
    for j in range(files):
        rows = []
        for i in range(per_file):
            when = T0 + timedelta(days=day_offset, minutes=rng.randrange(0, 23 * 60))
            rows.append(
                article(text=f"خبر رقم {i} من الملف {j} {tag}", link=f"https://n.example/{tag}/{day_offset}/{j}/{i}",
                        guid=f"{tag}-{day_offset}-{j}-{i}", published=when).to_row()
            )
        if j == 0:  # some rows with the nested columns filled
            for row, filled in zip(rows, enriched_rows()):
                row.update({k: filled[k] for k in ("entities", "event_types", "primary_event", "story_id")})
        directory = partition_dir(str(out), ARTICLES_TABLE, rows[0]["published_at"].strftime("%Y-%m-%d"))
        os.makedirs(directory, exist_ok=True)
        write_parquet_file(rows, ARTICLES_TABLE, directory, f"part-{tag}{j:02d}.parquet")


def _partition(out: Path, day: str) -> Path:
    return out / ARTICLES_TABLE / f"date={day}"


def _rows_by_id(out: Path) -> dict[str, dict]:
    """Every row of the table as DuckDB reads it; fails the test if an id appears twice."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    rel = con.sql(f"SELECT * FROM read_parquet('{table_glob(str(out), ARTICLES_TABLE)}', hive_partitioning = true)")
    rows = [dict(zip(rel.columns, r)) for r in rel.fetchall()]
    by_id = {r["article_id"]: r for r in rows}
    assert len(by_id) == len(rows), "a row was doubled"
    return by_id


def _staging_is_empty(out: Path) -> bool:
    staging = out / STAGING_DIR / ARTICLES_TABLE
    return not staging.exists() or not any(staging.iterdir())


@pytest.fixture()
def output(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    _write_small_files(out, 0)
    _write_small_files(out, 1, files=3, tag="x")
    return out


def test_compaction_keeps_every_row_and_value_sorted_by_time(output: Path):
    before = _rows_by_id(output)
    other = {p.name: p.stat().st_mtime_ns for p in _partition(output, OTHER_DAY).iterdir()}
    assert main([str(output), "--table", ARTICLES_TABLE, "--date", DAY, "--target-bytes", "20000"]) == 0
    assert _rows_by_id(output) == before, "a value changed"
    files = sorted(_partition(output, DAY).glob("*.parquet"))
    assert len(files) > 1 and all(f.name.startswith("part-compact-") for f in files)
    assert {p.name: p.stat().st_mtime_ns for p in _partition(output, OTHER_DAY).iterdir()} == other, "another day was touched"
    times = []
    for f in files:
        meta = pq.read_metadata(f)
        assert meta.schema.to_arrow_schema().metadata[SCHEMA_VERSION_KEY] == SCHEMA_VERSION.encode()
        assert meta.row_group(0).column(0).compression == "ZSTD"
        assert pq.read_schema(f).remove_metadata().equals(ARTICLE_SCHEMA.remove_metadata())
        table = pq.read_table(f)
        times += list(zip(table["published_at"].to_pylist(), table["article_id"].to_pylist()))
    assert times == sorted(times), "rows are not sorted by publication time across the files"
    assert _staging_is_empty(output)


def test_default_target_makes_one_file_per_day_and_a_second_run_does_nothing(output: Path, capsys):
    before = _rows_by_id(output)
    assert main([str(output), "--table", ARTICLES_TABLE]) == 0
    assert len(list(_partition(output, DAY).glob("*.parquet"))) == 1
    assert len(list(_partition(output, OTHER_DAY).glob("*.parquet"))) == 1
    assert _rows_by_id(output) == before
    capsys.readouterr()
    assert main([str(output), "--table", ARTICLES_TABLE]) == 0
    assert "nothing to compact" in capsys.readouterr().out


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_loses_no_row_and_the_next_run_recovers(output: Path, step: str):
    before = _rows_by_id(output)
    env = dict(os.environ, **{compact_mod.CRASH_ENV: step})
    cmd = [sys.executable, "-m", "akhbar", "compact", str(output), "--table", ARTICLES_TABLE, "--date", DAY, "--target-bytes", "20000"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert _rows_by_id(output) == before, f"after a crash at {step!r} the partition lost, doubled or changed rows"
    assert not _staging_is_empty(output), "the crash left nothing to recover: the hook is not where the test thinks"

    results = compact(output, [ARTICLES_TABLE], [DAY], target_bytes=20_000)
    assert _rows_by_id(output) == before
    assert _staging_is_empty(output)
    names = [f.name for f in _partition(output, DAY).glob("*.parquet")]
    assert names and all(n.startswith("part-compact-") for n in names)
    if step in ("swapped", "finishing"):
        assert results == [], "recovery finished the compaction; there was nothing left to do"


def test_files_written_during_compaction_are_kept_and_other_days_untouched(output: Path, monkeypatch):
    """The pipeline writes the same day and another day while the compaction runs."""
    before = _rows_by_id(output)
    late = [article(text="خبر وصل أثناء الدمج", link="https://n.example/late/1", guid="late-1", published=T0).to_row()]
    other_day = [article(text="خبر ليوم آخر", link="https://n.example/late/2", guid="late-2", published=T0 + timedelta(days=1, hours=2)).to_row()]

    later = [article(text="خبر وصل قبل التبديل مباشرة", link="https://n.example/late/3", guid="late-3", published=T0).to_row()]

    def pipeline_writes_meanwhile(step: str) -> None:
        if step == "staged":  # after the rewrite: linked into the new folder before the swap
            write_parquet_file(late, ARTICLES_TABLE, str(_partition(output, DAY)), "part-late.parquet")
            write_parquet_file(other_day, ARTICLES_TABLE, str(_partition(output, OTHER_DAY)), "part-late.parquet")
        if step == "linked":  # just before the swap: lands in the old folder, moved over after it
            write_parquet_file(later, ARTICLES_TABLE, str(_partition(output, DAY)), "part-later.parquet")

    monkeypatch.setattr(compact_mod, "_checkpoint", pipeline_writes_meanwhile)
    results = compact(output, [ARTICLES_TABLE], [DAY])
    after = _rows_by_id(output)
    assert set(after) == set(before) | {late[0]["article_id"], other_day[0]["article_id"], later[0]["article_id"]}
    assert (_partition(output, DAY) / "part-late.parquet").exists()
    assert results[0].carried == ["part-later.parquet"]
    assert _staging_is_empty(output)


def test_without_the_folder_exchange_a_crash_between_the_renames_is_finished(output: Path, monkeypatch):
    before = _rows_by_id(output)

    class Crash(BaseException):
        pass

    def crash_between_renames(step: str) -> None:
        if step == compact_mod.FALLBACK_STEP:
            raise Crash()

    monkeypatch.setattr(compact_mod, "_exchange", lambda a, b: False)
    monkeypatch.setattr(compact_mod, "_checkpoint", crash_between_renames)
    with pytest.raises(Crash):
        compact(output, [ARTICLES_TABLE], [DAY])
    assert not _partition(output, DAY).exists(), "the fallback's window: the old folder is aside"
    monkeypatch.setattr(compact_mod, "_checkpoint", lambda step: None)
    compact(output, [ARTICLES_TABLE], [DAY])
    assert _rows_by_id(output) == before
    assert _staging_is_empty(output)


def test_older_schema_files_are_rewritten_in_the_current_version(tmp_path: Path):
    """A partition mixing versions: the older file lacks the newest columns, which come back null."""
    out = tmp_path / "out"
    _write_small_files(out, 0, files=2)
    dropped = [f.name for f in ARTICLE_SCHEMA if f.nullable][-2:]
    older = pq.read_table(next(_partition(out, DAY).glob("*.parquet")))
    rows = older.drop_columns(dropped).to_pylist()
    for row in rows:
        row["article_id"] += "-old"
    older_schema = pa.schema([f for f in ARTICLE_SCHEMA if f.name not in dropped], metadata={SCHEMA_VERSION_KEY: b"0"})
    pq.write_table(pa.Table.from_pylist(rows, schema=older_schema), _partition(out, DAY) / "part-old.parquet")
    before = _rows_by_id(tmp_path / "out")
    compact(out, [ARTICLES_TABLE], [DAY])
    files = list(_partition(out, DAY).glob("*.parquet"))
    assert len(files) == 1 and pq.read_schema(files[0]).remove_metadata().equals(ARTICLE_SCHEMA.remove_metadata())
    after = _rows_by_id(out)
    assert set(after) == set(before)
    for row_id, row in after.items():
        if row_id.endswith("-old"):
            assert all(row[c] is None for c in dropped)


def test_bad_arguments_are_refused_with_the_value(tmp_path: Path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err
    assert main([str(tmp_path), "--date", "24/11/2026"]) == 2
    assert "24/11/2026" in capsys.readouterr().err
