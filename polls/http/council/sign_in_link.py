"""'Email me a sign-in link': for an officer locked out (a forgotten password, a throttled
account), a link by email that signs them in once, within 15 minutes. Throttled per address and
per email, and the same answer whether or not there is an account for the address given."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polls.domain.messages import Purpose
from polls.errors import ErrorCode, Forbidden
from polls.http.council.password_reset import LinkEmail, email_staff_a_link
from polls.http.kit.auth import check_csrf, session_of, sign_out
from polls.http.kit.render import render
from polls.i18n import N_
from polls.runtime import runtime
from polls.store import sign_ins
from polls.store.db import Session
from polls.store.models import Staff
from polls.tokens import SIGN_IN_LINK, TokenInvalid

_SPENT = N_(
    "This sign-in link has expired or has already been used. Ask for a new one from the sign-in page."
)


async def ask_for_link_page(request: Request) -> Response:
    tokens = runtime(request).tokens

    async def sign_in_email(db: Session, staff: Staff) -> LinkEmail:
        fingerprint = await sign_ins.link_fingerprint(db, staff)
        token = tokens.sign(SIGN_IN_LINK, {"s": staff.id, "f": fingerprint})
        return "sign_in_link", Purpose.SIGN_IN_LINK, f"/sign-in/link?token={token}"

    return await email_staff_a_link(
        request,
        form_page="council/sign_in_link.html",
        sent_page="council/sign_in_link_sent.html",
        throttle_key="sign-in-link",
        link_email=sign_in_email,
    )


async def use_link_page(request: Request) -> Response:
    """Opening the link shows a button; only pressing it signs in, so a mail scanner that
    follows links cannot spend it."""
    rt = runtime(request)
    token = request.query_params.get("token", "")
    try:
        data = rt.tokens.read(SIGN_IN_LINK, token)
        staff_id, fingerprint = int(data["s"]), str(data["f"])
    except (TokenInvalid, KeyError, TypeError, ValueError):  # expired ones too: the same page
        raise Forbidden(_SPENT, code=ErrorCode.SIGN_IN_LINK_INVALID) from None
    if request.method == "GET":
        return render(request, "council/sign_in_link_use.html", {"token": token})
    form = await request.form()
    check_csrf(request, form)
    async with rt.db.begin() as db:
        started = await sign_ins.start_from_link(db, staff_id, fingerprint)
    if started is None:
        raise Forbidden(_SPENT, code=ErrorCode.SIGN_IN_LINK_INVALID)
    staff, key = started
    await sign_out(request)  # the session this browser had before, if any
    session_of(request).sign_in(staff, key)
    return RedirectResponse("/council", status_code=303)


routes = [
    Route("/sign-in/email-link", ask_for_link_page, methods=["GET", "POST"]),
    Route("/sign-in/link", use_link_page, methods=["GET", "POST"]),
]
