"""Log records come out without secrets or client addresses, whatever logger made them."""

from __future__ import annotations

import logging

from hypothesis import given
from hypothesis import strategies as st

from polls.domain.codes import format_short_code, new_short_code
from polls.redaction import redact, redact_secrets
from polls.tokens import (
    JUROR_INVITE,
    JUROR_ROOM,
    PASSWORD_RESET,
    SIGN_IN_LINK,
    STAFF_DEVICE,
    STAFF_INVITE,
    STAFF_SESSION,
    VOTER_CODE,
    Tokens,
)

TOKENS = Tokens(("a test secret key that is long enough",))


def record(name: str, msg: str, *args: object) -> logging.LogRecord:
    redact_secrets()
    return logging.getLogger(name).makeRecord(name, logging.DEBUG, __file__, 1, msg, args, None)


def test_an_access_line_keeps_method_path_and_status_but_not_the_client_or_the_token() -> None:
    token = TOKENS.sign(VOTER_CODE, "R" * 20)
    line = record(
        "uvicorn.access",
        '%s - "%s %s HTTP/%s" %d',
        "203.0.113.9:53211",
        "GET",
        f"/v/{token}/polls/3",
        "1.1",
        200,
    )
    assert line.getMessage() == '- - "GET /v/vc_[hidden]/polls/3 HTTP/1.1" 200'


def test_a_websocket_line_from_an_ipv6_client_hides_the_address_and_the_room_token() -> None:
    token = TOKENS.sign(JUROR_ROOM, 7)
    line = record(
        "uvicorn.error",
        '%s - "WebSocket %s" [accepted]',
        "[2001:db8::1]:443",
        f"/live/x?token={token}&after=4",
    )
    assert line.getMessage() == '- - "WebSocket /live/x?token=[hidden]&after=4" [accepted]'


@given(
    st.sampled_from(
        [
            STAFF_SESSION,
            STAFF_DEVICE,
            STAFF_INVITE,
            PASSWORD_RESET,
            SIGN_IN_LINK,
            VOTER_CODE,
            JUROR_INVITE,
            JUROR_ROOM,
        ]
    ),
    st.integers(),
)
def test_no_signed_token_of_any_kind_survives_anywhere_in_a_message(kind: object, payload: int) -> None:
    token = TOKENS.sign(kind, payload)  # type: ignore[arg-type]
    for text in (f"welcome {token}", f"/staff/welcome?token={token}", f"/juries/3/invitation/{token}."):
        assert token not in redact(text)
        assert token.split(".")[-1] not in redact(text)


@given(st.data())
def test_short_codes_are_hidden_as_printed_run_together_and_in_a_card_link(data: st.DataObject) -> None:
    code = new_short_code()
    printed = format_short_code(code)
    for text in (
        f"typed {printed} at the booth",
        f"typed {code}",
        f"GET /c/{code.lower()} HTTP/1.1",
        f"/vote?code={printed}",
    ):
        hidden = redact(text)
        assert code not in hidden and printed not in hidden and code.lower() not in hidden, hidden


def test_an_exception_message_carrying_a_token_is_redacted_in_the_traceback() -> None:
    token = TOKENS.sign(STAFF_INVITE, "someone@council.example")
    try:
        raise ValueError(f"could not read {token}")
    except ValueError as exc:
        redact_secrets()
        made = logging.getLogger("polls").makeRecord(
            "polls", logging.ERROR, __file__, 1, "failed", (), (type(exc), exc, exc.__traceback__)
        )
    text = logging.Formatter().format(made)
    assert "si_[hidden]" in text and token not in text


def test_ordinary_figures_and_ids_are_left_alone() -> None:
    line = record(
        "polls.tallies", "rebuilt live tallies for %d poll(s) in %.1f s at %s", 3, 0.25, "/polls/12/results"
    )
    assert line.getMessage() == "rebuilt live tallies for 3 poll(s) in 0.2 s at /polls/12/results"
