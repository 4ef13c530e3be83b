"""Residents see the poll in their language where the pilot offers several."""

from __future__ import annotations

from typing import Any

import httpx

from polls.domain.translations import choose_language
from polls.settings import Settings
from tests.factories import csrf_from, make_pilot, make_poll
from tests.voting_setup import issue, token


def welsh(poll: dict[str, Any]) -> dict[str, Any]:
    question = poll["questions"][0]
    return {
        "title": "Oriau agor y llyfrgell",
        "questions": {
            str(question["id"]): {
                "title": "A ddylai'r llyfrgell agor ar ddydd Sul?",
                "options": {
                    str(question["options"][0]["id"]): "Dylai",
                    str(question["options"][1]["id"]): "Na ddylai",
                },
            }
        },
    }


async def test_officer_translates_a_poll_and_residents_read_it_in_welsh(
    officer: httpx.AsyncClient, client: httpx.AsyncClient, settings: Settings
) -> None:
    pilot = await make_pilot(officer, languages=["en", "cy"])
    area = (
        await officer.post(f"/api/pilots/{pilot['id']}/areas", json={"name": "Bangor", "code": "W1"})
    ).json()
    poll = await make_poll(officer, pilot["id"])
    response = await officer.put(f"/api/polls/{poll['id']}/translations/cy", json=welsh(poll))
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Oriau agor y llyfrgell"
    await officer.post(f"/api/polls/{poll['id']}/actions/open")
    (code,) = await issue(settings, pilot["id"], area["id"], 1)

    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as resident:
        url = f"/v/{token(code)}/polls/{poll['id']}"
        page = await resident.get(url + "?lang=cy")
        assert '<html lang="cy"' in page.text
        assert "Oriau agor y llyfrgell" in page.text
        assert "Na ddylai" in page.text
        assert "Gwirio eich atebion" in page.text  # the service's own words too
        again = await resident.get(url)  # the choice is remembered
        assert "Oriau agor y llyfrgell" in again.text
        english = await resident.get(url + "?lang=en")
        assert "Library opening hours" in english.text and "Check your answers" in english.text


async def test_browser_language_is_used_when_offered(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    assert choose_language(["en", "cy"], None, None, "cy-GB,cy;q=0.9,en;q=0.5") == "cy"
    assert choose_language(["en", "cy"], "fr", None, "fr") == "en"
    assert choose_language(["en", "cy"], None, "cy", "en") == "cy"


async def test_translations_are_checked_and_only_for_drafts(officer: httpx.AsyncClient) -> None:
    pilot = await make_pilot(officer, languages=["en", "cy"])
    poll = await make_poll(officer, pilot["id"])
    not_offered = await officer.put(f"/api/polls/{poll['id']}/translations/gd", json={"title": "Fosgladh"})
    assert (not_offered.status_code, not_offered.json()["errors"][0]["field"]) == (422, "language")
    unknown = await officer.put(
        f"/api/polls/{poll['id']}/translations/cy", json={"questions": {"999999": {"title": "Dim"}}}
    )
    assert unknown.status_code == 422
    await officer.post(f"/api/polls/{poll['id']}/actions/open")
    late = await officer.put(f"/api/polls/{poll['id']}/translations/cy", json=welsh(poll))
    assert (late.status_code, late.json()["code"]) == (409, "poll_not_editable")


async def test_translation_page_saves_and_shows_originals_as_hints(officer: httpx.AsyncClient) -> None:
    import re

    pilot = await make_pilot(officer, languages=["en", "cy"])
    poll = await make_poll(officer, pilot["id"])
    url = f"/council/polls/{poll['id']}/translations/cy"
    page = await officer.get(url)
    assert page.status_code == 200
    assert "Library opening hours" in page.text  # the original, as a hint
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    question = poll["questions"][0]
    saved = await officer.post(
        url,
        data={
            "csrf_token": csrf.group(1),
            "title": "Oriau agor",
            f"q{question['id']}_title": "Dydd Sul?",
            f"o{question['options'][0]['id']}": "Ie",
        },
    )
    assert saved.status_code == 303
    stored = (await officer.get(f"/api/polls/{poll['id']}/translations/cy")).json()
    assert stored["title"] == "Oriau agor"
    assert stored["questions"][str(question["id"])]["options"][str(question["options"][0]["id"])] == "Ie"


async def test_every_page_can_be_read_in_welsh_and_the_choice_is_kept(client: httpx.AsyncClient) -> None:
    english = await client.get("/")
    assert '<html lang="en"' in english.text and "Skip to main content" in english.text
    assert 'hreflang="cy" href="?lang=cy"' in english.text  # the switch is on every page
    welsh = await client.get("/?lang=cy")
    assert '<html lang="cy"' in welsh.text and "Neidio i’r prif gynnwys" in welsh.text
    assert "polls_lang=cy" in welsh.headers["set-cookie"]
    missing = await client.get("/no-such-page")  # another page, the error page, in the language kept
    assert missing.status_code == 404 and "Heb ddod o hyd i’r dudalen" in missing.text


async def test_a_language_not_offered_falls_back_to_the_pilots_first_language(
    officer: httpx.AsyncClient, client: httpx.AsyncClient, settings: Settings
) -> None:
    pilot = await make_pilot(officer, languages=["cy", "en"])
    ward = {"name": "Ward", "code": "W1"}
    area = (await officer.post(f"/api/pilots/{pilot['id']}/areas", json=ward)).json()
    poll = await make_poll(officer, pilot["id"])
    await officer.post(f"/api/polls/{poll['id']}/actions/open")
    (code,) = await issue(settings, pilot["id"], area["id"], 1)
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as resident:
        page = await resident.get(f"/v/{token(code)}/polls/{poll['id']}?lang=xx")
        assert page.status_code == 200 and '<html lang="cy"' in page.text
        assert "Gwirio eich atebion" in page.text and "polls_lang" not in page.headers.get("set-cookie", "")
        empty = await resident.post(page.url.path, data={"csrf_token": csrf_from(page.text)})
        assert empty.status_code == 422 and "Atebwch o leiaf un cwestiwn" in empty.text


async def test_the_results_subscription_form_and_its_problems_are_in_welsh(
    officer: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    pilot = await make_pilot(officer, languages=["en", "cy"])
    poll = await make_poll(officer, pilot["id"])
    assert (await officer.post(f"/api/polls/{poll['id']}/actions/open")).status_code == 200
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as resident:
        url = f"/polls/{poll['id']}/results-subscription"
        page = await resident.get(url + "?lang=cy")
        assert "Dywedwch wrthyf pan fydd y canlyniadau wedi’u cyhoeddi" in page.text
        refused = await resident.post(
            url, data={"csrf_token": csrf_from(page.text), "contact": "not an address"}
        )
        assert refused.status_code == 422
        assert "Rhowch gyfeiriad e-bost neu rif ffôn" in refused.text
        assert "Enter an email address" not in refused.text
