"""Configuration, read once from the environment into one typed object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

EMBEDDED = "embedded"


class SettingsError(Exception):
    """A required setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str  # "embedded" starts a redis-server owned by the app
    secret_keys: tuple[str, ...] = field(repr=False)  # newest last: it signs, all verify
    data_dir: Path = Path("var")
    secure_cookies: bool = False
    scheduler_interval: float = 5.0
    signin_attempts: int = 5  # failed sign-ins per account before each waits longer ...
    signin_address_attempts: int = 30  # ... and per address before it is refused ...
    signin_window: int = 900  # ... within this many seconds
    base_url: str = "http://127.0.0.1:8000"
    # Senders whose X-Forwarded-For and X-Forwarded-Proto are believed (`polls serve --proxy-headers`):
    # addresses or networks of the reverse proxy only, never everyone.
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)
    council_name: str = "Your council"
    timezone: str = "Europe/London"  # how officers enter and read times
    # Keys the nullifiers and short-code digests together with a key kept in the database, so a
    # copy of the database alone cannot tie a voter's code to anything. Never changes.
    ballot_key: str = field(default="", repr=False)
    # /metrics: open to anyone (`polls dev`), to holders of this bearer token, or (neither) off.
    metrics_open: bool = False
    metrics_token: str = field(default="", repr=False)
    log_format: str = "json"  # "json" (one object a line) or "text" (`polls dev`)
    # Where messages go (docs/messages.md): "" keeps them queued, unsent; "dev" the embedded SMTP
    # server of `polls dev`; "smtp://user:pass@host:port" a mail server; "notify" GOV.UK Notify.
    messages: str = field(default="", repr=False)
    mail_from: str = "polls@localhost"
    notify_api_key: str = field(default="", repr=False)
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_callback_token: str = field(default="", repr=False)  # Notify sends it as a bearer token
    notify_templates: tuple[tuple[str, str], ...] = ()  # ("juror_invite", id), ("juror_invite.cy", id)
    message_attempts: int = 6  # then the message is dead
    messages_interval: float = 2.0  # seconds between the worker's looks at the outbox


def _split_keys(raw: str) -> tuple[str, ...]:
    return tuple(k.strip() for k in raw.split(",") if k.strip())


def from_environment(env: Mapping[str, str] | None = None, *, production: bool = True) -> Settings:
    """Build settings from the environment.

    In production every secret and service address must be given; for ``polls dev``
    (``production=False``) they default to a SQLite file and an embedded Redis under ./var.
    """
    env = os.environ if env is None else env
    data_dir = Path(env.get("POLLS_DATA_DIR", "var"))
    database_url = env.get("DATABASE_URL", "")
    redis_url = env.get("REDIS_URL", "")
    keys = _split_keys(env.get("SECRET_KEYS", ""))
    if production:
        _require_production(env, database_url, redis_url, keys)
    else:
        database_url = database_url or f"sqlite+aiosqlite:///{data_dir / 'polls.sqlite3'}"
        redis_url = redis_url or EMBEDDED
        keys = keys or (_dev_secret(data_dir),)
        ballot_key = env.get("BALLOT_KEY") or _dev_secret(data_dir, "dev-ballot-key")
    if redis_url != EMBEDDED:
        try:
            check_url(redis_url)
        except RedisUrlInvalid as exc:
            raise SettingsError(str(exc)) from None
    if production:
        ballot_key = env.get("BALLOT_KEY", "")
    if len(ballot_key) < 32:
        raise SettingsError("BALLOT_KEY: use at least 32 random characters")
    if any(len(k) < 16 for k in keys):
        raise SettingsError("SECRET_KEYS: each key must be at least 16 characters")
    return Settings(
        database_url=normalise_database_url(database_url),
        redis_url=redis_url,
        secret_keys=keys,
        data_dir=data_dir,
        secure_cookies=_flag(env.get("SECURE_COOKIES", "1" if production else "0")),
        scheduler_interval=float(env.get("SCHEDULER_INTERVAL", "5")),
        base_url=env.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/"),
        trusted_proxies=_proxies(env.get("TRUSTED_PROXIES", "127.0.0.1")),
        council_name=env.get("COUNCIL_NAME", "Your council" if production else "Demo Borough Council"),
        timezone=_timezone(env.get("TIMEZONE", "Europe/London")),
        ballot_key=ballot_key,
        metrics_open=not production,
        metrics_token=_metrics_token(env.get("METRICS_TOKEN", "")),
        log_format="json" if production else "text",
        **_message_settings(env, production),
    )


