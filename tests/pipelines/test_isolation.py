"""A failure in any per-item step costs that item only: it becomes a dead letter, the run goes on.

Each case injects an exception into one step of the real batch pipeline
(DirectRunner, loopback sample server) for one victim article or feed, and
checks that the run finishes, every other article is written, the victim's
dead letter names the stage, the error kind and the input, and
``seen = written + duplicates + dead letters`` still holds.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

import akhbar.lib.identity as identity
from akhbar.core.urls import canonical_url
from akhbar.pipelines import ingest
from akhbar.sample.corpus import SampleArticle, load_corpus
from akhbar.schemas.article import table_glob
from akhbar.transforms import counters

pytestmark = pytest.mark.timeout(240)

VICTIM = "wasat-002"  # the article every per-item case fails on
VICTIM_FEED = "/anba/atom.xml"  # the feed the poll case fails on


def _corpus() -> list[SampleArticle]:
    """A small corpus of originals: every article should be written."""
    return [a for a in load_corpus() if a.republished_from is None][:12]


class Injected(RuntimeError):
    pass


VICTIM_PATH = "/{}/news/{}.html".format(*VICTIM.split("-", 1))


def _is_victim(value) -> bool:
    return VICTIM_PATH in str(getattr(value, "url", None) or getattr(value, "link", None) or value)


def _fail_for_victim(original: Callable) -> Callable:
    def step(*args, **kwargs):
        if any(_is_victim(a) for a in args):
            raise Injected("injected failure for the test")
        return original(*args, **kwargs)

    return step


def _failing_guid_key(article) -> str:
    if _is_victim(article):
        raise Injected("injected failure for the test")
    return identity.guid_key(article)


def _inject(case: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Patch one step; return the stage its dead letter must name."""
    import akhbar.transforms.dedup as dedup
    import akhbar.transforms.feeds as feeds
    import akhbar.transforms.fetch as fetch
    import akhbar.transforms.neardup as neardup
    import akhbar.transforms.parquet as parquet

    if case == "poll_feed":
        original = feeds.parse_feed

        def parse(body, feed_url, *args, **kwargs):
            if feed_url.endswith(VICTIM_FEED):
                raise Injected("injected failure for the test")
            return original(body, feed_url, *args, **kwargs)

        monkeypatch.setattr(feeds, "parse_feed", parse)
        return "poll_feed"
    if case == "fetch_article":
        monkeypatch.setattr(fetch, "build_article", _fail_for_victim(fetch.build_article))
        return "fetch_article"
    if case == "dedup_exact":
        keys = [(name, _failing_guid_key if name == "guid" else fn) for name, fn in dedup.DEDUP_KEYS]
        monkeypatch.setattr(dedup, "DEDUP_KEYS", keys)
        return "dedup_exact"
    if case == "fingerprint":
        monkeypatch.setattr(neardup, "article_fingerprint", _fail_for_victim(neardup.article_fingerprint))
        return "dedup_near"
    if case == "near_dup_policy":
        monkeypatch.setattr(neardup, "annotate", _fail_for_victim(neardup.annotate))
        return "dedup_near"
    if case == "write_row":  # the row's partition date: fail on the victim's publication time
        victim_time = next(a.published for a in _corpus() if a.id == VICTIM)
        original_date = parquet.partition_date

        def partition_date(value):
            if value == victim_time:
                raise Injected("injected failure for the test")
            return original_date(value)

        monkeypatch.setattr(parquet, "partition_date", partition_date)
        return "write_articles"
    raise AssertionError(case)


def _rows(out: Path, table: str) -> list[dict]:
    files = list((out / table).glob("date=*/*.parquet"))
    if not files:
        return []
    rel = duckdb.connect().sql(f"SELECT * FROM read_parquet('{table_glob(str(out), table)}', hive_partitioning=true)")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


CASES = ["poll_feed", "fetch_article", "dedup_exact", "fingerprint", "near_dup_policy", "write_row"]


@pytest.mark.parametrize("case", CASES)
def test_a_failing_step_costs_only_its_own_item(case, monkeypatch, tmp_path):
    from akhbar.sample.server import SampleNewsServer

    corpus = _corpus()
    stage = _inject(case, monkeypatch)
    with SampleNewsServer(articles=corpus) as server:
        feeds = tmp_path / "feeds.txt"
        server.write_feed_list(feeds)
        out = tmp_path / "out"
        argv = ["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", "--read_timeout", "3",
                "--ner_model", "none", "--event_model", "none"]
        result, _ = ingest.run_with_args(argv)
        totals = counters.query_counters(result)
        expected = {canonical_url(server.page_url(a)): a for a in corpus}
    written = {row["canonical_url"] for row in _rows(out, "articles")}
    dead = _rows(out, "dead_letters")
    victims = {u for u, a in expected.items() if a.id == VICTIM}
    if case == "poll_feed":
        victims = {u for u, a in expected.items() if a.outlet == "anba"}
        (letter,) = [d for d in dead if d["stage"] == stage]
        assert letter["feed_url"].endswith(VICTIM_FEED) and letter["input"].endswith(VICTIM_FEED)
    else:
        (letter,) = [d for d in dead if d["stage"] == stage]
        assert VICTIM_PATH in (letter["url"] or "") and VICTIM_PATH in letter["input"]
    assert letter["error_kind"] == "unexpected"
    assert "Injected: injected failure for the test" in letter["error"]
    assert written == set(expected) - victims, "every other article is written, the victim is not"
    assert totals[counters.ITEMS_SEEN] == (
        totals.get("rows_written_articles", 0) + counters.duplicates_total(totals)
        + totals.get(counters.ITEMS_DEAD_LETTERED, 0)
    )
    item_dead = [d for d in dead if d["stage"] != "poll_feed"]
    assert len(item_dead) == totals.get(counters.ITEMS_DEAD_LETTERED, 0)
