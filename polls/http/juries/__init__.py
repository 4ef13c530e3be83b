"""Citizens' juries: officer pages, public pages and invitations, the jury room and the reports."""

from starlette.routing import BaseRoute

from polls.http.juries import (
    final_report,
    juror_messages,
    public,
    room_pages,
    room_socket,
    screen,
    selection,
    session_report,
)

routes: list[BaseRoute] = [
    *selection.routes,
    *public.routes,
    *room_pages.routes,
    *room_socket.routes,
    *screen.routes,
    *session_report.routes,
    *final_report.routes,
    *juror_messages.routes,
]
