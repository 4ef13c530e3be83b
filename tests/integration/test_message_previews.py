"""Officers preview every message a pilot sends, in each of its languages, with the council's name
and contact, before any is sent; a template missing a personalisation field fails its preview."""

from __future__ import annotations

import html

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain import messages
from polls.domain.messages import TEMPLATES, Template, Wording
from polls.store.models import Message
from tests.conftest import count
from tests.factories import make_pilot


async def preview(officer: httpx.AsyncClient, **pilot: object) -> tuple[dict[str, object], str]:
    made = await make_pilot(officer, **pilot)
    page = await officer.get(f"/council/pilots/{made['id']}/messages")
    assert page.status_code == 200, page.text
    return made, html.unescape(page.text)


async def test_every_template_is_shown_in_each_language_with_the_councils_name_and_contact(
    officer: httpx.AsyncClient, db: AsyncSession
) -> None:
    pilot, page = await preview(
        officer, languages=["en", "cy"], council="Cyngor Sir Ynys Môn", contact_phone="01248 750057"
    )
    for name in TEMPLATES:
        assert f'id="{name}-en"' in page and f'id="{name}-cy"' in page, name
    assert "Rydych wedi cael eich dewis ar gyfer rheithgor dinasyddion Cyngor Sir Ynys Môn" in page
    assert "Questions? Contact democracy@northshire.example or 01248 750057." in page
    assert "http://127.0.0.1:8000/example-link" in page
    assert "Text message (" in page and "cannot be sent" not in page
    assert await count(db, Message) == 0  # a preview sends nothing
    overview = await officer.get(f"/council/pilots/{pilot['id']}")
    assert f'href="/council/pilots/{pilot["id"]}/messages"' in overview.text


async def test_a_language_without_its_own_words_says_the_english_ones_are_sent(
    officer: httpx.AsyncClient,
) -> None:
    _, page = await preview(officer, languages=["en", "gd"])
    assert 'id="juror_invite-gd"' in page
    assert "no words of its own in Gàidhlig yet: the English ones are sent" in page


@pytest.mark.parametrize(
    ("fields", "body", "problem"),
    [
        (("council", "deadline"), "Reply by ((deadline)).", "The broken message needs deadline"),
        (("council",), "Reply by ((deadline)).", "The words of the broken message use ((deadline))"),
    ],
)
async def test_a_template_missing_a_personalisation_field_fails_its_preview(
    officer: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    fields: tuple[str, ...],
    body: str,
    problem: str,
) -> None:
    broken = Template("broken", fields, {"en": Wording("Hello", body, body)})
    monkeypatch.setitem(messages.TEMPLATES, "broken", broken)
    _, page = await preview(officer)
    assert "1 message cannot be sent as it stands" in page
    assert problem in page
    assert 'href="#broken-en"' in page


async def test_only_signed_in_staff_of_the_pilot_may_preview(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    pilot = await make_pilot(officer)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as stranger:
        anonymous = await stranger.get(f"/council/pilots/{pilot['id']}/messages")
        assert anonymous.status_code in (303, 401)
        assert "Preview" not in anonymous.text and "juror_invite" not in anonymous.text
    assert (await officer.get("/council/pilots/999999/messages")).status_code == 404
