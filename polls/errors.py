"""Every error the service reports, drawn once as a tree and mapped to HTTP in one place.

PollsError                      base; carries a machine-readable ``code`` (an ErrorCode)
├── ValidationFailed  (422)     input broke a rule; ``errors`` names each field
├── BallotFileError   (422)     a ballot file for a recount is malformed (names the line)
├── SortitionError    (422)     selecting a jury went wrong
│   ├── PoolFileError           a people or categories CSV is malformed; names the file and line
│   ├── QuotasInfeasible        no panel meets every quota; carries the relaxation report
│   ├── LotteryFileError        a published lottery file (or draw record) is malformed or inconsistent
│   ├── SeedMismatch            a seed whose SHA-256 is not the commitment published with the lottery
│   └── RandomnessMismatch      revealed public randomness that does not match its published source
├── NotSignedIn       (401)     the request needs a signed-in staff member
├── Forbidden         (403)     signed in, but the role does not allow it
├── CodeNotValid      (403)     a voter code or voting link that cannot vote
├── CsrfFailed        (403)     missing or wrong CSRF token
├── NotFound          (404)     no such pilot, area, poll, question, ...
│   └── InvitationInvalid       a juror invitation link that is not ours
├── Conflict          (409)     the request clashes with the current state
│   ├── TransitionNotAllowed    a poll lifecycle step that is not allowed now
│   ├── AlreadyVoted            the code has already voted in this poll
│   ├── PollNotOpen             the poll is not taking votes
│   ├── CountFailed             the official count could not be made
│   └── InvitationUsed          a juror invitation already answered
├── InvitationExpired (410)     a juror invitation past its lifetime
├── BodyTooLarge      (413)     a request body over its limit (a vote, a JSON body, a CSV file)
├── TooManyRequests   (429)     throttled (sign-in attempts, ...)
└── ServiceUnavailable(503)     a backing service (Redis) is down

Every ``code`` a response can carry is a member of ErrorCode, with a one-line description that
the OpenAPI document publishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from polls.domain.sortition.relaxation import InfeasibilityReport


class ErrorCode(StrEnum):
    """A machine-readable reason in an error response's ``code``; each says what it means."""

    description: str

    def __new__(cls, value: str, description: str = "") -> ErrorCode:
        member = str.__new__(cls, value)
        member._value_ = value
        member.description = description
        return member

    # The base of each branch of the tree, and the HTTP-level answers.
    BAD_REQUEST = "bad_request", "the request cannot be understood"
    VALIDATION_FAILED = "validation_failed", "an input broke a rule; errors names each field"
    NOT_SIGNED_IN = "not_signed_in", "the request needs a signed-in staff member"
    FORBIDDEN = "forbidden", "signed in, but the role does not allow it"
    CSRF_FAILED = "csrf_failed", "the CSRF token is missing or wrong"
    NOT_FOUND = "not_found", "there is nothing at this address"
    CONFLICT = "conflict", "the request clashes with the current state"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed", "a poll lifecycle step that is not allowed now"
    TOO_MANY_REQUESTS = "too_many_requests", "throttled: wait Retry-After seconds"
    SERVICE_UNAVAILABLE = "service_unavailable", "a backing service is down; nothing was saved"
    SERVER_ERROR = "server_error", "an unexpected error on our side; nothing was saved"
    METHOD_NOT_ALLOWED = "method_not_allowed", "this address does not take this HTTP method"
    HTTP_ERROR = "http_error", "another HTTP-level refusal"
    BODY_TOO_LARGE = "body_too_large", "the request body is over its limit"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", "the body is not sent with the media type asked for"
    INVALID_JSON = "invalid_json", "the body is not valid JSON"
    # Pilots, areas and staff.
    BAD_CREDENTIALS = "bad_credentials", "the email address or password is not right"
    STAFF_EXISTS = "staff_exists", "there is already a staff account for this email address"
    PILOT_NOT_FOUND = "pilot_not_found", "there is no such pilot"
    AREA_NOT_FOUND = "area_not_found", "there is no such area in this pilot"
    AREA_IN_USE = "area_in_use", "a poll is limited to this area"
    ROLE_NOT_FOUND = "role_not_found", "that person has no role in this pilot"
    OWN_ADMIN_ROLE = "own_admin_role", "an admin cannot remove their own admin role or themselves"
    # Polls and their lifecycle.
    POLL_NOT_FOUND = "poll_not_found", "there is no such poll"
    QUESTION_NOT_FOUND = "question_not_found", "this poll has no such question"
    POLL_NOT_EDITABLE = "poll_not_editable", "questions can change only while the poll is a draft"
    TOO_MANY_QUESTIONS = "too_many_questions", "a poll can have at most 100 questions"
    POLL_HAS_NO_QUESTIONS = (
        "poll_has_no_questions",
        "a poll needs a question before it is scheduled or opened",
    )
    CLOSING_TIME_PASSED = "closing_time_passed", "the closing time has passed; set a later one"
    POLL_TIMES_MISSING = "poll_times_missing", "scheduling needs an opening and a closing time"
    SECRECY_K_INVALID = (
        "secrecy_k_invalid",
        "live results must move in steps of a whole number of ballots, at least 5 (at most 1000)",
    )
    # Voter codes and voting.
    CODE_MISSING = "code_missing", "no code was given"
    CODE_TYPO = "code_typo", "the code has a typo (its check characters do not match)"
    CODE_UNKNOWN = "code_unknown", "we do not recognise this code or voting link"
    CODE_EXPIRED = "code_expired", "this voting link has expired"
    CODE_INVALID = "code_invalid", "this voting link is not valid"
    CODE_NOT_VALID = "code_not_valid", "this code cannot vote in this poll"
    CODE_REQUIRED = "code_required", "this poll needs the code from a poll card"
    CODE_REVOKED = "code_revoked", "this code has been cancelled"
    CODE_ALREADY_USED = "code_already_used", "this code has already voted in this poll"
    CODE_NOT_FOUND = "code_not_found", "there is no code with this reference in this pilot"
    CODE_ALREADY_REPLACED = "code_already_replaced", "this code has already been replaced by a new one"
    CODE_NOT_REPLACEABLE = "code_not_replaceable", "event codes are for one poll and are never replaced"
    OFFICER_KEY_NOT_SET = (
        "officer_key_not_set",
        "the pilot has no returning officer's public key, so no poll cards can be issued",
    )
    OFFICER_KEY_MISSING = (
        "officer_key_missing",
        "a replacement card needs the returning officer's private key",
    )
    OFFICER_KEY_MALFORMED = (
        "officer_key_malformed",
        "this is not a returning officer's key (ropk_/rosk_ + 64 hex)",
    )
    OFFICER_KEY_WRONG = (
        "officer_key_wrong",
        "this is not the returning officer's key the cards were sealed to",
    )
    NOT_AN_EVENT_POLL = "not_an_event_poll", "event codes are only for polls checked at events"
    WRONG_AREA = "wrong_area", "the code's area is not taking part in this poll"
    POLL_NOT_OPEN = "poll_not_open", "the poll is not open for this"
    PAPER_BATCHES_HELD = (
        "paper_batches_held",
        "paper ballots are waiting for a second officer: confirm or reject them before closing",
    )
    PAPER_BATCH_NOT_FOUND = "paper_batch_not_found", "no batch of paper ballots with this number is waiting"
    PAPER_SAME_OFFICER = "paper_same_officer", "a different officer must confirm or reject the batch"
    NO_COOKIE = "no_cookie", "the browser did not keep our cookie, so an open poll cannot count the vote"
    MALFORMED_BALLOT = "malformed_ballot", "the vote is not an object with a code and answers"
    UNKNOWN_QUESTION = "unknown_question", "an answer names a question the poll does not have"
    EMPTY_BALLOT = "empty_ballot", "no question is answered"
    MALFORMED_ANSWER = "malformed_answer", "an answer is not of the question's kind"
    COMMENT_TOO_LONG = "comment_too_long", "a comment is longer than the question allows"
    OUT_OF_RANGE = "out_of_range", "a point outside the question's scale"
    UNKNOWN_OPTION = "unknown_option", "an option the question does not have"
    DUPLICATE_RANK = "duplicate_rank", "a ranking names an option twice"
    DUPLICATE_OPTION = "duplicate_option", "a choice names an option twice"
    TOO_MANY_CHOICES = "too_many_choices", "more options chosen than the question allows"
    TOO_FEW_CHOICES = "too_few_choices", "fewer options chosen than the question asks"
    OVER_BUDGET = "over_budget", "the chosen projects cost more than the budget"
    # Results and their publication.
    NO_RESULTS_YET = "no_results_yet", "the poll has not closed, so it has no official results"
    RESULTS_NOT_PUBLIC = "results_not_public", "this poll's results are not public yet"
    RESULTS_NOT_PUBLISHED = "results_not_published", "the results have not been published"
    RESULTS_PUBLISHED = "results_published", "the results are published and can no longer change"
    POLL_NOT_CLOSED = "poll_not_closed", "the poll has not closed yet"
    NO_OFFICIAL_COUNT = "no_official_count", "this poll has no official count yet"
    NOT_COUNTED = "not_counted", "comments are read, not counted"
    METHOD_NOT_AVAILABLE = "method_not_available", "this counting method is not one for this question"
    COUNT_FAILED = "count_failed", "the official count could not be made"
    COMMENTS_NOT_REVIEWED = (
        "comments_not_reviewed",
        "results wait until every comment is published or withheld",
    )
    COMMENT_NOT_FOUND = "comment_not_found", "the poll's results have no comment with that number"
    MALFORMED_BALLOT_FILE = "malformed_ballot_file", "a ballot file for a recount is malformed"
    # Reading what residents wrote: themes, tags and suggested themes.
    THEME_NOT_FOUND = "theme_not_found", "the pilot has no such theme"
    THEME_NAME_TAKEN = "theme_name_taken", "the pilot already has a theme with this name"
    THEME_IN_USE = "theme_in_use", "tags use this theme: the change waits for confirmation"
    NO_RESPONSES = "no_responses", "the poll has no written responses to analyse"
    SUGGESTION_NOT_FOUND = "suggestion_not_found", "the poll has no such suggested theme"
    RESPONSE_WITHHELD = "response_withheld", "the response is withheld, so it takes no part in the analysis"
    SUGGESTION_DECIDED = "suggestion_decided", "the suggested theme was already accepted or rejected"
    # Juries: selection, invitations, sessions and reports.
    JURY_NOT_FOUND = "jury_not_found", "there is no such jury"
    PERSON_NOT_FOUND = "person_not_found", "nobody in the jury's recruitment pool has that id"
    JURY_WRONG_STATUS = "jury_wrong_status", "the jury is not at the stage this needs"
    JURY_NOT_DRAWN = "jury_not_drawn", "the panel has not been drawn yet"
    JURY_POOL_MISSING = "jury_pool_missing", "the people and categories files are not uploaded yet"
    JURY_REPORTED = "jury_reported", "the jury's report is published, so it can have no more sessions"
    LOTTERY_COMPUTING = "lottery_computing", "the lottery is being computed"
    LOTTERY_MISSING = "lottery_missing", "the lottery has not been computed yet"
    SORTITION_FAILED = "sortition_failed", "selecting the jury went wrong"
    POOL_FILE_INVALID = "pool_file_invalid", "a people or categories file is malformed"
    QUOTAS_INFEASIBLE = "quotas_infeasible", "no panel meets every quota"
    LOTTERY_FILE_INVALID = (
        "lottery_file_invalid",
        "a lottery file or draw record is malformed or inconsistent",
    )
    SEED_MISMATCH = "seed_mismatch", "the seed does not match the commitment published with the lottery"
    RANDOMNESS_MISMATCH = (
        "randomness_mismatch",
        "the public randomness entered at the draw is not what was committed to at the lottery's publication",
    )
    RANDOMNESS_NOT_FUTURE = (
        "randomness_not_future",
        "the named lottery draw is not after the publication date",
    )
    RANDOMNESS_MISSING = (
        "randomness_missing",
        "the lottery was published without naming its source of public randomness: publish it again",
    )
    INVITATION_INVALID = "invitation_invalid", "this invitation link is not valid"
    INVITATION_EXPIRED = "invitation_expired", "this invitation link has expired"
    INVITATION_USED = "invitation_used", "this invitation has already been answered"
    DISPLAY_NAME_TAKEN = "display_name_taken", "another juror on this jury has this display name"
    JUROR_NOT_FOUND = "juror_not_found", "there is no such juror on this jury"
    JUROR_NOT_ACCEPTED = "juror_not_accepted", "only a juror who accepted can be withdrawn"
    SESSION_NOT_ENDED = "session_not_ended", "the session has not ended yet"
    NOTHING_VOTED = "nothing_voted", "the jury voted on no recommendation"
    RESPONSE_MISSING = "response_missing", "a recommendation has no response yet"
    REPORT_PUBLISHED = "report_published", "the jury's report is published and can no longer change"
    REPORT_NOT_PUBLISHED = "report_not_published", "the jury's report has not been published"
    RECOMMENDATION_NOT_FOUND = "recommendation_not_found", "this jury has no such recommendation"
    RECOMMENDATION_NOT_VOTED = (
        "recommendation_not_voted",
        "the jury has not finished voting on this recommendation",
    )
    # Messages: email, text messages and letters.
    EMAIL_INVALID = "email_invalid", "this is not an email address"
    PHONE_INVALID = "phone_invalid", "this is not a UK or international phone number"
    CONTACT_INVALID = "contact_invalid", "this is neither an email address nor a phone number"
    MESSAGE_FIELD_MISSING = "message_field_missing", "a message template needs a field that was not given"
    MESSAGE_NOT_FOUND = "message_not_found", "there is no such message"
    MESSAGE_NOT_RETRYABLE = "message_not_retryable", "only failed, bounced or dead messages can be sent again"
    CALLBACK_NOT_AUTHORISED = "callback_not_authorised", "a delivery callback without the configured token"
    JUROR_NOT_INVITED = "juror_not_invited", "only a juror with an open invitation can be sent it"
    RESET_LINK_INVALID = "reset_link_invalid", "this password reset link is not valid, expired or used"
    SIGN_IN_LINK_INVALID = "sign_in_link_invalid", "this sign-in link is not valid, expired or used"
    # A lifecycle step a poll in this status cannot take: cannot_{action}_{status} (see domain/polls.py).
    CANNOT_SCHEDULE_SCHEDULED = "cannot_schedule_scheduled", "a scheduled poll cannot be scheduled"
    CANNOT_SCHEDULE_OPEN = "cannot_schedule_open", "an open poll cannot be scheduled"
    CANNOT_SCHEDULE_CLOSED = "cannot_schedule_closed", "a closed poll cannot be scheduled"
    CANNOT_SCHEDULE_UNDER_REVIEW = "cannot_schedule_under_review", "a poll under review cannot be scheduled"
    CANNOT_SCHEDULE_PUBLISHED = "cannot_schedule_published", "a published poll cannot be scheduled"
    CANNOT_UNSCHEDULE_DRAFT = "cannot_unschedule_draft", "a draft poll cannot be moved back to draft"
    CANNOT_UNSCHEDULE_OPEN = "cannot_unschedule_open", "an open poll cannot be moved back to draft"
    CANNOT_UNSCHEDULE_CLOSED = "cannot_unschedule_closed", "a closed poll cannot be moved back to draft"
    CANNOT_UNSCHEDULE_UNDER_REVIEW = (
        "cannot_unschedule_under_review",
        "a poll under review cannot be moved back to draft",
    )
    CANNOT_UNSCHEDULE_PUBLISHED = (
        "cannot_unschedule_published",
        "a published poll cannot be moved back to draft",
    )
    CANNOT_OPEN_OPEN = "cannot_open_open", "an open poll cannot be opened"
    CANNOT_OPEN_CLOSED = "cannot_open_closed", "a closed poll cannot be opened"
    CANNOT_OPEN_UNDER_REVIEW = "cannot_open_under_review", "a poll under review cannot be opened"
    CANNOT_OPEN_PUBLISHED = "cannot_open_published", "a published poll cannot be opened"
    CANNOT_CLOSE_DRAFT = "cannot_close_draft", "a draft poll cannot be closed"
    CANNOT_CLOSE_SCHEDULED = "cannot_close_scheduled", "a scheduled poll cannot be closed"
    CANNOT_CLOSE_CLOSED = "cannot_close_closed", "a closed poll cannot be closed"
    CANNOT_CLOSE_UNDER_REVIEW = "cannot_close_under_review", "a poll under review cannot be closed"
    CANNOT_CLOSE_PUBLISHED = "cannot_close_published", "a published poll cannot be closed"
    CANNOT_REVIEW_DRAFT = "cannot_review_draft", "a draft poll cannot be reviewed"
    CANNOT_REVIEW_SCHEDULED = "cannot_review_scheduled", "a scheduled poll cannot be reviewed"
    CANNOT_REVIEW_OPEN = "cannot_review_open", "an open poll cannot be reviewed"
    CANNOT_REVIEW_UNDER_REVIEW = "cannot_review_under_review", "a poll under review cannot be reviewed"
    CANNOT_REVIEW_PUBLISHED = "cannot_review_published", "a published poll cannot be reviewed"
    CANNOT_PUBLISH_DRAFT = "cannot_publish_draft", "a draft poll cannot be published"
    CANNOT_PUBLISH_SCHEDULED = "cannot_publish_scheduled", "a scheduled poll cannot be published"
    CANNOT_PUBLISH_OPEN = "cannot_publish_open", "an open poll cannot be published"
    CANNOT_PUBLISH_CLOSED = "cannot_publish_closed", "a closed poll cannot be published"
    CANNOT_PUBLISH_PUBLISHED = "cannot_publish_published", "a published poll cannot be published"


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; ``field`` is a dotted path such as ``questions.0.title``."""

    field: str
    message: str


class PollsError(Exception):
    status = 400
    code = ErrorCode.BAD_REQUEST

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(PollsError):
    status = 422
    code = ErrorCode.VALIDATION_FAILED

    def __init__(
        self,
        errors: list[FieldError],
        message: str = "Check the highlighted fields",
        *,
        code: ErrorCode | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.errors = errors

    @classmethod
    def one(cls, field: str, message: str, *, code: ErrorCode | None = None) -> ValidationFailed:
        return cls([FieldError(field, message)], message, code=code)


class BallotFileError(PollsError):
    status = 422
    code = ErrorCode.MALFORMED_BALLOT_FILE

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.problem = message


class SortitionError(PollsError):
    status = 422
    code = ErrorCode.SORTITION_FAILED


class PoolFileError(SortitionError):
    code = ErrorCode.POOL_FILE_INVALID

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file}, line {line}" if line is not None else file
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.problem = file, line, problem


class QuotasInfeasible(SortitionError):
    code = ErrorCode.QUOTAS_INFEASIBLE

    def __init__(self, report: InfeasibilityReport) -> None:
        super().__init__(report.describe())
        self.report = report


class LotteryFileError(SortitionError):
    code = ErrorCode.LOTTERY_FILE_INVALID


class SeedMismatch(SortitionError):
    code = ErrorCode.SEED_MISMATCH


class RandomnessMismatch(SortitionError):
    code = ErrorCode.RANDOMNESS_MISMATCH


class NotSignedIn(PollsError):
    status = 401
    code = ErrorCode.NOT_SIGNED_IN


class Forbidden(PollsError):
    status = 403
    code = ErrorCode.FORBIDDEN


class CodeNotValid(PollsError):
    status = 403
    code = ErrorCode.CODE_NOT_VALID


class CsrfFailed(PollsError):
    status = 403
    code = ErrorCode.CSRF_FAILED


class NotFound(PollsError):
    status = 404
    code = ErrorCode.NOT_FOUND


class InvitationInvalid(NotFound):
    code = ErrorCode.INVITATION_INVALID


class Conflict(PollsError):
    status = 409
    code = ErrorCode.CONFLICT


class TransitionNotAllowed(Conflict):
    code = ErrorCode.TRANSITION_NOT_ALLOWED


class AlreadyVoted(Conflict):
    code = ErrorCode.CODE_ALREADY_USED


class PollNotOpen(Conflict):
    code = ErrorCode.POLL_NOT_OPEN


class CountFailed(Conflict):
    code = ErrorCode.COUNT_FAILED


class InvitationUsed(Conflict):
    code = ErrorCode.INVITATION_USED


class InvitationExpired(PollsError):
    status = 410
    code = ErrorCode.INVITATION_EXPIRED


class BodyTooLarge(PollsError):
    status = 413
    code = ErrorCode.BODY_TOO_LARGE


class TooManyRequests(PollsError):
    status = 429
    code = ErrorCode.TOO_MANY_REQUESTS

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(PollsError):
    status = 503
    code = ErrorCode.SERVICE_UNAVAILABLE
