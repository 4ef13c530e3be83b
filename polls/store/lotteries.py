"""Computing a jury's lottery: the fairest lottery over the pool, solved in a worker thread by
``compute_lottery``, which writes its progress to the jury row every couple of seconds so that
any app instance can show it (a solve whose instance died is seen to have stopped), then the
result or the reason it failed (audited)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from polls.domain.access import Actor, Permission
from polls.domain.juries import CHANGEABLE, JuryStatus, require_status
from polls.domain.sortition import (
    Lottery,
    Pool,
    SolveProgress,
    commitment,
    fairest_lottery,
    group_pool,
    make_lottery,
    new_seed,
)
from polls.domain.sortition.leximin import Progress
from polls.domain.sortition.relaxation import InfeasibilityReport
from polls.errors import Conflict, ErrorCode, QuotasInfeasible
from polls.store.db import Database
from polls.store.juries import (
    audit_jury,
    discard_lottery,
    get_jury,
    load_pool,
    pool_size,
    refuse_while_solving,
)
from polls.store.models import Jury, utcnow

log = logging.getLogger("polls.juries")

HEARTBEAT = 2.0  # seconds between progress writes while a solve runs


async def start_lottery(session: AsyncSession, actor: Actor, jury_id: int) -> str:
    """Mark the jury's lottery as being computed; the run id to hand to ``compute_lottery``."""
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT, lock=True)
    require_status(jury.status, CHANGEABLE, "compute the lottery")
    refuse_while_solving(jury)
    people = await pool_size(session, jury.id)
    if not people:
        raise Conflict("Upload the people and categories files first", code=ErrorCode.JURY_POOL_MISSING)
    run = secrets.token_hex(8)
    now = utcnow().isoformat()
    discard_lottery(jury)
    jury.solve = {
        "state": "running",
        "run": run,
        "by": actor.email,
        "started_at": now,
        "updated_at": now,
        "step": "starting",
        "fraction": 0.0,
        "panels": 0,
        "lowest": None,
    }
    await audit_jury(session, actor, jury, "jury.lottery.start", after={"people": people, "size": jury.size})
    return run


@dataclass(frozen=True)
class _Solved:
    lottery: Lottery | None
    seed: str
    seconds: float
    report: InfeasibilityReport | None = None


def _solve(pool: Pool, size: int, households: bool, progress: Progress | None) -> _Solved:
    """In a worker thread: the fairest lottery and a fresh seed committed to in it."""
    started = time.monotonic()
    seed = new_seed()
    groups = group_pool(pool, households=households)
    try:
        distribution = fairest_lottery(groups, size, progress)
    except QuotasInfeasible as exc:
        return _Solved(None, seed, time.monotonic() - started, exc.report)
    lottery = make_lottery(distribution, households_apart=households, seed_sha256=commitment(seed))
    return _Solved(lottery, seed, time.monotonic() - started)


async def compute_lottery(db: Database, jury_id: int, run: str) -> None:
    """Solve in a worker thread (the event loop stays free), writing progress, then the result."""
    async with db() as session:
        jury = await session.get(Jury, jury_id)
        if jury is None:
            return
        pool = await load_pool(session, jury)
        size, households = jury.size, jury.households_apart
    latest: list[SolveProgress | None] = [None]  # the solver thread keeps the newest report here

    def report(progress: SolveProgress) -> None:
        latest[0] = progress

    task = asyncio.ensure_future(asyncio.to_thread(_solve, pool, size, households, report))
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=HEARTBEAT)
            if not task.done() and not await _write_progress(db, jury_id, run, latest[0]):
                return  # superseded (the pool changed, or an officer started again)
        solved = task.result()
    except Exception as exc:  # the solver failed: say so on the page rather than spin forever
        log.exception("lottery for jury %s failed", jury_id)
        await _finish(db, jury_id, run, failure=f"The solver failed ({type(exc).__name__}: {exc}).")
        return
    if solved.lottery is None:
        assert solved.report is not None
        await _finish(db, jury_id, run, report=solved.report)
        return
    await _finish(db, jury_id, run, solved=solved, pool_people=len(pool))


async def _write_progress(db: Database, jury_id: int, run: str, progress: SolveProgress | None) -> bool:
    async with db.begin() as session:
        jury = await session.get(Jury, jury_id, with_for_update=True)
        if jury is None or (jury.solve or {}).get("run") != run:
            return False
        solve = dict(jury.solve or {}, updated_at=utcnow().isoformat())
        if progress is not None:
            solve |= {
                "step": progress.step,
                "fraction": progress.fraction,
                "panels": progress.panels,
                "lowest": progress.lowest,
            }
        jury.solve = solve
    return True


async def _finish(
    db: Database,
    jury_id: int,
    run: str,
    *,
    solved: _Solved | None = None,
    pool_people: int = 0,
    report: InfeasibilityReport | None = None,
    failure: str | None = None,
) -> None:
    async with db.begin() as session:
        jury = await session.get(Jury, jury_id, with_for_update=True)
        if jury is None or (jury.solve or {}).get("run") != run:
            return
        await _record(session, jury, run, solved, pool_people, report, failure)


async def _record(
    session: AsyncSession,
    jury: Jury,
    run: str,
    solved: _Solved | None,
    pool_people: int,
    report: InfeasibilityReport | None,
    failure: str | None,
) -> None:
    by = str((jury.solve or {}).get("by", "system"))
    if solved is None or solved.lottery is None:
        jury.solve = {
            "state": "failed",
            "run": run,
            "by": by,
            "finished_at": utcnow().isoformat(),
            "report": report.describe() if report else failure,
            "conflicts": list(report.conflicts) if report else [],
            "relaxations": [r.describe() for r in report.relaxations] if report else [],
        }
        await audit_jury(session, by, jury, "jury.lottery.failed", after={"report": jury.solve["report"]})
        return
    lottery = solved.lottery
    probabilities = lottery.probabilities()
    jury.lottery = lottery.to_json()
    jury.seed, jury.seed_sha256 = solved.seed, lottery.seed_sha256
    jury.lottery_facts = {
        "seconds": round(solved.seconds, 3),
        "people": pool_people,
        "groups": len(lottery.groups),
        "panels": len(lottery.panels),
        "lowest_probability": float(min(probabilities.values())),
        "highest_probability": float(max(probabilities.values())),
        "lottery_sha256": lottery.fingerprint(),
    }
    jury.solve = None
    jury.computed_at = utcnow()
    jury.status = JuryStatus.COMPUTED
    await audit_jury(
        session,
        by,
        jury,
        "jury.lottery.computed",
        after={"seed_sha256": jury.seed_sha256, **jury.lottery_facts},
    )


async def compute_lottery_now(session: AsyncSession, actor: Actor, jury_id: int) -> Jury:
    """Compute the lottery within this transaction, blocking while it solves: only for pools
    known to be small (the demo); the pages and the API use ``compute_lottery``."""
    run = await start_lottery(session, actor, jury_id)
    jury = await get_jury(session, actor, jury_id, Permission.MANAGE_PILOT)
    pool = await load_pool(session, jury)
    solved = _solve(pool, jury.size, jury.households_apart, None)
    await _record(session, jury, run, solved, len(pool), solved.report, None)
    return jury
