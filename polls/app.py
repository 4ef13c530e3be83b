"""create_app(settings): the Starlette app, described as data, and the lifespan that wires it."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from polls import scheduler
from polls.errors import PollsError
from polls.http import council, juries, public, residents
from polls.http.api import registry, votes
from polls.http.kit.auth import SessionMiddleware
from polls.http.kit.errors import backend_down, http_error, polls_error, server_error
from polls.http.kit.middleware import Protections
from polls.live.connect import connect
from polls.live.embedded import EmbeddedRedis
from polls.live.hub import TallyHub
from polls.live.jury_rooms import JuryRooms
from polls.live.tallies import Tallies, reconcile_forever
from polls.live.throttle import Throttle
from polls.redaction import redact_secrets
from polls.runtime import Runtime
from polls.settings import EMBEDDED, Settings
from polls.store.db import open_engine, sessions_for
from polls.store.migrate import head_revision, known_revisions
from polls.tokens import Tokens
from polls.voting.booth import VotingBooth
from polls.voting.writer import BallotWriter
from polls.web import ASSETS_DIR, STATIC_DIR

log = logging.getLogger("polls")


class SchemaOutOfDate(RuntimeError):
    pass


class DatabaseUnreachable(RuntimeError):
    pass


async def _check_schema(runtime: Runtime) -> None:
    """Refuse to serve a database the migrations have not brought up to date.

    A schema newer than this code knows is accepted (with a warning): during a rolling upgrade
    the old instances keep running after the new migration has been applied.
    """
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        raise DatabaseUnreachable(f"cannot reach the database: {type(exc).__name__}: {exc}") from None
    try:
        async with runtime.engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except Exception:
        current = None
    head = head_revision()
    if current == head:
        return
    if current is not None and current not in known_revisions():
        log.warning("database schema %s is newer than this code (%s); carrying on", current, head)
        return
    raise SchemaOutOfDate(
        f"the database schema is at {current or 'nothing'}, expected {head}: run `polls db upgrade`"
    )


class PollsApp(Starlette):
    """The app. Votes, the busiest request by far, are answered before the middleware and the
    route table (polls.http.votes.answer_vote); everything else goes through them."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            vote = votes.VOTE_PATH.fullmatch(scope["path"])
            if vote is not None:
                await votes.answer_vote(self.state.runtime, int(vote.group(1)), scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _open_redis(stack: contextlib.AsyncExitStack, settings: Settings) -> tuple[Redis, Redis]:
    """The shared Redis client and the vote fast path's own, starting the embedded server if asked."""
    redis_url = settings.redis_url
    if redis_url == EMBEDDED:
        # Not persisted: everything in it is rebuilt from the database, and an append-only
        # file would log each vote's fast-path key beside its tally increments.
        server = EmbeddedRedis(settings.data_dir / "redis", persistent=False)
        await asyncio.to_thread(server.start)
        stack.callback(server.stop)
        redis_url = server.url
        log.info("embedded redis-server running at %s", redis_url)
    # Enough connections for every request in flight; past that, requests get a 503.
    redis = connect(redis_url, decode_responses=True, max_connections=512)
    # The vote fast path gives up quickly: a frozen Redis must not hold up every batch,
    # since the database decides anyway.
    fast_path = connect(
        redis_url,
        decode_responses=True,
        socket_timeout=0.25,
        socket_connect_timeout=0.25,
        max_connections=8,
    )
    stack.push_async_callback(fast_path.aclose)
    stack.push_async_callback(redis.aclose)
    return redis, fast_path


async def _open_runtime(stack: contextlib.AsyncExitStack, settings: Settings) -> tuple[Runtime, BallotWriter]:
    redis, fast_path = await _open_redis(stack, settings)
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    stack.push_async_callback(engine.dispose)
    db = sessions_for(engine)
    tokens = Tokens(settings.secret_keys)
    tallies = Tallies(redis, db)
    writer = BallotWriter(db, redis=fast_path, on_commit=tallies.apply, on_rebuild=tallies.rebuild_all)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        db=db,
        redis=redis,
        tokens=tokens,
        signin_throttle=Throttle(
            redis, "signin", limit=settings.signin_attempts, window=settings.signin_window
        ),
        tallies=tallies,
        hub=TallyHub(redis, tallies),
        booth=VotingBooth(db, tokens, writer),
        jury_rooms=JuryRooms(redis, db),
    )
    return runtime, writer


@contextlib.asynccontextmanager
async def _serve(app: Starlette, settings: Settings, run_scheduler: bool) -> AsyncIterator[None]:
    """The lifespan: open every resource, serve, and close them all in reverse order."""
    async with contextlib.AsyncExitStack() as stack:
        runtime, writer = await _open_runtime(stack, settings)
        await _check_schema(runtime)
        app.state.runtime = runtime
        if await runtime.tallies.ensure_present():
            log.info("live tallies were missing from Redis: rebuilt from the database")
        await writer.start()
        stack.push_async_callback(writer.stop)
        await runtime.hub.start()
        stack.push_async_callback(runtime.hub.stop)
        await runtime.jury_rooms.start()
        stack.push_async_callback(runtime.jury_rooms.stop)
        if run_scheduler:
            task = asyncio.create_task(
                scheduler.run_forever(
                    runtime.db, settings.scheduler_interval, on_closed=runtime.tallies.finish
                )
            )
            stack.push_async_callback(_cancel, task)
            reconciler = asyncio.create_task(reconcile_forever(runtime.tallies))
            stack.push_async_callback(_cancel, reconciler)
        # What start-up built (modules, templates, routes) lives as long as the app: kept out of
        # the garbage collector's full passes, each of which would stall the event loop for
        # as long as it takes to walk every object.
        gc.freeze()
        stack.callback(gc.unfreeze)
        yield


ROUTES: list[BaseRoute] = [
    *public.routes,
    *residents.routes,
    *council.routes,
    *juries.routes,
    *registry.routes,
    Mount("/static", StaticFiles(directory=str(STATIC_DIR), check_dir=False), name="static"),
    Mount("/assets", StaticFiles(directory=str(ASSETS_DIR), check_dir=False), name="assets"),
]
MIDDLEWARE = [Middleware(Protections), Middleware(SessionMiddleware)]
EXCEPTION_HANDLERS = {
    PollsError: polls_error,
    HTTPException: http_error,
    RedisConnectionError: backend_down,
    RedisTimeoutError: backend_down,
    OperationalError: backend_down,
    InterfaceError: backend_down,
    Exception: server_error,
}


def create_app(settings: Settings, *, run_scheduler: bool = True) -> Starlette:
    redact_secrets()  # whatever serves the app, its logs carry no secrets (polls.redaction)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with _serve(app, settings, run_scheduler):
            yield

    return PollsApp(
        routes=list(ROUTES),
        middleware=MIDDLEWARE,
        lifespan=lifespan,
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
