"""Public jury pages (the published lottery and the draw, for anyone to check) and the invitation
page a person drawn for a jury opens on their phone (plain language, no JavaScript)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.domain.juries import KIND_LABELS, STATUS_LABELS, AcceptSpec, JuryKind, JuryStatus
from polls.domain.sortition.randomness import describe
from polls.domain.spreadsheets import spreadsheet_safe
from polls.domain.validation import parse
from polls.errors import ErrorCode, NotFound, ValidationFailed
from polls.http.kit.auth import check_csrf
from polls.http.kit.forms import errors_by_field, path_int
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import juries as jury_store
from polls.store import juror_messages
from polls.store import jurors as juror_store
from polls.store.jury_sessions import sessions_of
from polls.store.models import Jury

NO_STORE = {"Cache-Control": "no-store"}
PUBLIC_FILE = {"Cache-Control": "max-age=60"}


async def jury_page(request: Request) -> Response:
    async with runtime(request).db() as db:
        jury = await jury_store.public_jury(db, path_int(request, "jury_id"))
        profile = await jury_store.drawn_profile(db, jury) if jury.draw else []
        sessions = await sessions_of(db, jury.id)
    return render(
        request,
        "juries/public.html",
        {
            "jury": jury,
            "status_label": STATUS_LABELS[JuryStatus(jury.status)],
            "kind_label": KIND_LABELS[JuryKind(jury.kind)],
            "probabilities": jury_store.probabilities_rows(jury),
            "randomness": describe(jury.randomness_source) if jury.randomness_source else None,
            "facts": jury.lottery_facts or {},
            "profile": profile,
            "sessions": sessions,
            "reported": jury.status == JuryStatus.REPORTED,
        },
    )


def _json_file(data: Any, name: str) -> Response:
    return Response(
        json.dumps(data, indent=1, ensure_ascii=False) + "\n",
        media_type="application/json",
        headers={**PUBLIC_FILE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _public(request: Request) -> Jury:
    async with runtime(request).db() as db:
        return await jury_store.public_jury(db, path_int(request, "jury_id"))


async def lottery_file(request: Request) -> Response:
    """The published lottery, as ``polls jury draw --verify --lottery`` reads it."""
    jury = await _public(request)
    return _json_file(jury.lottery, f"jury{jury.id}-lottery.json")


async def randomness_file(request: Request) -> Response:
    """The public randomness's source fixed at publication, as ``polls jury draw --verify
    --randomness`` reads it."""
    jury = await _public(request)
    if jury.randomness_source is None:
        raise NotFound("No source of public randomness was published", code=ErrorCode.RANDOMNESS_MISSING)
    return _json_file(jury.randomness_source, f"jury{jury.id}-randomness.json")


async def draw_file(request: Request) -> Response:
    """The draw record (with the revealed seed), as ``polls jury draw --verify --draw`` reads it."""
    jury = await _public(request)
    if jury.draw is None:
        raise NotFound("The panel has not been drawn yet", code=ErrorCode.JURY_NOT_DRAWN)
    return _json_file(jury.draw, f"jury{jury.id}-draw.json")


async def probabilities_file(request: Request) -> Response:
    jury = await _public(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "probability"])
    for person, probability in jury_store.probabilities_rows(jury):
        writer.writerow([spreadsheet_safe(person), f"{probability:.10f}"])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            **PUBLIC_FILE,
            "Content-Disposition": f'attachment; filename="jury{jury.id}-probabilities.csv"',
        },
    )


# The invitation


async def invitation(request: Request) -> Response:
    """GET: what the jury is and the two choices; POST: accept (with a name) or decline."""
    rt = runtime(request)
    jury_id, token = path_int(request, "jury_id"), request.path_params["token"]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        check_csrf(request, form)
        choice = str(form.get("choice", ""))
        values = {"display_name": str(form.get("display_name", ""))}
        try:
            if choice == "accept":
                spec = parse(AcceptSpec, values)
                async with rt.db.begin() as db:
                    juror = await juror_store.accept_invitation(
                        db, rt.tokens, jury_id, token, spec.display_name
                    )
                    jury = await jury_store.find_jury(db, jury_id)
                    sent = await juror_messages.send_room_link_on_accept(db, juror, tokens=rt.tokens)
                rt.messages_queued()
                link = juror_store.room_link(rt.tokens, rt.settings.base_url, juror)
                return render(
                    request,
                    "juries/accepted.html",
                    {
                        "jury": jury,
                        "juror": juror,
                        "room_link": link,
                        "sent_to": juror.email or juror.phone if sent else None,
                    },
                    headers=NO_STORE,
                )
            if choice == "decline":
                async with rt.db.begin() as db:
                    await juror_store.decline_invitation(db, rt.tokens, jury_id, token)
                    jury = await jury_store.find_jury(db, jury_id)
                return render(request, "juries/declined.html", {"jury": jury}, headers=NO_STORE)
            raise ValidationFailed.one("choice", "Choose whether you can take part")
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors)
    async with rt.db() as db:
        jury, juror = await juror_store.find_invitation(db, rt.tokens, jury_id, token)
    return render(
        request,
        "juries/invitation.html",
        {"jury": jury, "juror": juror, "values": values, "errors": errors},
        status_code=422 if errors else 200,
        headers=NO_STORE,
    )


GET, BOTH = ["GET"], ["GET", "POST"]

routes: list[BaseRoute] = [
    Route("/juries/{jury_id:id}", jury_page, methods=GET),
    Route("/juries/{jury_id:id}/lottery.json", lottery_file, methods=GET),
    Route("/juries/{jury_id:id}/draw.json", draw_file, methods=GET),
    Route("/juries/{jury_id:id}/randomness.json", randomness_file, methods=GET),
    Route("/juries/{jury_id:id}/probabilities.csv", probabilities_file, methods=GET),
    Route("/juries/{jury_id:id}/invitation/{token}", invitation, methods=BOTH),
]
