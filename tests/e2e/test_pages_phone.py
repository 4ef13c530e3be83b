"""Every page of every journey (public, resident, juror, observer, moderator, officer) on the demo
pilot, in Chromium at 320 px and at 1280 px: no axe-core violation, nothing wider than the screen."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from polls import demo
from polls.app import create_app
from polls.demo.jury import demo_room_links
from polls.domain.juries import JurorStatus
from polls.settings import Settings
from polls.store import jurors as juror_store
from polls.store.db import open_engine, sessions_for
from polls.store.models import Juror
from polls.tokens import VOTER_CODE, Tokens
from tests.browser import PageCheck, chromium, need_browser
from tests.servers import free_port, in_this_process

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


@dataclass(frozen=True)
class Demo:
    base: str
    info: demo.DemoInfo
    vote_links: list[str]  # a resident's link per fresh card
    room_links: list[str]  # the accepted jurors' room links
    invitations: list[str]  # invitations not yet answered


async def seed(settings: Settings) -> Demo:
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    tokens = Tokens(settings.secret_keys)
    try:
        async with sessions_for(engine).begin() as session:
            info = await demo.fresh_codes(session, await demo.seed(session), settings.data_dir)
            rooms = await demo_room_links(session, tokens, settings.base_url, info.jury_id)
            waiting = await session.scalars(
                select(Juror).where(Juror.jury_id == info.jury_id, Juror.status == JurorStatus.INVITED)
            )
            invitations = [juror_store.invitation_link(tokens, settings.base_url, j) for j in waiting]
    finally:
        await engine.dispose()
    votes = [f"{settings.base_url}/v/{tokens.sign(VOTER_CODE, short)}" for _, short in info.codes]
    return Demo(settings.base_url, info, votes, [link for _, link in rooms], invitations)


@pytest.fixture
async def running_demo(settings: Settings) -> AsyncIterator[Demo]:
    need_browser()
    port = free_port()
    settings = dataclasses.replace(settings, base_url=f"http://127.0.0.1:{port}")
    seeded = await seed(settings)
    async with in_this_process(create_app(settings, run_scheduler=False), port=port):
        yield seeded


async def sign_in(page: Any, checks: PageCheck) -> None:
    await page.goto(checks.base + "/sign-in")
    await checks.check(page, "/sign-in")
    await page.get_by_label("Email address").fill(demo.DEMO_EMAIL)
    await page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


async def resident_votes(page: Any, checks: PageCheck, d: Demo) -> None:
    """By link: their polls, the ballot, the review, the receipt; then the same code again."""
    await page.goto(d.vote_links[0])
    await checks.check(page, "/v/{token}")
    ballot = f"{d.vote_links[0]}/polls/{d.info.poll_id}"
    await page.goto(ballot)
    await checks.check(page, "/v/{token}/polls/{id} ballot")
    await page.get_by_role("button", name="Check your answers").click()
    await checks.check(page, "ballot with an error")  # nothing answered
    await page.get_by_label("Most days").check()
    await page.get_by_role("button", name="Check your answers").click()
    await checks.check(page, "ballot review")
    await page.get_by_role("button", name="Send my vote").click()
    await checks.check(page, "receipt")
    await page.goto(ballot)
    await checks.check(page, "ballot of a used code")
    # By typing the short code on /vote.
    await page.goto(d.base + "/vote")
    await page.get_by_label("code", exact=False).first.fill(d.info.codes[1][1])
    await page.get_by_role("button", name="Continue").click()
    await checks.check(page, "/vote answered")


async def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def resident_votes_by_keyboard(page: Any, d: Demo) -> None:
    from playwright.async_api import expect

    await page.goto(f"{d.vote_links[2]}/polls/{d.info.poll_id}")
    await tab_to(page, "input[type=radio]")
    await page.keyboard.press("Space")
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("button", name="Send my vote")).to_be_visible()
    await tab_to(page, "button[type=submit]")
    await page.keyboard.press("Enter")
    await expect(page.get_by_text("Your vote has been counted").first).to_be_visible()


async def resident_votes_without_javascript(browser: Any, d: Demo) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{d.vote_links[3]}/polls/{d.info.poll_id}")
    assert await page.locator(".app-rank__button").count() == 0  # the plain form, no script ran
    await page.get_by_label("Every week").check()
    await page.get_by_role("button", name="Check your answers").click()
    await page.get_by_role("button", name="Send my vote").click()
    await expect(page.get_by_text("Your vote has been counted").first).to_be_visible()
    await context.close()


async def juror_answers(page: Any, checks: PageCheck, d: Demo) -> None:
    """An invitation accepted (and one declined), then the juror's room."""
    await page.goto(d.invitations[0])
    await checks.check(page, "invitation")
    await page.get_by_label("name", exact=False).first.fill("Nia")
    await page.get_by_role("button", name="Accept").click()
    await checks.check(page, "invitation accepted")
    await page.goto(d.invitations[1])
    await page.get_by_role("button", name="Decline").click()
    await checks.check(page, "invitation declined")
    await page.goto(d.room_links[0])
    await checks.check(page, "juror's room")


