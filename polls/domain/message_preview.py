"""What each message will look like for a pilot, before anything is sent: every template in each of
the pilot's languages, filled with the pilot's council name and contact and sample values.

A template is filled with exactly the fields it declares, through the same check as queueing
(polls.domain.messages.check_personalisation): a field without a value, or words that use a field
the template does not declare, fail here, in the officer's preview, never when a message is sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from polls.domain.messages import TEMPLATES, Rendered, Template, render
from polls.errors import ValidationFailed

# Sent by email only (to staff): their preview has no text message.
EMAIL_ONLY = frozenset({"staff_invite", "password_reset", "sign_in_link"})

SAMPLE_FIELDS = {
    "name": "Alex Example",
    "jury": "Example citizens' jury",
    "session": "Session 2, Tuesday 3 March at 6pm",
    "poll": "Example poll",
    "link": "/example-link",
    "unsubscribe": "/example-unsubscribe",
}


@dataclass(frozen=True)
class Preview:
    template: str
    language: str
    own_words: bool  # False: the language has no words of its own, and the English ones are sent
    email: Rendered | None = None
    sms: str | None = None
    problem: str | None = None  # why the template cannot be sent as it stands


def sample_fields(council: str, contact: str, base_url: str) -> dict[str, str]:
    links = {k: base_url + v for k, v in SAMPLE_FIELDS.items() if v.startswith("/")}
    return {**SAMPLE_FIELDS, **links, "council": council, "contact": contact}


def preview(template: Template, language: str, samples: Mapping[str, str]) -> Preview:
    given = {field: samples.get(field, "") for field in template.fields}
    own = language in template.words
    try:
        email = render(template.name, language, "email", given)
        sms = None if template.name in EMAIL_ONLY else render(template.name, language, "sms", given).body
    except ValidationFailed as exc:
        return Preview(template.name, language, own, problem=exc.errors[0].message)
    except KeyError as exc:
        problem = f"The words of the {template.name} message use (({exc.args[0]})), which it does not list"
        return Preview(template.name, language, own, problem=problem)
    return Preview(template.name, language, own, email=email, sms=sms)


def previews(languages: list[str], samples: Mapping[str, str]) -> list[Preview]:
    """Every template in every language, English first."""
    ordered = ["en", *(lang for lang in languages if lang != "en")]
    return [preview(t, lang, samples) for t in TEMPLATES.values() for lang in ordered]
