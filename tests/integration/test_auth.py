"""Staff sign-in: argon2 passwords, a rotated signed cookie, CSRF on forms, throttling."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.store.models import Staff
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, sign_in
from tests.factories import csrf_from


async def test_password_is_stored_as_argon2(admin: int, db: AsyncSession) -> None:
    stored = (await db.execute(select(Staff.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$")
    assert ADMIN_PASSWORD not in stored


async def test_sign_in_form_sets_a_new_httponly_samesite_cookie(
    client: httpx.AsyncClient, admin: int
) -> None:
    page = await client.get("/sign-in")
    before = client.cookies.get("polls_session")
    response = await client.post(
        "/sign-in?next=/council",
        data={"csrf_token": csrf_from(page.text), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/council"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    after = client.cookies.get("polls_session")
    assert after and after != before
    home = await client.get("/council")
    assert home.status_code == 200
    assert "Ada Admin" in home.text
    # The CSRF token changed at sign-in, so one captured before it is useless now.
    assert csrf_from(home.text) != csrf_from(page.text)


async def test_sign_in_form_without_csrf_token_is_refused(client: httpx.AsyncClient, admin: int) -> None:
    await client.get("/sign-in")
    response = await client.post("/sign-in", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.status_code == 403
    assert "expired or came from another site" in response.text
    assert (await client.get("/council")).status_code == 303


async def test_wrong_password_shows_the_message_next_to_the_field(
    client: httpx.AsyncClient, admin: int
) -> None:
    page = await client.get("/sign-in")
    response = await client.post(
        "/sign-in",
        data={"csrf_token": csrf_from(page.text), "email": ADMIN_EMAIL, "password": "wrong password"},
    )
    assert response.status_code == 401
    assert "govuk-error-summary" in response.text
    assert 'id="email-error"' in response.text
    assert "email address or password is not right" in response.text


async def test_sign_in_is_throttled_after_repeated_failures(
    client: httpx.AsyncClient, admin: int, redis: Redis
) -> None:
    for _ in range(5):
        response = await client.post("/api/session", json={"email": ADMIN_EMAIL, "password": "guess"})
        assert response.status_code == 401
        assert response.json()["code"] == "bad_credentials"
    blocked = await client.post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "too_many_requests"
    assert int(blocked.headers["retry-after"]) > 0
    assert await redis.exists("throttle:signin:email:admin@council.example")


async def test_forged_or_foreign_session_cookie_is_treated_as_signed_out(
    client: httpx.AsyncClient, admin: int
) -> None:
    await sign_in(client)
    value = client.cookies.get("polls_session")
    assert value is not None
    client.cookies.set("polls_session", value[:-4] + "AAAA")
    assert (await client.get("/api/pilots")).status_code == 401


async def test_signing_out_ends_the_session(client: httpx.AsyncClient, admin: int) -> None:
    await sign_in(client)
    assert (await client.delete("/api/session")).status_code == 204
    assert (await client.get("/api/pilots")).status_code == 401


async def test_next_parameter_cannot_send_people_to_another_site(
    client: httpx.AsyncClient, admin: int
) -> None:
    page = await client.get("/sign-in")
    response = await client.post(
        "/sign-in?next=//evil.example/x",
        data={"csrf_token": csrf_from(page.text), "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
    )
    assert response.headers["location"] == "/council"


async def test_pages_carry_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/sign-in")
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_oversized_body_gets_413_and_nothing_happens(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/session", content=b"x" * (7 * 1024 * 1024), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


async def test_redis_outage_gives_503_not_500(client: httpx.AsyncClient, admin: int, redis_server) -> None:  # type: ignore[no-untyped-def]
    # Point this app at a Redis nobody listens on, as if it had just gone down.
    from redis.asyncio import Redis as AsyncRedis

    from polls.runtime import Runtime
    from tests.servers import free_port

    app = client._transport.app  # type: ignore[attr-defined]
    runtime: Runtime = app.state.runtime
    dead = AsyncRedis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    runtime.signin_throttle.redis = dead
    try:
        response = await client.post("/api/session", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert response.status_code == 503
        assert response.json()["code"] == "service_unavailable"
    finally:
        await dead.aclose()
