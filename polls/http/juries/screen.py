"""The projector view of a jury session (/jury-sessions/{id}/screen): large type for the room,
showing the current item and its timer, who speaks and whose hand is up, straw-poll results once
the moderator shows them, and a QR code for observers to follow on their phones. It sees what
the public sees (the observer's view), and follows the room over the same websocket as the
observer page: jury.js swaps in ``?fragment=1`` after each change."""

from __future__ import annotations

import time

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from polls.cards import qr_svg
from polls.domain.jury_room import Role
from polls.domain.jury_views import view
from polls.http.juries.room_access import require_watchable, session_and_jury
from polls.http.kit.render import render
from polls.runtime import runtime


async def screen(request: Request) -> Response:
    rt = runtime(request)
    session, jury = await session_and_jury(rt, int(request.path_params["session_id"]))
    await require_watchable(request, jury)
    state = await rt.jury_rooms.state(session.id)
    room = view(state, Role.OBSERVER)
    current = next((i for i in room["items"] if i["id"] == room["current_item"]), None)
    follow = f"{rt.settings.base_url}/jury-sessions/{session.id}"
    context = {
        "session": session,
        "jury": jury,
        "room": room,
        "current": current,
        "shown_polls": [p for p in room["straw_polls"] if "counts" in p],
        "server_now": time.time(),
        "follow": follow,
        "qr": Markup(qr_svg(follow, title="QR code: follow this session on your phone")),
    }
    fragment = request.query_params.get("fragment") == "1"
    template = "jury_room/_screen.html" if fragment else "jury_room/screen.html"
    headers = {"Cache-Control": "no-store", "X-Server-Now": f"{time.time():.3f}"} if fragment else None
    return render(request, template, context, headers=headers)


routes: list[BaseRoute] = [Route("/jury-sessions/{session_id:id}/screen", screen, methods=["GET"])]
