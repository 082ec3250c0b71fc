"""Article identity and feed text, end to end: real runs (DirectRunner, Prism) against loopback feeds.

One run per runner reads every case of ``identity_feeds`` (items without
links, the same GUID on two hosts, relative links, a backdated copy, entities
and brackets, created dates, the ISO-8859-6 matrix, an invalid byte); each
test below checks one case in the Parquet read back with DuckDB, and every
test checks that no article was written twice and that the run's counters
balance.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from akhbar.pipelines import ingest
from akhbar.pipelines.runners import find_prism
from akhbar.schemas.article import table_glob
from akhbar.transforms import counters
from tests.pipelines import identity_feeds
from tests.prism import require_prism
from tests.route_server import RouteServer

FAST = ["--ner_model", "none", "--event_model", "none", "--near_dup_policy", "off"]


def runner_args(runner: str) -> list[str]:
    if runner == "prism":
        require_prism()
        return ["--runner=PrismRunner", f"--prism_location={find_prism()}"]
    return ["--once"]


def run_once(feeds: list[str], out: Path, runner: str, *extra: str) -> dict[str, int]:
    feed_list = out.parent / f"{out.name}-feeds.txt"
    feed_list.write_text("\n".join(feeds) + "\n", encoding="utf-8")
    argv = ["--feeds", str(feed_list), "--output", str(out), "--allow_loopback", "--read_timeout", "3",
            *FAST, *runner_args(runner), *extra]
    result, _ = ingest.run_with_args(argv)
    return counters.query_counters(result)


def rows(out: Path) -> list[dict]:
    if not list(out.glob("articles/date=*/*.parquet")):
        return []
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{table_glob(str(out), 'articles')}', hive_partitioning=true)")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def dead_letters(out: Path) -> list[dict]:
    if not list(out.glob("dead_letters/date=*/*.parquet")):
        return []
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{table_glob(str(out), 'dead_letters')}', hive_partitioning=true)")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def assert_once_and_accounted(out: Path, totals: dict[str, int], earlier: int = 0) -> list[dict]:
    """Row count == distinct articles, the files hold what earlier runs and this one wrote, and the
    counters balance: seen = written + duplicates (earlier runs' articles included) + item dead letters."""
    written = rows(out)
    ids = [r["article_id"] for r in written]
    assert len(ids) == len(set(ids)), "an article was written twice"
    assert len({r["canonical_url"] for r in written}) == len(written), "two rows share an identity"
    this_run = totals.get("rows_written_articles", 0)
    assert len(written) == earlier + this_run
    if earlier == 0:
        item_dead = [d for d in dead_letters(out) if d["stage"] != "poll_feed"]
        assert len(item_dead) == totals.get(counters.ITEMS_DEAD_LETTERED, 0)
    dead = totals.get(counters.ITEMS_DEAD_LETTERED, 0)
    assert totals[counters.ITEMS_SEEN] == this_run + counters.duplicates_total(totals) + dead
    return written


@pytest.fixture(scope="module", params=["direct", pytest.param("prism", marks=pytest.mark.slow)])
def identity_run(request, tmp_path_factory):
    with RouteServer() as a, RouteServer() as b:
        cases = identity_feeds.all_cases(a, b)
        out = tmp_path_factory.mktemp(f"identity-{request.param}") / "out"
        feeds = [url for case in cases.values() for url in case.feeds]
        totals = run_once(feeds, out, request.param)
        written = assert_once_and_accounted(out, totals)
        yield cases, written, totals, (a, b)


def _of(written: list[dict], case: identity_feeds.Case) -> list[dict]:
    return [r for r in written if r["feed_url"] in case.feeds]


def test_every_item_of_every_case_is_accounted_for(identity_run):
    _cases, written, totals, _servers = identity_run
    assert written and totals[counters.ITEMS_SEEN] >= len(written)


def test_items_without_links_are_each_written_once(identity_run):
    cases, written, _totals, _servers = identity_run
    case = cases["no_links"]
    got = _of(written, case)
    assert len(got) == case.expect["rows"]
    assert {r["text"] for r in got} == case.expect["texts"]
    for row in got:
        assert row["url"] == row["canonical_url"] and row["url"] not in case.feeds, "an item borrowed the feed URL"
        assert row["url"].startswith(("feed-guid:", "feed-item:"))
        assert row["fetch_error"].startswith("no_link")


def test_guid_only_items_on_two_hosts_are_both_written(identity_run):
    cases, written, _totals, _servers = identity_run
    got = _of(written, cases["guid_only"])
    assert {r["text"] for r in got} == cases["guid_only"].expect["texts"]
    assert all(r["guid"] == "1001" and r["url"].startswith("feed-guid:") for r in got), "a GUID was taken as a URL"


def test_relative_links_are_resolved_and_their_pages_fetched(identity_run):
    cases, written, _totals, (a, b) = identity_run
    got = {r["url"]: r for r in _of(written, cases["relative"])}
    assert set(got) == set(cases["relative"].expect["pages"])
    for url, body in cases["relative"].expect["pages"].items():
        assert got[url]["text_source"] == "page", got[url]["fetch_error"]
        assert body in got[url]["text"]
    assert a.requests["/news/1"] == 1 and b.requests["/news/1"] == 1 and a.requests["/sec/2.html"] == 1


def test_a_backdated_copy_does_not_displace_the_original(identity_run):
    cases, written, totals, _servers = identity_run
    case = cases["backdated"]
    urls = {r["url"] for r in _of(written, case)}
    assert urls == {case.expect["original"]}
    assert totals["duplicates_text"] >= 1


def test_entities_decoded_and_literal_brackets_kept(identity_run):
    cases, written, _totals, _servers = identity_run
    case = cases["entities"]
    got = _of(written, case)
    assert {r["title"] for r in got} == case.expect["titles"]
    assert case.expect["summary"] in {r["summary"] for r in got}


def test_created_dates_are_read(identity_run):
    cases, written, _totals, _servers = identity_run
    dates = cases["created"].expect["dates"]
    got = {r["text"]: r for r in _of(written, cases["created"])}
    assert set(got) == set(dates)
    for text, created in dates.items():
        assert got[text]["published_at"] == created
        assert got[text]["published_source"] == "feed"


def test_iso_8859_6_matrix_of_feeds_and_pages(identity_run):
    cases, written, _totals, _servers = identity_run
    case = cases["charset"]
    got = _of(written, case)
    by_title = {r["title"]: r for r in got}
    missing = [t for t in case.expect["titles"] if t not in by_title]
    assert not missing, f"{len(missing)} of {len(case.expect['titles'])} matrix feeds lost their item: {missing[:3]}"
    for title, text in case.expect["titles"].items():
        row = by_title[title]
        assert row["text"] == text and row["outlet"] == "جريدة الجنوب" and row["language"] == "ar"
    pages = {r["url"]: r for r in got if r["url"] in case.expect["pages"]}
    assert set(pages) == set(case.expect["pages"])
    for url, body in case.expect["pages"].items():
        assert pages[url]["text_source"] == "page", (url, pages[url]["fetch_error"])
        assert body in pages[url]["text"], url


def test_one_invalid_byte_costs_one_character(identity_run):
    cases, written, _totals, _servers = identity_run
    got = _of(written, cases["invalid_byte"])
    assert {r["text"] for r in got} == cases["invalid_byte"].expect["texts"]
