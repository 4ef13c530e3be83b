"""Reading what a request sends (forms, path ids, numbers typed in fields) and answering a form post."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse

from polls.errors import FieldError
from polls.http.kit.auth import check_csrf

MAX_FORM_PART = 5 * 1024 * 1024  # an uploaded CSV of areas, a pool or paper ballots


async def read_form(request: Request) -> FormData:
    """The posted form, once its CSRF token is checked."""
    # Starlette keeps the parsed form on the request, so handlers reading it again get the same one.
    form = await request.form(max_part_size=MAX_FORM_PART)
    check_csrf(request, form)
    return form


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def path_int(request: Request, name: str) -> int:
    return int(request.path_params[name])


def whole_number(raw: str, *, digits: int = 9) -> int | None:
    """A form field as a whole number of at most ``digits`` ASCII digits, else None.

    (``str.isdigit`` alone lets through characters such as "²" that ``int`` refuses.)"""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= digits else None


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
