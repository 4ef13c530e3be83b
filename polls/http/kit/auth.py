"""Staff sessions (a signed cookie), who is signed in, and CSRF tokens.

The cookie is HttpOnly and SameSite=Lax, signed with the newest SECRET_KEY, and replaced with
a fresh one at sign-in so a session fixed before sign-in is useless after it. Every
state-changing request must carry the session's CSRF token: forms in a hidden field, API
calls in the X-CSRF-Token header.
"""

from __future__ import annotations

import secrets

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polls.domain.access import Actor
from polls.errors import CsrfFailed, NotSignedIn
from polls.runtime import runtime
from polls.store import sign_ins
from polls.store.models import Staff
from polls.store.staff import signed_in_actor
from polls.tokens import STAFF_DEVICE, STAFF_SESSION, TokenInvalid, Tokens, password_fingerprint

COOKIE = "polls_session"
DEVICE_COOKIE = "polls_device"  # this browser signed in to an account before (polls.tokens)
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class StaffSession:
    """The signed-cookie session. A CSRF token is made only when a page or call needs one, so
    requests that never touch the session (resident votes, the API) set no cookie at all."""

    def __init__(
        self, csrf: str | None = None, staff_id: int | None = None, fingerprint: str = "", key: str = ""
    ) -> None:
        self._csrf = csrf
        self.staff_id = staff_id
        self.fingerprint = fingerprint
        self.key = key  # names the session's row (polls.store.sign_ins), which sign-out deletes
        self.changed = False
        self.device: str | None = None  # a new signed-in-before cookie to set

    @classmethod
    def anonymous(cls) -> StaffSession:
        return cls()

    @property
    def csrf(self) -> str:
        if self._csrf is None:
            self._csrf = secrets.token_urlsafe(24)
            self.changed = True
        return self._csrf

    def sign_in(self, staff: Staff, key: str) -> None:
        """``key``: the secret of the session started in the database (polls.store.sign_ins)."""
        # A new CSRF token and a new signed value: rotation at sign-in.
        self._csrf = secrets.token_urlsafe(24)
        self.staff_id = staff.id
        self.fingerprint = password_fingerprint(staff.password_hash)
        self.key = key
        self.changed = True

    def forget(self) -> None:
        """Signed out in this browser (the database row, if any, is ended by sign_out)."""
        self._csrf = secrets.token_urlsafe(24)
        self.staff_id = None
        self.fingerprint = ""
        self.key = ""
        self.changed = True


def _read_cookie(tokens: Tokens, raw: str | None) -> StaffSession:
    if not raw:
        return StaffSession.anonymous()
    try:
        data = tokens.read(STAFF_SESSION, raw)
        return StaffSession(
            csrf=str(data["c"]),
            staff_id=data.get("s"),
            fingerprint=str(data.get("f", "")),
            key=str(data.get("k", "")),
        )
    except (TokenInvalid, KeyError, TypeError):
        return StaffSession.anonymous()


class SessionMiddleware:
    """Loads the session from its cookie before the endpoint, writes it back if it changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        rt = runtime(request)
        session = _read_cookie(rt.tokens, request.cookies.get(COOKIE))
        scope.setdefault("state", {})["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and (session.changed or session.device):
                response = Response()
                if session.changed:
                    value = rt.tokens.sign(
                        STAFF_SESSION,
                        {
                            "c": session.csrf,
                            "s": session.staff_id,
                            "f": session.fingerprint,
                            "k": session.key,
                        },
                    )
                    _set_cookie(response, COOKIE, value, STAFF_SESSION.max_age, rt.settings.secure_cookies)
                if session.device:
                    _set_cookie(
                        response,
                        DEVICE_COOKIE,
                        session.device,
                        STAFF_DEVICE.max_age,
                        rt.settings.secure_cookies,
                    )
                headers = list(message.get("headers", []))
                headers.extend((k, v) for k, v in response.raw_headers if k.lower() == b"set-cookie")
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _set_cookie(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")


def session_of(request: Request) -> StaffSession:
    session: StaffSession = request.state.session
    return session


async def current_actor(request: Request) -> Actor | None:
    """The signed-in staff member, or None; a changed password, a disabled account or an ended
    session (signed out elsewhere, or everywhere) signs out."""
    if hasattr(request.state, "actor"):
        cached: Actor | None = request.state.actor
        return cached
    session = session_of(request)
    actor = None
    if session.staff_id is not None:
        async with runtime(request).db() as db:
            actor = await signed_in_actor(db, session.staff_id, session.fingerprint, session.key)
        if actor is None:
            session.forget()
    request.state.actor = actor
    return actor


async def sign_out(request: Request) -> None:
    """Ends this browser's session, in the database too: a copy of its cookie is useless after."""
    session = session_of(request)
    if session.key:
        async with runtime(request).db.begin() as db:
            await sign_ins.end(db, session.key)
    session.forget()


async def require_actor(request: Request) -> Actor:
    actor = await current_actor(request)
    if actor is None:
        raise NotSignedIn("Sign in to continue")
    return actor


def check_csrf(request: Request, form: FormData | None = None) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and form is not None:
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not secrets.compare_digest(sent, session_of(request).csrf):
        raise CsrfFailed(
            "The form had expired or came from another site. Go back, reload the page and try again."
        )
