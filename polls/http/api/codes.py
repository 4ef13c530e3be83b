"""Voter codes through the API: issue a batch of poll cards, list batches, cancel or re-issue a lost card."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polls.domain.access import Actor
from polls.domain.validation import StrictSpec, parse
from polls.http.api.kit import ApiRoute, read_json
from polls.http.council.codes import NO_STORE, IssueSpec, card_rows_for, csv_response
from polls.http.kit.forms import path_int
from polls.http.kit.guards import staff_only
from polls.runtime import runtime
from polls.store import codes as code_store
from polls.store.codes import BatchSummary
from polls.store.officer_keys import set_officer_key


def _batch_body(batch: BatchSummary) -> dict[str, Any]:
    return {
        "id": batch.id,
        "area_id": batch.area_id,
        "area_code": batch.area_code,
        "count": batch.count,
        "revoked": batch.revoked,
        "replacement": batch.replacement,
        "created_by": batch.created_by,
        "created_at": batch.created_at.isoformat(),
    }


@staff_only
async def api_issue(request: Request, actor: Actor) -> Response:
    spec = parse(IssueSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        issued = await code_store.issue_codes(
            db, actor, path_int(request, "pilot_id"), spec.area_id, spec.count
        )
    return csv_response(request, issued)


@staff_only
async def api_batches(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        batches = await code_store.list_batches(db, actor, path_int(request, "pilot_id"))
    return JSONResponse([_batch_body(b) for b in batches])


@staff_only
async def api_revoke(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        code = await code_store.revoke_code(
            db, actor, path_int(request, "pilot_id"), request.path_params["reference"]
        )
        area_code = await code_store.area_code_of(db, code)
    return JSONResponse({"reference": code.reference, "area_code": area_code, "revoked": True})


class ReissueSpec(StrictSpec):
    """The returning officer's private key, entered for this replacement and never stored."""

    officer_key: str = Field("", description="the returning officer's private key (rosk_...)")


@staff_only
async def api_reissue(request: Request, actor: Actor) -> Response:
    # The body is optional, so that a call without the key is told what it lacks.
    has_body = request.headers.get("content-length", "0") != "0"
    spec = parse(ReissueSpec, await read_json(request) if has_body else {})
    async with runtime(request).db.begin() as db:
        code, new = await code_store.reissue_code(
            db, actor, path_int(request, "pilot_id"), request.path_params["reference"], spec.officer_key
        )
        area_code = await code_store.area_code_of(db, code)
    (row,) = await card_rows_for(request, [new], area_code)
    body = {
        "reference": row.reference,
        "replaces": code.replaces,
        "area_code": area_code,
        "short_code": row.short_code,
        "short_link": row.short_link,
        "link": row.link,
        "qr_svg": row.qr_svg,
    }
    return JSONResponse(body, status_code=201, headers=NO_STORE)


class OfficerKeySpec(StrictSpec):
    officer_public_key: str = Field(description="the returning officer's public key (ropk_...)")


@staff_only
async def api_officer_key(request: Request, actor: Actor) -> Response:
    spec = parse(OfficerKeySpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        pilot = await set_officer_key(db, actor, path_int(request, "pilot_id"), spec.officer_public_key)
    return JSONResponse({"pilot_id": pilot.id, "officer_public_key": pilot.officer_public_key})


OPERATIONS: list[ApiRoute] = [
    ApiRoute(
        "PUT",
        "/api/pilots/{pilot_id:id}/officer-key",
        api_officer_key,
        "Set the returning officer's public key that poll cards' voter secrets are sealed to",
        OfficerKeySpec,
    ),
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/codes", api_batches, "Poll-card batches issued so far"),
    ApiRoute(
        "POST",
        "/api/pilots/{pilot_id:id}/codes",
        api_issue,
        "Issue poll-card codes for an area; answers the mail-merge CSV (text/csv)",
        IssueSpec,
    ),
    ApiRoute(
        "POST",
        "/api/pilots/{pilot_id:id}/codes/{reference}/revoke",
        api_revoke,
        "Cancel a lost card's code",
    ),
    ApiRoute(
        "POST",
        "/api/pilots/{pilot_id:id}/codes/{reference}/reissue",
        api_reissue,
        "Cancel a lost card's code and issue its replacement (shown once); needs the returning "
        "officer's private key",
        ReissueSpec,
    ),
]
