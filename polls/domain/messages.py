"""The messages the service sends (emails, text messages, letters): their words in English and
Welsh, the personalisation each needs, and when a failed one is tried again.

The words use GOV.UK Notify's ``((field))`` placeholders, so the templates a council creates in
Notify (docs/messages.md) are these same texts. Welsh entries were written by the development
team and must be checked by the council's Welsh-language officer before a pilot goes live.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from polls.errors import ErrorCode, ValidationFailed


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    LETTER = "letter"


class Status(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt
    SENDING = "sending"  # claimed by a worker (its lease says until when)
    SENT = "sent"  # handed to the provider
    DELIVERED = "delivered"  # the provider says it arrived
    FAILED = "failed"  # the last attempt failed; tried again at next_attempt_at
    BOUNCED = "bounced"  # the provider says the address does not exist
    DEAD = "dead"  # given up: too many attempts, or a failure no retry can mend


RETRYABLE = (Status.FAILED, Status.BOUNCED, Status.DEAD)  # what an officer may send again
MAX_ATTEMPTS = 6
FIRST_RETRY = 30  # seconds; doubled after each failure ...
LONGEST_WAIT = 3600  # ... up to an hour


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, ... 1 h."""
    return timedelta(seconds=min(LONGEST_WAIT, FIRST_RETRY * 2 ** max(0, attempts - 1)))


def after_failure(attempts: int, max_attempts: int, permanent: bool) -> Status:
    return Status.DEAD if permanent or attempts >= max_attempts else Status.FAILED


class Purpose(StrEnum):
    """Why a message was sent; officers see messages grouped by it."""

    STAFF_INVITE = "staff_invite"
    PASSWORD_RESET = "password_reset"
    SIGN_IN_LINK = "sign_in_link"
    JUROR_INVITE = "juror_invite"
    SESSION_REMINDER = "session_reminder"
    ROOM_LINK = "room_link"
    RESULTS_SUBSCRIBED = "results_subscribed"
    RESULTS_PUBLISHED = "results_published"
    JUROR_THANKS = "juror_thanks"


# Messages to residents: officers see their status, never their content or whole address, and
# once sent the address is struck from the row.
RESIDENTS = (Purpose.RESULTS_SUBSCRIBED, Purpose.RESULTS_PUBLISHED)


@dataclass(frozen=True)
class Wording:
    subject: str  # emails and letters
    body: str
    sms: str


@dataclass(frozen=True)
class Template:
    name: str
    fields: tuple[str, ...]
    words: Mapping[str, Wording]  # language -> wording


