"""Turns raw input (JSON bodies, form fields, CSV rows) into checked specs, or field errors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import ValidationError as PydanticError

from polls.errors import ErrorCode, FieldError, ValidationFailed
from polls.i18n import N_, _

Spec = TypeVar("Spec", bound=BaseModel)


# Control characters other than tab and line breaks, and lone surrogates: nothing a person types,
# and PostgreSQL refuses NUL outright (which would otherwise be a server error, not a message).
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


class StrictSpec(BaseModel):
    """Base for every input spec: unknown fields are refused, text is trimmed, and text with
    characters we cannot store is refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        texts = value if isinstance(value, list | tuple | frozenset | set) else (value,)
        if any(isinstance(t, str) and not storable(t) for t in texts):
            raise ValueError("This has characters we cannot store (control characters): remove them")
        return value


_FRIENDLY = {
    "missing": N_("This field is required"),
    "extra_forbidden": N_("This field is not recognised"),
    "string_too_short": N_("Enter at least {min_length} characters"),
    "string_too_long": N_("Enter at most {max_length} characters"),
    "int_parsing": N_("Enter a whole number"),
    "float_parsing": N_("Enter a number"),
    "date_from_datetime_parsing": N_("Enter a date as YYYY-MM-DD"),
    "date_parsing": N_("Enter a date as YYYY-MM-DD"),
    "datetime_from_date_parsing": N_("Enter a date and time as YYYY-MM-DDTHH:MM"),
    "datetime_parsing": N_("Enter a date and time as YYYY-MM-DDTHH:MM"),
    "greater_than": N_("Enter a number greater than {gt}"),
    "greater_than_equal": N_("Enter a number of at least {ge}"),
    "less_than_equal": N_("Enter a number of at most {le}"),
    "too_short": N_("Give at least {min_length}"),
    "too_long": N_("Give at most {max_length}"),
}


def field_errors(exc: PydanticError) -> list[FieldError]:
    errors = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "__root__"
        template = _FRIENDLY.get(err["type"])
        ctx = err.get("ctx") or {}
        if template is not None:
            try:
                message = _(template).format(**ctx)  # in the request's language
            except (KeyError, IndexError):
                message = err["msg"]
        else:
            message = err["msg"].removeprefix("Value error, ")
        errors.append(FieldError(path, message))
    return errors


def parse(spec: type[Spec], data: Mapping[str, Any] | Any) -> Spec:
    """Validate ``data`` against ``spec``; raise ValidationFailed listing every field problem.
    A spec's ``field_codes`` names the error code for a field whose rule has its own."""
    if not isinstance(data, Mapping):
        raise ValidationFailed.one("__root__", "Send a JSON object")
    try:
        return spec.model_validate(dict(data))
    except PydanticError as exc:
        errors = field_errors(exc)
        codes: Mapping[str, ErrorCode] = getattr(spec, "field_codes", {})
        own = [codes[e.field] for e in errors if e.field in codes]
        raise ValidationFailed(errors, code=own[0] if own else None) from None
