"""Adversary: someone outside the council who wants to know which email addresses have staff
accounts (to phish them, or to guess their passwords). They ask "forgot my password" (or "email
me a sign-in link") for addresses and compare the answers. The answer must be the same for a staff
member's address and for anyone else's: same status, same page (but for the address echoed back),
same headers."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_EMAIL
from tests.factories import csrf_from

STRANGER = "nobody@council.example"


async def answer(client: httpx.AsyncClient, email: str, url: str) -> tuple[int, str, list[str]]:
    form = await client.get(url)
    response = await client.post(url, data={"csrf_token": csrf_from(form.text), "email": email})
    page = response.text.replace(email, "EMAIL")
    return response.status_code, page, sorted(k for k in response.headers if k != "content-length")


@pytest.mark.parametrize("url", ["/sign-in/forgot", "/sign-in/email-link"])
async def test_emailed_links_are_answered_alike_whether_or_not_the_account_exists(
    client: httpx.AsyncClient, admin: int, url: str
) -> None:
    staff = await answer(client, ADMIN_EMAIL, url)
    stranger = await answer(client, STRANGER, url)
    assert staff == stranger
    assert staff[0] == 200