_SIGN_OFF_EN = "\n\n((council))"
_SIGN_OFF_CY = "\n\n((council))"

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            "staff_invite",
            ("council", "name", "link"),
            {
                "en": Wording(
                    "You have been invited to run polls for ((council))",
                    "Hello ((name)),\n\nYou have a staff account for ((council))'s polls. "
                    "Choose your password here (the link works once, for 7 days):\n\n((link))" + _SIGN_OFF_EN,
                    "((council)): choose your polls staff password at ((link))",
                ),
                "cy": Wording(
                    "Rydych wedi cael gwahoddiad i redeg arolygon ((council))",
                    "Helo ((name)),\n\nMae gennych gyfrif staff ar gyfer arolygon ((council)). "
                    "Dewiswch eich cyfrinair yma (mae'r ddolen yn gweithio unwaith, am 7 diwrnod):"
                    "\n\n((link))" + _SIGN_OFF_CY,
                    "((council)): dewiswch eich cyfrinair staff yn ((link))",
                ),
            },
        ),
        Template(
            "password_reset",
            ("council", "link"),
            {
                "en": Wording(
                    "Reset your password",
                    "Someone asked to reset the password of your ((council)) polls staff account. "
                    "If it was you, choose a new password here (the link works once, for 1 hour):"
                    "\n\n((link))\n\nIf it was not you, you can ignore this email." + _SIGN_OFF_EN,
                    "((council)): reset your password at ((link))",
                ),
                "cy": Wording(
                    "Ailosod eich cyfrinair",
                    "Gofynnodd rhywun am ailosod cyfrinair eich cyfrif staff arolygon ((council)). "
                    "Os mai chi oedd hwn, dewiswch gyfrinair newydd yma (mae'r ddolen yn gweithio "
                    "unwaith, am 1 awr):\n\n((link))\n\nOs nad chi oedd hwn, gallwch anwybyddu'r "
                    "e-bost hwn." + _SIGN_OFF_CY,
                    "((council)): ailosodwch eich cyfrinair yn ((link))",
                ),
            },
        ),
        Template(
            "juror_invite",
            ("council", "jury", "link", "contact"),
            {
                "en": Wording(
                    "You have been chosen for ((council))'s citizens' jury",
                    "You have been chosen by lot to be invited to ((jury)), a citizens' jury run by "
                    "((council)).\n\nRead what it involves and say yes or no here:\n\n((link))\n\n"
                    "Questions? Contact ((contact))." + _SIGN_OFF_EN,
                    "((council)): you are invited to ((jury)), a citizens' jury. Reply at ((link))",
                ),
                "cy": Wording(
                    "Rydych wedi cael eich dewis ar gyfer rheithgor dinasyddion ((council))",
                    "Rydych wedi cael eich dewis drwy goelbren i gael gwahoddiad i ((jury)), "
                    "rheithgor dinasyddion a drefnir gan ((council)).\n\nDarllenwch beth mae'n ei "
                    "olygu a dywedwch ie neu na yma:\n\n((link))\n\nCwestiynau? Cysylltwch â "
                    "((contact))." + _SIGN_OFF_CY,
                    "((council)): gwahoddiad i ((jury)), rheithgor dinasyddion. Atebwch yn ((link))",
                ),
            },
        ),
        Template(
            "session_reminder",
            ("council", "jury", "session", "link"),
            {
                "en": Wording(
                    "Reminder: ((session))",
                    "This is a reminder of the next session of ((jury)): ((session)).\n\n"
                    "Your room link:\n\n((link))\n\nKeep it to yourself: it is your seat." + _SIGN_OFF_EN,
                    "((council)): ((jury)) meets soon (((session))). Your room: ((link))",
                ),
                "cy": Wording(
                    "Nodyn atgoffa: ((session))",
                    "Dyma nodyn i'ch atgoffa am sesiwn nesaf ((jury)): ((session)).\n\n"
                    "Dolen eich ystafell:\n\n((link))\n\nCadwch hi i chi'ch hun: eich sedd chi yw "
                    "hi." + _SIGN_OFF_CY,
                    "((council)): mae ((jury)) yn cwrdd cyn bo hir (((session))). Eich ystafell: ((link))",
                ),
            },
        ),
        Template(
            "room_link",
            ("council", "jury", "link"),
            {
                "en": Wording(
                    "Your link to the jury room",
                    "You asked for your link to the room of ((jury)) again. Here it is:\n\n((link))"
                    "\n\nKeep it to yourself: it is your seat." + _SIGN_OFF_EN,
                    "((council)): your room link for ((jury)): ((link))",
                ),
                "cy": Wording(
                    "Eich dolen i ystafell y rheithgor",
                    "Gofynnoch am eich dolen i ystafell ((jury)) eto. Dyma hi:\n\n((link))\n\n"
                    "Cadwch hi i chi'ch hun: eich sedd chi yw hi." + _SIGN_OFF_CY,
                    "((council)): dolen eich ystafell ar gyfer ((jury)): ((link))",
                ),
            },
        ),
        Template(
            "results_subscribed",
            ("council", "poll", "unsubscribe"),
            {
                "en": Wording(
                    "We will tell you when the results of ((poll)) are published",
                    "You asked us to tell you when the results of ((poll)) are published. We will "
                    "write to you once, then delete your address.\n\nChanged your mind? Stop it "
                    "here: ((unsubscribe))" + _SIGN_OFF_EN,
                    "((council)): we will tell you when the results of ((poll)) are out. "
                    "Stop: ((unsubscribe))",
                ),
                "cy": Wording(
                    "Byddwn yn dweud wrthych pan fydd canlyniadau ((poll)) wedi'u cyhoeddi",
                    "Gofynnoch i ni ddweud wrthych pan fydd canlyniadau ((poll)) wedi'u cyhoeddi. "
                    "Byddwn yn ysgrifennu atoch unwaith, ac yna'n dileu eich cyfeiriad.\n\n"
                    "Wedi newid eich meddwl? Stopiwch hyn yma: ((unsubscribe))" + _SIGN_OFF_CY,
                    "((council)): byddwn yn dweud wrthych pan fydd canlyniadau ((poll)) allan. "
                    "Stopio: ((unsubscribe))",
                ),
            },
        ),
        Template(
            "results_published",
            ("council", "poll", "link"),
            {
                "en": Wording(
                    "The results of ((poll)) are published",
                    "You asked us to tell you when the results of ((poll)) were published. They are "
                    "here, with what ((council)) will do about them:\n\n((link))\n\nWe have now "
                    "deleted your address." + _SIGN_OFF_EN,
                    "((council)): the results of ((poll)) are published: ((link))",
                ),
                "cy": Wording(
                    "Mae canlyniadau ((poll)) wedi'u cyhoeddi",
                    "Gofynnoch i ni ddweud wrthych pan fyddai canlyniadau ((poll)) yn cael eu "
                    "cyhoeddi. Dyma nhw, gyda'r hyn y bydd ((council)) yn ei wneud amdanyn nhw:\n\n"
                    "((link))\n\nRydym bellach wedi dileu eich cyfeiriad." + _SIGN_OFF_CY,
                    "((council)): mae canlyniadau ((poll)) wedi'u cyhoeddi: ((link))",
                ),
            },
        ),
        Template(
            "sign_in_link",
            ("council", "link"),
            {
                "en": Wording(
                    "Your sign-in link",
                    "Someone asked for a link to sign in to your ((council)) polls staff account. "
                    "If it was you, sign in here (the link works once, for 15 minutes):\n\n((link))"
                    "\n\nIf it was not you, you can ignore this email." + _SIGN_OFF_EN,
                    "((council)): sign in to polls at ((link))",
                ),
                "cy": Wording(
                    "Eich dolen mewngofnodi",
                    "Gofynnodd rhywun am ddolen i fewngofnodi i'ch cyfrif staff arolygon ((council)). "
                    "Os mai chi oedd hwn, mewngofnodwch yma (mae'r ddolen yn gweithio unwaith, am 15 "
                    "munud):\n\n((link))\n\nOs nad chi oedd hwn, gallwch anwybyddu'r e-bost hwn."
                    + _SIGN_OFF_CY,
                    "((council)): mewngofnodwch i arolygon yn ((link))",
                ),
            },
        ),
        Template(
            "juror_thanks",
            ("council", "jury", "link"),
            {
                "en": Wording(
                    "Thank you for serving on ((jury))",
                    "Thank you for your time on ((jury)). The jury's report is now published, for "
                    "everyone to read:\n\n((link))\n\n((council)) will answer it in public." + _SIGN_OFF_EN,
                    "((council)): thank you for serving on ((jury)). The report: ((link))",
                ),
                "cy": Wording(
                    "Diolch am wasanaethu ar ((jury))",
                    "Diolch am eich amser ar ((jury)). Mae adroddiad y rheithgor wedi'i gyhoeddi, i "
                    "bawb ei ddarllen:\n\n((link))\n\nBydd ((council)) yn ei ateb yn gyhoeddus."
                    + _SIGN_OFF_CY,
                    "((council)): diolch am wasanaethu ar ((jury)). Yr adroddiad: ((link))",
                ),
            },
        ),
    )
}

_PLACEHOLDER = re.compile(r"\(\(([a-z_0-9]+)\)\)")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def language_of(template: Template, language: str) -> str:
    return language if language in template.words else "en"


def check_personalisation(template_name: str, personalisation: Mapping[str, str]) -> Template:
    """The template, once every field it needs is given: a missing one fails here, when the message
    is queued or previewed, never later when it is sent."""
    template = TEMPLATES.get(template_name)
    if template is None:
        raise ValidationFailed.one("template", f"There is no message template {template_name!r}")
    missing = [f for f in template.fields if not str(personalisation.get(f, "")).strip()]
    if missing:
        raise ValidationFailed.one(
            "personalisation",
            f"The {template_name} message needs {', '.join(missing)}",
            code=ErrorCode.MESSAGE_FIELD_MISSING,
        )
    return template


def render(template_name: str, language: str, channel: str, personalisation: Mapping[str, str]) -> Rendered:
    template = check_personalisation(template_name, personalisation)
    words = template.words[language_of(template, language)]

    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: str(personalisation[m.group(1)]), text)

    if channel == Channel.SMS:
        return Rendered("", fill(words.sms))
    return Rendered(fill(words.subject), fill(words.body))
