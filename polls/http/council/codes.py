"""Voter codes for officers: issue poll cards for an area, cancel lost ones, re-issue them.

The codes page and the JSON API (polls.http.api.codes) share the store operations and the cards
made here; the QR and token work runs in a worker thread a few hundred cards at a time, so a
large batch does not stall other requests.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from polls import cards
from polls.domain.access import Actor, Permission
from polls.domain.validation import StrictSpec
from polls.errors import FieldError, PollsError, ValidationFailed
from polls.http.council import confirm
from polls.http.kit.forms import errors_by_field, read_form, whole_number
from polls.http.kit.guards import page, pilot_staff
from polls.http.kit.render import render
from polls.runtime import runtime
from polls.store import codes as code_store
from polls.store import pilots as pilot_store
from polls.store.codes import MAX_BATCH, BatchSummary, IssuedBatch, IssuedCode
from polls.store.models import Area, Pilot
from polls.store.officer_keys import legacy_cards, set_officer_key

MAX_FROM_PAGE = 10_000  # a printable sheet of 10,000 cards is already 1,250 pages
_CHUNK = 250  # cards made per trip to the worker thread
NO_STORE = {"Cache-Control": "no-store"}  # voting codes must not linger in caches


class IssueSpec(StrictSpec):
    area_id: int
    count: int = Field(ge=1, le=MAX_BATCH)


async def card_rows_for(request: Request, codes: Sequence[IssuedCode], area_code: str) -> list[cards.CardRow]:
    settings = runtime(request).settings
    pairs = [(c.reference, c.short_code) for c in codes]
    return await asyncio.to_thread(cards.card_rows, pairs, area_code, settings.base_url, settings.secret_keys)


async def _card_rows(request: Request, issued: IssuedBatch) -> AsyncIterator[list[cards.CardRow]]:
    for start in range(0, len(issued.codes), _CHUNK):
        yield await card_rows_for(request, issued.codes[start : start + _CHUNK], issued.area_code)


def csv_response(request: Request, issued: IssuedBatch) -> Response:
    async def body() -> AsyncIterator[str]:
        yield cards.csv_text([], header=True)
        async for rows in _card_rows(request, issued):
            yield cards.csv_text(rows)

    name = f"poll-cards-pilot{issued.pilot_id}-{issued.area_code}-batch{issued.batch_id}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _sheet_response(request: Request, issued: IssuedBatch, pilot: Pilot) -> Response:
    rows = [row async for chunk in _card_rows(request, issued) for row in chunk]
    html = await asyncio.to_thread(cards.poll_card_sheet, rows, pilot, stylesheet="/council/cards.css")
    return HTMLResponse(html, headers=NO_STORE)


def _by_area(batches: Sequence[BatchSummary]) -> list[dict[str, Any]]:
    totals: dict[int | None, dict[str, Any]] = {}
    for b in batches:
        area = totals.setdefault(
            b.area_id, {"name": b.area_name, "code": b.area_code, "issued": 0, "revoked": 0}
        )
        area["issued"] += b.count
        area["revoked"] += b.revoked
    return sorted(totals.values(), key=lambda a: str(a["name"]))


@pilot_staff(Permission.VIEW_PILOT)
async def codes_page(request: Request, actor: Actor, pilot: Pilot) -> Response:
    """GET: batches so far and the forms; POST: issue a batch as a CSV download or a card sheet."""
    pilot_id = pilot.id
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"format": "csv"}
    if request.method == "POST":
        form = await read_form(request)
        values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
        try:
            spec = _issue_form(values)
            async with runtime(request).db.begin() as db:
                issued = await code_store.issue_codes(db, actor, pilot_id, spec.area_id, spec.count)
            if values.get("format") == "sheet":
                return await _sheet_response(request, issued, pilot)
            return csv_response(request, issued)
        except ValidationFailed as exc:
            errors = errors_by_field(exc.errors)
        except PollsError as exc:
            if exc.code == "officer_key_not_set":
                errors = {"officer_public_key": exc.message}
            elif exc.code == "area_not_found":
                errors = {"area_id": "Choose one of this pilot's areas"}
            else:
                raise
    return await _render_page(request, actor, pilot, values=values, errors=errors)


@pilot_staff(Permission.MANAGE_PILOT)
async def officer_key(request: Request, actor: Actor, pilot: Pilot) -> Response:
    """Set the returning officer's public key, which poll cards' voter secrets are sealed to."""
    form = await read_form(request)
    values: dict[str, Any] = {"format": "csv", "officer_public_key": str(form.get("officer_public_key", ""))}
    errors: dict[str, str] = {}
    done = None
    try:
        async with runtime(request).db.begin() as db:
            pilot = await set_officer_key(db, actor, pilot.id, values["officer_public_key"])
        done = {"action": "officer_key"}
    except ValidationFailed as exc:
        errors = errors_by_field(exc.errors)
    return await _render_page(request, actor, pilot, values=values, errors=errors, done=done)


def _issue_form(values: dict[str, str]) -> IssueSpec:
    errors: dict[str, str] = {}
    area_id = whole_number(values.get("area_id", ""))
    if area_id is None:
        errors["area_id"] = "Choose the area the cards are for"
    raw_count = values.get("count", "").strip().replace(",", "")
    count = whole_number(raw_count)
    if not raw_count:
        errors["count"] = "Enter how many codes to issue"
    elif count is None:
        errors["count"] = "Enter the number of codes as a whole number, like 500"
    elif not 1 <= count <= MAX_FROM_PAGE:
        errors["count"] = (
            f"Issue between 1 and {MAX_FROM_PAGE:,} codes at a time here; "
            "use the command line or the API for larger batches"
        )
    if values.get("format") not in ("csv", "sheet"):
        errors["format"] = "Choose a CSV file or printable poll cards"
    if errors or area_id is None or count is None:
        raise ValidationFailed([FieldError(k, v) for k, v in errors.items()])
    return IssueSpec(area_id=area_id, count=count)


@pilot_staff(Permission.VIEW_PILOT)
async def change_code(request: Request, actor: Actor, pilot: Pilot) -> Response:
    """Cancel a lost card's code, or cancel it and issue its replacement (shown once)."""
    pilot_id = pilot.id
    form = await read_form(request)
    reference = str(form.get("reference", "")).strip()
    action = str(form.get("action", ""))
    values = {"reference": reference, "format": "csv"}
    errors: dict[str, str] = {}
    done: dict[str, Any] | None = None
    status = 200
    try:
        if not reference:
            raise ValidationFailed.one("reference", "Enter the reference of the lost card")
        if action not in ("revoke", "reissue"):
            raise ValidationFailed.one("reference", "Choose to cancel the code or to issue a new one")
        if action == "revoke" and not confirm.confirmed(form):
            return confirm.revoke_code_page(request, pilot, reference)
        async with runtime(request).db.begin() as db:
            if action == "revoke":
                code = await code_store.revoke_code(db, actor, pilot_id, reference)
                done = {"action": "revoke", "reference": code.reference}
            else:
                officer_key = str(form.get("officer_key", ""))
                code, new = await code_store.reissue_code(db, actor, pilot_id, reference, officer_key)
                area_code = await code_store.area_code_of(db, code)
        if action == "reissue":
            (row,) = await card_rows_for(request, [new], area_code)
            svg = base64.b64encode(row.qr_svg.encode()).decode()
            done = {
                "action": "reissue",
                "replaces": code.replaces,
                "card": row,
                "qr_data_uri": f"data:image/svg+xml;base64,{svg}",  # the CSP allows data: images
            }
        values = {"format": "csv"}
    except ValidationFailed as exc:
        errors, status = errors_by_field(exc.errors), exc.status
    except PollsError as exc:
        if exc.code == "officer_key_wrong":
            errors, status = {"officer_key": exc.message}, exc.status
        elif exc.code in ("code_not_found", "code_revoked", "code_already_replaced", "code_not_replaceable"):
            errors, status = {"reference": exc.message}, exc.status
        else:
            raise
    return await _render_page(request, actor, pilot, values=values, errors=errors, done=done, status=status)


