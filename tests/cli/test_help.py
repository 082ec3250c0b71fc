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
