"""ISO/IEC 7064 MOD 37,36, GB 32100 and GB 11714 check characters on published codes."""

from __future__ import annotations

import pickle

import pytest

from credentials.zhengzhao.check_characters import (
    ALPHANUMERIC,
    USCC_ALPHABET,
    mod37_36_check_character,
    organization_code_check_character,
    uscc_check_character,
    validate_organization_code,
    validate_uscc,
)
from credentials.zhengzhao.errors import IdentifierError

from .conftest import VECTORS

USCCS: list[str] = VECTORS["usccs"]
FIELD = "unifiedSocialCreditCode"


def test_uscc_alphabet_is_the_31_characters_without_i_o_s_v_z() -> None:
    assert len(USCC_ALPHABET) == 31
    assert set(ALPHANUMERIC) - set(USCC_ALPHABET) == set("IOSVZ")


def test_mod37_36_reproduces_the_published_check_character() -> None:
    data = "11100000000013338W011" + "11430000006122244L" + "20230000403" + "001"
    assert mod37_36_check_character(data) == "U"


def test_mod37_36_detects_every_single_substitution() -> None:
    data = "11100000000013338W01111430000006122244L20230000403001"
    protected = data + mod37_36_check_character(data)
    for i, original in enumerate(protected):
        for char in ALPHANUMERIC:
            if char == original:
                continue
            mutated = protected[:i] + char + protected[i + 1 :]
            assert mod37_36_check_character(mutated[:-1]) != mutated[-1], (i, char)


def test_mod37_36_does_not_promise_every_adjacent_transposition() -> None:
    # ISO/IEC 7064 promises hybrid systems catch single substitutions, not all
    # transpositions: find one it misses, so nobody relies on it.
    missed = [
        (a, b, c)
        for a in ALPHANUMERIC
        for b in ALPHANUMERIC
        for c in "0123"
        if a != b and mod37_36_check_character(a + b + c) == mod37_36_check_character(b + a + c)
    ]
    assert missed


@pytest.mark.parametrize("bad", ["", "abc", "1.2", "A B"])
def test_mod37_36_refuses_data_outside_its_alphabet(bad: str) -> None:
    with pytest.raises(IdentifierError):
        mod37_36_check_character(bad)


@pytest.mark.parametrize("code", USCCS)
def test_published_usccs_are_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert uscc_check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", USCCS)
def test_published_usccs_embed_a_valid_organization_code(code: str) -> None:
    assert validate_uscc(code, organization_code=True) == code
    assert validate_organization_code(code[8:17]) == code[8:17]


@pytest.mark.parametrize("code", USCCS)
def test_every_single_character_substitution_of_a_uscc_is_refused(code: str) -> None:
    for i, original in enumerate(code):
        for char in ALPHANUMERIC + "a-. ":
            if char == original:
                continue
            mutated = code[:i] + char + code[i + 1 :]
            with pytest.raises(IdentifierError) as caught:
                validate_uscc(mutated)
            assert caught.value.field == FIELD
            assert caught.value.position in (i + 1, 18), (i, char)


@pytest.mark.parametrize("code", USCCS)
def test_every_adjacent_transposition_in_a_usccs_first_17_is_refused(code: str) -> None:
    # Weights 3**i mod 31 differ between neighbours and 31 is prime, so GB 32100
    # catches every adjacent transposition of two different characters among
    # the first 17 (not one that moves the check character itself).
    for i in range(16):
        if code[i] == code[i + 1]:
            continue
        swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        with pytest.raises(IdentifierError):
            validate_uscc(swapped)


@pytest.mark.parametrize("code", VECTORS["usccsPilotFailingCheck"])
def test_early_pilot_codes_that_break_the_check_are_refused(code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_uscc(code)
    assert caught.value.reason == "check_character"
    assert caught.value.position == 18


@pytest.mark.parametrize(
    ("bad", "reason", "position"),
    [
        ("11100000000013338", "length", None),
        ("11100000000013338WW", "length", None),
        ("11100000000013338w", "character", 18),
        ("1110000000001333OW", "character", 17),
        ("111000000000133I8W", "character", 16),
        ("11100000S00013338W", "character", 9),
        ("11A00000000013338W", "character", 3),
    ],
)
def test_malformed_usccs_are_refused_naming_the_position(
    bad: str, reason: str, position: int | None
) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_uscc(bad)
    assert (caught.value.field, caught.value.reason, caught.value.position) == (
        FIELD,
        reason,
        position,
    )
    assert bad not in str(caught.value)


def test_a_non_string_uscc_is_refused() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_uscc(11100000000013338)
    assert caught.value.reason == "type"


def test_the_field_name_is_the_callers() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_uscc("11100000000013338X", field="issuingAgencyCode")
    assert caught.value.field == "issuingAgencyCode"
    assert str(caught.value).startswith("issuingAgencyCode (position 18): ")


def test_organization_code_check_character_of_published_codes() -> None:
    assert organization_code_check_character("00001333") == "8"
    assert organization_code_check_character("00612224") == "4"


def test_organization_code_check_can_be_x_or_0() -> None:
    # Remainder 1 gives 10, written X; remainder 0 gives 11, written 0.
    values = {organization_code_check_character(f"{n:08d}") for n in range(200)}
    assert {"X", "0"} <= values


@pytest.mark.parametrize("bad", ["000013339", "00001333", "0000133380", "0000133-8", 13338])
def test_malformed_organization_codes_are_refused(bad: object) -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_organization_code(bad)
    assert caught.value.field == "organizationCode"


def test_the_error_survives_pickling() -> None:
    with pytest.raises(IdentifierError) as caught:
        validate_uscc("11100000000013338X")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.field, copy.reason, copy.position, str(copy)) == (
        caught.value.field,
        caught.value.reason,
        caught.value.position,
        str(caught.value),
    )
