"""The demo pipeline in batch mode on Flink: embedded ([local]) and on the standalone cluster
with an EXTERNAL worker pool; Parquet read back with DuckDB, every item accounted for."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from akhbar.pipelines import ingest
from akhbar.pipelines.options import parse_options
from akhbar.schemas.article import table_glob
from akhbar.transforms import counters
from tests.flink.conftest import flink_local

pytestmark = [pytest.mark.slow, pytest.mark.flink]


def model_flags() -> list[str]:
    """The enrichment branches that have landed run too; a default model not shipped yet is left out."""
    try:
        ingest.build_enrichers(parse_options(["--feeds", "x", "--output", "y"]))
        return []
    except (ValueError, FileNotFoundError):
        return ["--ner_model", "none", "--event_model", "none"]


def _rows(out: Path, table: str) -> list[dict]:
    rel = duckdb.connect().sql(f"SELECT * FROM read_parquet('{table_glob(str(out), table)}', hive_partitioning=true)")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def _run(server, tmp_path: Path, name: str, runner: list[str]):
    feeds = tmp_path / "feeds.txt"
    server.write_feed_list(feeds)
    out = tmp_path / name
    argv = ["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback",
            "--host_delay", "0", "--host_concurrency", "4", "--read_timeout", "2",
            *model_flags(), *runner]
    result, _ = ingest.run_with_args(argv)
    return out, counters.query_counters(result)


def _assert_accounted(out: Path, totals: dict) -> list[dict]:
    articles, dead = _rows(out, "articles"), _rows(out, "dead_letters")
    item_dead = [d for d in dead if d["stage"] != "poll_feed"]
    assert totals[counters.ITEMS_SEEN] > 0
    assert len(articles) == totals["rows_written_articles"]
    assert len(dead) == totals["rows_written_dead_letters"]
    assert len(item_dead) == totals[counters.ITEMS_DEAD_LETTERED]
    assert totals[counters.ITEMS_SEEN] == len(articles) + counters.duplicates_total(totals) + len(item_dead)
    assert len({a["article_id"] for a in articles}) == len(articles), "an article was written twice"
    assert not list(out.rglob("*.inprogress"))
    return articles


@pytest.fixture(scope="module")
def direct_articles(tmp_path_factory):
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=True) as server:
        out, totals = _run(server, tmp_path_factory.mktemp("direct"), "out", ["--runner=DirectRunner"])
    return {a["canonical_url"].split("/", 3)[3] for a in _assert_accounted(out, totals)}


def test_batch_on_the_standalone_cluster_writes_what_the_direct_runner_writes(flink_cluster, direct_articles, tmp_path):
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=True) as server:
        out, totals = _run(server, tmp_path, "out", flink_local.runner_args(flink_cluster))
    articles = _assert_accounted(out, totals)
    assert {a["canonical_url"].split("/", 3)[3] for a in articles} == direct_articles
    # The job really ran on the cluster, not in an embedded Flink.
    assert any(job["state"] == "FINISHED" for job in flink_cluster.jobs())


def test_batch_on_embedded_flink(direct_articles, tmp_path):
    if not flink_local.java_available() or not flink_local.fetched():
        pytest.skip("Flink is not fetched or java is missing (see tests/flink/conftest.py)")
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer(faults=True) as server:
        out, totals = _run(server, tmp_path, "out", ["--runner=FlinkRunner", "--flink_master=[local]"])
    articles = _assert_accounted(out, totals)
    assert {a["canonical_url"].split("/", 3)[3] for a in articles} == direct_articles
