"""A jury session's report (what was recommended, and how the room voted) as a page, JSON and CSV."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from polls.domain.juries import profile_json
from polls.domain.jury_report import report, report_csv
from polls.http.juries.room_access import require_watchable
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import jury_sessions
from polls.store.juries import seated_profile
from polls.store.models import JurySession


async def _report(request: Request) -> tuple[JurySession, dict[str, Any]]:
    rt = runtime(request)
    session_id = int(request.path_params["session_id"])
    async with rt.db() as db:
        session = await jury_sessions.get_session(db, session_id)
        await require_watchable(request, session.jury)
        profile = profile_json(await seated_profile(db, session.jury))
    state = await rt.jury_rooms.state(session_id)
    data = report(state, jury_title=session.jury.title, session_title=session.title, profile=profile)
    return session, data


async def report_page(request: Request) -> Response:
    session, data = await _report(request)
    return render(request, "jury_room/report.html", {"session": session, "report": data})


async def report_json(request: Request) -> Response:
    session, data = await _report(request)
    disposition = f'attachment; filename="jury-session-{session.id}-report.json"'
    return JSONResponse(data, headers={"Content-Disposition": disposition})


async def report_csv_file(request: Request) -> Response:
    session, data = await _report(request)
    disposition = f'attachment; filename="jury-session-{session.id}-report.csv"'
    return Response(
        report_csv(data), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )


routes: list[BaseRoute] = [
    Route("/jury-sessions/{session_id:id}/report", report_page, methods=["GET"]),
    Route("/jury-sessions/{session_id:id}/report.json", report_json, methods=["GET"]),
    Route("/jury-sessions/{session_id:id}/report.csv", report_csv_file, methods=["GET"]),
]
