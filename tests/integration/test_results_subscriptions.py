"""Residents' "tell me when the results are published": kept apart from the ballot, written in
batches, confirmed with a link to stop it, told once the results are out, then deleted."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from polls.messaging.subscribers import sweep
from polls.runtime import Runtime
from polls.settings import Settings
from polls.store.models import Message, ResultSubscription
from tests.conftest import count
from tests.factories import csrf_from, make_pilot, make_poll
from tests.mail import MailServer
from tests.messaging import send_queued


def runtime_of(client: httpx.AsyncClient) -> Runtime:
    rt: Runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    return rt


async def subscribe(http: httpx.AsyncClient, poll_id: int, contact: str) -> httpx.Response:
    page = await http.get(f"/polls/{poll_id}/results-subscription")
    assert page.status_code == 200
    return await http.post(
        f"/polls/{poll_id}/results-subscription",
        data={"csrf_token": csrf_from(page.text), "contact": contact},
    )


async def open_poll(officer: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    pilot = await make_pilot(officer)
    poll = await make_poll(officer, pilot["id"], secrecy_k=5, **changes)
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    return poll


async def test_subscriptions_wait_for_k_of_them_then_are_written_with_confirmations(
    officer: httpx.AsyncClient, settings: Settings, mail_server: MailServer, db: AsyncSession
) -> None:
    poll = await open_poll(officer)
    for i in range(4):
        answer = await subscribe(officer, poll["id"], f"resident{i}@example.org")
        assert answer.status_code == 200
        assert "may take a while" in answer.text
    assert await count(db, ResultSubscription) == 0  # nothing stored could date these four
    assert await count(db, Message) == 0
    await subscribe(officer, poll["id"], "07911 123456")
    assert await count(db, ResultSubscription) == 5
    await send_queued(settings, mail_server)
    [confirmation] = mail_server.to("resident0@example.org")
    assert confirmation["Subject"].strip().startswith("We will tell you when the results of")
    unsubscribe = re.search(
        r"http://\S+(/polls/\d+/results-subscriptions/\S+)", mail_server.body(confirmation)
    )
    assert unsubscribe is not None
    async with httpx.AsyncClient(transport=officer._transport, base_url="http://testserver") as stranger:
        page = await stranger.get(unsubscribe.group(1))  # no sign-in
        assert page.status_code == 200
        stopped = await stranger.post(unsubscribe.group(1), data={"csrf_token": csrf_from(page.text)})
        assert stopped.status_code == 200 and "deleted your address" in stopped.text
    assert await count(db, ResultSubscription) == 4


async def test_residents_are_told_once_when_the_results_are_published_and_forgotten(
    officer: httpx.AsyncClient, settings: Settings, mail_server: MailServer, db: AsyncSession
) -> None:
    poll = await open_poll(officer)
    for i in range(7):  # one batch of five written, two still waiting when voting ends
        await subscribe(officer, poll["id"], f"resident{i}@example.org")
    rt = runtime_of(officer)
    assert await count(db, ResultSubscription) == 5
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/close")).status_code == 200
    assert await sweep(rt.db, rt.subscriptions) == 0
    assert await count(db, ResultSubscription) == 7  # voting is over: the last two are written
    await send_queued(settings, mail_server)  # the seven confirmations
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/review")).status_code == 200
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/publish")).status_code == 200
    assert await sweep(rt.db, rt.subscriptions) == 7
    assert await sweep(rt.db, rt.subscriptions) == 0  # told once
    assert await count(db, ResultSubscription) == 0
    mail_server.refusals.append("550 5.1.1 no such mailbox")
    await send_queued(settings, mail_server)
    told = [m for m in mail_server.received if m["Subject"].strip().startswith("The results of")]
    assert len(told) == 6
    assert f"/polls/{poll['id']}/results" in mail_server.body(told[0])
    # Once sent, a resident's message keeps no more of them than an officer may see.
    sent = (
        await db.execute(select(Message.recipient, Message.personalisation).where(Message.status == "sent"))
    ).all()
    assert len(sent) == 7 + 6 and all(r.startswith("r•••@") and p == {} for r, p in sent)
    page = await officer.get(f"/council/polls/{poll['id']}")
    assert "7 residents asked" not in page.text and "0 residents asked" in page.text
    assert "1 dead" in page.text and "13 sent" in page.text
    assert "r•••@example.org" in page.text and "@example.org</td>" not in page.text.replace(
        "r•••@example.org</td>", ""
    )


async def test_a_contact_that_is_neither_email_nor_phone_is_refused_at_the_field(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    poll = await open_poll(officer)
    refused = await subscribe(officer, poll["id"], "my house")
    assert refused.status_code == 422
    assert "Enter an email address or a phone number" in refused.text
    assert not await runtime_of(officer).subscriptions.waiting_polls()
