"""Officers type local times (Europe/London by default); we store UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def parse_local_datetime(raw: str, tz: str) -> str:
    """A datetime-local field ("2026-05-01T09:00") as an ISO string with its UTC offset.

    Input that is not a date and time is passed on unchanged for the spec to reject with
    a clear message.
    """
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        return raw
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.isoformat()


def to_local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))
