"""``akhbar compact OUTPUT``: rewrite date partitions' many small files into a few large ones.

See ``akhbar.lib.compact`` for how the swap stays atomic for readers.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from akhbar.lib.compact import DEFAULT_TARGET_BYTES, CompactionError, compact
from akhbar.schemas.article import SCHEMAS


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="akhbar compact", description=__doc__.splitlines()[0])
    parser.add_argument("output", help="the pipeline's output folder (holding articles/ and dead_letters/)")
    parser.add_argument("--table", choices=sorted(SCHEMAS), action="append", help="default: every table")
    parser.add_argument("--date", action="append", help="YYYY-MM-DD; repeatable. Default: every day but today (UTC)")
    parser.add_argument("--target-bytes", type=int, default=DEFAULT_TARGET_BYTES, help="about this many bytes per file")
    parser.add_argument("--force", action="store_true", help="rewrite partitions of a single file too")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    root = Path(args.output)
    if "://" in args.output:
        print(f"akhbar compact: {args.output!r}: only local folders can be compacted", file=sys.stderr)
        return 2
    if not root.is_dir():
        print(f"akhbar compact: no such folder {args.output!r}", file=sys.stderr)
        return 2
    for date in args.date or []:
        try:
            datetime.strptime(date, "%Y-%m-%d")
        except ValueError:
            print(f"akhbar compact: --date {date!r} is not YYYY-MM-DD", file=sys.stderr)
            return 2
    if args.target_bytes <= 0:
        print(f"akhbar compact: --target-bytes {args.target_bytes} must be positive", file=sys.stderr)
        return 2
    try:
        import duckdb  # noqa: F401  (the sort)
    except ImportError:
        print("akhbar compact: needs duckdb: pip install 'akhbar[analytics]'", file=sys.stderr)
        return 2
    try:
        results = compact(root, args.table or sorted(SCHEMAS), args.date, args.target_bytes, args.force)
    except CompactionError as exc:
        print(f"akhbar compact: {exc}", file=sys.stderr)
        return 1
    for result in results:
        print(result.render())
    if not results:
        print("nothing to compact")
    return 0
