"""Results as plain JSON: every result is a frozen dataclass of numbers, strings, tuples and dicts."""

from __future__ import annotations

import dataclasses
import json
from typing import Any


def as_json(result: Any) -> dict[str, Any]:
    """A result (any counting dataclass) as JSON-ready data; dict keys become strings, as JSON needs."""
    data = _plain(result)
    assert isinstance(data, dict)
    return data


def json_line(result: Any) -> str:
    return json.dumps(as_json(result), separators=(",", ":"))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value