async def _render_page(
    request: Request,
    actor: Actor,
    pilot: Pilot,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    done: dict[str, Any] | None = None,
    status: int | None = None,
) -> Response:
    pilot_id = pilot.id
    async with runtime(request).db() as db:
        areas: list[Area] = await pilot_store.list_areas(db, pilot_id)
        batches = await code_store.list_batches(db, actor, pilot_id)
        legacy = await legacy_cards(db, pilot_id)
    return render(
        request,
        "council/codes.html",
        {
            "pilot": pilot,
            "areas": areas,
            "area_choices": [("", "Choose an area")] + [(str(a.id), f"{a.name} ({a.code})") for a in areas],
            "batches": batches,
            "by_area": _by_area(batches),
            "values": values,
            "errors": errors,
            "done": done,
            "max_from_page": MAX_FROM_PAGE,
            "can_manage": actor.can(Permission.MANAGE_PILOT, pilot_id),
            "legacy_cards": legacy,
        },
        status_code=status or (422 if errors else 200),
        headers=NO_STORE if done else None,
    )


async def sheet_css(request: Request) -> Response:
    return Response(cards.sheet_css(), media_type="text/css", headers={"Cache-Control": "max-age=3600"})


GET, BOTH, POST = ["GET"], ["GET", "POST"], ["POST"]

routes: list[BaseRoute] = [
    Route("/council/cards.css", sheet_css, methods=GET),
    Route("/council/pilots/{pilot_id:id}/codes", page(codes_page), methods=BOTH),
    Route("/council/pilots/{pilot_id:id}/codes/change", page(change_code), methods=POST),
    Route("/council/pilots/{pilot_id:id}/codes/officer-key", page(officer_key), methods=POST),
]
