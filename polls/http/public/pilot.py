"""The public page of a pilot: what is open now, what was decided and what the council did."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.juries import JuryStatus
from polls.domain.publication import FOLLOW_UP_LABELS
from polls.errors import ErrorCode, NotFound
from polls.http.kit.render import render
from polls.http.public.official_results import question_views
from polls.runtime import runtime
from polls.store import juries as jury_store
from polls.store import pilots as pilot_store
from polls.store import results as result_store


async def pilot_page(request: Request) -> Response:
    async with runtime(request).db() as db:
        pilot = await pilot_store.find_pilot(db, int(request.path_params["pilot_id"]))
        if pilot is None:
            raise NotFound("There is no such pilot", code=ErrorCode.PILOT_NOT_FOUND)
        polls = await result_store.pilot_polls(db, pilot.id)
        published_ids = [poll.id for poll, _ in polls.published]
        follow_ups = await result_store.follow_ups(db, result_store.POLL, published_ids)
        juries = await jury_store.public_juries(db, pilot.id)
        reported = [j.id for j in juries if j.status == JuryStatus.REPORTED]
        jury_follow_ups = await result_store.follow_ups(db, result_store.JURY, reported)
    published = [
        {
            "poll": poll,
            "result": result,
            "views": question_views(poll, result),
            "follow_ups": follow_ups.get(poll.id, []),
        }
        for poll, result in polls.published
    ]
    return render(
        request,
        "results/pilot.html",
        {
            "pilot": pilot,
            "open_polls": polls.open,
            "published": published,
            "juries": juries,
            "jury_follow_ups": jury_follow_ups,
            "follow_up_labels": FOLLOW_UP_LABELS,
        },
    )


routes: list[BaseRoute] = [Route("/pilots/{pilot_id:id}", pilot_page, methods=["GET"])]
