"""Check characters: ISO/IEC 7064 MOD 37,36, GB 32100 and GB 11714.

- ISO/IEC 7064:2003 (GB/T 17710-2008, identical) hybrid system MOD 37,36 over
  the alphabet ``0-9A-Z`` valued 0..35 in that order: the 证照标识's check
  character (fields 6 to 9 concatenated without the dots).
- GB 32100-2015 统一社会信用代码: 18 characters over 31 symbols (``0-9`` and the
  capitals without I, O, S, V, Z), the 18th a weighted sum modulo 31 of the first
  17 with weights ``3**i mod 31``.
- GB 11714-1997 组织机构代码: 8 characters and a check character (``0-9`` or
  ``X``), weights 3 7 9 10 5 8 4 2 modulo 11; GB 32100 embeds one at positions
  9 to 17.

Every function is pure. Validators raise :class:`IdentifierError` naming the
field and the position, never the value.
"""

from __future__ import annotations

from typing import Final

from .errors import IdentifierError

__all__ = [
    "ALPHANUMERIC",
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "check_alphabet",
    "mod37_36_check_character",
    "organization_code_check_character",
    "uscc_check_character",
    "validate_organization_code",
    "validate_uscc",
]

ALPHANUMERIC: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""ISO/IEC 7064's alphanumeric character set, each character valued by its index."""

USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100's 31 code characters, each valued by its index (no I, O, S, V, Z)."""

USCC_LENGTH: Final = 18
"""A 统一社会信用代码 has 18 characters, the last one its check character."""

_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_ALPHABET: Final = ALPHANUMERIC
_ORG_CHECK: Final = "0123456789X"
_ALNUM_VALUE: Final = {c: i for i, c in enumerate(ALPHANUMERIC)}
_USCC_VALUE: Final = {c: i for i, c in enumerate(USCC_ALPHABET)}


def check_alphabet(value: str, alphabet: str, *, field: str, offset: int = 0) -> None:
    """Refuse ``value`` if a character is outside ``alphabet``, naming its position.

    ``offset`` is added to the 1-based position, for a part checked inside a
    larger field.
    """
    for index, char in enumerate(value):
        if char not in alphabet:
            raise IdentifierError(
                field, "character", "character outside the allowed set", offset + index + 1
            )


def mod37_36_check_character(data: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character of ``data`` (``0-9A-Z``, non-empty).

    Hybrid system with M = 36: start with P = M; for each character,
    S = (P + value) mod M, taken as M when 0, and P = 2S mod (M + 1); the check
    character is the one whose value a makes (P + a) mod M == 1.
    """
    if not data:
        raise IdentifierError("data", "length", "nothing to protect")
    check_alphabet(data, ALPHANUMERIC, field="data")
    modulus = 36
    product = modulus
    for char in data:
        total = (product + _ALNUM_VALUE[char]) % modulus or modulus
        product = (2 * total) % (modulus + 1)
    return ALPHANUMERIC[(modulus + 1 - product) % modulus]


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a 统一社会信用代码."""
    if len(first17) != USCC_LENGTH - 1:
        raise IdentifierError("unifiedSocialCreditCode", "length", "17 characters expected")
    check_alphabet(first17, USCC_ALPHABET, field="unifiedSocialCreditCode")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def organization_code_check_character(first8: str) -> str:
    """The GB 11714 check character (``0-9`` or ``X``) of an 8-character 组织机构代码 body."""
    if len(first8) != len(_ORG_WEIGHTS):
        raise IdentifierError("organizationCode", "length", "8 characters expected")
    check_alphabet(first8, _ORG_ALPHABET, field="organizationCode")
    total = sum(_ALNUM_VALUE[c] * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    return _ORG_CHECK[(11 - total % 11) % 11]


def validate_organization_code(value: object, *, field: str = "organizationCode") -> str:
    """Return ``value`` if it is a 9-character 组织机构代码 whose check character is right.

    The form without the hyphen (``XXXXXXXX-X`` is a display form, refused here).
    """
    if not isinstance(value, str):
        raise IdentifierError(field, "type", "a string is expected")
    if len(value) != len(_ORG_WEIGHTS) + 1:
        raise IdentifierError(field, "length", "9 characters expected")
    check_alphabet(value[:8], _ORG_ALPHABET, field=field)
    check_alphabet(value[8], _ORG_CHECK, field=field, offset=8)
    if organization_code_check_character(value[:8]) != value[8]:
        raise IdentifierError(
            field, "check_character", "check character does not match (GB 11714)", 9
        )
    return value


def validate_uscc(
    value: object,
    *,
    field: str = "unifiedSocialCreditCode",
    organization_code: bool = False,
) -> str:
    """Return ``value`` if it is a well-formed 统一社会信用代码 (GB 32100-2015).

    18 characters of :data:`USCC_ALPHABET` (capitals only), positions 3 to 8
    digits (the registering authority's GB/T 2260 division code), the 18th the
    check character. With ``organization_code`` the 组织机构代码 embedded at
    positions 9 to 17 must carry a right GB 11714 check character too: true of
    codes given to bodies that had one, not promised for every code (some
    early pilot codes fail even the GB 32100 check; see the docs).
    """
    if not isinstance(value, str):
        raise IdentifierError(field, "type", "a string is expected")
    if len(value) != USCC_LENGTH:
        raise IdentifierError(field, "length", f"{USCC_LENGTH} characters expected")
    check_alphabet(value, USCC_ALPHABET, field=field)
    check_alphabet(value[2:8], "0123456789", field=field, offset=2)
    if uscc_check_character(value[:17]) != value[17]:
        raise IdentifierError(
            field, "check_character", "check character does not match (GB 32100)", USCC_LENGTH
        )
    if organization_code:
        embedded = value[8:17]
        if organization_code_check_character(embedded[:8]) != embedded[8]:
            raise IdentifierError(
                field,
                "check_character",
                "embedded organization code's check character does not match (GB 11714)",
                17,
            )
    return value
