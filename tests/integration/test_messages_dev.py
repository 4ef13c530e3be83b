"""`polls dev`'s embedded SMTP server: what the app sends arrives there, through a real SMTP
exchange, and /dev/messages shows it beside the text messages and letters; `serve` has no such page."""

from __future__ import annotations

import dataclasses

import httpx
from redis.asyncio import Redis

from polls.app import create_app
from polls.runtime import Runtime
from polls.settings import Settings
from polls.store import messages as outbox


async def test_dev_messages_shows_emails_received_over_smtp_and_text_messages(
    settings: Settings, redis: Redis
) -> None:
    app = create_app(dataclasses.replace(settings, messages="dev"), run_scheduler=False)
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        async with rt.db.begin() as session:
            for channel, recipient in (("email", "juror@example.org"), ("sms", "+447700900123")):
                await outbox.enqueue(
                    session,
                    channel=channel,
                    recipient=recipient,
                    template="room_link",
                    personalisation={
                        "council": "Demo Borough",
                        "jury": "Climate jury",
                        "link": "http://x/jr_1",
                    },
                    purpose="room_link",
                )
        assert rt.messages is not None and rt.dev_inbox is not None
        assert await rt.messages.run_once() == 2
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            page = await http.get("/dev/messages")
    assert page.status_code == 200
    assert "Email to juror@example.org" in page.text
    assert "Your link to the jury room" in page.text
    assert "Text message to +447700900123" in page.text
    assert page.text.count("http://x/jr_1") == 2


async def test_there_is_no_dev_messages_page_outside_polls_dev(client: httpx.AsyncClient) -> None:
    assert (await client.get("/dev/messages")).status_code == 404
