"""The `polls` command: dev, serve, db upgrade, staff create, audit verify, codes."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from polls import cli_count, cli_jury, cli_live
from polls.domain.access import Actor, Permission
from polls.domain.codes import format_short_code
from polls.settings import Settings, SettingsError, from_environment
from polls.store.audit import ChainReport
from polls.store.demo import DemoInfo
from polls.tokens import VOTER_CODE, Tokens

if TYPE_CHECKING:
    from polls.store.codes import IssuedBatch
    from polls.store.models import Pilot


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polls", description="Participatory democracy polling service")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run locally: SQLite, embedded Redis, demo pilot")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)

    serve = commands.add_parser(
        "serve", help="run in production (needs DATABASE_URL, REDIS_URL, SECRET_KEYS, BALLOT_KEY, BASE_URL)"
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

    codes = commands.add_parser("codes", help="voter codes for poll cards")
    codes_commands = codes.add_subparsers(dest="codes_command", required=True)
    issue = codes_commands.add_parser("issue", help="issue poll-card codes for one area")
    issue.add_argument("--pilot", type=int, required=True, help="the pilot's id")
    issue.add_argument("--area", required=True, help="the area's code, such as E05000001")
    issue.add_argument("--count", type=int, required=True, help="how many codes (at most 200,000)")
    issue.add_argument("--csv", type=Path, help="write the mail-merge CSV here (default: standard output)")
    issue.add_argument("--sheet", type=Path, help="write printable poll cards (HTML, 8 per A4 page) here")
    for name, text in (("revoke", "cancel a lost card's code"), ("reissue", "cancel it and issue a new one")):
        one = codes_commands.add_parser(name, help=text)
        one.add_argument("--pilot", type=int, required=True, help="the pilot's id")
        one.add_argument("reference", help="the code's reference (first column of the CSV)")
        if name == "reissue":
            one.add_argument("--sheet", type=Path, help="write the new poll card (HTML) here")

    cli_live.add_parsers(commands)
    cli_count.add_parsers(commands)
    cli_jury.add_parsers(commands)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
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
        if args.command == "codes":
            return run_codes(args)
        if args.command == "recount":
            return cli_count.run(args)
        if args.command == "jury":
            return cli_jury.run(args)
        if args.command in ("tallies", "bench"):
            return cli_live.run(args)
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
    from polls import serving
    from polls.app import create_app
    from polls.store.migrate import upgrade

    settings = from_environment(production=False)
    upgrade(settings.database_url)
    base = f"http://{host}:{port}"
    info, jurors = asyncio.run(_seed(settings, base))
    tokens = Tokens(settings.secret_keys)
    votes = "\n".join(
        f"    {format_short_code(short)}   {base}/v/{tokens.sign(VOTER_CODE, reference)}"
        for reference, short in info.codes
    )
    print(
        f"\n  polls is starting at {base}\n"
        f"  Demo pilot: {base}/council/pilots/{info.pilot_id}\n"
        f"  Sign in at {base}/sign-in as {info.email} / {info.password}\n\n"
        f"  Vote in the demo poll as a resident: type a code at {base}/vote or open its link\n"
        f"{votes}\n"
        f"  Live results: {base}/polls/{info.poll_id}/results\n\n"
        f"  Citizens' jury session, ready to run (open them side by side):\n"
        f"    moderator console (signed in): {base}/council/jury-sessions/{info.jury_session_id}\n"
        + "".join(f"    {'juror ' + name + ':':31}{link}\n" for name, link in jurors)
        + f"    observers (public):            {base}/jury-sessions/{info.jury_session_id}\n\n"
        f"  Data lives in {settings.data_dir}/ (delete it to start afresh). Ctrl-C stops everything.\n",
        flush=True,
    )
    app = create_app(settings)
    serving.tune_runtime()
    serving.redact_voting_links()
    serving.run(serving.config(app, host=host, port=port))
    return 0


async def _seed(settings: Settings, base: str) -> tuple[DemoInfo, list[tuple[str, str]]]:
    """The demo (seeded once), fresh voting codes, and two demo jurors' room links."""
    from polls.store import demo
    from polls.store.db import open_engine, sessions_for
    from polls.store.demo_jury import demo_room_links

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            info = await demo.seed(session)
            jurors = await demo_room_links(session, Tokens(settings.secret_keys), base, info.jury_id)
            return await demo.fresh_codes(session, info), jurors[:2]
    finally:
        await engine.dispose()


