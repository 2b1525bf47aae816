"""Base45 (RFC 9285): bytes as the characters of the QR alphanumeric mode.

Two bytes become three characters, a last single byte two. Decoding is strict:
only the 45 characters of the alphabet, no group worth more than its bytes can
hold, and no trailing single character.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "Base45Error", "b45decode", "b45encode"]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
"""The 45 characters of RFC 9285 section 4, in value order."""

_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class Base45Error(ValueError):
    """The text is not base45 (RFC 9285)."""


def b45encode(data: bytes) -> str:
    """The base45 text of ``data``."""
    out: list[str] = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        n, c = divmod(n, 45)
        e, d = divmod(n, 45)
        out += (ALPHABET[c], ALPHABET[d], ALPHABET[e])
    if len(data) % 2:
        d, c = divmod(data[-1], 45)
        out += (ALPHABET[c], ALPHABET[d])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """The bytes of base45 ``text``; ``Base45Error`` if it is not valid base45."""
    if len(text) % 3 == 1:
        raise Base45Error("a base45 text never has length 1 modulo 3")
    try:
        values = [_VALUE[c] for c in text]
    except KeyError:
        raise Base45Error("a character outside the base45 alphabet") from None
    out = bytearray()
    for i in range(0, len(values), 3):
        group = values[i : i + 3]
        if len(group) == 3:
            n = group[0] + group[1] * 45 + group[2] * 2025
            if n > 0xFFFF:
                raise Base45Error("a three-character group above 65535")
            out += n.to_bytes(2, "big")
        else:
            n = group[0] + group[1] * 45
            if n > 0xFF:
                raise Base45Error("a final two-character group above 255")
            out.append(n)
    return bytes(out)
