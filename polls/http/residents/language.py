"""Resident pages in the pilot's languages: the service's words come from the catalogues
(polls.i18n), the poll's own texts from the translations officers wrote for it.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from polls.http.kit.language import page_language
from polls.http.kit.render import render
from polls.i18n import set_language
from polls.store.models import Poll


def resident_language(request: Request, offered: list[str]) -> str:
    """The resident's language among the pilot's, made the request's: messages written from here
    on (a ballot's problems) are in the language of the page they appear on."""
    language = page_language(request, offered)
    set_language(language)
    return language


def render_resident(
    request: Request, template: str, context: dict[str, Any], offered: list[str], *, status_code: int = 200
) -> Response:
    """Render a resident page in the resident's language, with links to the others the pilot offers."""
    return render(request, template, context, status_code=status_code, languages=offered)


def poll_text(poll: Poll, language: str, field: str) -> str:
    """The poll's title or description in ``language`` where translated."""
    translated = str((poll.translations or {}).get(language, {}).get(field) or "")
    return translated or str(getattr(poll, field))
