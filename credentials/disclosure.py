"""Selective disclosure: salted claim digests in ``credentialSubject._sd``, disclosures beside.

Secured form of a credential (DESIGN "Formats"): every *disclosable* claim of
the template is removed from ``credentialSubject`` and replaced by the digest of
its disclosure in the sorted array ``credentialSubject._sd``, padded with random
decoy digests up to the template's ``sd_slots``::

    disclosure = [salt, pointer, value]
    digest     = hex(SM3(JCS(disclosure)))            64 lowercase hex characters
    salt       = base64url(16 random bytes from secrets), no padding (22 characters)
    pointer    = RFC 6901 JSON pointer of the claim in the fully disclosed
                 credential, e.g. "/credentialSubject/degreeName"
    decoy      = hex(32 random bytes from secrets)

The disclosures travel in the credential's top-level ``disclosures`` array, sorted
by pointer; a presentation keeps only the chosen ones. ``disclosures`` and
``proof`` are not part of the secured form, so neither the issuer's signature nor
the credential digest covers them: a disclosure is bound by its digest in ``_sd``.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from credentials.errors import DisclosureError
from credentials.jcs import canonicalize_flat
from credentials.templates import Template
from ledger.crypto.sm3 import sm3

__all__ = [
    "MIN_SALT_BYTES",
    "SALT_BYTES",
    "SUBJECT_POINTER",
    "claim_name",
    "claim_pointer",
    "disclosure_digest",
    "escape_token",
    "new_salt",
    "parse_pointer",
    "reveal",
    "secure_claims",
    "secure_subject",
    "select_disclosures",
]

SALT_BYTES = 16
"""Random bytes per salt (128 bits), as DESIGN requires at least."""

MIN_SALT_BYTES = 16
"""Shortest salt a verifier accepts, in decoded bytes."""

SUBJECT_POINTER = "/credentialSubject"
"""Where the claims live; ``_sd`` is a member of this object."""


def new_salt() -> str:
    """A fresh salt: 16 bytes from ``secrets``, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(SALT_BYTES)).rstrip(b"=").decode("ascii")


def salt_bytes(salt: str) -> bytes:
    """The bytes of a base64url salt; ValueError if it is not unpadded base64url."""
    salt_length(salt)
    return base64.urlsafe_b64decode(salt + "=" * (-len(salt) % 4))


def salt_length(salt: str) -> int:
    """How many bytes an unpadded base64url salt encodes; ValueError if it is not one."""
    if not isinstance(salt, str) or not _B64URL.fullmatch(salt) or len(salt) % 4 == 1:
        raise ValueError("a salt is unpadded base64url")
    return len(salt) * 3 // 4


_B64URL = re.compile(r"[A-Za-z0-9_-]{1,512}", re.ASCII)


def escape_token(token: str) -> str:
    """RFC 6901 escaping of one reference token (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON pointer; ValueError if malformed."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer starts with '/'")
    tokens = pointer[1:].split("/")
    for token in tokens:
        stripped = token.replace("~0", "").replace("~1", "")
        if "~" in stripped:
            raise ValueError("'~' must be followed by 0 or 1 in a JSON pointer")
    return [t.replace("~1", "/").replace("~0", "~") for t in tokens]


def claim_pointer(name: str) -> str:
    """The pointer of claim ``name``: ``/credentialSubject/<name>``."""
    return f"{SUBJECT_POINTER}/{escape_token(name)}"


@lru_cache(maxsize=1024)
def claim_name(pointer: str) -> str:
    """The claim a disclosure pointer names; ValueError unless it is ``/credentialSubject/<x>``."""
    tokens = parse_pointer(pointer)
    if len(tokens) != 2 or tokens[0] != "credentialSubject" or not tokens[1]:
        raise ValueError("a disclosure pointer is /credentialSubject/<claim>")
    if claim_pointer(tokens[1]) != pointer:
        raise ValueError("the disclosure pointer is not in canonical form")
    return tokens[1]


def disclosure_digest(disclosure: Sequence[Any]) -> str:
    """``hex(SM3(JCS([salt, pointer, value])))``."""
    return sm3(canonicalize_flat(list(disclosure))).hex()


def _new_salts(count: int) -> list[str]:
    raw = secrets.token_bytes(SALT_BYTES * count)
    return [
        base64.urlsafe_b64encode(raw[i : i + SALT_BYTES]).rstrip(b"=").decode("ascii")
        for i in range(0, len(raw), SALT_BYTES)
    ]


def secure_subject(
    template: Template, subject: Mapping[str, Any]
) -> tuple[dict[str, Any], list[list[Any]]]:
    """Replace the template's disclosable claims of ``subject`` by ``_sd`` digests.

    Returns the secured ``credentialSubject`` and the disclosures, sorted by pointer.
    """
    return secure_claims(subject, template.disclosable, template.sd_slots)


def secure_claims(
    subject: Mapping[str, Any], disclosable: Iterable[str], slots: int
) -> tuple[dict[str, Any], list[list[Any]]]:
    """Replace the ``disclosable`` claims of ``subject`` by ``_sd`` padded to ``slots`` digests.

    Returns the secured ``credentialSubject`` and the disclosures, sorted by pointer.
    """
    secured: dict[str, Any] = {}
    disclosures: list[list[Any]] = []
    disclosable = set(disclosable)
    salts = _new_salts(len(disclosable))
    for name, value in subject.items():
        if name in disclosable:
            disclosures.append([salts.pop(), claim_pointer(name), value])
        else:
            secured[name] = value
    if len(disclosures) > slots:
        raise DisclosureError("more disclosable claims than _sd slots")
    digests = [disclosure_digest(d) for d in disclosures]
    digests.extend(secrets.token_bytes(32).hex() for _ in range(slots - len(digests)))
    secured["_sd"] = sorted(digests)
    disclosures.sort(key=lambda d: str(d[1]))
    return secured, disclosures


def reveal(subject: Mapping[str, Any], disclosures: Iterable[Sequence[Any]]) -> dict[str, Any]:
    """``credentialSubject`` with the disclosed claims put back and ``_sd`` removed.

    Assumes the disclosures were checked (pointer form, no clash with clear claims).
    """
    revealed = {k: v for k, v in subject.items() if k != "_sd"}
    for _salt, pointer, value in disclosures:
        revealed[claim_name(str(pointer))] = value
    return revealed


def select_disclosures(
    disclosures: Iterable[Sequence[Any]], claims: Iterable[str]
) -> list[list[Any]]:
    """The disclosures of the named claims, sorted by pointer.

    Raises ``DisclosureError`` (naming no value) if a claim has no disclosure.
    """
    by_claim = {claim_name(str(d[1])): list(d) for d in disclosures}
    chosen: list[list[Any]] = []
    for name in dict.fromkeys(claims):
        if name not in by_claim:
            raise DisclosureError(f"the credential has no disclosure for claim {name!r}")
        chosen.append(by_claim[name])
    chosen.sort(key=lambda d: str(d[1]))
    return chosen