def run_serve(host: str, port: int, proxy_headers: bool) -> int:
    from polls import serving
    from polls.app import create_app

    settings = from_environment(production=True)
    app = create_app(settings)
    serving.tune_runtime()
    serving.redact_voting_links()
    serving.run(serving.config(app, host=host, port=port, trust_forwarded=proxy_headers))
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

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
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

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine)() as session:
            return await audit.verify(session)
    finally:
        await engine.dispose()


# Voter codes


class ProgressBar:
    """A bar redrawn in place on a terminal; a line per tenth when stderr is a file or a pipe."""

    def __init__(self, label: str, out: TextIO = sys.stderr) -> None:
        self.label, self.out = label, out
        self.tty = out.isatty()
        self.shown = -1.0
        self.started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if self.tty:
            if fraction < 1 and fraction - self.shown < 0.005:
                return
            filled = int(fraction * 30)
            self.out.write(
                f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} "
                f"{fraction:4.0%} {time.monotonic() - self.started:5.1f}s"
            )
            if done >= total:
                self.out.write("\n")
        elif int(fraction * 10) > int(self.shown * 10) or (done >= total and self.shown < 1):
            self.out.write(f"{self.label}: {done:,}/{total:,} ({time.monotonic() - self.started:.1f}s)\n")
        else:
            return
        self.shown = fraction
        self.out.flush()


def _cli_actor(command: str) -> Actor:
    # The command line is trusted like a site admin: whoever runs it holds the database URL.
    return Actor(staff_id=0, email=f"cli:codes-{command}", name="command line", is_site_admin=True)


def run_codes(args: argparse.Namespace) -> int:
    from polls.errors import PollsError

    settings = _database_settings()
    if args.codes_command != "revoke":
        _check_card_settings(settings)
    try:
        if args.codes_command == "issue":
            return codes_issue(settings, args.pilot, args.area, args.count, args.csv, args.sheet)
        if args.codes_command == "revoke":
            asyncio.run(_revoke(settings, args.pilot, args.reference))
            print(f"code {args.reference.strip().upper()} is cancelled: it can no longer be used to vote")
            return 0
        return codes_reissue(settings, args.pilot, args.reference, args.sheet)
    except PollsError as exc:
        print(f"polls: {exc.message}", file=sys.stderr)
        return 2


