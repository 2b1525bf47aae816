"""TB1: a Tongban credential as the text of one QR code (docs/paper-certificate.md).

``"TB1:" + base45(raw DEFLATE(CBOR(compact(tighten(credential)))))``

- **tighten** drops what the decoder rebuilds exactly (the ``_sd`` digests of the
  disclosed claims, the anchor's root, the template's ``credentialSchema``, the
  standard proof members, the issuer's chain and issuer ids) and writes what has
  one canonical spelling shorter (salts as bytes, claim names instead of pointers,
  digests and the audit path as one byte string, the two status entries as
  ``[list URL prefix, index]``);
- **compact** turns member names into small integers (``KEYS``: frozen, append
  only), constant strings into CBOR simple values (``CONSTANTS``), lowercase hex
  into byte strings, and multibase, ``did:key``, ``urn:uuid`` and UTC timestamps
  into tagged binary values.

``encode`` refuses a credential it cannot give back exactly (it decodes its own
output and compares). ``decode`` treats the text as untrusted: caps on every size,
strict base45, one DEFLATE stream, one CBOR item of known types only, and the
payload must be the one ``encode`` writes for what it decodes to (no second
spelling of the same credential). The decoded credential is then verified like
any other; nothing here checks a signature.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Mapping
from typing import Any, Final

import cbor2

from credentials.errors import InputRejectedError
from credentials.ijson import CREDENTIAL_LIMITS, check
from credentials.paper.base45 import Base45Error, b45decode, b45encode
from credentials.paper.errors import PaperCodecError
from credentials.paper.rules import loosen, tighten
from credentials.paper.typed import compact, expand
from credentials.paper.vocabulary import CONSTANTS, KEYS

__all__ = [
    "CONSTANTS",
    "KEYS",
    "MAX_CBOR_BYTES",
    "MAX_TEXT_LENGTH",
    "PREFIX",
    "PaperCodecError",
    "decode",
    "encode",
]

PREFIX: Final = "TB1:"
"""The version marker every payload starts with (a new layout takes ``TB2:``)."""

MAX_TEXT_LENGTH: Final = 4296
"""Longest payload accepted: the alphanumeric capacity of QR version 40 at ECC L."""

MAX_CBOR_BYTES: Final = 16 * 1024
"""Most bytes the DEFLATE stream may inflate to (a payload is untrusted input)."""

_TB1_ALPHABET = re.compile(r"[0-9A-Z $%*+\-./:]*")


def _deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, MAX_CBOR_BYTES + 1)
    except zlib.error:
        raise PaperCodecError("the payload is not a DEFLATE stream") from None
    if len(out) > MAX_CBOR_BYTES:
        raise PaperCodecError(f"the payload inflates to more than {MAX_CBOR_BYTES} bytes")
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise PaperCodecError("the payload is not exactly one complete DEFLATE stream")
    return out


def _cbor(credential: Mapping[str, Any]) -> bytes:
    return cbor2.dumps(compact(tighten(credential)))


def encode(credential: Mapping[str, Any]) -> str:
    """The TB1 text of ``credential`` (as it is: derive the print disclosures first).

    Raises ``PaperCodecError`` if the text would not decode to the very same JSON.
    """
    try:
        body = _cbor(credential)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise PaperCodecError("the credential is not a Tongban credential TB1 can carry") from None
    text = PREFIX + b45encode(_deflate(body))
    if len(text) > MAX_TEXT_LENGTH:
        raise PaperCodecError("the credential is too large for one QR code")
    try:
        same = decode(text) == json.loads(json.dumps(credential))
    except PaperCodecError:
        same = False
    if not same:
        raise PaperCodecError("TB1 cannot carry this credential exactly")
    return text


def decode(text: object) -> dict[str, Any]:
    """The credential a TB1 text carries; ``PaperCodecError`` naming the step at fault."""
    if not isinstance(text, str):
        raise PaperCodecError("a TB1 payload is text")
    if len(text) > MAX_TEXT_LENGTH:
        raise PaperCodecError(f"a TB1 payload has at most {MAX_TEXT_LENGTH} characters")
    if not text.startswith(PREFIX):
        if re.match(r"TB\d+:", text):
            raise PaperCodecError("the payload is of a TB version this verifier does not read")
        raise PaperCodecError("the text is not a TB1 payload (it must start with 'TB1:')")
    encoded = text[len(PREFIX) :]
    if not _TB1_ALPHABET.fullmatch(encoded):
        raise PaperCodecError("the payload has a character outside base45")
    try:
        body = _inflate(b45decode(encoded))
    except Base45Error as error:
        raise PaperCodecError(f"the payload is not base45: {error}") from None
    stream = io.BytesIO(body)
    try:
        item = cbor2.CBORDecoder(stream, str_errors="strict").decode()
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
        raise PaperCodecError("the payload is not one well-formed CBOR item") from None
    if stream.tell() != len(body):
        raise PaperCodecError("the payload has bytes after its CBOR item")
    expanded = expand(item)
    if not isinstance(expanded, dict):
        raise PaperCodecError("the payload is not a credential object")
    credential = loosen(expanded)
    try:
        check(credential, CREDENTIAL_LIMITS)
    except InputRejectedError:
        raise PaperCodecError("the decoded credential breaks the credential caps") from None
    try:
        canonical = _cbor(credential) == body
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        canonical = False
    if not canonical:
        raise PaperCodecError("the payload is not written as TB1 writes this credential")
    return credential
