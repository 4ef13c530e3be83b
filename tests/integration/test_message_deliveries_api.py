"""The delivery-status API: per jury and per poll, counts and messages by status, never their
words, links or addresses; a failed message is sent again through it."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from polls.settings import Settings
from tests.integration.test_juror_messages import send_invitation
from tests.integration.test_jury_selection_invitations import inviting_jury, juror_of
from tests.integration.test_results_subscriptions import open_poll, subscribe
from tests.mail import MailServer
from tests.messaging import send_queued


def shows_nothing_private(text: str) -> None:
    for secret in ("example.org", "+44", "ji_", "jr_", "token", "personalisation", "recipient", "http"):
        assert secret not in text, secret


async def test_a_jurys_deliveries_show_status_only_and_a_dead_one_is_sent_again(
    officer: httpx.AsyncClient, settings: Settings, mail_server: MailServer, db: AsyncSession
) -> None:
    jury, sent = await inviting_jury(officer)
    sam, kim = await juror_of(db, sent[0]["id"]), await juror_of(db, sent[1]["id"])
    await db.rollback()
    await send_invitation(officer, jury["id"], sam.id, "sam@example.org")
    await send_invitation(officer, jury["id"], kim.id, "kim@example.org")
    mail_server.refusals.append("550 5.1.1 mailbox gone")
    await send_queued(settings, mail_server)
    url = f"/api/juries/{jury['id']}/messages"
    listed = await officer.get(url)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert sum(body["counts"].values()) == 2 and body["counts"].get("dead") == 1
    [dead] = [m for m in body["messages"] if m["status"] == "dead"]
    assert dead["purpose"] == "juror_invite" and dead["juror_id"] in (sam.id, kim.id)
    assert dead["can_retry"] is True and dead["last_error"]
    shows_nothing_private(listed.text)

    retried = await officer.post(f"/api/messages/{dead['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "queued" and retried.json()["attempts"] == 0
    again = await officer.post(f"/api/messages/{dead['id']}/retry")  # not failed any more
    assert again.status_code == 409 and again.json()["code"] == "message_not_retryable"
    await send_queued(settings, mail_server)
    after = (await officer.get(url)).json()
    assert "dead" not in after["counts"]
    missing = await officer.post("/api/messages/999999/retry")
    assert missing.status_code == 404 and missing.json()["code"] == "message_not_found"


async def test_a_polls_deliveries_to_residents_show_counts_and_failures_without_addresses(
    officer: httpx.AsyncClient, settings: Settings, mail_server: MailServer
) -> None:
    poll = await open_poll(officer)
    for i in range(5):
        await subscribe(officer, poll["id"], f"resident{i}@example.org")
    mail_server.refusals.append("550 5.1.1 no such mailbox")
    await send_queued(settings, mail_server)
    listed = await officer.get(f"/api/polls/{poll['id']}/messages")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["subscribers"] == 5
    assert body["counts"] == {"sent": 4, "dead": 1}
    [dead] = body["messages"]  # only those needing attention
    assert dead["purpose"] == "results_subscribed" and dead["juror_id"] is None
    shows_nothing_private(listed.text)
    assert "resident" not in listed.text
    assert (await officer.post(f"/api/messages/{dead['id']}/retry")).status_code == 200


async def test_deliveries_need_a_signed_in_officer_of_the_pilot_and_are_in_the_openapi_document(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    jury, _ = await inviting_jury(officer)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as stranger:
        assert (await stranger.get(f"/api/juries/{jury['id']}/messages")).status_code == 401
        assert (await stranger.post("/api/messages/1/retry")).status_code in (401, 403)
    assert (await officer.get("/api/juries/999999/messages")).status_code == 404
    assert (await officer.get("/api/polls/999999/messages")).status_code == 404
    paths = (await officer.get("/api/openapi.json")).json()["paths"]
    assert "get" in paths["/api/juries/{jury_id}/messages"]
    assert "get" in paths["/api/polls/{poll_id}/messages"]
    assert "post" in paths["/api/messages/{message_id}/retry"]