def _require_production(
    env: Mapping[str, str], database_url: str, redis_url: str, keys: tuple[str, ...]
) -> None:
    """`polls serve` gets every secret and service address, and a Redis the instances share."""
    missing = []
    if not database_url:
        missing.append("DATABASE_URL (e.g. postgresql+asyncpg://polls:pw@db/polls)")
    if not redis_url:
        missing.append("REDIS_URL (e.g. redis://redis:6379/0)")
    if not keys:
        missing.append("SECRET_KEYS (comma-separated; the last one signs)")
    if not env.get("BALLOT_KEY"):
        missing.append("BALLOT_KEY (32+ random characters, never changed, not stored with database backups)")
    if not env.get("BASE_URL"):
        missing.append("BASE_URL (the public address, e.g. https://polls.example.org)")
    if missing:
        raise SettingsError("missing required settings: " + "; ".join(missing))
    if redis_url == EMBEDDED:
        raise SettingsError("REDIS_URL=embedded is for `polls dev`: instances must share one Redis")


def _metrics_token(token: str) -> str:
    if token and len(token) < 24:
        raise SettingsError("METRICS_TOKEN: use at least 24 random characters")
    return token


def _message_settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    return {
        "messages": _messages(env, production),
        "mail_from": env.get("MAIL_FROM", "polls@localhost"),
        "notify_api_key": env.get("NOTIFY_API_KEY", ""),
        "notify_base_url": env.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk"),
        "notify_callback_token": env.get("NOTIFY_CALLBACK_TOKEN", ""),
        "notify_templates": _notify_templates(env.get("NOTIFY_TEMPLATES", "")),
        "message_attempts": int(env.get("MESSAGE_ATTEMPTS", "6")),
    }


def _messages(env: Mapping[str, str], production: bool) -> str:
    messages = env.get("MESSAGES", "" if production else "dev").strip()
    if messages == "dev" and production:
        raise SettingsError("MESSAGES=dev is for `polls dev`: use smtp://... or notify")
    if messages == "notify" and not env.get("NOTIFY_API_KEY"):
        raise SettingsError("MESSAGES=notify needs NOTIFY_API_KEY (a key from your Notify service)")
    if messages.startswith(("smtp://", "smtps://")):
        if not urlsplit(messages).hostname:
            raise SettingsError("MESSAGES: name the mail server, e.g. smtp://user:password@mail.example:587")
    elif messages not in ("", "dev", "notify"):
        raise SettingsError("MESSAGES must be smtp://user:password@host:port, smtps://..., notify or dev")
    return messages


def _notify_templates(raw: str) -> tuple[tuple[str, str], ...]:
    """NOTIFY_TEMPLATES: name=template-id pairs separated by commas (juror_invite.cy=... for Welsh)."""
    pairs = []
    for item in raw.split(","):
        if item.strip():
            name, sep, template_id = item.partition("=")
            if not sep or not template_id.strip():
                raise SettingsError(f"NOTIFY_TEMPLATES: {item.strip()!r} is not name=template-id")
            pairs.append((name.strip(), template_id.strip()))
    return tuple(pairs)


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://, sqlite://) and pick the async driver."""
    for plain, async_ in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return async_ + url[len(plain) :]
    return url


def _flag(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _dev_secret(data_dir: Path, name: str = "dev-secret-key") -> str:
    """A per-checkout random key for development, kept so sessions (and codes) survive restarts."""
    import secrets

    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _proxies(raw: str) -> tuple[str, ...]:
    import ipaddress

    proxies = _split_keys(raw)
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"TRUSTED_PROXIES: {proxy!r} is not an address or network (e.g. 10.0.0.0/8); "
                "list the reverse proxy's addresses, never *"
            ) from None
    return proxies


def _timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIMEZONE: unknown time zone {name!r} (use a name like Europe/London)") from None
    return name


# REDIS_URL, checked here and read by polls.live.connect (whose docstring shows its forms).

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")


class RedisUrlInvalid(ValueError):
    pass


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None


def check_url(url: str) -> None:
    """Raise RedisUrlInvalid, saying what is wrong, unless ``url`` is one we can connect with."""
    scheme = url.partition("://")[0]
    if "://" not in url or scheme not in SCHEMES:
        raise RedisUrlInvalid(f"REDIS_URL must start with one of {', '.join(s + '://' for s in SCHEMES)}")
    if scheme == "redis+sentinel":
        sentinel_target(url)


def sentinel_target(url: str) -> SentinelTarget:
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels = []
    for host in hosts.split(","):
        name, _, port = host.strip().rpartition(":")
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise RedisUrlInvalid(f"REDIS_URL: {host!r} is not a Sentinel host:port")
        sentinels.append((name.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise RedisUrlInvalid("REDIS_URL: name the Sentinel service after the hosts: .../service-name[/db]")
    return SentinelTarget(
        sentinels=tuple(sentinels),
        service=path[0],
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )
