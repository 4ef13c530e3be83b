"""Signing staff in and out, and the invitation link new staff use to choose a password."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polls.domain.messages import Channel, Purpose
from polls.errors import ErrorCode, Forbidden, NotSignedIn, TooManyRequests, ValidationFailed
from polls.http.kit.auth import check_csrf, current_actor, session_of
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import audit
from polls.store import messages as outbox
from polls.store.db import Session
from polls.store.models import Pilot, Staff
from polls.store.staff import check_password, find_staff, hash_password, normalise_email
from polls.tokens import STAFF_INVITE, TokenExpired, TokenInvalid, password_fingerprint


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def attempt_sign_in(request: Request, email: str, password: str) -> Staff:
    """Check the password, throttled per email and per address; on success rotate the session."""
    rt = runtime(request)
    keys = (f"email:{normalise_email(email)}", f"ip:{client_address(request)}")
    wait = await rt.signin_throttle.retry_after(*keys)
    if wait:
        minutes = max(1, round(wait / 60))
        raise TooManyRequests(
            f"Too many failed sign-in attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            retry_after=wait,
        )
    async with rt.db.begin() as db:
        staff = await check_password(db, email, password)
    if staff is None:
        await rt.signin_throttle.hit(*keys)
        raise NotSignedIn("The email address or password is not right", code=ErrorCode.BAD_CREDENTIALS)
    await rt.signin_throttle.clear(keys[0])
    session_of(request).sign_in(staff)
    return staff


def invite_path(request: Request, staff: Staff) -> str:
    token = runtime(request).tokens.sign(
        STAFF_INVITE, {"s": staff.id, "f": password_fingerprint(staff.password_hash)}
    )
    return f"/staff/welcome?token={token}"


async def email_invitation(request: Request, db: Session, staff: Staff, pilot: Pilot) -> str:
    """Queue the invitation email in ``db``'s transaction (the one adding the staff member) and
    return its link, which the officer is also shown."""
    path = invite_path(request, staff)  # the worker completes it with BASE_URL when sending
    await outbox.enqueue(
        db,
        channel=Channel.EMAIL,
        recipient=staff.email,
        template="staff_invite",
        personalisation={"council": pilot.council, "name": staff.name, "link": path},
        purpose=Purpose.STAFF_INVITE,
        pilot_id=pilot.id,
    )
    runtime(request).messages_queued()
    return runtime(request).settings.base_url + path


def _safe_next(raw: str | None) -> str:
    # Only same-site paths: "next" must never send someone to another site after sign-in.
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/council"


async def sign_in_page(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if await current_actor(request) is not None:
            return RedirectResponse(next_url, status_code=303)
        return render(request, "council/sign_in.html", {"next": next_url, "values": {}})
    form = await request.form()
    check_csrf(request, form)
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    status = 422
    if not errors:
        try:
            await attempt_sign_in(request, email, password)
            return RedirectResponse(next_url, status_code=303)
        except NotSignedIn as exc:
            errors["email"] = exc.message
            status = 401
        except TooManyRequests as exc:
            errors["email"] = exc.message
            status = 429
    return render(
        request,
        "council/sign_in.html",
        {"next": next_url, "values": {"email": email}, "errors": errors},
        status_code=status,
    )


async def sign_out_page(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, form)
    session_of(request).sign_out()
    return RedirectResponse("/sign-in", status_code=303)


async def welcome_page(request: Request) -> Response:
    """New staff follow their invitation link here and choose a password (once)."""
    rt = runtime(request)
    token = request.query_params.get("token", "")
    try:
        data = rt.tokens.read(STAFF_INVITE, token)
    except TokenExpired:
        raise Forbidden("This invitation link has expired. Ask your council admin for a new one.") from None
    except TokenInvalid:
        raise Forbidden("This invitation link is not valid. Check you copied all of it.") from None
    return await choose_password(
        request, data, "This invitation link has already been used. Sign in instead.", "council/welcome.html"
    )


async def choose_password(
    request: Request, data: dict[str, Any], used: str, template: str, code: ErrorCode = ErrorCode.FORBIDDEN
) -> Response:
    """The password form of a signed link naming a staff member and their password's fingerprint:
    the new password changes the fingerprint, which spends the link."""
    rt = runtime(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        check_csrf(request, form)
        password = str(form.get("password", ""))
        if password != str(form.get("confirm", "")):
            errors["confirm"] = "The two passwords are different"
        else:
            async with rt.db.begin() as db:
                staff = await find_staff(db, int(data["s"]))
                if staff is None or password_fingerprint(staff.password_hash) != data["f"]:
                    raise Forbidden(used, code=code)
                try:
                    staff.password_hash = hash_password(password)
                except ValidationFailed as exc:
                    errors["password"] = exc.errors[0].message
                else:
                    await audit.record(
                        db,
                        actor=staff.email,
                        action="staff.set_password",
                        target=f"staff:{staff.id}",
                    )
            if not errors:
                session_of(request).sign_in(staff)
                return RedirectResponse("/council", status_code=303)
    return render(
        request,
        template,
        {"token": request.query_params.get("token", ""), "errors": errors},
        status_code=422 if errors else 200,
    )


routes = [
    Route("/sign-in", sign_in_page, methods=["GET", "POST"]),
    Route("/sign-out", sign_out_page, methods=["POST"]),
    Route("/staff/welcome", welcome_page, methods=["GET", "POST"]),
]
