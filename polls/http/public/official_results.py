"""Official results for the public: the results page, its downloads and the anonymised ballot file.

The public sees them only once published: before that these pages answer 404, so nothing leaks
early; staff with the results role see them from the moment the poll closes.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Permission
from polls.domain.comment_review import shown
from polls.domain.exports import PabulibFacts, pabulib, results_csv
from polls.domain.polls import (
    Assurance,
    PollStatus,
)
from polls.domain.publication import FOLLOW_UP_LABELS
from polls.domain.published_ballots import LAYOUT_LABELS, BallotFileLayout
from polls.domain.questions import QuestionKind
from polls.domain.result_views import QuestionView, view
from polls.errors import ErrorCode, Forbidden, NotFound
from polls.http.kit.auth import current_actor
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import pilots as pilot_store
from polls.store import results as result_store
from polls.store.ballots import load_poll, poll_definition
from polls.store.models import FollowUp, OfficialResult, Pilot, Poll

PUBLIC_ASSURANCE = {
    Assurance.POLL_CARD: "Poll card: one vote per code posted to each resident",
    Assurance.EVENT: "Event codes: one vote per code handed out at community events",
    Assurance.OPEN: "Open poll: one per browser, not checked against a list of residents",
}


def question_views(poll: Poll, result: OfficialResult) -> list[QuestionView]:
    definition = poll_definition(poll)
    views = []
    for stored in result.questions:
        question = definition.question(stored.question_id)
        if question is not None:
            views.append(view(question, stored.method, stored.result, stored.response))
    return views


def comments_by_question(result: OfficialResult) -> dict[int, list[str]]:
    """Each comment question's comments as the public sees them: the words once an officer
    published them, "[withheld: reason]" otherwise."""
    out: dict[int, list[str]] = {}
    for c in result.comments:
        out.setdefault(int(c["question_id"]), []).append(shown(c))
    return out


def file_layout(result: OfficialResult) -> BallotFileLayout:
    """The layout the stored file was written with (its header says; older files are whole ballots)."""
    header = json.loads(result.ballot_file.partition("\n")[0])
    return BallotFileLayout(header.get("layout", BallotFileLayout.WHOLE_BALLOT.value))


def downloads(poll: Poll, result: OfficialResult) -> list[dict[str, str]]:
    base = f"/polls/{poll.id}"
    out = [
        {"href": f"{base}/official.csv", "text": "Results as CSV", "kind": "csv"},
        {"href": f"{base}/official.json", "text": "Results as JSON", "kind": "json"},
        {"href": f"{base}/ballots.jsonl", "text": "Anonymised ballots (for polls recount)", "kind": "jsonl"},
    ]
    for q in poll.questions:
        if q.kind == QuestionKind.BUDGET.value:
            out.append(
                {
                    "href": f"{base}/questions/{q.id}/ballots.pb",
                    "text": f"“{q.title}” in pabulib format (.pb)",
                    "kind": "pb",
                }
            )
    return out


def payload(
    pilot: Pilot, poll: Poll, result: OfficialResult, follow_ups: list[FollowUp] | None = None
) -> dict[str, Any]:
    """The official results as JSON: the public download and the API answer alike."""
    definition = poll_definition(poll)
    comments = comments_by_question(result)
    questions = []
    for stored in result.questions:
        question = definition.question(stored.question_id)
        item = {
            "id": stored.question_id,
            "title": question.title if question else "",
            "kind": question.kind.value if question else "",
            "method": stored.method,
            "result": stored.result,
            "response": stored.response,
        }
        if question and question.kind is QuestionKind.COMMENT:
            item["comments"] = comments.get(question.id, [])
        questions.append(item)
    return {
        "pilot": {"id": pilot.id, "name": pilot.name, "council": pilot.council},
        "poll": {"id": poll.id, "title": poll.title, "status": poll.status, "assurance": poll.assurance},
        "ballots": result.ballots,
        "turnout": result.turnout,
        "counted_at": result.counted_at.isoformat(),
        "published_at": result.published_at.isoformat() if result.published_at else None,
        "ballot_file": {
            "url": f"/polls/{poll.id}/ballots.jsonl",
            "sha256": result.ballot_file_sha256,
            "layout": file_layout(result).value,
        },
        "questions": questions,
        "follow_ups": [_public_follow_up(f) for f in follow_ups or []],
    }


def _public_follow_up(item: FollowUp) -> dict[str, Any]:
    """A follow-up as the public download shows it: what happened and when, not which officer
    typed it (the staff API and the audit log keep that)."""
    snapshot = result_store.follow_up_snapshot(item)
    return {k: v for k, v in snapshot.items() if k not in ("created_by", "created_at")}


async def visible_results(request: Request) -> tuple[Pilot, Poll, OfficialResult, list[FollowUp], bool]:
    """The poll and its official results, if this visitor may see them: everyone once published,
    staff with the results role from closing. Otherwise 404, as if there were none."""
    async with runtime(request).db() as db:
        poll = await load_poll(db, int(request.path_params["poll_id"]))
        result = await result_store.load(db, poll.id)
        pilot = await pilot_store.find_pilot(db, poll.pilot_id)
        items = (await result_store.follow_ups(db, result_store.POLL, [poll.id])).get(poll.id, [])
    published = poll.status == PollStatus.PUBLISHED.value
    if not published:
        actor = await current_actor(request)
        if actor is None or not actor.can(Permission.VIEW_RESULTS, poll.pilot_id):
            result = None
    if result is None or pilot is None:
        raise NotFound("These results have not been published", code=ErrorCode.RESULTS_NOT_PUBLISHED)
    return pilot, poll, result, items, published


def _attachment(body: str, media: str, filename: str) -> Response:
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def official_page(request: Request) -> Response:
    pilot, poll, result, items, published = await visible_results(request)
    return render(
        request,
        "results/official.html",
        {
            "pilot": pilot,
            "poll": poll,
            "result": result,
            "published": published,
            "views": question_views(poll, result),
            "comments": comments_by_question(result),
            "layout": LAYOUT_LABELS[file_layout(result)],
            "assurance": PUBLIC_ASSURANCE[Assurance(poll.assurance)],
            "downloads": downloads(poll, result),
            "follow_ups": items,
            "follow_up_labels": FOLLOW_UP_LABELS,
        },
    )


async def official_csv(request: Request) -> Response:
    _, poll, result, _, _ = await visible_results(request)
    return _attachment(results_csv(question_views(poll, result)), "text/csv", f"poll-{poll.id}-results.csv")


async def official_json(request: Request) -> Response:
    pilot, poll, result, items, _ = await visible_results(request)
    response = JSONResponse(payload(pilot, poll, result, items))
    response.headers["Content-Disposition"] = f'attachment; filename="poll-{poll.id}-results.json"'
    return response


async def budget_pabulib(request: Request) -> Response:
    pilot, poll, result, _, _ = await visible_results(request)
    question_id = int(request.path_params["question_id"])
    question = poll_definition(poll).question(question_id)
    stored = next((q for q in result.questions if q.question_id == question_id), None)
    if question is None or stored is None or question.kind is not QuestionKind.BUDGET:
        raise NotFound("This poll has no such budget question", code=ErrorCode.QUESTION_NOT_FOUND)
    facts = PabulibFacts(
        council=pilot.council,
        pilot=pilot.name,
        poll=poll.title,
        opened=poll.opens_at.date() if poll.opens_at else None,
        closed=(poll.closes_at or result.counted_at).date(),
    )
    body = pabulib(
        question,
        result_store.file_ballots(result, question_id),
        stored.method,
        stored.result.get("funded", []),
        facts,
    )
    return _attachment(body, "text/plain", f"poll-{poll.id}-question-{question_id}.pb")


async def published_ballots(request: Request) -> Response:
    """The anonymised, shuffled ballot file the official results were counted from, for anyone to
    recount with `polls recount`.

    Public once the official results are published (before that it would show the count, and
    any recount by another method, ahead of the council); staff with the results role may fetch
    it from the close, to check the count."""
    rt = runtime(request)
    async with rt.db() as session:
        poll = await load_poll(session, int(request.path_params["poll_id"]))
        if poll.status in (PollStatus.DRAFT.value, PollStatus.SCHEDULED.value, PollStatus.OPEN.value):
            raise Forbidden(
                "The ballots are published once voting has closed", code=ErrorCode.POLL_NOT_CLOSED
            )
        stored = await result_store.load(session, poll.id)
    if poll.status != PollStatus.PUBLISHED.value:
        actor = await current_actor(request)
        if actor is None or not actor.can(Permission.VIEW_RESULTS, poll.pilot_id):
            raise Forbidden(
                "The ballots are published with the official results", code=ErrorCode.RESULTS_NOT_PUBLIC
            )
    if stored is None:
        raise NotFound("This poll has no official count yet", code=ErrorCode.NO_OFFICIAL_COUNT)
    return Response(
        stored.ballot_file,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}-ballots.jsonl"'},
    )


GET = ["GET"]

routes: list[BaseRoute] = [
    Route("/polls/{poll_id:id}/official", official_page, methods=GET),
    Route("/polls/{poll_id:id}/official.csv", official_csv, methods=GET),
    Route("/polls/{poll_id:id}/official.json", official_json, methods=GET),
    Route("/polls/{poll_id:id}/ballots.jsonl", published_ballots, methods=GET),
    Route("/polls/{poll_id:id}/questions/{question_id:id}/ballots.pb", budget_pabulib, methods=GET),
]
