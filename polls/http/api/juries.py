"""Juries through the API: set one up, upload its pool, compute, publish and draw the lottery, invite
the panel and follow the answers."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from polls.domain.access import Actor, Permission
from polls.domain.juries import DrawSpec, JurySpec, read_pool_files
from polls.domain.sortition.randomness import PublishSpec
from polls.domain.validation import StrictSpec, parse
from polls.http.api.kit import ApiRoute, read_json
from polls.http.juries.selection import csv_download, household_columns, invitations_csv, start_solving
from polls.http.kit.forms import path_int
from polls.http.kit.guards import jury_staff, staff_only
from polls.runtime import runtime
from polls.store import juries as jury_store
from polls.store import jurors as juror_store
from polls.store import lotteries as lottery_store
from polls.store.models import Jury, Pilot

MAX_POOL_JSON = 5_000_000  # two CSV files of a large pool


class PoolUploadSpec(StrictSpec):
    people: str = Field(min_length=1)
    categories: str = Field(min_length=1)
    id_column: str | None = None
    household_columns: list[str] = []


class ExportSpec(StrictSpec):
    only_new: bool = False


def jury_body(jury: Jury, people: int | None = None) -> dict[str, Any]:
    solve = jury.solve or {}
    body = jury_store.jury_snapshot(jury) | {
        "seed_sha256": jury.seed_sha256,
        "randomness_source": jury.randomness_source,
        "lottery": jury.lottery_facts,
        "solving": jury_store.solve_is_running(jury),
        "solve": {k: v for k, v in solve.items() if k not in ("run", "by")} or None,
        "draw": jury.draw,
        "public_url": f"/juries/{jury.id}" if jury.published_at else None,
    }
    if people is not None:
        body["people"] = people
    return body


@staff_only
async def list_juries(request: Request, actor: Actor) -> Response:
    async with runtime(request).db() as db:
        juries = await jury_store.list_juries(db, actor, path_int(request, "pilot_id"))
    return JSONResponse([jury_body(j) for j in juries])


@staff_only
async def create_jury(request: Request, actor: Actor) -> Response:
    spec = parse(JurySpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        jury = await jury_store.create_jury(db, actor, path_int(request, "pilot_id"), spec)
        return JSONResponse(jury_body(jury, 0), status_code=201)


@staff_only
@jury_staff(Permission.VIEW_PILOT)
async def get_jury(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        return JSONResponse(jury_body(jury, await jury_store.pool_size(db, jury.id)))


@staff_only
async def update_jury(request: Request, actor: Actor) -> Response:
    spec = parse(JurySpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        jury = await jury_store.update_jury(db, actor, path_int(request, "jury_id"), spec)
        return JSONResponse(jury_body(jury))


@staff_only
async def upload_pool(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    spec = parse(PoolUploadSpec, await read_json(request, limit=MAX_POOL_JSON))
    async with runtime(request).db() as db:
        jury = await jury_store.get_jury(db, actor, jury_id, Permission.MANAGE_PILOT)
    columns = household_columns(",".join(spec.household_columns), jury.households_apart)
    pool = await asyncio.to_thread(
        read_pool_files, spec.people, spec.categories, id_column=spec.id_column, household_columns=columns
    )
    async with runtime(request).db.begin() as db:
        jury = await jury_store.replace_pool(db, actor, jury_id, pool)
        return JSONResponse(jury_body(jury, len(pool)))


@staff_only
async def compute(request: Request, actor: Actor) -> Response:
    jury_id = path_int(request, "jury_id")
    rt = runtime(request)
    async with rt.db.begin() as db:
        run = await lottery_store.start_lottery(db, actor, jury_id)
        jury = await jury_store.get_jury(db, actor, jury_id, Permission.MANAGE_PILOT)
        body = jury_body(jury)
    start_solving(rt.db, jury_id, run)
    return JSONResponse(body, status_code=202)


@staff_only
async def publish(request: Request, actor: Actor) -> Response:
    spec = parse(PublishSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        jury = await jury_store.publish_lottery(db, actor, path_int(request, "jury_id"), spec)
        return JSONResponse(jury_body(jury))


@staff_only
async def draw(request: Request, actor: Actor) -> Response:
    spec = parse(DrawSpec, await read_json(request))
    async with runtime(request).db.begin() as db:
        jury = await jury_store.draw_jury(db, actor, path_int(request, "jury_id"), spec)
        return JSONResponse(jury_body(jury))


@staff_only
@jury_staff(Permission.VIEW_PILOT)
async def list_jurors(request: Request, actor: Actor, jury: Jury, pilot: Pilot) -> Response:
    async with runtime(request).db() as db:
        jurors = await juror_store.list_jurors(db, jury.id)
    return JSONResponse([juror_store.juror_snapshot(j) for j in jurors])


@staff_only
async def invite(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        invited = await juror_store.open_invitations(db, actor, path_int(request, "jury_id"))
        return JSONResponse([juror_store.juror_snapshot(j) for j in invited])


@staff_only
async def export(request: Request, actor: Actor) -> Response:
    spec = parse(ExportSpec, await read_json(request))
    rt = runtime(request)
    jury_id = path_int(request, "jury_id")
    async with rt.db.begin() as db:
        rows = await juror_store.export_invitations(
            db, actor, jury_id, rt.tokens, rt.settings.base_url, only_new=spec.only_new
        )
    return csv_download(invitations_csv(rows), f"jury{jury_id}-invitations.csv")


@staff_only
async def expire(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        invited = await juror_store.expire_invitations(db, actor, path_int(request, "jury_id"))
        return JSONResponse([juror_store.juror_snapshot(j) for j in invited])


@staff_only
async def withdraw(request: Request, actor: Actor) -> Response:
    async with runtime(request).db.begin() as db:
        reserve = await juror_store.withdraw_juror(
            db, actor, path_int(request, "jury_id"), path_int(request, "juror_id")
        )
        return JSONResponse({"reserve_invited": juror_store.juror_snapshot(reserve) if reserve else None})


J = "/api/juries/{jury_id:id}"

OPERATIONS: list[ApiRoute] = [
    ApiRoute("GET", "/api/pilots/{pilot_id:id}/juries", list_juries, "A pilot's citizens' juries"),
    ApiRoute("POST", "/api/pilots/{pilot_id:id}/juries", create_jury, "Set up a citizens' jury", JurySpec),
    ApiRoute("GET", J, get_jury, "A jury: settings, status, lottery facts, the draw"),
    ApiRoute(
        "PUT", J, update_jury, "Change a jury (size, kind and households only before publication)", JurySpec
    ),
    ApiRoute(
        "POST",
        J + "/pool",
        upload_pool,
        "Upload the recruitment pool: the people and categories CSV files (all or nothing)",
        PoolUploadSpec,
    ),
    ApiRoute("POST", J + "/lottery", compute, "Compute the fairest panel lottery in the background (202)"),
    ApiRoute(
        "POST",
        J + "/publish",
        publish,
        "Publish everyone's probability, the seed commitment and the source of the public randomness",
        PublishSpec,
    ),
    ApiRoute(
        "POST",
        J + "/draw",
        draw,
        "Reveal the seed and the committed public randomness, and draw the panel and reserves",
        DrawSpec,
    ),
    ApiRoute("GET", J + "/jurors", list_jurors, "The drawn panel and reserves, and their answers"),
    ApiRoute("POST", J + "/invitations", invite, "Invite the drawn panel"),
    ApiRoute(
        "POST",
        J + "/invitations/export",
        export,
        "Open invitations as a mail-merge CSV (text/csv): id, role, seat, link, expires",
        ExportSpec,
    ),
    ApiRoute("POST", J + "/invitations/expire", expire, "Close expired invitations and invite reserves"),
    ApiRoute(
        "POST",
        J + "/jurors/{juror_id:id}/withdraw",
        withdraw,
        "Withdraw an accepted juror; the next suitable reserve is invited",
    ),
]
