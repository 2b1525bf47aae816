"""Keystore: round trip, rejection of wrong passphrases and of any damaged byte, file hygiene."""

from __future__ import annotations

import base64
import json
import stat
import unicodedata
from pathlib import Path

import pytest

from ledger.crypto import keystore, sm2
from ledger.crypto.errors import KeystoreError
from ledger.crypto.keystore import (
    DEFAULT_SCRYPT,
    Keystore,
    ScryptParams,
    decrypt_key,
    encrypt_key,
)
from ledger.crypto.sm2 import Sm2PrivateKey

CHEAP = ScryptParams(n=2**10, r=8, p=1)  # tests only: production uses DEFAULT_SCRYPT
KEY_ID = "did:tongban:31337:1#key-1"
PASSPHRASE = "正确的口令 correct horse"
UNLOCK_FAILED = "cannot unlock the key: wrong passphrase or damaged keystore file"


@pytest.fixture(scope="module")
def key() -> Sm2PrivateKey:
    return sm2.generate_private_key()


@pytest.fixture(scope="module")
def blob(key: Sm2PrivateKey) -> bytes:
    return encrypt_key(key, KEY_ID, PASSPHRASE, kdf=CHEAP)


def test_round_trip(key: Sm2PrivateKey, blob: bytes) -> None:
    entry = decrypt_key(blob, PASSPHRASE)
    assert entry.key_id == KEY_ID
    assert entry.private_key.scalar == key.scalar
    assert entry.private_key.public_key == key.public_key


def test_file_format(key: Sm2PrivateKey, blob: bytes) -> None:
    document = json.loads(blob)
    assert document["version"] == 1
    assert document["algorithm"] == "sm2"
    assert document["key_id"] == KEY_ID
    assert document["public_key"] == key.public_key.compressed().hex()
    assert document["kdf"] == {
        "n": 1024,
        "name": "scrypt",
        "p": 1,
        "r": 8,
        "salt": document["kdf"]["salt"],
    }
    assert len(bytes.fromhex(document["kdf"]["salt"])) == 16
    assert document["cipher"]["name"] == "sm4-gcm"
    assert len(bytes.fromhex(document["cipher"]["nonce"])) == 12
    assert len(bytes.fromhex(document["cipher"]["ciphertext"])) == 48


def test_the_file_never_holds_the_key_in_clear(key: Sm2PrivateKey, blob: bytes) -> None:
    secret = key.to_bytes()
    for form in (
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.b64encode(secret).rstrip(b"="),
        str(key.scalar).encode(),
        key.to_der(),
    ):
        assert form not in blob
    assert secret[:8].hex().encode() not in blob


def test_wrong_passphrase(blob: bytes) -> None:
    with pytest.raises(KeystoreError) as caught:
        decrypt_key(blob, "wrong passphrase")
    assert str(caught.value) == UNLOCK_FAILED
    with pytest.raises(KeystoreError):
        decrypt_key(blob, PASSPHRASE + " ")
    # HMAC zero-pads keys, so a trailing NUL would otherwise unlock the file: refused outright.
    with pytest.raises(ValueError, match="NUL"):
        decrypt_key(blob, PASSPHRASE.encode("utf-8") + b"\x00")


@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80])
def test_every_flipped_byte_is_rejected(blob: bytes, mask: int) -> None:
    for index in range(len(blob)):
        tampered = bytearray(blob)
        tampered[index] ^= mask
        with pytest.raises(KeystoreError) as caught:
            decrypt_key(bytes(tampered), PASSPHRASE)
        assert str(caught.value) == UNLOCK_FAILED, index


def _edit(blob: bytes, **changes: object) -> bytes:
    document = json.loads(blob)
    document.update(changes)
    return json.dumps(document).encode()


