"""``akhbar report OUTPUT``: one self-contained HTML page of charts over the pipeline's output."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from akhbar.lib.progress import Progress
from akhbar.lib.report import SECTIONS, Output, ReportError, parse_since, render


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="akhbar report", description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the pipeline's output folder (holding articles/ and dead_letters/)")
    parser.add_argument("--since", default="7d", help="7d, 48h, 2026-11-20 or all (default 7d)")
    parser.add_argument("--out", default="report.html", help="the HTML file to write")
    parser.add_argument("--top", type=int, default=20, help="rows in each top list")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not Path(args.output).is_dir():
        print(f"akhbar report: no such folder {args.output!r}", file=sys.stderr)
        return 2
    try:
        since = parse_since(args.since, datetime.now(timezone.utc))
    except ReportError as exc:
        print(f"akhbar report: {exc}", file=sys.stderr)
        return 2
    try:
        import duckdb  # noqa: F401
        import matplotlib
    except ImportError as exc:
        print(f"akhbar report: needs {exc.name}: pip install 'akhbar[analytics]'", file=sys.stderr)
        return 2
    matplotlib.use("Agg")
    with Progress("report", total=len(SECTIONS), unit="sections") as progress:
        page = render(Output(args.output, since), args.top, progress)
    target = Path(args.out)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    print(f"wrote {target} ({len(page.encode()) / 1e3:.0f} kB)")
    return 0
