"""Poll officers enter paper ballots, one by one or as a CSV of a count, tagged "paper".

A paper ballot spends the voter's code exactly like an online vote, so a code used online
cannot be used on paper and the other way round. Every entry is audited; when the pilot asks for
a second officer, the ballots are held until one confirms them (polls.http.council.paper_held).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.access import Actor, Permission
from polls.domain.ballots import check_ballot
from polls.domain.paper import PaperProblem, PaperRow, parse_paper_csv
from polls.domain.polls import Assurance, PollStatus
from polls.domain.questions import QuestionKind
from polls.domain.voter_secrets import CardCredential
from polls.errors import AlreadyVoted, Conflict, ErrorCode, PollsError, ValidationFailed
from polls.http.kit.ballot_form import answers_from_form, form_values
from polls.http.kit.forms import read_form
from polls.http.kit.guards import page, poll_staff
from polls.http.kit.render import render
from polls.http.kit.voter_codes import credential_for_code
from polls.runtime import runtime
from polls.store.ballots import eligibility, poll_definition
from polls.store.models import Pilot, Poll
from polls.voting import paper

USED_ONE = "This code has already been used (online or on paper): this ballot does not count"
USED_ROW = "code already used: this ballot does not count"


def _refusal(problem: PollsError, used: str) -> str:
    return used if isinstance(problem, AlreadyVoted) else problem.message


def _require_open(poll: Poll) -> None:
    if poll.status != PollStatus.OPEN.value:
        raise Conflict("Paper ballots are entered while the poll is open", code=ErrorCode.POLL_NOT_OPEN)


def _context(poll: Any, pilot: Any, **extra: Any) -> dict[str, Any]:
    return {
        "poll": poll,
        "pilot": pilot,
        "definition": poll_definition(poll),
        "kinds": QuestionKind,
        "values": {},
        "errors": {},
        "entered": None,
        "held": None,
        "report": None,
        **extra,
    }


@poll_staff(Permission.MANAGE_PILOT)
async def paper_ballot(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    """One paper ballot: the code from the card and the answers ticked on it."""
    _require_open(poll)
    context = _context(poll, pilot)
    if request.method == "GET":
        return render(request, "council/paper.html", context)
    rt = runtime(request)
    form = await read_form(request)
    definition = context["definition"]
    answers, problems = answers_from_form(definition, form)
    errors: dict[str, str] = {}
    try:
        card = await credential_for_code(rt, str(form.get("code", "")))
    except PollsError as exc:
        errors["code"] = exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.message
    try:
        if problems:
            raise ValidationFailed(problems)
        check_ballot(definition, answers)
    except ValidationFailed as exc:
        errors.update({e.field.replace("answers.", "q"): e.message for e in exc.errors})
    if not errors:
        try:
            entry = await paper.enter(rt.db, rt.booth.writer, actor, poll.id, [(1, card, answers)])
            if entry.held is not None or entry.counted:
                entered = entry.counted[0].tracker if entry.counted else None
                extra = {"entered": entered, "held": entry.held}
                return render(
                    request, "council/paper.html", context | extra, status_code=201 if entered else 202
                )
            errors["code"] = _refusal(entry.refused[0][1], USED_ONE)
        except PollsError as exc:
            errors["code"] = exc.message
    context.update(
        {"values": form_values(definition, answers) | {"code": form.get("code", "")}, "errors": errors}
    )
    return render(request, "council/paper.html", context, status_code=422 if "code" not in errors else 409)


@poll_staff(Permission.MANAGE_PILOT)
async def paper_upload(request: Request, actor: Actor, poll: Poll, pilot: Pilot) -> Response:
    """A CSV of counted paper ballots. Every row is checked first; a file with any bad row
    enters nothing. Rows whose code was already used are refused one by one and listed."""
    _require_open(poll)
    rt = runtime(request)
    form = await read_form(request)
    upload = form.get("file")
    problems: list[PaperProblem] = []
    rows: list[PaperRow] = []
    if not isinstance(upload, UploadFile):
        problems.append(PaperProblem(1, "Choose a CSV file to upload"))
    else:
        try:
            raw = await upload.read()
        finally:
            await upload.close()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
            problems.append(PaperProblem(1, "Save the file as UTF-8 CSV and upload it again"))
        rows, problems = parse_paper_csv(poll_definition(poll), text) if text else ([], problems)
    definition = poll_definition(poll)
    cards: dict[int, CardCredential] = {}
    for row in rows:
        try:
            cards[row.line] = await credential_for_code(rt, row.code)
            check_ballot(definition, row.answers)
        except PollsError as exc:
            message = exc.errors[0].message if isinstance(exc, ValidationFailed) else exc.message
            problems.append(PaperProblem(row.line, message))
    async with rt.db() as session:
        refusals = await eligibility(session, definition, Assurance(poll.assurance), list(cards.values()))
    problems += [
        PaperProblem(line, refusals[card.digest].message)
        for line, card in cards.items()
        if card.digest in refusals
    ]
    if problems:
        report = {"entered": 0, "refused": [], "problems": sorted(problems, key=lambda p: p.line)}
        return render(request, "council/paper.html", _context(poll, pilot, report=report), status_code=422)
    entry = await paper.enter(
        rt.db,
        rt.booth.writer,
        actor,
        poll.id,
        [(row.line, cards[row.line], row.answers) for row in rows],
    )
    report = {
        "entered": len(entry.counted),
        "held": entry.held,
        "refused": [PaperProblem(line, _refusal(problem, USED_ROW)) for line, problem in entry.refused],
        "problems": [],
    }
    status = 202 if entry.held is not None else 200
    return render(request, "council/paper.html", _context(poll, pilot, report=report), status_code=status)


routes: list[BaseRoute] = [
    Route("/council/polls/{poll_id:id}/paper", page(paper_ballot), methods=["GET", "POST"]),
    Route("/council/polls/{poll_id:id}/paper/upload", page(paper_upload), methods=["POST"]),
]
