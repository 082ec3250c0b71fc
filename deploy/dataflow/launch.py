#!/usr/bin/env python3
"""Dataflow flex-template launcher: submit the streaming ingest job and return.

The image (deploy/docker/Dockerfile) names this file in FLEX_TEMPLATE_PYTHON_PY_FILE.
Dataflow's launcher runs ``python launch.py --name=value ...`` with the template's
parameters and Dataflow's own options; a template passes only ``--name=value`` pairs,
and Beam's parser refuses ``--streaming=true``, so streaming (and the DataflowRunner) is
set here. ``akhbar submit`` checks the models and the feed list, submits, and returns
without waiting, as a flex-template launcher must.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from akhbar.cli import main as akhbar_main

DEFAULTS = ("--streaming", "--runner=DataflowRunner")


def launcher_args(argv: Sequence[str]) -> list[str]:
    """``akhbar submit`` arguments: the template's, plus streaming and the Dataflow runner unless given."""
    args = list(argv)
    for flag in DEFAULTS:
        name = flag.split("=", 1)[0]
        if not any(a == name or a.startswith(name + "=") for a in args):
            args.append(flag)
    return ["submit", *args]


if __name__ == "__main__":
    sys.exit(akhbar_main(launcher_args(sys.argv[1:])))
