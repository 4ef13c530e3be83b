"""Resident pages after voting: a poll's results (live while it is open) and the list of ballot trackers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.polls import PollStatus, ResultsVisibility, results_public
from polls.domain.secrecy import live_note, receipt_pending_note, results_final
from polls.domain.trackers import normalise_tracker
from polls.http.public.live import listed_receipts, may_see_results, receipt_status, results_payload
from polls.http.residents.language import poll_text, render_resident, resident_language
from polls.runtime import runtime
from polls.store import pilots as pilot_store
from polls.store.ballots import load_poll


async def results_page(request: Request) -> Response:
    rt = runtime(request)
    async with rt.db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
        pilot = await pilot_store.find_pilot(session, poll.pilot_id)
    assert pilot is not None
    language = resident_language(request, pilot.languages)
    visible = await may_see_results(request, poll)
    results = await results_payload(rt, poll, language) if visible else None
    live = visible and poll.status == PollStatus.OPEN.value
    return render_resident(
        request,
        "residents/results.html",
        {
            "poll": poll,
            "poll_title": poll_text(poll, language, "title"),
            "pilot": pilot,
            "results": results,
            "live": live,
            "public": results_public(ResultsVisibility(poll.results_visibility), PollStatus(poll.status)),
        },
        pilot.languages,
        status_code=200 if visible else 403,
    )


async def trackers_page(request: Request) -> Response:
    rt = runtime(request)
    poll_id = int(request.path_params["poll_id"])
    wanted = normalise_tracker(request.query_params.get("tracker", ""))
    async with rt.db() as session:
        poll = await load_poll(session, poll_id)
        pilot = await pilot_store.find_pilot(session, poll.pilot_id)
    found = await listed_receipts(rt, poll)
    stepped = not results_final(PollStatus(poll.status))
    return render_resident(
        request,
        "residents/trackers.html",
        {
            "poll": poll,
            "trackers": found,
            "wanted": wanted,
            "status": await receipt_status(rt, poll, wanted, found) if wanted else None,
            "waiting_note": receipt_pending_note(poll.secrecy_k),
            "live_note": live_note(poll.secrecy_k) if stepped else None,
        },
        pilot.languages if pilot else ["en"],
    )


routes: list[BaseRoute] = [
    Route("/polls/{poll_id:id}/results", results_page, methods=["GET"]),
    Route("/polls/{poll_id:id}/trackers", trackers_page, methods=["GET"]),
]
