"""A province's secret keys, kept in encrypted keystores under the data directory.

- The signing key (SM2) signs credentials, audit receipts and checkpoints; its
  public key is registered on chain under the key id.
- Pseudonym keys (HMAC-SM3, one per version) turn subject identifiers into
  the pseudonyms stored in audit events. Each version's key material is held
  as its own keystore entry (``pseudonym-v<n>``): a random 32-byte SM2 scalar
  protected exactly like the signing key, from which the HMAC key is derived
  as ``HMAC-SM3(scalar, "tongban/pseudonym-key/v1")``. One encrypted format
  for every secret, and nothing in clear on disk.

The keystore passphrase comes from the environment (``TONGBAN_KEY_PASSPHRASE``),
never from a file in the data directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.keystore import DEFAULT_SCRYPT, Keystore, ScryptParams
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.crypto.sm3 import hmac_sm3

PSEUDONYM_PREFIX = "pseudonym-v"
_PSEUDONYM_LABEL = b"tongban/pseudonym-key/v1"


@dataclass(frozen=True)
class ProvinceKeys:
    """The unlocked secrets of one province."""

    signer: LocalSigner
    pseudonyms: PseudonymKeys


def _pseudonym_versions(keystore: Keystore) -> list[int]:
    versions = []
    for key_id in keystore.key_ids():
        suffix = key_id.removeprefix(PSEUDONYM_PREFIX)
        if key_id.startswith(PSEUDONYM_PREFIX) and suffix.isdigit():
            versions.append(int(suffix))
    return sorted(versions)


def load_or_create_keys(
    directory: Path,
    signing_key_id: str,
    passphrase: str,
    *,
    kdf: ScryptParams = DEFAULT_SCRYPT,
) -> tuple[ProvinceKeys, bool]:
    """Unlock the province's keys in ``directory``, creating any that are missing.

    Returns the keys and whether anything was created. A wrong passphrase or a
    damaged file raises ``KeystoreError`` and creates nothing.
    """
    keystore = Keystore(directory)
    existing = set(keystore.key_ids())
    created = False
    if signing_key_id not in existing:
        keystore.save(signing_key_id, Sm2PrivateKey.generate(), passphrase, kdf=kdf)
        created = True
    signer = LocalSigner(signing_key_id, keystore.load(signing_key_id, passphrase))
    versions = _pseudonym_versions(keystore)
    if not versions:
        keystore.save(f"{PSEUDONYM_PREFIX}1", Sm2PrivateKey.generate(), passphrase, kdf=kdf)
        versions, created = [1], True
    keys = {
        v: hmac_sm3(
            keystore.load(f"{PSEUDONYM_PREFIX}{v}", passphrase).to_bytes(), _PSEUDONYM_LABEL
        )
        for v in versions
    }
    return ProvinceKeys(signer, PseudonymKeys(keys, max(versions))), created


def rotate_pseudonym_key(
    directory: Path, passphrase: str, *, kdf: ScryptParams = DEFAULT_SCRYPT
) -> int:
    """Add the next pseudonym key version (used for new events from then on); returns it."""
    keystore = Keystore(directory)
    version = max(_pseudonym_versions(keystore), default=0) + 1
    keystore.save(f"{PSEUDONYM_PREFIX}{version}", Sm2PrivateKey.generate(), passphrase, kdf=kdf)
    return version
