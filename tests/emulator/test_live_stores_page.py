"""`docs/live-stores.md` and the tests agree: every row has a test, in the file of its source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "live-stores.md"
FILES = {
    "document": "test_documented.py",
    "field": "test_field_evidence.py",
    "assumption": "test_assumptions.py",
}


def rows() -> dict[str, str]:
    """Row id -> the first word of its "source" column (its main source)."""
    found = {}
    for line in PAGE.read_text().splitlines():
        match = re.match(r"\| ([PB]\d+) \| [^|]+ \| ([a-z]+)", line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def rows_tested_in(file: str) -> set[str]:
    tree = ast.parse((Path(__file__).parent / file).read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) and node.name.startswith(
            "test_"
        ):
            doc = ast.get_docstring(node) or ""
            match = re.match(r"([PB]\d+):", doc)
            if match:
                found.add(match.group(1))
    return found


def test_every_row_is_tested_where_its_source_says() -> None:
    table = rows()
    assert len(table) >= 30
    for source, file in FILES.items():
        expected = {row for row, first in table.items() if first == source}
        assert rows_tested_in(file) == expected, (source, file)