def test_header_is_bound_to_the_ciphertext(blob: bytes) -> None:
    other = sm2.generate_private_key().public_key.compressed().hex()
    document = json.loads(blob)
    for changed in (
        _edit(blob, public_key=other),
        _edit(blob, key_id="did:tongban:31337:1#key-2"),
        _edit(blob, version=2),
        _edit(blob, algorithm="sm9"),
        _edit(blob, kdf={**document["kdf"], "n": 2048}),
        _edit(blob, kdf={**document["kdf"], "r": 9}),
        _edit(blob, kdf={**document["kdf"], "n": 2**30}),
        _edit(blob, cipher={**document["cipher"], "name": "aes-gcm"}),
        _edit(blob, extra=1),
        blob.replace(b'"version": 1', b'"version": 1, "version": 1'),
        b"",
        b"[]",
        b"\xff" * 10,
        blob * 2,
    ):
        with pytest.raises(KeystoreError) as caught:
            decrypt_key(changed, PASSPHRASE)
        assert str(caught.value) == UNLOCK_FAILED
    # Re-serialising the same values does not matter: only the values are bound.
    assert decrypt_key(_edit(blob), PASSPHRASE).key_id == KEY_ID


def test_passphrase_is_nfc_normalised(key: Sm2PrivateKey) -> None:
    composed = "口令 café"
    blob = encrypt_key(key, KEY_ID, composed, kdf=CHEAP)
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert decrypt_key(blob, decomposed).private_key.scalar == key.scalar


def test_empty_passphrase_and_bad_key_id_refused(key: Sm2PrivateKey) -> None:
    with pytest.raises(ValueError):
        encrypt_key(key, KEY_ID, "", kdf=CHEAP)
    with pytest.raises(ValueError):
        encrypt_key(key, "", PASSPHRASE, kdf=CHEAP)


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [(2**9, 8, 1), (2**21, 1, 1), (1000, 8, 1), (2**10, 0, 1), (2**10, 8, 0), (2**20, 8, 1)],
)
def test_scrypt_bounds(n: int, r: int, p: int) -> None:
    with pytest.raises(ValueError):
        ScryptParams(n=n, r=r, p=p)


def test_defaults_are_production_strength(key: Sm2PrivateKey) -> None:
    assert ScryptParams(n=2**17, r=8, p=1) == DEFAULT_SCRYPT
    blob = encrypt_key(key, KEY_ID, PASSPHRASE)
    assert json.loads(blob)["kdf"]["n"] == 2**17
    assert decrypt_key(blob, PASSPHRASE).private_key.scalar == key.scalar


def test_keystore_directory(tmp_path: Path, key: Sm2PrivateKey) -> None:
    store = Keystore(tmp_path / "keys")
    assert list(store.key_ids()) == []
    path = store.save(KEY_ID, key, PASSPHRASE, kdf=CHEAP)
    assert path == store.path_for(KEY_ID)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    assert store.load(KEY_ID, PASSPHRASE).scalar == key.scalar
    assert store.public_key(KEY_ID) == key.public_key
    assert list(store.key_ids()) == [KEY_ID]
    with pytest.raises(KeystoreError, match="already exists"):
        store.save(KEY_ID, sm2.generate_private_key(), PASSPHRASE, kdf=CHEAP)
    assert store.load(KEY_ID, PASSPHRASE).scalar == key.scalar
    replacement = sm2.generate_private_key()
    store.save(KEY_ID, replacement, PASSPHRASE, kdf=CHEAP, overwrite=True)
    assert store.load(KEY_ID, PASSPHRASE).scalar == replacement.scalar
    with pytest.raises(KeystoreError, match="no key"):
        store.load("did:tongban:31337:1#missing", PASSPHRASE)
    with pytest.raises(KeystoreError):
        store.load(KEY_ID, "wrong")


def test_a_file_moved_to_another_key_id_is_rejected(tmp_path: Path, key: Sm2PrivateKey) -> None:
    store = Keystore(tmp_path)
    path = store.save(KEY_ID, key, PASSPHRASE, kdf=CHEAP)
    other_id = "did:tongban:31337:1#key-2"
    path.rename(store.path_for(other_id))
    with pytest.raises(KeystoreError):
        store.load(other_id, PASSPHRASE)


def test_path_for_is_safe_for_any_key_id(tmp_path: Path) -> None:
    store = Keystore(tmp_path)
    path = store.path_for("../../etc/passwd#x")
    assert path.parent == tmp_path
    assert path.name.endswith(".json")
    assert keystore.FORMAT_VERSION == 1
