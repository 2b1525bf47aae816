"""Internal: the few strict DER structures SM2 needs (signatures, PKCS#8, SubjectPublicKeyInfo).

``cryptography`` refuses SM2 keys, so this module writes and reads them itself, byte-compatible
with OpenSSL 3: PKCS#8 ``PrivateKeyInfo`` with algorithm ``id-ecPublicKey`` and parameters
``sm2p256v1`` (1.2.156.10197.1.301) wrapping an RFC 5915 ``ECPrivateKey``, and the matching
``SubjectPublicKeyInfo``. Parsing is strict DER: minimal lengths and integers, no trailing bytes.
"""

from __future__ import annotations

import base64
import binascii
import re

from ledger.crypto.errors import InvalidKey, InvalidSignature

_SEQUENCE = 0x30
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_OID = 0x06
_CTX0 = 0xA0
_CTX1 = 0xA1

# DER of the OBJECT IDENTIFIERs (tag and length included).
OID_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1
OID_SM2P256V1 = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301

SCALAR_SIZE = 32
POINT_SIZE = 65


class DerError(ValueError):
    """Malformed DER (internal; callers translate it into the public vocabulary)."""


def _encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Encode one DER tag-length-value."""
    return bytes([tag]) + _encode_length(len(value)) + value


def encode_integer(value: int) -> bytes:
    """Encode a non-negative INTEGER in minimal two's complement."""
    if value < 0:
        raise ValueError("only non-negative integers are encoded here")
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return encode_tlv(_INTEGER, raw)


def read_tlv(data: bytes, pos: int = 0) -> tuple[int, bytes, int]:
    """Read one TLV at ``pos``; return (tag, value, end). Only low tags, definite lengths."""
    if pos + 2 > len(data):
        raise DerError("truncated")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag numbers are not used here")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4:
            raise DerError("indefinite or oversized length")
        if pos + count > len(data):
            raise DerError("truncated length")
        length = int.from_bytes(data[pos : pos + count], "big")
        if data[pos] == 0 or length < 0x80:
            raise DerError("non-minimal length")
        pos += count
    end = pos + length
    if end > len(data):
        raise DerError("truncated value")
    return tag, data[pos:end], end


def read_children(value: bytes) -> list[tuple[int, bytes]]:
    """Split the contents of a constructed value into (tag, value) pairs."""
    children: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(value):
        tag, child, pos = read_tlv(value, pos)
        children.append((tag, child))
    return children


def read_single(data: bytes, tag: int) -> bytes:
    """Parse ``data`` as exactly one TLV with ``tag`` and nothing after it; return its value."""
    found, value, end = read_tlv(data)
    if found != tag or end != len(data):
        raise DerError("unexpected structure")
    return value


def decode_integer(value: bytes) -> int:
    """Decode the contents of a non-negative, minimally encoded INTEGER."""
    if not value:
        raise DerError("empty integer")
    if value[0] & 0x80:
        raise DerError("negative integer")
    if len(value) > 1 and value[0] == 0 and not value[1] & 0x80:
        raise DerError("non-minimal integer")
    return int.from_bytes(value, "big")


# Signatures: SEQUENCE { r INTEGER, s INTEGER } (GM/T 0009 SM2Signature).


def encode_signature(r: int, s: int) -> bytes:
    """DER-encode (r, s)."""
    return encode_tlv(_SEQUENCE, encode_integer(r) + encode_integer(s))


def decode_signature(der: bytes) -> tuple[int, int]:
    """Decode a strict DER SM2Signature; raise InvalidSignature if malformed."""
    try:
        children = read_children(read_single(bytes(der), _SEQUENCE))
        if [tag for tag, _ in children] != [_INTEGER, _INTEGER]:
            raise DerError("expected two integers")
        return decode_integer(children[0][1]), decode_integer(children[1][1])
    except DerError as exc:
        raise InvalidSignature("malformed DER signature") from exc


# Keys.

_ALGORITHM = encode_tlv(_SEQUENCE, OID_EC_PUBLIC_KEY + OID_SM2P256V1)


def encode_spki(point: bytes) -> bytes:
    """DER SubjectPublicKeyInfo for an SM2 point (OpenSSL writes it uncompressed)."""
    return encode_tlv(_SEQUENCE, _ALGORITHM + encode_tlv(_BIT_STRING, b"\x00" + point))


