"""DedupNear in the real ingest pipeline: batch on the DirectRunner and streaming on Prism,
against the loopback sample server, read back from Parquet with DuckDB."""
from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from akhbar.core.urls import canonical_url
from akhbar.pipelines import ingest
from akhbar.schemas.article import ARTICLE_SCHEMA, table_glob
from akhbar.transforms import counters
from tests.prism import REPO_ROOT, require_prism, served_sample, streaming_command

# Only the near-dup stage is under test: the model branches stay off to keep the runs short.
NO_MODELS = ["--event_model", "none", "--ner_model", "none"]


def _rows(out: Path) -> list[dict]:
    rel = duckdb.sql(
        "SELECT canonical_url, outlet, title, article_id, story_id, duplicate_of, near_dup_score "
        f"FROM read_parquet('{table_glob(str(out), 'articles')}')"
    )
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def _run(server, tmp: Path, *extra: str):
    feeds = tmp / "feeds.txt"
    server.write_feed_list(feeds)
    out = tmp / "out"
    argv = ["--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback",
            "--host_delay", "0", "--host_concurrency", "4", *NO_MODELS, *extra]
    result, _ = ingest.run_with_args(argv)
    return out, counters.query_counters(result)


def _edited_and_originals(server):
    by_id = {a.id: a for a in server.articles}
    edited = {a.id: by_id[a.republished_from] for a in server.articles
              if a.republished_from and a.body != by_id[a.republished_from].body}
    originals = [a for a in server.articles if not a.republished_from]
    return edited, originals


@pytest.fixture(scope="module")
def batch_runs(tmp_path_factory):
    from akhbar.sample.server import SampleNewsServer

    with SampleNewsServer() as server:
        keep = _run(server, tmp_path_factory.mktemp("keep"))
        drop = _run(server, tmp_path_factory.mktemp("drop"), "--near_dup_policy", "drop")
        yield server, keep, drop


def test_keep_links_edited_republications_to_their_originals(batch_runs):
    server, (out, _counters), _drop = batch_runs
    rows = {r["canonical_url"]: r for r in _rows(out)}
    edited, originals = _edited_and_originals(server)
    assert len(edited) == 4
    for copy_id, original in edited.items():
        copy = next(a for a in server.articles if a.id == copy_id)
        row, orig = rows[canonical_url(server.page_url(copy))], rows[canonical_url(server.page_url(original))]
        assert row["story_id"] == orig["story_id"] == orig["article_id"], copy_id
        assert row["duplicate_of"] == orig["article_id"] and 0.5 <= row["near_dup_score"] <= 1.0
    original_stories = Counter(rows[canonical_url(server.page_url(a))]["story_id"] for a in originals)
    assert all(n == 1 for n in original_stories.values()), "two different originals were merged"
    for r in rows.values():
        assert r["story_id"], "every article gets a story_id"
        assert (r["duplicate_of"] is None) == (r["near_dup_score"] is None) == (r["story_id"] == r["article_id"])


def test_drop_keeps_the_first_of_each_story_and_still_accounts_for_every_item(batch_runs):
    _server, (keep_out, _), (drop_out, totals) = batch_runs
    kept, all_rows = _rows(drop_out), _rows(keep_out)
    assert {r["article_id"] for r in kept} == {r["article_id"] for r in all_rows if r["duplicate_of"] is None}
    assert totals[counters.DUPLICATES_PREFIX + "near"] == len(all_rows) - len(kept) == 4
    assert totals["rows_written_articles"] == len(kept)
    assert totals[counters.ITEMS_SEEN] == (
        totals["rows_written_articles"] + counters.duplicates_total(totals) + totals.get(counters.ITEMS_DEAD_LETTERED, 0)
    )


def test_written_files_have_the_current_schema(batch_runs):
    _server, (out, _), _drop = batch_runs
    import pyarrow.parquet as pq

    for path in out.glob("articles/*/*.parquet"):
        assert pq.read_schema(path).remove_metadata() == ARTICLE_SCHEMA.remove_metadata()


@pytest.mark.slow
def test_streaming_on_prism_shares_story_ids_across_shards(tmp_path):
    require_prism()
    from akhbar.sample.server import OUTLETS

    with served_sample(tmp_path) as (server, feeds, out):
        proc = subprocess.run(
            # The sample spans five days and arrives in one poll, in any order; with the default three-day
            # TTL a shard that saw a later-dated article first could forget an original before its copy
            # came (an order-dependent miss, docs/neardup.md; not what this test is about).
            streaming_command(feeds, out, "--duration", "25", "--near_dup_shards", "8", "--near_dup_routes", "4",
                              "--near_dup_ttl", str(30 * 86400), *NO_MODELS),
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
        )
        assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
        # Streaming dedup keeps whichever copy it sees first: a sahil item may come in under its
        # section-feed link (same GUID), and a verbatim wire copy may win over its original. So
        # articles are matched by outlet and headline, not by URL.
        rows = {(r["outlet"], r["title"]): r for r in _rows(out)}

        def row_of(article):
            return rows.get((OUTLETS[article.outlet].name, article.title))

        edited, originals = _edited_and_originals(server)
        for copy_id, original in edited.items():
            copy = next(a for a in server.articles if a.id == copy_id)
            assert row_of(copy) is not None and row_of(original) is not None, copy_id
            assert row_of(copy)["story_id"] == row_of(original)["story_id"], copy_id
        written = [row_of(a) for a in originals if row_of(a) is not None]
        assert len(written) >= len(originals) - 4, "only verbatim wire copies may replace an original"
        stories = Counter(r["story_id"] for r in written)
        assert all(n == 1 for n in stories.values()), "two different originals were merged"


def test_eval_dedup_command_on_the_sample(tmp_path, capsys):
    """`akhbar eval dedup` end to end, on docs and pairs made from the bundled (authored) sample."""
    import json
    from itertools import combinations

    from akhbar.cli import main as cli
    from akhbar.sample.corpus import load_corpus

    corpus = load_corpus()
    docs = tmp_path / "docs.jsonl"
    docs.write_text("".join(json.dumps({"docno": a.id, "src": a.outlet, "title": a.title, "text": a.text,
                                        "time": a.published.isoformat()}, ensure_ascii=False) + "\n"
                            for a in corpus), encoding="utf-8")
    by_id = {a.id: a for a in corpus}
    pairs = [{"a_docno": a.republished_from, "b_docno": a.id,
              "label": "dup" if a.body == by_id[a.republished_from].body else "near_dup"}
             for a in corpus if a.republished_from]
    originals = [a.id for a in corpus if not a.republished_from]
    pairs += [{"a_docno": a, "b_docno": b, "label": "distinct", "kind": "random"}
              for a, b in list(combinations(originals, 2))[::40]]
    pairs_path = tmp_path / "pairs.jsonl"
    pairs_path.write_text("".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8")
    assert cli(["eval", "dedup", "--docs", str(docs), "--pairs", str(pairs_path), "--baseline_thresholds", "0.5"]) == 0
    report = json.loads(capsys.readouterr().out)
    scorer = report["pair_scorer"]
    assert report["documents"] == len(corpus) and report["pairs"] == len(pairs)
    assert scorer["exact_dup_recall"] == 1.0 and scorer["recall"] == 1.0 and scorer["precision"] == 1.0
    assert scorer["random_pairs_false_merges"] == 0 and scorer["random_pairs"] > 10
    assert set(report["lsh_jaccard_threshold_alone"]) == {"0.5"}
