"""Which language a page is in: ``?lang=`` (then kept in a cookie), else the cookie, else the
browser's, else the first offered; the pilot's languages where the page belongs to a pilot.

A code that is not offered is ignored, so a page falls back to the pilot's first language.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from polls.domain.translations import LANGUAGE_NAMES, choose_language
from polls.i18n import catalogue_languages, set_language
from polls.runtime import runtime

COOKIE = "polls_lang"
ONE_YEAR = 365 * 24 * 3600


def page_language(request: HTTPConnection, offered: list[str]) -> str:
    return choose_language(
        offered,
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        request.headers.get("accept-language", ""),
    )


def language_links(offered: list[str]) -> list[tuple[str, str]]:
    """The switch shown on every page: each language offered, named in itself."""
    return [(code, LANGUAGE_NAMES.get(code, code)) for code in offered] if len(offered) > 1 else []


def keep_choice(request: Request, response: Response, language: str) -> None:
    """Remember a language chosen with ``?lang=`` for the next pages."""
    if request.query_params.get("lang") == language:
        response.set_cookie(
            COOKIE,
            language,
            max_age=ONE_YEAR,
            httponly=True,
            samesite="lax",
            secure=runtime(request).settings.secure_cookies,
        )


class ChooseLanguage:
    """Sets the request's language before the endpoint runs, for the messages it writes in Python.

    A page that belongs to a pilot narrows the choice to the pilot's languages when rendered.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            set_language(page_language(Request(scope), catalogue_languages()))
        await self.app(scope, receive, send)
