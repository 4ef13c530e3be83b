"""Short codes: typos and swapped neighbours are caught before any lookup; references name nobody."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from polls.domain.codes import (
    ALPHABET,
    LENGTH,
    check_character,
    format_short_code,
    is_check_valid,
    is_issuable,
    new_reference,
    new_short_code,
    normalise_short_code,
    short_code_from_bits,
)
from polls.errors import ValidationFailed

issuable_codes = st.integers(0, 2**65 - 1).map(short_code_from_bits).filter(is_issuable)


def refused(typed: str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        normalise_short_code(typed)
    assert caught.value.errors[0].field == "code"
    return caught.value.errors[0].message


@given(issuable_codes, st.integers(0, LENGTH - 1), st.sampled_from(ALPHABET))
def test_every_single_mistyped_character_is_caught(code: str, position: int, typed: str) -> None:
    assume(code[position] != typed)
    mistyped = code[:position] + typed + code[position + 1 :]
    assert "typo" in refused(mistyped)


@given(issuable_codes, st.integers(0, LENGTH - 2))
def test_every_swap_of_neighbours_is_caught(code: str, position: int) -> None:
    assume(code[position] != code[position + 1])
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert "typo" in refused(swapped)


def test_every_substitution_and_swap_of_one_code_exhaustively() -> None:
    code = new_short_code()
    for i in range(LENGTH):
        for c in ALPHABET:
            if c != code[i]:
                assert not is_check_valid(code[:i] + c + code[i + 1 :])
        if i < LENGTH - 1 and code[i] != code[i + 1]:
            assert not is_check_valid(code[:i] + code[i + 1] + code[i] + code[i + 2 :])


def test_luhn_mod_n_misses_only_the_zero_z_swap_which_is_never_issued() -> None:
    missed = set()
    for a in ALPHABET:
        for b in ALPHABET:
            payload = "123456789AB" + a + b
            swapped = "123456789AB" + b + a + check_character(payload)
            if a != b and is_check_valid(swapped):
                missed.add(a + b)
    assert missed == {"0Z", "Z0"}
    assert not is_issuable("0Z" + "1" * 12)


@given(issuable_codes)
def test_normalising_accepts_what_people_type(code: str) -> None:
    assert normalise_short_code(code) == code
    assert normalise_short_code(format_short_code(code)) == code
    assert normalise_short_code(" " + format_short_code(code).lower().replace("-", " ") + " ") == code
    look_alikes = code.replace("0", "o").replace("1", "l")
    assert normalise_short_code(look_alikes) == code
    assert normalise_short_code(code.replace("1", "I")) == code


@given(issuable_codes)
def test_formatted_code_is_grouped_in_fours(code: str) -> None:
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}", format_short_code(code))


def test_wrong_length_and_strange_characters_get_plain_messages() -> None:
    code = new_short_code()
    assert "14" in refused(code[:-1])
    assert "14" in refused(code + "7")
    assert "“U”" in refused(code[:-1] + "U")
    assert "“!”" in refused(code[:-1] + "!")
    assert "Enter the code" in refused("  - ")


def test_new_codes_are_random_and_long_enough() -> None:
    codes = {new_short_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == LENGTH and set(code) <= set(ALPHABET)
        assert is_check_valid(code) and is_issuable(code)
    # 13 random characters of 32, less the few "0Z" codes left out: still over 64 bits.
    bits = 13 * math.log2(len(ALPHABET)) + 13 * math.log2(1 - 2 / 32**2)
    assert bits > 64
    # Every character shows up in every position of the payload, roughly evenly.
    for position in range(13):
        seen = [c[position] for c in codes]
        assert set(seen) == set(ALPHABET)


def test_references_are_opaque() -> None:
    references = {new_reference() for _ in range(1000)}
    assert len(references) == 1000
    assert all(re.fullmatch(f"[{ALPHABET}]{{20}}", r) for r in references)
