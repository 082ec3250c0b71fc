"""Geocoding inside the real pipeline (DirectRunner), after the NER and event branches are joined; Parquet read back with DuckDB."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from akhbar.pipelines import ingest
from akhbar.pipelines.options import UsageError, parse_options
from akhbar.schemas.article import table_glob
from akhbar.transforms import counters


def _run(tmp: Path, *extra: str):
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=False) as server:
        feeds = tmp / "feeds.txt"
        server.write_feed_list(feeds)
        out = tmp / "out"
        argv = ["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", "--read_timeout", "2", *extra]
        result, _ = ingest.run_with_args(argv)
    return out, counters.query_counters(result)


def _sql(out: Path, query: str) -> list[tuple]:
    view = f"read_parquet('{table_glob(str(out), 'articles')}', hive_partitioning=true)"
    return duckdb.connect().sql(query.replace("ARTICLES", view)).fetchall()


def test_geocoding_fills_entities_countries_and_event_locations(tmp_path):
    out, totals = _run(tmp_path)
    (rows,) = _sql(out, "SELECT count(*) FROM ARTICLES")[0]
    assert rows and totals["enriched_geo"] == rows and totals.get("enrich_failed_geo", 0) == 0
    loc, resolved, located = _sql(out, """
        SELECT count(*), count(e.country), count(e.lat) FROM (SELECT unnest(entities) AS e FROM ARTICLES)
        WHERE e.type = 'LOC'""")[0]
    assert loc and resolved >= 0.6 * loc and located
    assert _sql(out, "SELECT count(*) FROM (SELECT unnest(entities) AS e FROM ARTICLES) "
                     "WHERE e.type <> 'LOC' AND e.country IS NOT NULL")[0][0] == 0
    # countries agree with the entities they count; event locations are among the article's resolved entities
    for article_id, countries, entities, event in _sql(out, "SELECT article_id, countries, entities, event_location FROM ARTICLES"):
        counted = {}
        for e in entities or []:
            if e["country"]:
                counted[e["country"]] = counted.get(e["country"], 0) + 1
        assert {c["country"]: c["mentions"] for c in countries or []} == counted, article_id
        if event is not None:
            assert any(e["start"] == event["start"] and e["country"] == event["country"] for e in entities), article_id
    with_event, models = _sql(out, "SELECT count(event_location), count(DISTINCT geo_model) FROM ARTICLES")[0]
    assert with_event >= 0.5 * rows and models == 1


def test_geo_none_leaves_the_geo_columns_null(tmp_path):
    out, totals = _run(tmp_path, "--geo", "none", "--event_model", "none", "--no_fetch_pages")
    assert "enriched_geo" not in totals
    assert _sql(out, "SELECT count(countries), count(event_location), count(geo_model) FROM ARTICLES")[0] == (0, 0, 0)
    assert _sql(out, "SELECT count(e.country) FROM (SELECT unnest(entities) AS e FROM ARTICLES)")[0][0] == 0


def test_geo_needs_the_ner_stage():
    with pytest.raises(UsageError, match="--geo default needs the NER stage"):
        parse_options(["--feeds", "f", "--output", "o", "--ner_model", "none", "--geo", "default"])
    opts = parse_options(["--feeds", "f", "--output", "o", "--ner_model", "none"])  # implied default: geo is off
    assert not [e for e in ingest.build_enrichers(opts) if e.name == "geo"]