def decode_spki(der: bytes) -> bytes:
    """Return the SEC 1 point inside an SM2 SubjectPublicKeyInfo; raise InvalidKey."""
    try:
        children = read_children(read_single(bytes(der), _SEQUENCE))
        if len(children) != 2 or children[0] != (_SEQUENCE, _ALGORITHM[2:]):
            raise DerError("not an SM2 (id-ecPublicKey, sm2p256v1) public key")
        tag, bits = children[1]
        if tag != _BIT_STRING or not bits or bits[0] != 0:
            raise DerError("bad subjectPublicKey")
        return bits[1:]
    except DerError as exc:
        raise InvalidKey("malformed SM2 SubjectPublicKeyInfo") from exc


def encode_pkcs8(scalar: bytes, point: bytes | None) -> bytes:
    """DER PKCS#8 PrivateKeyInfo, laid out exactly as ``openssl pkcs8 -topk8`` writes it."""
    inner = encode_integer(1) + encode_tlv(_OCTET_STRING, scalar)
    if point is not None:
        inner += encode_tlv(_CTX1, encode_tlv(_BIT_STRING, b"\x00" + point))
    ec_private_key = encode_tlv(_SEQUENCE, inner)
    body = encode_integer(0) + _ALGORITHM + encode_tlv(_OCTET_STRING, ec_private_key)
    return encode_tlv(_SEQUENCE, body)


def decode_pkcs8(der: bytes) -> tuple[bytes, bytes | None]:
    """Return (32-byte scalar, optional embedded point) from SM2 PKCS#8; raise InvalidKey.

    Accepts PKCS#8 v1 (version 0) with optional attributes, and an inner ECPrivateKey whose
    optional ``[0]`` parameters, when present, must name sm2p256v1.
    """
    try:
        children = read_children(read_single(bytes(der), _SEQUENCE))
        if len(children) not in (3, 4):
            raise DerError("bad PrivateKeyInfo")
        (t_ver, ver), (t_alg, alg), (t_key, key) = children[:3]
        if t_ver != _INTEGER or decode_integer(ver) != 0:
            raise DerError("unsupported PrivateKeyInfo version")
        if (t_alg, alg) != (_SEQUENCE, _ALGORITHM[2:]):
            raise DerError("not an SM2 (id-ecPublicKey, sm2p256v1) private key")
        if t_key != _OCTET_STRING:
            raise DerError("bad privateKey")
        if len(children) == 4 and children[3][0] != _CTX0:
            raise DerError("bad attributes")
        fields = read_children(read_single(key, _SEQUENCE))
        if len(fields) < 2 or fields[0][0] != _INTEGER or decode_integer(fields[0][1]) != 1:
            raise DerError("unsupported ECPrivateKey version")
        if fields[1][0] != _OCTET_STRING or len(fields[1][1]) != SCALAR_SIZE:
            raise DerError("private key must be a 32-byte octet string")
        scalar = fields[1][1]
        point: bytes | None = None
        rest = fields[2:]
        if rest and rest[0][0] == _CTX0:
            if rest[0][1] != OID_SM2P256V1:
                raise DerError("ECPrivateKey parameters name another curve")
            rest = rest[1:]
        if rest and rest[0][0] == _CTX1:
            bits = read_single(rest[0][1], _BIT_STRING)
            if not bits or bits[0] != 0:
                raise DerError("bad publicKey")
            point = bits[1:]
            rest = rest[1:]
        if rest:
            raise DerError("unexpected fields in ECPrivateKey")
        return scalar, point
    except DerError as exc:
        raise InvalidKey("malformed SM2 PKCS#8 private key") from exc


# PEM (RFC 7468, strict base64).

_PEM_RE = re.compile(
    r"-----BEGIN ([A-Z0-9 ]+)-----\s*([A-Za-z0-9+/=\s]*?)\s*-----END \1-----", re.ASCII
)


def pem_encode(der: bytes, label: str) -> str:
    """Wrap DER in a PEM block with 64-character lines."""
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def pem_decode(pem: str | bytes, label: str) -> bytes:
    """Return the DER inside the single PEM block labelled ``label``; raise InvalidKey."""
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes | bytearray) else pem
    blocks = [m for m in _PEM_RE.finditer(text) if m.group(1) == label]
    if len(blocks) != 1:
        raise InvalidKey(f"expected exactly one PEM block labelled {label}")
    body = "".join(blocks[0].group(2).split())
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as exc:
        raise InvalidKey("malformed PEM base64") from exc
