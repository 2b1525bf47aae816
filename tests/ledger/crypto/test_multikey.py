"""Multikey (publicKeyMultibase) encoding of SM2 public keys."""

from __future__ import annotations

import base58
import pytest

from ledger.crypto import multikey, sm2
from ledger.crypto._curve import SM2P256V1
from ledger.crypto.errors import InvalidKey
from ledger.crypto.sm2 import Sm2PublicKey

# The worked example of docs/crypto.md: the GB/T 32918.5 Annex A public key.
ANNEX_A_PUBLIC = Sm2PublicKey(
    0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
    0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
)
ANNEX_A_BYTES = "86240309f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
ANNEX_A_MULTIBASE = "zEPJcGHUVYyrGAXXGQhLF39KAny4ojC9RPmA777H2iVztKwBd"


def _independent_base58btc(raw: bytes) -> str:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number, digits = int.from_bytes(raw, "big"), ""
    while number:
        number, digit = divmod(number, 58)
        digits = alphabet[digit] + digits
    return "1" * (len(raw) - len(raw.lstrip(b"\x00"))) + digits


def test_worked_example() -> None:
    assert bytes([0x86, 0x24]) == multikey.SM2_PUB_PREFIX
    assert ANNEX_A_PUBLIC.compressed().hex() == ANNEX_A_BYTES[4:]
    encoded = multikey.encode(ANNEX_A_PUBLIC)
    assert encoded == "z" + _independent_base58btc(bytes.fromhex(ANNEX_A_BYTES))
    assert encoded == ANNEX_A_MULTIBASE
    assert multikey.decode(encoded) == ANNEX_A_PUBLIC


def test_varint_of_codec() -> None:
    code = multikey.SM2_PUB_CODEC
    assert bytes([(code & 0x7F) | 0x80, code >> 7]) == multikey.SM2_PUB_PREFIX


def test_round_trip_random_keys() -> None:
    for _ in range(5):
        public = sm2.generate_private_key().public_key
        encoded = multikey.encode(public)
        assert encoded.startswith("z")
        assert multikey.decode(encoded) == public


def _b58(raw: bytes) -> str:
    return "z" + base58.b58encode(raw).decode()


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param(ANNEX_A_MULTIBASE[1:], id="no-multibase-prefix"),
        pytest.param("u" + ANNEX_A_MULTIBASE[1:], id="other-multibase"),
        pytest.param(ANNEX_A_MULTIBASE + "0", id="invalid-base58-char"),
        pytest.param(ANNEX_A_MULTIBASE[:-1], id="truncated"),
        pytest.param(ANNEX_A_MULTIBASE + "2", id="one-char-more"),
        pytest.param(ANNEX_A_MULTIBASE + "z" * 40, id="far-too-long"),
        pytest.param(_b58(bytes([0xE7, 0x01]) + ANNEX_A_PUBLIC.compressed()), id="secp256k1-codec"),
        pytest.param(_b58(bytes([0x86, 0x24]) + ANNEX_A_PUBLIC.uncompressed()), id="uncompressed"),
        pytest.param(
            _b58(bytes([0x86, 0x24, 0x02]) + SM2P256V1.p.to_bytes(32, "big")), id="x-ge-p"
        ),
        pytest.param(_b58(bytes([0x86, 0x24, 0x04]) + bytes(32)), id="bad-point-prefix"),
        pytest.param(_b58(bytes([0x86, 0x24]) + b"\x00"), id="infinity"),
        pytest.param("z" + "完" * 10, id="non-ascii"),
    ],
)
def test_decode_rejects(value: str) -> None:
    with pytest.raises(InvalidKey):
        multikey.decode(value)


def test_decode_rejects_off_curve_point() -> None:
    x = 1
    while True:
        candidate = _b58(bytes([0x86, 0x24, 0x02]) + x.to_bytes(32, "big"))
        try:
            multikey.decode(candidate)
        except InvalidKey:
            break
        x += 1
    with pytest.raises(InvalidKey, match="not a point on the curve"):
        multikey.decode(candidate)
