"""Every error the service reports, drawn once as a tree and mapped to HTTP in one place.

PollsError                      base; carries a machine-readable ``code``
├── ValidationFailed  (422)     input broke a rule; ``errors`` names each field
├── BallotFileError   (422)     a ballot file for a recount is malformed (names the line)
├── NotSignedIn       (401)     the request needs a signed-in staff member
├── Forbidden         (403)     signed in, but the role does not allow it
├── CsrfFailed        (403)     missing or wrong CSRF token
├── NotFound          (404)     no such pilot, area, poll, question, ...
├── Conflict          (409)     the request clashes with the current state
│   └── TransitionNotAllowed    a poll lifecycle step that is not allowed now
├── TooManyRequests   (429)     throttled (sign-in attempts, ...)
└── ServiceUnavailable(503)     a backing service (Redis) is down
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``field`` is a dotted path such as ``questions.0.title``."""

    field: str
    message: str


class PollsError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(PollsError):
    status = 422
    code = "validation_failed"

    def __init__(
        self,
        errors: list[FieldError],
        message: str = "Check the highlighted fields",
        *,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str, *, code: str | None = None) -> ValidationFailed:
        return cls([FieldError(field, message)], message, code=code)


class NotSignedIn(PollsError):
    status = 401
    code = "not_signed_in"


class Forbidden(PollsError):
    status = 403
    code = "forbidden"


class CsrfFailed(PollsError):
    status = 403
    code = "csrf_failed"


class NotFound(PollsError):
    status = 404
    code = "not_found"


class Conflict(PollsError):
    status = 409
    code = "conflict"


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"


class TooManyRequests(PollsError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(PollsError):
    status = 503
    code = "service_unavailable"
