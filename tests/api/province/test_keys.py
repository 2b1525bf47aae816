"""Province keys: created once, encrypted at rest, unlocked only with the passphrase."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.province.keys import load_or_create_keys, rotate_pseudonym_key
from ledger.crypto.errors import KeystoreError
from ledger.crypto.keystore import ScryptParams

FAST = ScryptParams(n=2**10)  # tests only: the default KDF is production strength


def test_keys_are_created_once_and_reloaded(tmp_path: Path) -> None:
    keys, created = load_or_create_keys(tmp_path, "k1", "secret", kdf=FAST)
    assert created
    again, created_again = load_or_create_keys(tmp_path, "k1", "secret", kdf=FAST)
    assert not created_again
    assert again.signing_key_ids() == ["k1"]
    assert again.public_key("k1") == keys.signing_key("k1").public_key
    assert again.signing_key("k1").to_bytes() == keys.signing_key("k1").to_bytes()
    assert again.pseudonyms.subject("did:key:zA") == keys.pseudonyms.subject("did:key:zA")
    assert again.data_key == keys.data_key
    assert len(keys.data_key) == 16
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert keys.signing_key("k1").to_bytes() not in raw
    assert keys.pseudonyms.keys[1] not in raw
    assert keys.data_key not in raw
    assert "k1" in repr(keys)
    assert keys.signing_key("k1").to_bytes().hex() not in repr(keys)


def test_a_rotation_adds_a_signing_key_and_keeps_the_old_one(tmp_path: Path) -> None:
    keys, _ = load_or_create_keys(tmp_path, "k1", "secret", kdf=FAST)
    public = keys.create_signing_key("k2")
    with pytest.raises(KeystoreError):
        keys.create_signing_key("k2")
    again, created = load_or_create_keys(tmp_path, "k9", "secret", kdf=FAST)
    assert not created  # a signing key exists, so the first-start id is not created
    assert again.signing_key_ids() == ["k1", "k2"]
    assert again.signing_key("k2").public_key == public
    signer = again.credential_signer("did:tongban:1:2", "k2")
    assert signer.key_id == "did:tongban:1:2#k2"
    assert again.log_signer("k2").key_id == "k2"


def test_a_wrong_passphrase_unlocks_nothing_and_creates_nothing(tmp_path: Path) -> None:
    load_or_create_keys(tmp_path, "k1", "secret", kdf=FAST)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(KeystoreError):
        load_or_create_keys(tmp_path, "k1", "wrong", kdf=FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_rotating_pseudonym_keys_keeps_old_versions(tmp_path: Path) -> None:
    keys, _ = load_or_create_keys(tmp_path, "k1", "secret", kdf=FAST)
    assert rotate_pseudonym_key(tmp_path, "secret", kdf=FAST) == 2
    rotated, _ = load_or_create_keys(tmp_path, "k1", "secret", kdf=FAST)
    assert rotated.pseudonyms.current == 2
    assert rotated.pseudonyms.subject("did:key:zA", 1) == keys.pseudonyms.subject("did:key:zA")
    assert rotated.pseudonyms.subject("did:key:zA") != keys.pseudonyms.subject("did:key:zA")
