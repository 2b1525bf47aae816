"""SM3 digests, streaming, HMAC-SM3, and the hash value objects."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.crypto import sm3 as sm3_module
from ledger.crypto.hashes import SHA256, SM3, HashAlgorithm, hash_algorithm
from ledger.crypto.sm3 import Sm3Hasher, hmac_sm3, sm3, sm3_chunks, sm3_file, sm3_hex


def test_vector(sm3_vector: dict[str, Any]) -> None:
    message = bytes.fromhex(sm3_vector["msg_hex"])
    assert sm3(message).hex() == sm3_vector["digest"]
    assert sm3_hex(message) == sm3_vector["digest"]


def test_empty_message() -> None:
    # GB/T 32905 has no empty-message example; this value is common to every implementation.
    assert sm3_hex(b"") == "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"


def _cryptography_sm3(data: bytes) -> bytes:
    context = hashes.Hash(hashes.SM3())
    context.update(data)
    return context.finalize()


@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
@settings(max_examples=60)
def test_streaming_matches_one_shot(data: bytes, split: int) -> None:
    hasher = Sm3Hasher(data[:split])
    snapshot = hasher.copy()
    hasher.update(data[split:])
    assert hasher.digest() == sm3(data) == _cryptography_sm3(data)
    assert hasher.hexdigest() == sm3(data).hex()
    assert sm3_chunks([data[:split], data[split:]]) == sm3(data)
    assert snapshot.digest() == sm3(data[:split])  # the copy is independent


def test_file_is_streamed(tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000 + b"tail"
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sm3_file(path) == sm3(data)
    assert sm3_file(path, chunk_size=1000) == sm3(data)
    with pytest.raises(ValueError):
        sm3_file(path, chunk_size=0)


def _rfc2104(key: bytes, data: bytes) -> bytes:
    if len(key) > 64:
        key = sm3(key)
    key = key.ljust(64, b"\x00")
    inner = sm3(bytes(b ^ 0x36 for b in key) + data)
    return sm3(bytes(b ^ 0x5C for b in key) + inner)


@pytest.mark.parametrize("key_size", [0, 1, 32, 64, 65, 200])
def test_hmac_is_rfc2104(key_size: int) -> None:
    key = bytes(range(key_size % 256)) * (key_size // 256 + 1)
    key = key[:key_size]
    data = b"tongban audit pseudonym"
    assert hmac_sm3(key, data) == _rfc2104(key, data)


def test_hmac_against_openssl_cli(openssl_cli: str, tmp_path: Path) -> None:
    key = bytes.fromhex("0b" * 20)
    data = "省份 330000".encode()
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    result = subprocess.run(
        [openssl_cli, "dgst", "-sm3", "-mac", "HMAC", "-macopt", f"hexkey:{key.hex()}", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    assert result.stdout.strip().endswith(hmac_sm3(key, data).hex())


def test_cryptography_fallback_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sm3_module, "_EMPTY", sm3_module._CryptographyState())
    monkeypatch.setattr(sm3_module, "_HASHLIB_SM3", False)
    assert sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    hasher = Sm3Hasher(b"a")
    hasher.update(b"bc")
    assert hasher.copy().digest() == sm3(b"abc")
    assert hmac_sm3(b"k", b"data") == _rfc2104(b"k", b"data")


def test_hash_algorithm_objects() -> None:
    assert SM3.name == "sm3"
    assert SM3.digest_size == 32
    assert SM3(b"abc") == sm3(b"abc") == SM3.digest(b"abc")
    assert SHA256(b"abc") == hashlib.sha256(b"abc").digest()
    assert hash_algorithm("sha256") is SHA256
    assert hash_algorithm("sm3") is SM3
    with pytest.raises(KeyError):
        hash_algorithm("md5")
    custom = HashAlgorithm(name="sha256", digest_size=32, digest=SHA256.digest)
    assert custom == HashAlgorithm(name="sha256", digest_size=32, digest=SHA256.digest)
