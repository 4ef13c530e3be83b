"""Signing staff in and out, and the invitation link new staff use to choose a password."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from polls.domain.messages import Channel, Purpose
from polls.errors import ErrorCode, Forbidden, NotSignedIn, TooManyRequests, ValidationFailed
from polls.http.kit.auth import DEVICE_COOKIE, check_csrf, current_actor, session_of, sign_out
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import audit, sign_ins
from polls.store import messages as outbox
from polls.store.db import Session
from polls.store.models import Pilot, Staff, StaffRole
from polls.store.staff import check_password, hash_password, invited_account, normalise_email
from polls.tokens import STAFF_DEVICE, STAFF_INVITE, TokenExpired, TokenInvalid, password_fingerprint


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def attempt_sign_in(request: Request, email: str, password: str) -> Staff:
    """Check the password, throttled per account and per address; on success rotate the session.

    The attempt is counted before the password is checked, so a burst of guesses sent at once
    gets no more checks than the same guesses sent one by one. A browser that signed in to
    this account before has a back-off of its own, so strangers' guesses cannot keep its
    officer out."""
    rt = runtime(request)
    account = normalise_email(email)
    known = _device_digest(account) == _device_of(request)
    throttled = f"{account}:known-device" if known else account
    address = client_address(request)
    wait = await rt.signin_throttle.admit(throttled, address)
    if wait:
        raise TooManyRequests(_wait_message(wait), retry_after=wait)
    async with rt.db.begin() as db:
        staff = await check_password(db, email, password)
        key = await sign_ins.start(db, staff.id) if staff is not None else ""
    if staff is None:
        raise NotSignedIn("The email address or password is not right", code=ErrorCode.BAD_CREDENTIALS)
    await rt.signin_throttle.succeeded(throttled, address)
    session = session_of(request)
    await sign_out(request)  # the session this browser had before, if any
    session.sign_in(staff, key)
    session.device = rt.tokens.sign(STAFF_DEVICE, {"a": _device_digest(account)})
    return staff


def _wait_message(seconds: int) -> str:
    if seconds < 90:
        return f"Too many failed sign-in attempts. Try again in {seconds} second{'s' if seconds > 1 else ''}."
    minutes = round(seconds / 60)
    return f"Too many failed sign-in attempts from here. Try again in {minutes} minutes."


def _device_digest(account: str) -> str:
    return hashlib.sha256(f"polls.staff-device:{account}".encode()).hexdigest()[:32]


def _device_of(request: Request) -> str | None:
    """The account digest in this browser's signed-in-before cookie, if it has a valid one."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        return str(runtime(request).tokens.read(STAFF_DEVICE, raw)["a"])
    except (TokenInvalid, KeyError, TypeError):
        return None


def invite_path(request: Request, role: StaffRole) -> str:
    """The link that lets someone new to a pilot in. For a pending role (an account that
    already existed) it looks the same but can never set a password: its owner signs in
    and accepts instead."""
    staff = role.staff
    fingerprint = password_fingerprint(secrets.token_hex(16) if role.pending else staff.password_hash)
    token = runtime(request).tokens.sign(STAFF_INVITE, {"s": staff.id, "f": fingerprint})
    return f"/staff/welcome?token={token}"


async def email_invitation(request: Request, db: Session, role: StaffRole, pilot: Pilot) -> str:
    """Queue the invitation email in ``db``'s transaction (the one adding the staff member) and
    return its link, which the officer is also shown."""
    staff = role.staff
    path = invite_path(request, role)  # the worker completes it with BASE_URL when sending
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
    await sign_out(request)
    return RedirectResponse("/sign-in", status_code=303)


_USED_LINK = (
    "This invitation link has already been used, or you already have an account: "
    "sign in, and accept any invitation waiting for you there."
)


async def _check_unused(request: Request, data: dict[str, Any], used: str, code: ErrorCode) -> None:
    """Refuses a link that can no longer set the password (before showing the form)."""
    async with runtime(request).db() as db:
        if await invited_account(db, int(data["s"]), str(data["f"])) is None:
            raise Forbidden(used, code=code)


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
    return await choose_password(request, data, _USED_LINK, "council/welcome.html")


async def choose_password(
    request: Request, data: dict[str, Any], used: str, template: str, code: ErrorCode = ErrorCode.FORBIDDEN
) -> Response:
    """The password form of a signed link naming a staff member and their password's fingerprint:
    the new password changes the fingerprint, which spends the link."""
    rt = runtime(request)
    await _check_unused(request, data, used, code)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        check_csrf(request, form)
        password = str(form.get("password", ""))
        if password != str(form.get("confirm", "")):
            errors["confirm"] = "The two passwords are different"
        else:
            async with rt.db.begin() as db:
                staff = await invited_account(db, int(data["s"]), str(data["f"]))
                if staff is None:
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
                    # A new password ends every session signed in with an old one.
                    await sign_ins.end_all(db, staff.id)
                    key = await sign_ins.start(db, staff.id)
            if not errors:
                session_of(request).sign_in(staff, key)
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
