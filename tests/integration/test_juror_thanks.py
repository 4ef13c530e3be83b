"""Publishing a jury's report thanks each juror who sat on it, by email or text message where we
can write to them, with the public report's link, in the same transaction as the publication."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select, update

from polls.settings import Settings
from polls.store.models import Juror, Message
from tests.integration.test_jury_reports import Setup, ready_to_answer, setup  # noqa: F401
from tests.mail import MailServer
from tests.messaging import send_queued


async def answer_everything(officer: httpx.AsyncClient, jury: Setup) -> None:
    session_id, passed, failed = await ready_to_answer(jury)
    for rec in (passed, failed):
        saved = await officer.put(
            f"/api/juries/{jury.jury_id}/report/sessions/{session_id}/recommendations/{rec}/response",
            json={"decision": "accepted", "explanation": "We will."},
        )
        assert saved.status_code == 200, saved.text


async def give_contacts(jury: Setup) -> None:
    """Juror 1 by email, juror 2 by phone, juror 3 by email but in Welsh, juror 4 unreachable."""
    first, second, third, _ = jury.jurors
    async with jury.db.begin() as s:
        await s.execute(update(Juror).where(Juror.id == first).values(email="zelda@example.org"))
        await s.execute(update(Juror).where(Juror.id == second).values(phone="+447911123456"))
        await s.execute(update(Juror).where(Juror.id == third).values(email="xena@example.org"))
        # Xena's invitation went out in Welsh: so does her thank-you.
        s.add(
            Message(channel="email", recipient="", template="juror_invite", language="cy",
                    personalisation={}, status="delivered", attempts=1, purpose="juror_invite",
                    pilot_id=jury.pilot_id, jury_id=jury.jury_id, juror_id=third)
        )  # fmt: skip


async def thanks(jury: Setup) -> list[tuple[str, str, str]]:
    async with jury.db() as s:
        query = select(Message.channel, Message.recipient, Message.language).where(
            Message.template == "juror_thanks"
        )
        return [tuple(row) for row in (await s.execute(query.order_by(Message.id))).all()]  # type: ignore[misc]


async def test_publishing_the_report_thanks_every_juror_we_can_write_to_with_its_link(
    officer: httpx.AsyncClient,
    setup: Setup,  # noqa: F811
    settings: Settings,
    mail_server: MailServer,
) -> None:
    await give_contacts(setup)
    await answer_everything(officer, setup)
    assert await thanks(setup) == []
    published = await officer.post(f"/api/juries/{setup.jury_id}/report/publish")
    assert published.status_code == 200, published.text
    assert sorted(await thanks(setup)) == [
        ("email", "xena@example.org", "cy"),
        ("email", "zelda@example.org", "en"),
        ("sms", "+447911123456", "en"),
    ]
    await send_queued(settings, mail_server)
    [english] = mail_server.to("zelda@example.org")
    assert english["Subject"] == "Thank you for serving on Energy jury"
    body = mail_server.body(english)
    assert f"{settings.base_url}/juries/{setup.jury_id}/report" in body
    assert "Northshire Council" in body
    [welsh] = mail_server.to("xena@example.org")
    assert welsh["Subject"] == "Diolch am wasanaethu ar Energy jury"


@pytest.mark.parametrize("how", ["api", "page"])
async def test_a_refused_publication_thanks_nobody(
    officer: httpx.AsyncClient,
    setup: Setup,  # noqa: F811
    how: str,
) -> None:
    await give_contacts(setup)
    await ready_to_answer(setup)  # recommendations left unanswered: publication is refused
    if how == "api":
        refused = await officer.post(f"/api/juries/{setup.jury_id}/report/publish")
    else:
        refused = await officer.post(f"/council/juries/{setup.jury_id}/report/publish", data={})
    assert refused.status_code == 409
    assert await thanks(setup) == []
