"""'Forgot my password': a single-use link by email, valid for an hour, throttled per address
and per email, and the same answer whether or not there is an account for the address given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from polls.domain.contacts import check_email
from polls.domain.messages import Channel, Purpose
from polls.errors import ErrorCode, Forbidden, ValidationFailed
from polls.http.council.sign_in import choose_password, client_address
from polls.http.kit.auth import check_csrf
from polls.http.kit.render import render
from polls.i18n import N_, ngettext
from polls.runtime import runtime
from polls.store import messages as outbox
from polls.store.db import Session
from polls.store.models import Staff
from polls.store.staff import find_by_email
from polls.tokens import PASSWORD_RESET, TokenInvalid, password_fingerprint


def too_many_requests(minutes: int) -> str:
    """The link throttle's answer, in the page's language."""
    return ngettext(
        "Too many requests. Try again in %(num)d minute.",
        "Too many requests. Try again in %(num)d minutes.",
        minutes,
    ) % {"num": minutes}


# What a link email says: its template, its purpose and the link's path (BASE_URL is added when
# it is sent). Made inside the transaction that queues it, for an active account only.
LinkEmail = tuple[str, Purpose, str]


async def email_staff_a_link(
    request: Request,
    *,
    form_page: str,
    sent_page: str,
    throttle_key: str,
    link_email: Callable[[Session, Staff], Awaitable[LinkEmail]],
) -> Response:
    """The "email me a link" form of staff pages (password reset, sign-in link): the address
    checked at the field, every request throttled per address and per email whether or not an
    account has it, the email queued only for an active account, and the same answer either way."""
    if request.method == "GET":
        return render(request, form_page, {"values": {}})
    form = await request.form()
    check_csrf(request, form)
    typed = str(form.get("email", ""))
    try:
        email = check_email(typed)
    except ValidationFailed as exc:
        errors = {"email": exc.errors[0].message}
        return render(request, form_page, {"values": {"email": typed}, "errors": errors}, status_code=422)
    rt = runtime(request)
    wait = await rt.link_throttle.take(f"{throttle_key}:{email.lower()}", f"ip:{client_address(request)}")
    if wait:
        errors = {"email": too_many_requests(max(1, round(wait / 60)))}
        return render(
            request,
            form_page,
            {"values": {"email": typed}, "errors": errors},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    async with rt.db.begin() as db:
        staff = await find_by_email(db, email)
        if staff is not None and staff.active:
            template, purpose, link = await link_email(db, staff)
            await outbox.enqueue(
                db,
                channel=Channel.EMAIL,
                recipient=staff.email,
                template=template,
                personalisation={"council": rt.settings.council_name, "link": link},
                purpose=purpose,
            )
    rt.messages_queued()
    return render(request, sent_page, {"email": email})


async def forgot_password_page(request: Request) -> Response:
    tokens = runtime(request).tokens

    async def reset_email(db: Session, staff: Staff) -> LinkEmail:
        token = tokens.sign(PASSWORD_RESET, {"s": staff.id, "f": password_fingerprint(staff.password_hash)})
        return "password_reset", Purpose.PASSWORD_RESET, f"/staff/reset?token={token}"

    return await email_staff_a_link(
        request,
        form_page="council/forgot_password.html",
        sent_page="council/forgot_password_sent.html",
        throttle_key="email",
        link_email=reset_email,
    )


async def reset_password_page(request: Request) -> Response:
    rt = runtime(request)
    used = N_("This link has expired or has already been used. Ask for a new one from the sign-in page.")
    try:
        data = rt.tokens.read(PASSWORD_RESET, request.query_params.get("token", ""))
    except TokenInvalid:  # expired ones too: the same page either way
        raise Forbidden(used, code=ErrorCode.RESET_LINK_INVALID) from None
    return await choose_password(
        request, data, used, "council/reset_password.html", code=ErrorCode.RESET_LINK_INVALID
    )


routes = [
    Route("/sign-in/forgot", forgot_password_page, methods=["GET", "POST"]),
    Route("/staff/reset", reset_password_page, methods=["GET", "POST"]),
]
