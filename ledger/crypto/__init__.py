"""National cryptographic algorithms (SM2, SM3, SM4) behind one small typed API.

Modules: :mod:`~ledger.crypto.sm3` (digests, HMAC-SM3), :mod:`~ledger.crypto.sm2` (keys,
signatures, encodings), :mod:`~ledger.crypto.sm4` (SM4-GCM), :mod:`~ledger.crypto.multikey`
(``publicKeyMultibase``), :mod:`~ledger.crypto.keystore` (keys encrypted at rest),
:mod:`~ledger.crypto.signer` (domain-tagged signing), :mod:`~ledger.crypto.hashes` (hash value
objects) and :mod:`~ledger.crypto.errors`. Modules whose names start with ``_`` are internal.
"""

from ledger.crypto import errors, hashes, keystore, multikey, signer, sm2, sm3, sm4
from ledger.crypto.errors import (
    BackendUnavailable,
    CryptoError,
    DecryptionFailed,
    InvalidKey,
    InvalidSignature,
    KeystoreError,
)
from ledger.crypto.hashes import SHA256, SM3, HashAlgorithm
from ledger.crypto.keystore import Keystore, ScryptParams
from ledger.crypto.signer import LocalSigner, SignedPayload, Signer, verify_payload
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey

__all__ = [
    "SHA256",
    "SM3",
    "BackendUnavailable",
    "CryptoError",
    "DecryptionFailed",
    "HashAlgorithm",
    "InvalidKey",
    "InvalidSignature",
    "Keystore",
    "KeystoreError",
    "LocalSigner",
    "ScryptParams",
    "SignedPayload",
    "Signer",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "errors",
    "hashes",
    "keystore",
    "multikey",
    "signer",
    "sm2",
    "sm3",
    "sm4",
    "verify_payload",
]
