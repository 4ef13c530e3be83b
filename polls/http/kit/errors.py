"""Mapping every error to one response: JSON for the API, a plain-language page otherwise."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from polls.errors import (
    ErrorCode,
    NotSignedIn,
    PollsError,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from polls.http.kit.render import render
from polls.i18n import N_

log = logging.getLogger("polls.http")

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.BODY_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def error_body(exc: PollsError) -> dict[str, object]:
    body: dict[str, object] = {"code": exc.code, "message": exc.message}
    if isinstance(exc, ValidationFailed):
        body["errors"] = [{"field": e.field, "message": e.message} for e in exc.errors]
    return body


async def polls_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PollsError)
    headers = {}
    if isinstance(exc, TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after)
    if wants_json(request):
        return JSONResponse(error_body(exc), status_code=exc.status, headers=headers)
    if isinstance(exc, NotSignedIn):
        return RedirectResponse(f"/sign-in?next={request.url.path}", status_code=303)
    return _page(request, exc.status, exc.message, headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.HTTP_ERROR)
    message = {404: N_("There is no page at this address")}.get(exc.status_code, str(exc.detail))
    # A 405 says which methods would do (Allow), as HTTP asks.
    headers = dict(exc.headers or {})
    if wants_json(request):
        return JSONResponse({"code": code, "message": message}, status_code=exc.status_code, headers=headers)
    return _page(request, exc.status_code, message, headers)


async def backend_down(request: Request, exc: Exception) -> Response:
    """The database or Redis did not answer: say so plainly, with 503, rather than a 500."""
    log.error("backing service unavailable on %s %s: %s", request.method, request.url.path, exc)
    return await polls_error(
        request,
        ServiceUnavailable(
            N_("The service is busy or being maintained. Nothing was saved; try again in a minute.")
        ),
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = N_("Something went wrong on our side. Nothing was saved; please try again.")
    if wants_json(request):
        return JSONResponse({"code": ErrorCode.SERVER_ERROR, "message": message}, status_code=500)
    return _page(request, 500, message, {})


def _page(request: Request, status: int, message: str, headers: dict[str, str]) -> Response:
    titles = {
        401: N_("Sign in"),
        403: N_("You cannot do that"),
        404: N_("Page not found"),
        409: N_("That cannot be done now"),
        413: N_("Too large"),
        429: N_("Too many attempts"),
        503: N_("Service unavailable"),
    }
    return render(
        request,
        "error.html",
        {"status": status, "title": titles.get(status, N_("There is a problem")), "message": message},
        status_code=status,
        headers=headers,
    )
