"""/dev/messages: what the embedded SMTP server of `polls dev` received, and the text messages and
letters rendered beside them, so a newcomer sees the juror's invitation arrive."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.errors import NotFound
from polls.http.kit.render import render
from polls.runtime import runtime


async def dev_messages_page(request: Request) -> Response:
    inbox = runtime(request).dev_inbox
    if inbox is None:
        raise NotFound("There is nothing at this address")
    return render(request, "messages/dev_inbox.html", {"messages": inbox.messages(), "port": inbox.port})


routes = [Route("/dev/messages", dev_messages_page)]
