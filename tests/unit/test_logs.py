"""Log lines as `polls serve` (JSON) and `polls dev` (text) write them."""

from __future__ import annotations

import json
import logging

from structlog.contextvars import bind_contextvars, clear_contextvars

from polls import logs
from polls.redaction import redact_secrets


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    redact_secrets()
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.getLogger("polls.test").makeRecord(
        "polls.test", logging.ERROR, __file__, 1, message, args, exc_info
    )


def test_json_lines_carry_the_request_id_and_a_redacted_traceback() -> None:
    bind_contextvars(request_id="req-1")
    try:
        try:
            raise ValueError("bad link /v/vc_abcdefghijkl")
        except ValueError as exc:
            record = _record("failed for %s", "vc_SECRETSECRET", exc=exc)
        line = json.loads(logs.formatter("json").format(record))
    finally:
        clear_contextvars()
    assert line["request_id"] == "req-1"
    assert line["event"] == "failed for vc_[hidden]"
    assert line["level"] == "error" and line["logger"] == "polls.test"
    assert "ValueError: bad link /v/vc_[hidden]" in line["exception"]
    assert "abcdefghijkl" not in json.dumps(line)


def test_text_lines_are_readable() -> None:
    text = logs.formatter("text").format(_record("poll %s opened", 4))
    assert "poll 4 opened" in text and "[polls.test]" in text and not text.startswith("{")
