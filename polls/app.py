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
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from polls import metrics, scheduler
from polls.errors import PollsError
from polls.http import council, juries, messages, public, residents
from polls.http.api import registry, votes
from polls.http.kit.auth import SessionMiddleware
from polls.http.kit.errors import backend_down, http_error, polls_error, server_error
from polls.http.kit.language import ChooseLanguage
from polls.http.kit.middleware import Protections
from polls.http.kit.observe import Observe
from polls.http.kit.sockets import OpenSockets, TrackSockets
from polls.live.connect import connect
from polls.live.embedded import EmbeddedRedis
from polls.live.hub import TallyHub
from polls.live.jury_rooms import JuryRooms
from polls.live.subscriptions import PendingSubscriptions
from polls.live.tallies import Tallies, reconcile_forever
from polls.live.throttle import LinkThrottle, SignInThrottle
from polls.messaging import subscribers
from polls.messaging.dev_inbox import DevInbox
from polls.messaging.senders import sender_for
from polls.messaging.worker import MessageWorker
from polls.redaction import redact_secrets
from polls.runtime import Runtime
from polls.settings import EMBEDDED, Settings
from polls.store.db import open_engine, ping, sessions_for
from polls.store.migrate import current_revision, head_revision, schema_verdict
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
    """Refuse to serve a database the migrations have not brought up to date (a newer one is
    accepted, with a warning: polls.store.migrate.schema_verdict)."""
    try:
        await ping(runtime.engine)
    except Exception as exc:
        raise DatabaseUnreachable(f"cannot reach the database: {type(exc).__name__}: {exc}") from None
    verdict = schema_verdict(await current_revision(runtime.engine))
    if verdict == "newer":
        log.warning("database schema is newer than this code (%s); carrying on", head_revision())
    elif verdict != "ok":
        raise SchemaOutOfDate(f"the database schema is {verdict}")


class PollsApp(Starlette):
    """The app. Votes, the busiest request by far, are answered before the middleware and the
    route table (polls.http.votes.answer_vote); everything else goes through them."""

    sockets: OpenSockets

    async def drain(self) -> None:
        """Asked to stop (polls.serving.Server, before uvicorn closes connections): no longer
        ready, and every websocket client told to reconnect. Requests in flight, votes
        included, are still answered: uvicorn waits for them, and the lifespan then stops the
        ballot writer only once the votes it holds are committed."""
        runtime: Runtime | None = getattr(self.state, "runtime", None)
        if runtime is not None:
            runtime.draining = True
        await self.sockets.close_all()

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
        signin_throttle=SignInThrottle(
            redis,
            free=settings.signin_attempts,
            window=settings.signin_window,
            address_limit=settings.signin_address_attempts,
        ),
        tallies=tallies,
        hub=TallyHub(redis, tallies),
        booth=VotingBooth(db, tokens, writer),
        jury_rooms=JuryRooms(redis, db),
        subscriptions=PendingSubscriptions(redis),
        link_throttle=LinkThrottle(
            redis, "links", limit=settings.signin_attempts, window=settings.signin_window
        ),
    )
    await _open_messages(stack, runtime)
    return runtime, writer


async def _open_messages(stack: contextlib.AsyncExitStack, runtime: Runtime) -> None:
    """The sender MESSAGES names (starting the embedded SMTP server for `polls dev`)."""
    settings = runtime.settings
    if settings.messages == "dev":
        runtime.dev_inbox = DevInbox()
        await runtime.dev_inbox.start()
        stack.push_async_callback(runtime.dev_inbox.stop)
        log.info(
            "embedded SMTP server at %s:%s; messages at /dev/messages", "127.0.0.1", runtime.dev_inbox.port
        )
    sender = sender_for(settings, runtime.dev_inbox)
    if sender is None:
        log.warning("MESSAGES is not set: emails and text messages are queued but not sent")
        return
    runtime.messages = MessageWorker(
        runtime.db,
        sender,
        max_attempts=settings.message_attempts,
        interval=settings.messages_interval,
        base_url=settings.base_url,
    )


@contextlib.asynccontextmanager
async def _serve(app: Starlette, settings: Settings, run_scheduler: bool) -> AsyncIterator[None]:
    """The lifespan: open every resource, serve, and close them all in reverse order."""
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(metrics.process_ended)
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
            retention = asyncio.create_task(scheduler.erase_personal_data_forever(runtime.db))
            stack.push_async_callback(_cancel, retention)
            telling = asyncio.create_task(
                subscribers.run_forever(runtime.db, runtime.subscriptions, settings.scheduler_interval)
            )
            stack.push_async_callback(_cancel, telling)
            if runtime.messages is not None:
                sending = asyncio.create_task(runtime.messages.run_forever())
                stack.push_async_callback(_cancel, sending)
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
    *messages.routes,
    *registry.routes,
    # Stylesheet and scripts go compressed (the CSS from 82 KB to about 10 KB): `polls dev` has
    # no proxy to do it. Pages are not compressed: a page that reflects what was typed next to a
    # secret (a CSRF token, a voting link) would leak it to whoever can watch its size (BREACH).
    Mount("/static", GZipMiddleware(StaticFiles(directory=str(STATIC_DIR), check_dir=False)), name="static"),
    Mount("/assets", GZipMiddleware(StaticFiles(directory=str(ASSETS_DIR), check_dir=False)), name="assets"),
]
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

    # /dev/messages exists only where the embedded SMTP server does: never in `polls serve`.
    routes = [*messages.dev_routes, *ROUTES] if settings.messages == "dev" else list(ROUTES)
    sockets = OpenSockets()
    app = PollsApp(
        routes=routes,
        middleware=[
            Middleware(Observe),
            Middleware(TrackSockets, sockets=sockets),
            Middleware(Protections),
            Middleware(SessionMiddleware),
            # Innermost: the request's language is set for the endpoint and its error handlers.
            Middleware(ChooseLanguage),
        ],
        lifespan=lifespan,
        exception_handlers=dict(EXCEPTION_HANDLERS),
    )
    app.sockets = sockets
    return app


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
