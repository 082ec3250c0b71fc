"""schemas/COLUMNS.md documents every column of every table: meaning, type and (where useful) an example."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from akhbar.schemas.article import PARTITION_COLUMN, SCHEMA_VERSION, SCHEMAS

COLUMNS_MD = Path(__file__).resolve().parents[2] / "schemas" / "COLUMNS.md"


def documented(table: str) -> dict[str, list[str]]:
    """Column name -> the cells of its row, from the table's section of COLUMNS.md."""
    text = COLUMNS_MD.read_text(encoding="utf-8")
    match = re.search(rf"^## `{table}/`.*?$(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"COLUMNS.md has no section for {table!r}"
    rows = {}
    for line in match.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and cells[0] not in ("column", "---") and not set(cells[0]) <= {"-"}:
            rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize("table", sorted(SCHEMAS))
def test_every_column_is_documented_with_its_type_and_meaning(table: str):
    rows = documented(table)
    expected = SCHEMAS[table].names + [PARTITION_COLUMN]
    assert sorted(rows) == sorted(expected), "COLUMNS.md and schemas/article.py disagree"
    for field in SCHEMAS[table]:
        name, kind, meaning = rows[field.name][:3]
        assert kind and meaning, f"{table}.{name} needs a type and a meaning"
        assert ("not null" in kind) == (not field.nullable), f"{table}.{name}: 'not null' in COLUMNS.md must match the schema"


def test_the_documented_version_is_the_current_one():
    assert re.search(rf"schema version {re.escape(SCHEMA_VERSION)}\b", COLUMNS_MD.read_text(encoding="utf-8"))
