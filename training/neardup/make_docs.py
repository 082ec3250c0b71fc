"""Materialize the near-dup eval documents from the shared corpus (never committed).

    python -m training.neardup.make_docs --out /tmp/docs.jsonl
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from training.neardup.corpus import MULTISOURCE, read_multisource


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="docs JSONL to write")
    parser.add_argument("--source", default=str(MULTISOURCE), help="multisource.jsonl.gz")
    args = parser.parse_args(argv)
    n = 0
    with open(args.out, "w", encoding="utf-8") as fh:
        for doc in read_multisource(Path(args.source)):
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n += 1
    print(f"wrote {n} documents to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