class _Output:
    """A file written as NAME.partial and given its name only if kept (after the codes are committed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.file = self.partial.open("w", encoding="utf-8", newline="")
        self.kept = False

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()
        if self.kept:
            self.partial.replace(self.path)
        else:
            self.partial.unlink(missing_ok=True)


def _check_card_settings(settings: Settings) -> None:
    """Cards carry links signed with SECRET_KEYS under BASE_URL, and codes keyed with BALLOT_KEY:
    a real database needs the real ones."""
    import os

    missing = [name for name in ("SECRET_KEYS", "BASE_URL", "BALLOT_KEY") if not os.environ.get(name)]
    if os.environ.get("DATABASE_URL") and missing:
        raise SettingsError(
            f"{' and '.join(missing)} must be set as the server has them: the cards depend on them"
        )
    print(f"polls: the links on the cards start with {settings.base_url}", file=sys.stderr)


def codes_issue(
    settings: Settings,
    pilot_id: int,
    area_code: str,
    count: int,
    csv_path: Path | None,
    sheet_path: Path | None,
) -> int:
    from polls import cards
    from polls.store.codes import check_count

    check_count(count)
    with contextlib.ExitStack() as stack:
        # Opened before any code exists, so a bad path cannot leave codes that were never printed.
        try:
            outputs = [stack.enter_context(_Output(p)) if p else None for p in (csv_path, sheet_path)]
        except OSError as exc:
            print(f"polls: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        csv_out, sheet_out = outputs
        started = time.monotonic()
        issued, pilot = asyncio.run(_issue(settings, pilot_id, area_code, count, ProgressBar("saving codes")))
        saved = time.monotonic() - started
        rows = cards.card_rows_parallel(
            [(c.reference, c.short_code) for c in issued.codes],
            issued.area_code,
            settings.base_url,
            settings.secret_keys,
            progress=ProgressBar("making cards"),
        )
        if sheet_out is None:
            cards.write_codes_csv(rows, csv_out.file if csv_out else sys.stdout)
        else:
            if csv_out is not None:
                rows = cards.tee_csv(rows, csv_out.file)
            for part in cards.poll_card_sheet_parts(rows, pilot):
                sheet_out.file.write(part)
        for out in outputs:
            if out is not None:
                out.kept = True
    written = " and ".join(str(p) for p in (csv_path, sheet_path) if p) or "standard output"
    print(
        f"issued {count:,} codes for area {issued.area_code} (batch {issued.batch_id}) in "
        f"{time.monotonic() - started:.1f}s ({saved:.1f}s saving them); cards written to {written}",
        file=sys.stderr,
    )
    return 0


async def _issue(
    settings: Settings, pilot_id: int, area_code: str, count: int, progress: ProgressBar
) -> tuple[IssuedBatch, Pilot]:
    from polls.store.codes import find_area, issue_codes
    from polls.store.db import open_engine, sessions_for
    from polls.store.pilots import get_pilot

    actor = _cli_actor("issue")
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            area = await find_area(session, actor, pilot_id, area_code)
            issued = await issue_codes(session, actor, pilot_id, area.id, count, progress=progress)
            return issued, await get_pilot(session, actor, pilot_id, Permission.VIEW_PILOT)
    finally:
        await engine.dispose()


async def _revoke(settings: Settings, pilot_id: int, reference: str) -> None:
    from polls.store.codes import revoke_code
    from polls.store.db import open_engine, sessions_for

    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            await revoke_code(session, _cli_actor("revoke"), pilot_id, reference)
    finally:
        await engine.dispose()


def codes_reissue(settings: Settings, pilot_id: int, reference: str, sheet_path: Path | None) -> int:
    from polls import cards

    with contextlib.ExitStack() as stack:
        try:
            sheet_out = stack.enter_context(_Output(sheet_path)) if sheet_path else None
        except OSError as exc:
            print(f"polls: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        new, area_code, pilot = asyncio.run(_reissue(settings, pilot_id, reference))
        (row,) = cards.card_rows([new], area_code, settings.base_url, settings.secret_keys)
        if sheet_out is not None:
            sheet_out.file.write(cards.poll_card_sheet([row], pilot))
            sheet_out.kept = True
    print(f"code {reference.strip().upper()} is cancelled; its replacement:")
    print(f"  reference   {row.reference}\n  short code  {row.short_code}")
    print(f"  short link  {row.short_link}\n  voting link {row.link}")
    return 0


async def _reissue(settings: Settings, pilot_id: int, reference: str) -> tuple[tuple[str, str], str, Pilot]:
    from polls.store.codes import area_code_of, reissue_code
    from polls.store.db import open_engine, sessions_for
    from polls.store.pilots import get_pilot

    actor = _cli_actor("reissue")
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            code, new = await reissue_code(session, actor, pilot_id, reference)
            pilot = await get_pilot(session, actor, pilot_id, Permission.VIEW_PILOT)
            return (new.reference, new.short_code), await area_code_of(session, code), pilot
    finally:
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
