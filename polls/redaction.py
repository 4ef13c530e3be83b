"""Log lines never carry a secret or a resident's address, at any level, from any logger.

Whoever reads the logs (an operator, a log shipper, a support contractor) must not find in them
what lets someone vote, sign in or sit in a jury: short codes, voting links, staff invitations
and sessions, juror invitations and room links, any `token=` value. Nor client addresses: an
address next to the time of a request, read against the live feed, ties a person to a ballot.

Redaction happens when a record is made (a log record factory), so it holds for every logger
and handler, the ones uvicorn configures included, and for the text of logged exceptions.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from polls.domain.codes import ALPHABET

HIDDEN = "[hidden]"

_C = f"[{ALPHABET}]"
_SECRETS = re.compile(
    # Signed tokens of every kind (polls.tokens): staff sessions, devices, invitations, password
    # resets and sign-in links, voting links, juror invitations and room links, wherever they
    # appear (paths, query strings, messages).
    r"(?P<token>\b(?:ss|sd|si|pr|sl|vc|ji|jr)_)[A-Za-z0-9_.\-]+"
    # A typed short code in a link, and any token= or code= value in a query string.
    r"|(?P<path>/c/)[^\s/?\"']+"
    r"|(?P<query>\b(?:token|code)=)[^\s&\"']+"
    # A short code anywhere else, grouped as printed (XXXX-XXXX-XXXX-XX) or run together.
    rf"|\b{_C}{{4}}-?{_C}{{4}}-?{_C}{{4}}-?{_C}{{2}}\b"
)
# What uvicorn logs as a client: "203.0.113.9:53211" or "[2001:db8::1]:443".
_CLIENT = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d+$")


def _hide(match: re.Match[str]) -> str:
    prefix = match.group("token") or match.group("path") or match.group("query") or ""
    return prefix + HIDDEN


def redact(text: str) -> str:
    """The text with every secret replaced by [hidden]."""
    return _SECRETS.sub(_hide, text)


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return "-" if _CLIENT.match(arg) else redact(arg)
    if isinstance(arg, (int, float)) or arg is None:
        return arg
    if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[1], int):
        return "-"  # uvicorn hands some client addresses over as (host, port)
    text = str(arg)
    hidden = redact(text)
    return hidden if hidden != text else arg


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_redact_arg(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _redact_arg(v) for k, v in record.args.items()}
    if record.exc_info and record.exc_info[1] is not None:
        # Formatted now, redacted, and cached where every formatter looks for it first.
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    return record


_installed = False


def redact_secrets() -> None:
    """Make every log record, from now on in this process, come out redacted (idempotent)."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted(make(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    # aiosqlite logs each call with its SQL and parameters at DEBUG (answers, code digests,
    # residents' addresses): never, whatever level the rest of the service logs at.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    _installed = True
