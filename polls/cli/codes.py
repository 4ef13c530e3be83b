"""`polls codes ...`: issue poll-card codes for an area, and cancel or replace a lost card's code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from polls.cli.db import database_settings
from polls.domain.access import Actor, Permission
from polls.settings import Settings, SettingsError

if TYPE_CHECKING:
    from polls.store.codes import IssuedBatch
    from polls.store.models import Pilot


def add_parsers(commands: Any) -> None:
    codes = commands.add_parser("codes", help="voter codes for poll cards")
    codes.set_defaults(run=run)
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
            one.add_argument(
                "--officer-key-file",
                type=Path,
                help="a file holding the returning officer's private key (rosk_...); without it the "
                "key is asked for (never on the command line, where other users could see it)",
            )


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


def run(args: argparse.Namespace) -> int:
    from polls.errors import PollsError

    settings = database_settings()
    if args.codes_command != "revoke":
        _check_card_settings(settings)
    try:
        if args.codes_command == "issue":
            return codes_issue(settings, args.pilot, args.area, args.count, args.csv, args.sheet)
        if args.codes_command == "revoke":
            asyncio.run(_revoke(settings, args.pilot, args.reference))
            print(f"code {args.reference.strip().upper()} is cancelled: it can no longer be used to vote")
            return 0
        officer_key = read_officer_key(args.officer_key_file)
        return codes_reissue(settings, args.pilot, args.reference, args.sheet, officer_key)
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


def read_officer_key(path: Path | None) -> str:
    """The returning officer's private key, from a file or typed (not echoed); "" if neither."""
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").strip().splitlines()[-1].strip()
        except (OSError, IndexError):
            return ""
    if not sys.stdin.isatty():
        return ""
    import getpass

    return getpass.getpass("Returning officer's private key (rosk_...): ")


def codes_reissue(
    settings: Settings, pilot_id: int, reference: str, sheet_path: Path | None, officer_key: str
) -> int:
    from polls import cards

    with contextlib.ExitStack() as stack:
        try:
            sheet_out = stack.enter_context(_Output(sheet_path)) if sheet_path else None
        except OSError as exc:
            print(f"polls: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        new, area_code, pilot = asyncio.run(_reissue(settings, pilot_id, reference, officer_key))
        (row,) = cards.card_rows([new], area_code, settings.base_url, settings.secret_keys)
        if sheet_out is not None:
            sheet_out.file.write(cards.poll_card_sheet([row], pilot))
            sheet_out.kept = True
    print(f"code {reference.strip().upper()} is cancelled; its replacement:")
    print(f"  reference   {row.reference}\n  short code  {row.short_code}")
    print(f"  short link  {row.short_link}\n  voting link {row.link}")
    return 0


async def _reissue(
    settings: Settings, pilot_id: int, reference: str, officer_key: str
) -> tuple[tuple[str, str], str, Pilot]:
    from polls.store.codes import area_code_of, reissue_code
    from polls.store.db import open_engine, sessions_for
    from polls.store.pilots import get_pilot

    actor = _cli_actor("reissue")
    engine = open_engine(settings.database_url, ballot_key=settings.ballot_key)
    try:
        async with sessions_for(engine).begin() as session:
            code, new = await reissue_code(session, actor, pilot_id, reference, officer_key)
            pilot = await get_pilot(session, actor, pilot_id, Permission.VIEW_PILOT)
            return (new.reference, new.short_code), await area_code_of(session, code), pilot
    finally:
        await engine.dispose()
