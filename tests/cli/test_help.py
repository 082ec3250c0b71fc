"""`akhbar run --help` lists akhbar's own flags (AkhbarOptions), not Beam's bare parser."""
from __future__ import annotations

import argparse

from akhbar.cli import main
from akhbar.pipelines.options import AkhbarOptions


def test_run_help_lists_every_akhbar_flag(capsys):
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: akhbar run --feeds FILE --output DIR")
    parser = argparse.ArgumentParser(add_help=False)
    AkhbarOptions._add_argparse_args(parser)
    flags = [s for action in parser._actions for s in action.option_strings]
    assert len(flags) > 20
    assert [f for f in flags if f not in out] == []
    assert "--streaming" in out and "Beam" in out


def test_top_level_help_and_unknown_commands(capsys):
    assert main(["--help"]) == 0
    assert "akhbar run --feeds FILE --output DIR" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2
    assert "unknown command 'no-such-command'" in capsys.readouterr().err


def test_submit_runs_the_same_checks_and_hands_the_job_to_the_runner(tmp_path, sample_server, capsys):
    """`akhbar submit` (what the Dataflow launcher runs) on the DirectRunner, which finishes the job in place."""
    import duckdb

    feeds = tmp_path / "feeds.txt"
    sample_server.write_feed_list(feeds, faults=False)
    out = tmp_path / "out"
    fast = ["--ner_model", "none", "--event_model", "none", "--near_dup_policy", "off", "--no_fetch_pages"]
    assert main(["submit", "--feeds", str(feeds), "--output", str(out), "--once", "--allow_loopback", *fast]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"submitted {len(sample_server.feed_urls(faults=False))} feeds into {out}")
    (n,) = duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{out}/articles/*/*.parquet')").fetchone()
    assert n > 0
    # A bad model stops it before anything is submitted, in one line.
    assert main(["submit", "--feeds", str(feeds), "--output", str(tmp_path / "o2"), "--ner_model", "no/such/x"]) == 2
    assert capsys.readouterr().err.strip().startswith("akhbar submit: --ner_model no/such/x: no such model folder")
    assert not (tmp_path / "o2").exists()
