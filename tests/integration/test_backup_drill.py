"""The restore drill: vote, back up, restore into a fresh database, and find everything intact:
the counts, the audit chain, every receipt, and every spent code still spent."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import stat
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from polls.app import create_app
from polls.cli import main
from polls.settings import Settings
from polls.store import audit
from polls.store.db import open_engine, sessions_for
from polls.store.models import AuditEntry, Ballot, Nullifier, VoterCode
from polls.store.voters import ballot_trackers
from tests.voting_setup import Setup, token, vote


async def _fresh_database(settings: Settings, tmp_path: Path) -> str:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored.sqlite3'}"
    name = f"{url.database}_restored"
    conn = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database="postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop(database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        conn = await asyncpg.connect(host=url.host, port=url.port, user=url.username, database="postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        await conn.close()


async def _polls(settings: Settings, database_url: str, *args: str) -> int:
    """The `polls` command on ``database_url``, as an operator runs it."""
    env = {
        "DATABASE_URL": database_url,
        "BALLOT_KEY": settings.ballot_key,
        "POLLS_DATA_DIR": str(settings.data_dir),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return await asyncio.to_thread(main, list(args))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _state(settings: Settings, database_url: str, poll_id: int) -> dict[str, object]:
    engine = open_engine(database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            counts = {
                model.__name__: await session.scalar(select(func.count()).select_from(model))
                for model in (Ballot, Nullifier, VoterCode, AuditEntry)
            }
            chain = await audit.verify(session)
            return {
                **counts,
                "chain": (chain.checked, chain.broken, chain.head_matches),
                "receipts": await ballot_trackers(session, poll_id),
            }
    finally:
        await engine.dispose()


async def test_restore_drill_keeps_counts_audit_chain_receipts_and_spent_codes(
    voting: Setup, officer: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    poll_id = voting.poll["id"]
    cards = voting.codes["north"]
    receipts = []
    for card in cards[:3]:
        voted = await vote(officer, poll_id, token(card), voting.full_ballot())
        assert voted.status_code == 201
        receipts.append(voted.json()["tracker"])
    copy = tmp_path / "polls.backup"
    assert await _polls(settings, settings.database_url, "backup", str(copy)) == 0
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert await _polls(settings, settings.database_url, "backup", str(copy)) == 1  # never overwritten

    fresh = await _fresh_database(settings, tmp_path)
    try:
        assert await _polls(settings, fresh, "restore", str(copy)) == 0
        before, after = (
            await _state(settings, settings.database_url, poll_id),
            await _state(settings, fresh, poll_id),
        )
        assert after == before
        assert after["chain"][1:] == (None, True) and after["chain"][0] > 0
        assert set(receipts) <= set(after["receipts"])
        assert await _polls(settings, fresh, "restore", str(copy)) == 1  # it holds data now

        # The restored service: the spent codes stay spent, an unspent one still votes.
        app = create_app(dataclasses.replace(settings, database_url=fresh), run_scheduler=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                again = await vote(http, poll_id, token(cards[0]), voting.full_ballot())
                assert (again.status_code, again.json()["code"]) == (409, "code_already_used")
                assert (await vote(http, poll_id, token(cards[3]), voting.full_ballot())).status_code == 201
                listed = await http.get(f"/api/polls/{poll_id}/trackers", params={"tracker": receipts[0]})
                assert listed.json()["tracker"] in ("listed", "waiting")
    finally:
        await _drop(fresh)


async def test_restore_refuses_what_is_not_a_backup(settings: Settings, tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all" * 100)
    fresh = await _fresh_database(settings, tmp_path)
    try:
        assert await _polls(settings, fresh, "restore", str(junk)) == 1
        assert await _polls(settings, fresh, "restore", str(tmp_path / "missing")) == 1
    finally:
        await _drop(fresh)
