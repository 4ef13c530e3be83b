"""Voter secrets: only the card's code unwraps them, only the returning officer's key unseals them."""

from __future__ import annotations

import pytest

from polls.domain.codes import new_reference, new_short_code
from polls.domain.officer_keys import Sealer, new_key_pair, parse_private_key, parse_public_key, unseal
from polls.domain.voter_secrets import (
    card_credential,
    card_nullifier,
    code_pad,
    new_voter_secret,
    unwrap_secret,
    wrap,
)
from polls.errors import Forbidden, ValidationFailed


def test_only_the_cards_code_unwraps_its_secret() -> None:
    secret, code = new_voter_secret(), new_short_code()
    stored = wrap(secret, code_pad(code))
    assert unwrap_secret(stored, card_credential(b"k" * 32, code).unwrap) == secret
    assert unwrap_secret(stored, code_pad(new_short_code()).hex()) != secret


def test_the_nullifier_differs_per_poll_and_per_secret() -> None:
    one, two = new_voter_secret(), new_voter_secret()
    assert card_nullifier(one, 1) != card_nullifier(one, 2) != card_nullifier(two, 2)


def test_a_sealed_secret_opens_only_with_the_officers_key_and_for_its_own_card() -> None:
    private, public = new_key_pair()
    secret, reference = new_voter_secret(), new_reference()
    sealed = Sealer(public).seal(secret, reference)
    assert unseal(parse_private_key(private), sealed, reference) == secret
    with pytest.raises(Forbidden):
        unseal(parse_private_key(new_key_pair()[0]), sealed, reference)
    with pytest.raises(Forbidden):
        unseal(parse_private_key(private), sealed, new_reference())


@pytest.mark.parametrize(
    ("text", "code"), [("", "officer_key_missing"), ("rosk_12", "officer_key_malformed")]
)
def test_missing_or_malformed_private_keys_are_refused(text: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_private_key(text)
    assert refused.value.code == code


def test_a_private_key_is_not_taken_for_a_public_one() -> None:
    with pytest.raises(ValidationFailed):
        parse_public_key(new_key_pair()[0])
