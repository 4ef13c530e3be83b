"""The code stays readable in one sitting: no file under polls/ over 500 lines, no function over
60 (migrations excepted: they are tables of data)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "polls"
MIGRATIONS = PACKAGE / "store" / "migrations"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60


def _sources() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if MIGRATIONS not in p.parents)


def _name(path: Path) -> str:
    return str(path.relative_to(PACKAGE.parent))


def test_the_package_has_sources_to_check() -> None:
    assert len(_sources()) > 50


def test_no_file_is_over_500_lines() -> None:
    too_long = {_name(p): n for p in _sources() if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES}
    assert too_long == {}


def test_no_function_is_over_60_lines() -> None:
    too_long = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long[f"{_name(path)}:{node.lineno} {node.name}"] = lines
    assert too_long == {}
