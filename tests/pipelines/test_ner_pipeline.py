"""NER inside the real pipeline: DirectRunner in-process and with 2 worker processes, Parquet read back with DuckDB."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from akhbar.lib.ner.labels import ENTITY_TYPES
from akhbar.pipelines import ingest
from akhbar.schemas.article import table_glob
from akhbar.transforms import counters


def _run(tmp: Path, *extra: str):
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=True) as server:
        feeds = tmp / "feeds.txt"
        server.write_feed_list(feeds)
        out = tmp / "out"
        argv = ["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", "--read_timeout", "2",
                "--event_model", "none", *extra]
        result, _ = ingest.run_with_args(argv)
    return out, counters.query_counters(result)


def _articles(out: Path) -> list[tuple]:
    con = duckdb.connect()
    return con.sql(
        f"SELECT article_id, text, entities FROM read_parquet('{table_glob(str(out), 'articles')}', hive_partitioning=true)"
    ).fetchall()


def _check(out: Path, totals: dict) -> None:
    rows = _articles(out)
    assert rows and totals["enriched_ner"] == len(rows)
    assert totals.get("enrich_failed_ner", 0) == 0
    with_entities = 0
    types = set()
    for article_id, text, entities in rows:
        assert entities is not None, f"{article_id} has no entities column value"
        with_entities += bool(entities)
        for e in entities:
            assert text[e["start"]: e["end"]] == e["text"], (article_id, e)
            assert e["type"] in ENTITY_TYPES
            if e["score"] is None:  # a place name the geocoding step spotted where the NER found nothing
                assert e["type"] == "LOC" and e["country"], (article_id, e)
            else:
                assert 0.0 <= e["score"] <= 1.0, (article_id, e)
                types.add(e["type"])
    assert with_entities >= 0.8 * len(rows), f"only {with_entities} of {len(rows)} articles have entities"
    assert {"PERS", "LOC", "ORG"} <= types


def test_ner_in_process(tmp_path):
    out, totals = _run(tmp_path)
    _check(out, totals)


@pytest.mark.slow
def test_ner_in_two_worker_processes(tmp_path):
    out, totals = _run(tmp_path, "--direct_running_mode=multi_processing", "--direct_num_workers=2")
    _check(out, totals)


def test_ner_none_leaves_entities_null(tmp_path):
    out, totals = _run(tmp_path, "--ner_model", "none", "--no_fetch_pages")
    rows = _articles(out)
    assert rows and all(entities is None for _, _, entities in rows)
    assert "enriched_ner" not in totals
