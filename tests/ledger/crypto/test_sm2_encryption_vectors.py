"""The SM2 encryption entries of the vectors file, checked with the reference curve arithmetic.

ledger.crypto offers no SM2 encryption; these vectors still exercise the oracle's arithmetic on
both curves (fixed-k encryption, and decryption of OpenSSL's SM2_key1 ciphertext), so that
every vector in the file is used. The encryption recipe is the file's ``sm2_encrypt_recipe``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ledger.crypto import _asn1, _reference
from ledger.crypto._curve import SM2_TEST_FP256, SM2P256V1
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.crypto.sm3 import sm3

CURVES = {"sm2p256v1": SM2P256V1, "sm2_test_fp256": SM2_TEST_FP256}
HASHES: dict[str, Callable[[bytes], bytes]] = {
    "sm3": sm3,
    "sha256": lambda data: hashlib.sha256(data).digest(),
}


def _kdf(hash_function: Callable[[bytes], bytes], z: bytes, length: int) -> bytes:
    output = b""
    counter = 1
    while len(output) < length:
        output += hash_function(z + counter.to_bytes(4, "big"))
        counter += 1
    return output[:length]


def _decode_ciphertext(der: bytes) -> tuple[int, int, bytes, bytes]:
    children = _asn1.read_children(_asn1.read_single(der, 0x30))
    assert [tag for tag, _ in children] == [0x02, 0x02, 0x04, 0x04]
    x1 = _asn1.decode_integer(children[0][1])
    y1 = _asn1.decode_integer(children[1][1])
    return x1, y1, children[2][1], children[3][1]


def test_fixed_k_encryption(sm_vectors: dict[str, Any]) -> None:
    for vector in sm_vectors["sm2_encrypt"]:
        curve = CURVES[vector["curve"]]
        hash_function = HASHES[vector["hash"]]
        message = bytes.fromhex(vector["msg_hex"])
        public = _reference.public_point(curve, int(vector["d"], 16))
        k = int(vector["k"], 16)
        c1 = _reference.scalar_mult(curve, k, (curve.gx, curve.gy))
        shared = _reference.scalar_mult(curve, k, public)
        assert c1 is not None
        assert shared is not None
        x2, y2 = (v.to_bytes(32, "big") for v in shared)
        c2 = bytes(
            a ^ b for a, b in zip(message, _kdf(hash_function, x2 + y2, len(message)), strict=True)
        )
        c3 = hash_function(x2 + message + y2)
        assert _decode_ciphertext(bytes.fromhex(vector["ciphertext_der"])) == (
            c1[0],
            c1[1],
            c3,
            c2,
        ), vector["name"]


def test_decrypt_openssl_key1(sm_vectors: dict[str, Any]) -> None:
    section = sm_vectors["sm2_verify_digest"]
    key = Sm2PrivateKey.from_der(bytes.fromhex(section["pkcs8_der_hex"]))
    x1, y1, c3, c2 = _decode_ciphertext(bytes.fromhex(section["decrypt"]["ciphertext_der"]))
    assert SM2P256V1.contains(x1, y1)
    shared = _reference.scalar_mult(SM2P256V1, key.scalar, (x1, y1))
    assert shared is not None
    x2, y2 = (v.to_bytes(32, "big") for v in shared)
    plaintext = bytes(a ^ b for a, b in zip(c2, _kdf(sm3, x2 + y2, len(c2)), strict=True))
    assert plaintext.hex() == section["decrypt"]["plaintext_hex"]
    assert sm3(x2 + plaintext + y2) == c3