async def officer_prints_cards(page: Any, checks: PageCheck, d: Demo) -> None:
    from playwright.async_api import expect

    await page.goto(f"{d.base}/council/pilots/{d.info.pilot_id}/codes")
    await page.get_by_label("Area", exact=True).select_option(index=1)
    await page.get_by_label("How many cards").fill("2")
    await page.get_by_label("Printable poll cards", exact=False).check()
    await page.get_by_role("button", name="Issue codes").click()
    await expect(page.locator(".app-card, .card").first).to_be_visible()
    await checks.check(page, "printable card sheet")


async def moderator_runs(page: Any, juror: Any, checks: PageCheck, d: Demo) -> None:
    """The console before, during and after a session, with a juror's hand up and a straw poll;
    the juror's and the observers' pages alongside."""
    from playwright.async_api import expect

    session = d.info.jury_session_id
    await page.goto(f"{d.base}/council/jury-sessions/{session}")
    await checks.check(page, "console, ready")
    await page.get_by_role("button", name="Start the session").click()
    await expect(page.locator("#room-status")).to_have_text("Live")
    await page.get_by_role("button", name="Open").first.click()
    await page.get_by_role("button", name="Start timer").first.click()
    await juror.goto(d.room_links[0])
    await juror.get_by_role("button", name="Raise my hand").click()
    await expect(juror.get_by_role("button", name="Lower my hand")).to_be_visible()
    await checks.check(juror, "juror's room, hand up")
    await page.get_by_label("Straw poll question").fill("Should the borough aim for 2030?")
    await page.get_by_role("button", name="Open the straw poll").click()
    await juror.get_by_role("button", name="Agree", exact=True).click()
    # The console redraws the room when the vote arrives: measure it once it has, not mid-swap.
    await expect(page.locator(".app-poll").first).to_contain_text("1 voted")
    await checks.check(page, "console, running")
    await page.set_viewport_size({"width": 360, "height": 640})
    for what in ("#room-current", "#room-queue"):  # the first screen of a phone
        box = await page.locator(what).bounding_box()
        assert box is not None and box["y"] + box["height"] <= 640, (what, box)
    await page.get_by_role("button", name="Close the poll").click()
    await page.get_by_role("button", name="Show the results to the room").click()
    screen = await juror.context.new_page()
    await screen.goto(f"{d.base}/jury-sessions/{session}/screen")
    await expect(screen.get_by_text("Agree: 1")).to_be_visible()  # the results, once shown
    await page.get_by_role("button", name="Call ", exact=False).first.click()
    await expect(juror.locator("#room-speaker")).to_contain_text("Speaking now")
    await expect(screen.locator("#room-speaker")).not_to_have_text("Nobody yet")  # live, no reload
    await checks.check(screen, "projector view")
    await checks.check(juror, "juror's room, speaking")
    await checks.check(page, "console, someone speaking")
    await juror.goto(f"{d.base}/jury-sessions/{session}")
    await checks.check(juror, "observers' page, live")
    await page.get_by_role("button", name="End the session").click()
    await checks.check(page, "end the session? (confirmation)")
    await page.get_by_role("button", name="Yes, end the session").click()
    await expect(page.locator("#room-status")).to_have_text("Ended")
    await checks.check(page, "console, ended")
    await page.goto(f"{d.base}/jury-sessions/{session}/report")
    await checks.check(page, "session report")


@pytest.mark.usefixtures("running_demo")
async def test_every_page_fits_a_phone_and_passes_axe(running_demo: Demo, tmp_path: Path) -> None:
    d = running_demo
    checks = PageCheck(d.base)
    async with chromium() as browser:
        public = await browser.new_context()  # type: ignore[attr-defined]
        public.set_default_timeout(10_000)
        page = await public.new_page()
        await resident_votes(page, checks, d)
        await resident_votes_by_keyboard(page, d)
        await resident_votes_without_javascript(browser, d)
        await juror_answers(page, checks, d)
        await checks.crawl(
            page,
            [
                "/",
                "/vote",
                f"/polls/{d.info.poll_id}/results",
                f"/jury-sessions/{d.info.jury_session_id}",
                f"/juries/{d.info.jury_id}",
            ],
        )
        for path in ("/", "/vote"):  # Welsh words run longer: the pages still fit a phone
            await page.goto(f"{d.base}{path}?lang=cy")
            await checks.check(page, f"{path} in Welsh")
        await page.goto(f"{d.base}/?lang=en")  # the switch is kept in a cookie: back to English
        officer = await browser.new_context()  # type: ignore[attr-defined]
        officer.set_default_timeout(10_000)
        page = await officer.new_page()
        await sign_in(page, checks)
        await checks.crawl(page, ["/council", f"/council/pilots/{d.info.pilot_id}"], limit=120)
        await officer_prints_cards(page, checks, d)
        await moderator_runs(page, await public.new_page(), checks, d)
    print(checks.report())
    assert not checks.problems, checks.report()
