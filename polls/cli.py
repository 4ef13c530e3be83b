"""The `polls` command: dev, serve, db upgrade, staff create, audit verify."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence

import uvicorn

from polls.settings import Settings, SettingsError, from_environment
from polls.store.audit import ChainReport
from polls.store.demo import DemoInfo


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polls", description="Participatory democracy polling service")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run locally: SQLite, embedded Redis, demo pilot")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)

    serve = commands.add_parser(
        "serve", help="run in production (needs DATABASE_URL, REDIS_URL, SECRET_KEYS)"
    )
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--proxy-headers", action="store_true", help="trust X-Forwarded-* from the proxy")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply migrations (DATABASE_URL, else the dev SQLite file)")

    staff = commands.add_parser("staff", help="staff accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = staff_commands.add_parser("create", help="create a staff account")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--site-admin", action="store_true", help="may create pilots and manage all of them")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")

    audit = commands.add_parser("audit", help="the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_commands.add_parser("verify", help="check the hash chain; report the first broken link")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if args.command == "dev":
            return run_dev(args.host, args.port)
        if args.command == "serve":
            return run_serve(args.host, args.port, args.proxy_headers)
        if args.command == "db":
            return db_upgrade()
        if args.command == "staff":
            return staff_create(args.email, args.name, args.site_admin, args.password_stdin)
        if args.command == "audit":
            return audit_verify()
    except SettingsError as exc:
        print(f"polls: configuration problem: {exc}", file=sys.stderr)
        return 2
    return 1


def _database_settings() -> Settings:
    """Commands that only touch the database: DATABASE_URL if set, else the development file.

    Which one is always said, so a missing DATABASE_URL in production cannot go unnoticed.
    """
    import os

    from sqlalchemy.engine import make_url

    settings = from_environment(production=False)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    if os.environ.get("DATABASE_URL"):
        print(f"polls: database {shown}", file=sys.stderr)
    else:
        print(f"polls: DATABASE_URL is not set; using the development database {shown}", file=sys.stderr)
    return settings


def run_dev(host: str, port: int) -> int:
    from polls.app import create_app
    from polls.store.migrate import upgrade

    settings = from_environment(production=False)
    upgrade(settings.database_url)
    info = asyncio.run(_seed(settings))
    base = f"http://{host}:{port}"
    print(
        f"\n  polls is starting at {base}\n"
        f"  Demo pilot: {base}/council/pilots/{info.pilot_id}\n"
        f"  Sign in at {base}/sign-in as {info.email} / {info.password}\n"
        f"  Data lives in {settings.data_dir}/ (delete it to start afresh). Ctrl-C stops everything.\n",
        flush=True,
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", lifespan="on")
    return 0


async def _seed(settings: Settings) -> DemoInfo:
    from polls.store import demo
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url)
    try:
        async with sessions_for(engine).begin() as session:
            return await demo.seed(session)
    finally:
        await engine.dispose()


def run_serve(host: str, port: int, proxy_headers: bool) -> int:
    from polls.app import create_app

    settings = from_environment(production=True)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="*" if proxy_headers else None,
        log_level="info",
        lifespan="on",
    )
    return 0


def db_upgrade() -> int:
    from polls.store.migrate import upgrade

    settings = _database_settings()
    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


def staff_create(email: str, name: str, site_admin: bool, password_stdin: bool) -> int:
    from polls.errors import PollsError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (12 characters or more): ")
        if password != getpass.getpass("Same password again: "):
            print("polls: the passwords are different", file=sys.stderr)
            return 2
    settings = _database_settings()
    try:
        staff_id = asyncio.run(_create_staff(settings, email, name, password, site_admin))
    except PollsError as exc:
        print(f"polls: {exc.message}", file=sys.stderr)
        return 2
    print(f"created staff account {staff_id} for {email}{' (site admin)' if site_admin else ''}")
    return 0


async def _create_staff(settings: Settings, email: str, name: str, password: str, site_admin: bool) -> int:
    from polls.store.db import open_engine, sessions_for
    from polls.store.staff import create_staff

    engine = open_engine(settings.database_url)
    try:
        async with sessions_for(engine).begin() as session:
            staff = await create_staff(
                session,
                email=email,
                name=name,
                password=password,
                site_admin=site_admin,
                actor="cli:staff-create",
            )
            return staff.id
    finally:
        await engine.dispose()


def audit_verify() -> int:
    report = asyncio.run(_verify(_database_settings()))
    if report.broken is not None:
        print(f"audit log BROKEN at entry {report.broken.seq}: {report.broken.reason}")
        print(f"({report.checked} entries before it are intact)")
        return 1
    if not report.head_matches:
        print(
            f"audit log BROKEN: {report.checked} entries chain correctly but the head does not match "
            "(entries were removed from the end)"
        )
        return 1
    print(f"audit log intact: {report.checked} entries verified")
    return 0


async def _verify(settings: Settings) -> ChainReport:
    from polls.store import audit
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url)
    try:
        async with sessions_for(engine)() as session:
            return await audit.verify(session)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
