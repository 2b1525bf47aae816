"""A province's secret keys, kept in encrypted keystores under the data directory.

- Signing keys (SM2, entries ``signing-<keyId>``) sign credentials, audit
  receipts and checkpoints; each public key is registered on chain under its
  key id (the fragment of ``did:tongban:<chainId>:<issuerId>#<keyId>``). A
  rotation adds a new entry; old entries stay, because credentials signed with
  them stay valid.
- Pseudonym keys (HMAC-SM3, one per version, entries ``pseudonym-v<n>``) turn
  subject identifiers into the pseudonyms stored in audit events.
- The data key (entry ``data-key``) is the SM4 key that seals the credentials
  the issuer keeps in its store (they hold personal data).

Every secret is a random 32-byte SM2 scalar protected by the same keystore
format (scrypt + SM4-GCM); HMAC and SM4 keys are derived from it with
HMAC-SM3 under a fixed label. One encrypted format for every secret, nothing
in clear on disk. The passphrase comes from the environment
(``TONGBAN_KEY_PASSPHRASE``), never from a file in the data directory.
"""

from __future__ import annotations

import threading
from pathlib import Path

from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.errors import KeystoreError
from ledger.crypto.keystore import DEFAULT_SCRYPT, Keystore, ScryptParams
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey
from ledger.crypto.sm3 import hmac_sm3

__all__ = [
    "DATA_KEY_ENTRY",
    "PSEUDONYM_PREFIX",
    "SIGNING_PREFIX",
    "ProvinceKeys",
    "load_or_create_keys",
    "rotate_pseudonym_key",
]

PSEUDONYM_PREFIX = "pseudonym-v"
SIGNING_PREFIX = "signing-"
DATA_KEY_ENTRY = "data-key"
_PSEUDONYM_LABEL = b"tongban/pseudonym-key/v1"
_DATA_KEY_LABEL = b"tongban/credential-data-key/v1"


def _pseudonym_versions(keystore: Keystore) -> list[int]:
    versions = []
    for key_id in keystore.key_ids():
        suffix = key_id.removeprefix(PSEUDONYM_PREFIX)
        if key_id.startswith(PSEUDONYM_PREFIX) and suffix.isdigit():
            versions.append(int(suffix))
    return sorted(versions)


class ProvinceKeys:
    """The unlocked secrets of one province, in one process.

    Signing keys are unlocked when first used (scrypt costs a fraction of a
    second each), so a worker picks up a key added by a rotation without a
    restart.
    """

    def __init__(
        self,
        keystore: Keystore,
        passphrase: str,
        pseudonyms: PseudonymKeys,
        data_key: bytes,
        *,
        kdf: ScryptParams = DEFAULT_SCRYPT,
    ) -> None:
        """Keys of ``keystore`` unlocked with ``passphrase`` (use ``load_or_create_keys``)."""
        self._keystore = keystore
        self._passphrase = passphrase
        self._kdf = kdf
        self._signing: dict[str, Sm2PrivateKey] = {}
        self._lock = threading.Lock()
        self.pseudonyms = pseudonyms
        self.data_key = data_key

    def __repr__(self) -> str:
        """Never show key material."""
        return f"ProvinceKeys(signing={sorted(self.signing_key_ids())})"

    def signing_key_ids(self) -> list[str]:
        """Key ids of every signing key in the keystore."""
        return sorted(
            k.removeprefix(SIGNING_PREFIX)
            for k in self._keystore.key_ids()
            if k.startswith(SIGNING_PREFIX)
        )

    def has_signing_key(self, key_id: str) -> bool:
        """Whether the keystore holds signing key ``key_id``."""
        return key_id in self.signing_key_ids()

    def signing_key(self, key_id: str) -> Sm2PrivateKey:
        """Signing key ``key_id`` (``KeystoreError`` if the keystore has none)."""
        with self._lock:
            key = self._signing.get(key_id)
            if key is None:
                key = self._keystore.load(SIGNING_PREFIX + key_id, self._passphrase)
                self._signing[key_id] = key
            return key

    def public_key(self, key_id: str) -> Sm2PublicKey:
        """The public half of signing key ``key_id`` (read without unlocking)."""
        return self._keystore.public_key(SIGNING_PREFIX + key_id)

    def create_signing_key(self, key_id: str) -> Sm2PublicKey:
        """Generate and store a new signing key ``key_id``; ``KeystoreError`` if it exists."""
        if self.has_signing_key(key_id):
            raise KeystoreError(f"signing key {key_id} already exists")
        key = Sm2PrivateKey.generate()
        self._keystore.save(SIGNING_PREFIX + key_id, key, self._passphrase, kdf=self._kdf)
        with self._lock:
            self._signing[key_id] = key
        return key.public_key

    def log_signer(self, key_id: str) -> LocalSigner:
        """Signer for receipts and checkpoints: key id = the registry's key id."""
        return LocalSigner(key_id, self.signing_key(key_id))

    def credential_signer(self, issuer_did: str, key_id: str) -> LocalSigner:
        """Signer for credentials: key id = the verification method ``<issuer DID>#<keyId>``."""
        return LocalSigner(f"{issuer_did}#{key_id}", self.signing_key(key_id))


