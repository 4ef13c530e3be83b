"""Email addresses and phone numbers people type in: checked and written one way before we keep them."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from polls.errors import ErrorCode, ValidationFailed
from polls.i18n import N_

EMAIL = "email"
SMS = "sms"


@dataclass(frozen=True)
class Contact:
    channel: str  # email | sms
    address: str  # a normalised email address, or a phone number in E.164 (+447700900123)


def check_email(raw: str, field: str = "email") -> str:
    """The address, normalised (domain lower-cased); a ValidationFailed naming ``field`` if it is not one."""
    text = raw.strip()
    if not text:
        raise ValidationFailed.one(field, N_("Enter an email address"), code=ErrorCode.EMAIL_INVALID)
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationFailed.one(
            field, N_("Enter an email address like name@example.com"), code=ErrorCode.EMAIL_INVALID
        ) from None
    return str(checked.normalized)


def check_phone(raw: str, field: str = "phone") -> str:
    """A mobile or landline number, UK (07700 900123) or international (+33 6 12 34 56 78), in E.164."""
    text = raw.strip()
    message = N_("Enter a phone number like 07700 900123, or with its country code like +33 6 12 34 56 78")
    if not text:
        raise ValidationFailed.one(field, N_("Enter a phone number"), code=ErrorCode.PHONE_INVALID)
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        raise ValidationFailed.one(field, message, code=ErrorCode.PHONE_INVALID) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed.one(field, message, code=ErrorCode.PHONE_INVALID)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_contact(raw: str, field: str = "contact") -> Contact:
    """An email address or a phone number, whichever was typed."""
    text = raw.strip()
    if not text:
        raise ValidationFailed.one(
            field, N_("Enter an email address or a phone number"), code=ErrorCode.CONTACT_INVALID
        )
    if "@" in text:
        return Contact(EMAIL, check_email(text, field))
    if not any(c.isdigit() for c in text):
        raise ValidationFailed.one(
            field, N_("Enter an email address or a phone number"), code=ErrorCode.CONTACT_INVALID
        )
    return Contact(SMS, check_phone(text, field))


def masked(address: str) -> str:
    """What an officer sees of a resident's address: enough to tell two apart, not to write to."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"•••{address[-3:]}"
