"""Rendering server-side pages: one Jinja2 environment, shared context, form helpers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from polls.errors import FieldError
from polls.http.kit.timezones import to_local
from polls.runtime import runtime

WEB = Path(__file__).resolve().parents[3] / "web"
TEMPLATES = Jinja2Templates(directory=str(WEB / "templates"))


def _tz(context: Any) -> str:
    request: Request = context["request"]
    return runtime(request).settings.timezone


@pass_context
def _when(context: Any, value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_local(value, _tz(context)).strftime("%-d %B %Y, %H:%M %Z")
    return value.strftime("%-d %B %Y")


@pass_context
def _datetime_local(context: Any, value: datetime | str | None) -> str:
    """A value for a datetime-local input: stored times in local time, typed text as typed."""
    if isinstance(value, datetime):
        return to_local(value, _tz(context)).strftime("%Y-%m-%dT%H:%M")
    return value or ""


TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.globals["_"] = lambda text: text  # resident pages put a translator in its place
TEMPLATES.env.filters["datetime_local"] = _datetime_local


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    from polls.http.kit.auth import session_of

    ctx: dict[str, Any] = {
        "csrf_token": session_of(request).csrf if hasattr(request.state, "session") else "",
        "actor": getattr(request.state, "actor", None),
        "errors": {},
        "council_name": runtime(request).settings.council_name,
    }
    ctx.update(context or {})
    response: HTMLResponse = TEMPLATES.TemplateResponse(
        request, name, ctx, status_code=status_code, headers=dict(headers or {})
    )
    return response


def errors_by_field(errors: list[FieldError], rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """First message per form field; ``rename`` maps spec paths to form field names."""
    out: dict[str, str] = {}
    for e in errors:
        name = (rename or {}).get(e.field, e.field)
        out.setdefault(name, e.message)
    return out


def form_dict(form: FormData, *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """Form fields as a dict; blank fields are left out so specs apply their defaults."""
    data: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token":
            continue
        if key in lists:
            data[key] = [str(v) for v in form.getlist(key) if str(v).strip()]
            continue
        value = form.get(key)
        if isinstance(value, str) and value.strip():
            data[key] = value
    return data
