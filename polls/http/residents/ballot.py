"""Resident pages: enter or scan a code, answer, review, submit, get a receipt.

Everything works without JavaScript and at 320 px; scripts only add the running budget total,
tap-to-rank and live result updates.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from polls.domain.ballots import PollDef, QuestionDef, check_ballot
from polls.domain.codes import normalise_short_code
from polls.domain.eligibility import BROWSER
from polls.domain.polls import Assurance, PollStatus
from polls.domain.questions import QuestionKind
from polls.domain.voter_secrets import CardCredential
from polls.errors import AlreadyVoted, CodeNotValid, ErrorCode, PollNotOpen, PollsError, ValidationFailed
from polls.http.kit.auth import check_csrf
from polls.http.kit.ballot_form import answers_from_form, form_values
from polls.http.kit.voter_codes import card_for_code, credential_from_token
from polls.http.residents.language import poll_text, render_resident, resident_language
from polls.i18n import N_, _, use_language
from polls.runtime import runtime
from polls.store import pilots as pilot_store
from polls.store.ballots import eligibility, load_poll, localised_definition
from polls.store.models import Poll
from polls.store.voters import offered_languages, open_polls_for_card
from polls.tokens import VOTER_CODE

BROWSER_COOKIE = "polls_browser"


# Finding your poll


async def enter_code(request: Request) -> Response:
    """The page for people without a camera: type the short code from the card."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = await request.form()
        check_csrf(request, form)
        values = {"code": str(form.get("code", ""))}
        try:
            return await _to_ballot_list(request, values["code"])
        except PollsError as exc:
            errors = {"code": exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.message}
            status = exc.status
    return render_resident(
        request,
        "residents/enter_code.html",
        {"values": values, "errors": errors},
        await _all_languages(request),
        status_code=status,
    )


async def scanned_code(request: Request) -> Response:
    """Where the QR code on a poll card leads: /c/SHORTCODE."""
    try:
        return await _to_ballot_list(request, request.path_params["code"])
    except PollsError as exc:
        message = exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.message
        return render_resident(
            request,
            "residents/enter_code.html",
            {"values": {}, "errors": {"code": message}},
            await _all_languages(request),
            status_code=exc.status,
        )


async def _all_languages(request: Request) -> list[str]:
    """Before we know a resident's pilot: every language any pilot offers, English first."""
    async with runtime(request).db() as session:
        return await offered_languages(session)


async def _to_ballot_list(request: Request, typed: str) -> Response:
    """To the card's polls, by a voting link that carries its code (the card is looked up first,
    so an unknown code is refused on the page where it was typed)."""
    rt = runtime(request)
    typed = typed.strip()
    await card_for_code(rt, typed)
    if not rt.tokens.owns(VOTER_CODE, typed):
        typed = rt.tokens.sign(VOTER_CODE, normalise_short_code(typed))
    return RedirectResponse(f"/v/{typed}", status_code=303)


async def my_polls(request: Request) -> Response:
    """The polls this code can vote in now, and which of them it has already voted in."""
    rt = runtime(request)
    token = request.path_params["token"]
    credential = await credential_from_token(rt, token)
    async with rt.db() as session:
        card = await open_polls_for_card(session, credential)
    if card is None:
        raise CodeNotValid(N_("We do not recognise this voting link"), code=ErrorCode.CODE_UNKNOWN)
    rows = [{"poll": poll, "voted": voted} for poll, voted in card.polls]
    return render_resident(
        request,
        "residents/my_polls.html",
        {"pilot": card.pilot, "rows": rows, "token": token, "revoked": card.code.revoked},
        card.pilot.languages,
    )


# The ballot


async def _ballot_context(request: Request, poll_id: int) -> dict[str, Any]:
    async with runtime(request).db() as session:
        poll = await load_poll(session, poll_id)
        pilot = await pilot_store.find_pilot(session, poll.pilot_id)
    if poll.status != PollStatus.OPEN.value or pilot is None:
        raise PollNotOpen(N_("This poll is not open for voting"))
    language = resident_language(request, pilot.languages)
    return {
        "poll": poll,
        "definition": localised_definition(poll, language),
        "pilot": pilot,
        "poll_title": poll_text(poll, language, "title"),
        "poll_description": poll_text(poll, language, "description"),
    }


async def ballot(request: Request) -> Response:
    """GET shows the questions; POST checks the answers and shows them back for review."""
    context = await _ballot_context(request, int(request.path_params["poll_id"]))
    used = await _refuse_ineligible_early(request, context["poll"], context["definition"])
    definition: PollDef = context["definition"]
    offered = context["pilot"].languages
    if used:  # said now, not after they have answered every question again
        return render_resident(request, "residents/already_voted.html", context, offered, status_code=409)
    context.update({"action": request.url.path, "values": {}, "errors": {}, "kinds": QuestionKind})
    if request.method == "GET":
        return render_resident(request, "residents/ballot.html", context, offered)
    form = await request.form()
    check_csrf(request, form)
    answers, problems = answers_from_form(definition, form)
    try:
        if problems:
            raise ValidationFailed(problems)
        checked = check_ballot(definition, answers)
    except ValidationFailed as exc:
        errors = {e.field.replace("answers.", "q"): e.message for e in exc.errors}
        if "q" in errors:
            errors["ballot"] = errors.pop("q")
        context.update({"values": form_values(definition, answers), "errors": errors})
        return render_resident(request, "residents/ballot.html", context, offered, status_code=422)
    with use_language(resident_language(request, offered)):
        shown = _shown_answers(definition, checked)
    context.update(
        {
            "answers": checked,
            "ballot_json": json.dumps(checked),
            "submit_action": request.url.path + "/submit",
            "shown": shown,
        }
    )
    return render_resident(request, "residents/review.html", context, offered)


async def _refuse_ineligible_early(request: Request, poll: Poll, definition: PollDef) -> bool:
    """Before a resident fills in a ballot: a link that is forged, expired, cancelled or for
    another area is refused now, not after they have answered every question. True when the
    card has already voted in this poll (which only its own code can tell)."""
    token = request.path_params.get("token")
    if not token:
        return False
    rt = runtime(request)
    card = await credential_from_token(rt, token)
    async with rt.db() as session:
        problems = await eligibility(session, definition, Assurance(poll.assurance), [card])
        if card.digest in problems:
            raise problems[card.digest]
        found = await open_polls_for_card(session, card)
    return found is not None and any(voted for p, voted in found.polls if p.id == poll.id)


def _shown_answers(poll: PollDef, answers: dict[str, Any]) -> list[tuple[QuestionDef, str]]:
    shown = []
    for question in poll.questions:
        answer = answers.get(str(question.id))
        labels = {o.id: o.label for o in question.options}
        if answer is None:
            text = _("Not answered")
        elif question.kind is QuestionKind.RANKED:
            text = "; ".join(f"{i}. {labels[o]}" for i, o in enumerate(answer, start=1))
        elif isinstance(answer, list):
            text = ", ".join(labels[o] for o in answer) or _("Not answered")
        elif question.kind is QuestionKind.SINGLE:
            text = labels[int(answer)]
        else:
            text = str(answer)
        shown.append((question, text))
    return shown


async def submit(request: Request) -> Response:
    rt = runtime(request)
    poll_id = int(request.path_params["poll_id"])
    form = await request.form()
    check_csrf(request, form)
    try:
        answers = json.loads(str(form.get("ballot", "")))
    except ValueError:
        raise PollsError(
            N_("Your answers did not arrive whole. Please answer again."), code=ErrorCode.MALFORMED_BALLOT
        ) from None
    voter = await _voter(request)
    async with rt.db() as session:
        poll = await load_poll(session, poll_id)
        pilot = await pilot_store.find_pilot(session, poll.pilot_id)
    offered = pilot.languages if pilot else ["en"]
    try:
        receipt = await rt.booth.cast(poll_id, voter, answers)
    except AlreadyVoted:
        return render_resident(
            request, "residents/already_voted.html", {"poll": poll}, offered, status_code=409
        )
    return render_resident(
        request, "residents/receipt.html", {"poll": poll, "tracker": receipt.tracker}, offered
    )


async def _voter(request: Request) -> CardCredential | str:
    """The card voting (from its link), or in an open poll the browser's id."""
    rt = runtime(request)
    token = request.path_params.get("token")
    if token:
        return await credential_from_token(rt, token)
    browser = request.cookies.get(BROWSER_COOKIE, "")
    if len(browser) != 32:
        raise PollsError(
            N_("Your browser did not keep our cookie, so we cannot count your vote"), code=ErrorCode.NO_COOKIE
        )
    return BROWSER + browser


async def open_ballot(request: Request) -> Response:
    """Polls with assurance "open": one vote per browser, marked by a cookie."""
    rt = runtime(request)
    async with rt.db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
    if poll.assurance != Assurance.OPEN.value:
        raise PollsError(N_("This poll needs the code from your poll card"), code=ErrorCode.CODE_REQUIRED)
    response = await ballot(request)
    if not request.cookies.get(BROWSER_COOKIE):
        response.set_cookie(
            BROWSER_COOKIE, secrets.token_hex(16), max_age=365 * 24 * 3600, httponly=True, samesite="lax",
            secure=rt.settings.secure_cookies,
        )  # fmt: skip
    return response


routes: list[BaseRoute] = [
    Route("/vote", enter_code, methods=["GET", "POST"]),
    Route("/c/{code}", scanned_code, methods=["GET"]),
    Route("/v/{token}", my_polls, methods=["GET"]),
    Route("/v/{token}/polls/{poll_id:id}", ballot, methods=["GET", "POST"]),
    Route("/v/{token}/polls/{poll_id:id}/submit", submit, methods=["POST"]),
    Route("/polls/{poll_id:id}/vote", open_ballot, methods=["GET", "POST"]),
    Route("/polls/{poll_id:id}/vote/submit", submit, methods=["POST"]),
]
