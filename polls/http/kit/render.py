"""Rendering server-side pages: one Jinja2 environment and the context every page shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from jinja2 import pass_context
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from polls.domain.contacts import masked
from polls.http.kit.auth import session_of
from polls.http.kit.language import keep_choice, language_links, page_language
from polls.http.kit.timezones import to_local
from polls.i18n import _, catalogue_languages, ngettext, use_language
from polls.runtime import runtime
from polls.web import TEMPLATES_DIR

TEMPLATES = Jinja2Templates(directory=str(TEMPLATES_DIR))
# {% trans %} and _() look words up in the language of the page being rendered (render() sets it).
TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_gettext_callables(_, ngettext, newstyle=True)  # type: ignore[attr-defined]


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
# A message written in Python (an error, a field's problem) shown in the page's language; unlike
# _() it is neither trusted as markup nor %-formatted, so it may carry what people typed.
TEMPLATES.env.filters["translated"] = lambda value: _(value) if isinstance(value, str) and value else value
TEMPLATES.env.filters["datetime_local"] = _datetime_local
TEMPLATES.env.filters["masked"] = masked  # residents' addresses, as officers see them


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    languages: list[str] | None = None,
) -> HTMLResponse:
    """The page in the reader's language, chosen among ``languages`` (a pilot's) or every catalogue."""
    offered = languages or catalogue_languages()
    language = page_language(request, offered)
    ctx: dict[str, Any] = {
        "csrf_token": session_of(request).csrf if hasattr(request.state, "session") else "",
        "actor": getattr(request.state, "actor", None),
        "errors": {},
        "council_name": runtime(request).settings.council_name,
        "lang": language,
        "language_switch": language_links(offered),  # not "languages": pages use that name
    }
    ctx.update(context or {})
    with use_language(language):
        response: HTMLResponse = TEMPLATES.TemplateResponse(
            request, name, ctx, status_code=status_code, headers=dict(headers or {})
        )
    keep_choice(request, response, language)
    return response
