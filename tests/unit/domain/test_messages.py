"""Message templates, their personalisation, the retry schedule, and the contact details people type."""

from __future__ import annotations

from datetime import timedelta

import pytest

from polls.domain.contacts import check_contact, check_email, check_phone, masked
from polls.domain.messages import TEMPLATES, Status, after_failure, render, retry_delay
from polls.errors import ValidationFailed


def fields(name: str) -> dict[str, str]:
    return {f: f"<{f}>" for f in TEMPLATES[name].fields}


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("language", ["en", "cy"])
def test_every_template_fills_every_placeholder_in_english_and_welsh(name: str, language: str) -> None:
    for channel in ("email", "sms", "letter"):
        rendered = render(name, language, channel, fields(name))
        assert "((" not in rendered.subject + rendered.body
        assert ("<link>" if "link" in TEMPLATES[name].fields else "<unsubscribe>") in rendered.body


def test_welsh_words_are_used_for_welsh_and_english_for_a_language_without_them() -> None:
    assert (
        render("password_reset", "cy", "email", fields("password_reset")).subject == "Ailosod eich cyfrinair"
    )
    assert render("password_reset", "pl", "email", fields("password_reset")).subject == "Reset your password"


def test_a_missing_personalisation_field_fails_before_sending() -> None:
    with pytest.raises(ValidationFailed) as refused:
        render("juror_invite", "en", "email", {"council": "X", "jury": "Y", "link": "Z"})
    assert refused.value.code == "message_field_missing"
    assert "contact" in refused.value.errors[0].message


def test_retries_wait_longer_each_time_up_to_an_hour_then_the_message_is_dead() -> None:
    assert [retry_delay(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (30, 60, 120)]
    assert retry_delay(20) == timedelta(hours=1)
    assert after_failure(2, 3, permanent=False) is Status.FAILED
    assert after_failure(3, 3, permanent=False) is Status.DEAD
    assert after_failure(1, 3, permanent=True) is Status.DEAD


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("07911 123456", "+447911123456"),
        ("+44 7911 123456", "+447911123456"),
        ("020 7946 0018", "+442079460018"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 (202) 555-0143", "+12025550143"),
    ],
)
def test_uk_and_international_phone_numbers_are_accepted_as_e164(typed: str, e164: str) -> None:
    assert check_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "12345", "07700 90012", "+44 1234", "call me"])
def test_numbers_that_are_not_phone_numbers_are_refused_with_a_clear_message(typed: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_phone(typed)
    assert refused.value.errors[0].field == "phone"
    assert refused.value.errors[0].message.startswith("Enter a phone number")


@pytest.mark.parametrize("typed", ["", "name", "name@", "@example.org", "a b@example.org", "a@b@example.org"])
def test_text_that_is_not_an_email_address_is_refused(typed: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_email(typed)
    assert refused.value.code == "email_invalid"
    assert refused.value.errors[0].message.startswith("Enter an email address")


def test_a_contact_is_an_email_address_or_a_phone_number() -> None:
    assert check_contact(" Resident@Example.ORG ").address == "Resident@example.org"
    assert check_contact("07911 123456").channel == "sms"
    with pytest.raises(ValidationFailed):
        check_contact("not a contact")


def test_officers_see_only_a_masked_address() -> None:
    assert masked("resident@example.org") == "r•••@example.org"
    assert masked("+447700900123") == "•••123"
