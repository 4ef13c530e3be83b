"""Health endpoints: /livez says the process answers, /readyz whether it can take work."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from polls.app import create_app
from polls.settings import Settings


async def test_ready_when_database_redis_schema_and_vote_writer_are(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "schema": "ok",
        "vote_writer": "ok",
    }
    assert (await client.get("/livez")).json() == {"status": "alive"}


async def test_not_ready_while_stopping_or_with_a_dead_vote_writer(settings: Settings) -> None:
    app = create_app(settings, run_scheduler=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        runtime = app.state.runtime
        runtime.booth.writer._tasks[0].cancel()
        response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json()["vote_writer"] == "stopped"
        await app.drain()  # what SIGTERM does first (polls.serving.Server)
        response = await http.get("/readyz")
        assert (response.status_code, response.json()["status"]) == (503, "stopping")
        assert (await http.get("/livez")).status_code == 200


async def test_not_ready_on_a_schema_behind_the_code(client: httpx.AsyncClient, db: AsyncSession) -> None:
    current = (await db.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    await db.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    await db.commit()
    try:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["schema"].startswith("at 0001, expected ")
    finally:
        await db.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
        await db.commit()
