"""'Email me a sign-in link': for an officer locked out (a forgotten password, a throttled
account), a link by email that signs them in once, within 15 minutes. Throttled per address and
per email, and the same answer whether or not there is an account for the address given."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polls.domain.contacts import check_email
from polls.domain.messages import Channel, Purpose
from polls.errors import ErrorCode, Forbidden, ValidationFailed
from polls.http.council.password_reset import too_many_requests
from polls.http.council.sign_in import client_address
from polls.http.kit.auth import check_csrf, session_of, sign_out
from polls.http.kit.render import render
from polls.i18n import N_
from polls.runtime import runtime
from polls.store import messages as outbox
from polls.store import sign_ins
from polls.store.staff import find_by_email
from polls.tokens import SIGN_IN_LINK, TokenInvalid

_FORM = "council/sign_in_link.html"
_SPENT = N_(
    "This sign-in link has expired or has already been used. Ask for a new one from the sign-in page."
)


async def ask_for_link_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, _FORM, {"values": {}})
    form = await request.form()
    check_csrf(request, form)
    typed = str(form.get("email", ""))
    try:
        email = check_email(typed)
    except ValidationFailed as exc:
        errors = {"email": exc.errors[0].message}
        return render(request, _FORM, {"values": {"email": typed}, "errors": errors}, status_code=422)
    rt = runtime(request)
    # Every request counts, known address or not, so the answer's timing and limit say nothing.
    wait = await rt.link_throttle.take(f"sign-in-link:{email.lower()}", f"ip:{client_address(request)}")
    if wait:
        minutes = max(1, round(wait / 60))
        errors = {"email": too_many_requests(minutes)}
        return render(
            request,
            _FORM,
            {"values": {"email": typed}, "errors": errors},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    async with rt.db.begin() as db:
        staff = await find_by_email(db, email)
        if staff is not None and staff.active:
            fingerprint = await sign_ins.link_fingerprint(db, staff)
            token = rt.tokens.sign(SIGN_IN_LINK, {"s": staff.id, "f": fingerprint})
            await outbox.enqueue(
                db,
                channel=Channel.EMAIL,
                recipient=staff.email,
                template="sign_in_link",
                personalisation={
                    "council": rt.settings.council_name,
                    "link": f"/sign-in/link?token={token}",  # completed with BASE_URL when sent
                },
                purpose=Purpose.SIGN_IN_LINK,
            )
    rt.messages_queued()
    return render(request, "council/sign_in_link_sent.html", {"email": email})


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
