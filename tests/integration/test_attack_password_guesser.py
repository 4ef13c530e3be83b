"""Adversary: a password guesser. Sends guesses for one officer's email, in bursts, from one
address or many, and tries to lock the officer out. The throttle counts each attempt before the
password is checked, atomically, so a burst gets no more guesses than a patient guesser."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD


async def _guess(http: httpx.AsyncClient, password: str) -> int:
    response = await http.post("/api/session", json={"email": ADMIN_EMAIL, "password": password})
    return response.status_code


async def test_a_burst_of_guesses_gets_no_more_checks_than_the_limit(
    client: httpx.AsyncClient, admin: int
) -> None:
    statuses = await asyncio.gather(*(_guess(client, f"guess {n}") for n in range(50)))
    evaluated = [s for s in statuses if s == 401]
    assert len(evaluated) <= 5, statuses
    assert set(statuses) <= {401, 429}


async def test_the_right_password_late_in_a_burst_does_not_sign_in(
    client: httpx.AsyncClient, admin: int
) -> None:
    guesses = [f"guess {n}" for n in range(40)] + [ADMIN_PASSWORD]
    statuses = await asyncio.gather(*(_guess(client, p) for p in guesses))
    assert statuses[-1] == 429, statuses
    assert 200 not in statuses


async def test_many_officers_signing_in_from_one_address_are_not_throttled(
    client: httpx.AsyncClient, admin: int
) -> None:
    for _ in range(8):
        assert await _guess(client, ADMIN_PASSWORD) == 200