def _derived(keystore: Keystore, entry: str, passphrase: str, label: bytes) -> bytes:
    return hmac_sm3(keystore.load(entry, passphrase).to_bytes(), label)


def load_or_create_keys(
    directory: Path,
    signing_key_id: str,
    passphrase: str,
    *,
    kdf: ScryptParams = DEFAULT_SCRYPT,
) -> tuple[ProvinceKeys, bool]:
    """Unlock the province's keys in ``directory``, creating any that are missing.

    ``signing_key_id`` is created only when the keystore holds no signing key
    at all (the first start). Returns the keys and whether anything was
    created. A wrong passphrase or a damaged file raises ``KeystoreError`` and
    creates nothing.
    """
    keystore = Keystore(directory)
    existing = set(keystore.key_ids())
    created = False
    # Unlock one existing entry first, so a wrong passphrase creates nothing.
    if existing:
        keystore.load(sorted(existing)[0], passphrase)
    if not any(k.startswith(SIGNING_PREFIX) for k in existing):
        keystore.save(
            SIGNING_PREFIX + signing_key_id, Sm2PrivateKey.generate(), passphrase, kdf=kdf
        )
        created = True
    if DATA_KEY_ENTRY not in existing:
        keystore.save(DATA_KEY_ENTRY, Sm2PrivateKey.generate(), passphrase, kdf=kdf)
        created = True
    versions = _pseudonym_versions(keystore)
    if not versions:
        keystore.save(f"{PSEUDONYM_PREFIX}1", Sm2PrivateKey.generate(), passphrase, kdf=kdf)
        versions, created = [1], True
    pseudonyms = PseudonymKeys(
        {
            v: _derived(keystore, f"{PSEUDONYM_PREFIX}{v}", passphrase, _PSEUDONYM_LABEL)
            for v in versions
        },
        max(versions),
    )
    data_key = _derived(keystore, DATA_KEY_ENTRY, passphrase, _DATA_KEY_LABEL)[:16]
    return ProvinceKeys(keystore, passphrase, pseudonyms, data_key, kdf=kdf), created


def rotate_pseudonym_key(
    directory: Path, passphrase: str, *, kdf: ScryptParams = DEFAULT_SCRYPT
) -> int:
    """Add the next pseudonym key version (used for new events from then on); returns it."""
    keystore = Keystore(directory)
    version = max(_pseudonym_versions(keystore), default=0) + 1
    keystore.save(f"{PSEUDONYM_PREFIX}{version}", Sm2PrivateKey.generate(), passphrase, kdf=kdf)
    return version
