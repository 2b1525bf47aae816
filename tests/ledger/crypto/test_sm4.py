"""SM4-GCM: the RFC 8998 vector, round trips, and rejection of every kind of tampering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import sm4
from ledger.crypto.errors import DecryptionFailed, InvalidKey

# RFC 8998 Appendix A.1 (SM4-GCM).
RFC8998_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
RFC8998_NONCE = bytes.fromhex("00001234567800000000abcd")
RFC8998_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
RFC8998_PLAINTEXT = bytes.fromhex(
    "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccdddddddddddddddd"
    "eeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa"
)
RFC8998_CIPHERTEXT = bytes.fromhex(
    "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735"
    "d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d"
)
RFC8998_TAG = bytes.fromhex("83de3541e4c2b58177e065a9bf7b62ec")


def test_rfc8998_vector_opens() -> None:
    blob = RFC8998_NONCE + RFC8998_CIPHERTEXT + RFC8998_TAG
    assert sm4.open(RFC8998_KEY, blob, RFC8998_AAD) == RFC8998_PLAINTEXT
    with pytest.raises(DecryptionFailed):
        sm4.open(RFC8998_KEY, blob, RFC8998_AAD[:-1])


@given(plaintext=st.binary(max_size=200), aad=st.binary(max_size=40))
@settings(max_examples=40)
def test_round_trip(plaintext: bytes, aad: bytes) -> None:
    key = sm4.generate_key()
    blob = sm4.seal(key, plaintext, aad)
    assert len(blob) == len(plaintext) + sm4.OVERHEAD
    assert sm4.open(key, blob, aad) == plaintext


def test_nonces_are_fresh() -> None:
    key = sm4.generate_key()
    blobs = {sm4.seal(key, b"same")[: sm4.NONCE_SIZE] for _ in range(50)}
    assert len(blobs) == 50
    assert len(key) == sm4.KEY_SIZE
    assert sm4.generate_key() != key


def test_every_flipped_bit_is_rejected() -> None:
    key = sm4.generate_key()
    blob = sm4.seal(key, b"data at rest", b"header")
    for index in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= bit
            with pytest.raises(DecryptionFailed):
                sm4.open(key, bytes(tampered), b"header")


def test_wrong_key_aad_and_truncation_are_rejected() -> None:
    key = sm4.generate_key()
    blob = sm4.seal(key, b"data at rest", b"header")
    with pytest.raises(DecryptionFailed):
        sm4.open(sm4.generate_key(), blob, b"header")
    with pytest.raises(DecryptionFailed):
        sm4.open(key, blob)
    with pytest.raises(DecryptionFailed):
        sm4.open(key, blob[:-1], b"header")
    with pytest.raises(DecryptionFailed):
        sm4.open(key, blob + b"\x00", b"header")
    with pytest.raises(DecryptionFailed):
        sm4.open(key, blob[: sm4.OVERHEAD - 1], b"header")
    with pytest.raises(DecryptionFailed):
        sm4.open(key, b"", b"header")


@pytest.mark.parametrize("size", [0, 15, 17, 32])
def test_wrong_key_size(size: int) -> None:
    with pytest.raises(InvalidKey):
        sm4.seal(bytes(size), b"x")
    with pytest.raises(InvalidKey):
        sm4.open(bytes(size), bytes(40))
