"""Error codes: every code the service answers is an ErrorCode member, documented and in use."""

from __future__ import annotations

import ast
from pathlib import Path

from polls.domain.polls import _MOVES, Action, PollStatus
from polls.errors import ErrorCode
from polls.http.api.registry import document

POLLS = Path(__file__).resolve().parents[2] / "polls"


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(POLLS.rglob("*.py"))]


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def test_no_error_code_is_written_as_a_string_at_a_raise_site() -> None:
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found += [
                    f"{path.relative_to(POLLS.parent)}:{k.lineno}"
                    for k in node.keywords
                    if k.arg == "code" and _is_text(k.value)
                ]
            elif isinstance(node, ast.ClassDef):  # an error class's own ``code = "..."``
                found += [
                    f"{path.relative_to(POLLS.parent)}:{s.lineno}"
                    for s in node.body
                    if isinstance(s, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == "code" for t in s.targets)
                    and _is_text(s.value)
                ]
    assert found == [], "use an ErrorCode member instead of a string"


def test_every_error_code_is_described_in_the_openapi_document() -> None:
    schemas = document()["components"]["schemas"]
    assert schemas["Error"]["properties"]["code"] == {"$ref": "#/components/schemas/ErrorCode"}
    listed = {entry["const"]: entry["description"] for entry in schemas["ErrorCode"]["oneOf"]}
    assert set(listed) == {c.value for c in ErrorCode}
    assert all(description.strip() for description in listed.values())


def test_every_error_code_is_used_somewhere() -> None:
    named = {
        node.attr
        for _, tree in _modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "ErrorCode"
    }
    # The lifecycle refusals are built from the action and the status: cannot_{action}_{status}.
    refused_moves = {
        f"cannot_{action.value}_{status.value}"
        for action in Action
        for status in PollStatus
        if status not in _MOVES[action][0]
    }
    lifecycle = {c.value for c in ErrorCode if c.value.startswith("cannot_")}
    assert lifecycle == refused_moves
    unused = [c.value for c in ErrorCode if c.name not in named and c.value not in refused_moves]
    assert unused == []
