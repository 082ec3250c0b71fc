"""Materialize the dev set as eval lines: dev_labels.jsonl (docno + labels) + text from the shared data.

    python -m training.events.make_dev_jsonl --out /tmp/dev.jsonl
    akhbar eval events --jsonl /tmp/dev.jsonl

The output holds real article text: write it outside the repository (it is
never committed).
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from training.events.corpus import REPO_ROOT, load_articles
from training.events.dataset import DEV_LABELS, read_jsonl


def dev_rows(labels_path: Path = DEV_LABELS) -> list[dict]:
    """One {docno, source, title, text, labels, primary} per labeled article (dev, or gold with its path)."""
    if not labels_path.is_file():
        raise FileNotFoundError(f"no labels file at {labels_path}")
    labeled = read_jsonl(labels_path)
    articles = load_articles((row.get("source") or "ant", str(row["docno"])) for row in labeled)
    rows = []
    for row in labeled:
        source = row.get("source") or "ant"
        article = articles[(source, str(row["docno"]))]
        rows.append({"docno": article.docno, "source": source, "title": article.title, "text": article.text,
                     "labels": row["labels"], "primary": row.get("primary")})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output JSONL (outside the repository)")
    parser.add_argument("--labels", default=str(DEV_LABELS))
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()
    if out.is_relative_to(REPO_ROOT) and not out.is_relative_to(REPO_ROOT / "build"):
        raise SystemExit(f"refusing to write real article text inside the repository: {out}")
    rows = dev_rows(Path(args.labels))
    with open(out, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} dev articles to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
