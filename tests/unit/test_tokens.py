"""Token reads: the quick path (polls.tokens._Serializer.quick_loads) accepts exactly what
itsdangerous accepts, with the same payload, and leaves every refusal to itsdangerous."""

from __future__ import annotations

import time
from typing import Any

import pytest

from polls.tokens import STAFF_SESSION, VOTER_CODE, TokenExpired, TokenInvalid, Tokens

OLD, NEW = "old-key-" + "x" * 24, "new-key-" + "y" * 24


@pytest.mark.parametrize(
    "payload", ["KX7PQM4RT9WZ", "A" * 40, {"j": 3, "n": "abc"}, ["é", 1, None, True], "", 0]
)
def test_the_quick_path_reads_what_itsdangerous_reads(payload: Any) -> None:
    tokens = Tokens((NEW,))
    token = tokens.sign(VOTER_CODE, payload)
    serializer = tokens._serializer(VOTER_CODE)
    body = token[len(VOTER_CODE.prefix) :]
    assert serializer.loads(body, max_age=VOTER_CODE.max_age) == payload
    quick = serializer.quick_loads(body, VOTER_CODE.max_age)
    assert quick == payload
    assert tokens.read(VOTER_CODE, token) == payload


def test_a_token_signed_with_an_older_listed_key_is_read_quickly() -> None:
    token = Tokens((OLD,)).sign(VOTER_CODE, "KX7PQM4RT9WZ")
    rotated = Tokens((OLD, NEW))
    assert rotated._serializer(VOTER_CODE).quick_loads(token[3:], VOTER_CODE.max_age) == "KX7PQM4RT9WZ"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),  # signature
        lambda t: t.replace(".", ".x", 1),  # payload
        lambda t: t + ".",
        lambda t: t.rpartition(".")[0],
        lambda t: "." + t,
        lambda t: t[:3] + "\ud800" + t[3:],
    ],
)
def test_spoiled_tokens_are_refused_by_both(spoil: Any) -> None:
    tokens = Tokens((NEW,))
    token = spoil(tokens.sign(VOTER_CODE, "KX7PQM4RT9WZ"))
    assert tokens._serializer(VOTER_CODE).quick_loads(token[3:], VOTER_CODE.max_age) is None
    with pytest.raises((TokenInvalid, UnicodeEncodeError)):
        tokens.read(VOTER_CODE, token)


def test_other_keys_other_kinds_and_old_tokens_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = Tokens((OLD,)).sign(VOTER_CODE, "KX7PQM4RT9WZ")
    with pytest.raises(TokenInvalid):
        Tokens((NEW,)).read(VOTER_CODE, token)
    staff = Tokens((NEW,)).sign(STAFF_SESSION, "KX7PQM4RT9WZ")
    with pytest.raises(TokenInvalid):  # same key, another salt
        Tokens((NEW,)).read(VOTER_CODE, VOTER_CODE.prefix + staff[len(STAFF_SESSION.prefix) :])
    tokens = Tokens((NEW,))
    fresh = tokens.sign(STAFF_SESSION, "x")
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + STAFF_SESSION.max_age + 5)
    with pytest.raises(TokenExpired):
        tokens.read(STAFF_SESSION, fresh)
    monkeypatch.setattr(time, "time", lambda: now - 60)  # signed "in the future": refused as expired
    with pytest.raises(TokenExpired):
        tokens.read(STAFF_SESSION, fresh)
