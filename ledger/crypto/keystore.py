r"""SM2 private keys encrypted at rest: one JSON file per key id.

The 32-byte scalar is sealed with SM4-GCM under a key derived from a passphrase with scrypt
(memory-hard). Every header field (version, key id, algorithm, public key, KDF name, parameters
and salt, cipher name) is bound as associated data, so editing any of them, swapping the public
key or renaming the key id makes decryption fail. Any failure to unlock (wrong passphrase,
a flipped byte anywhere, a malformed file) raises the same :class:`KeystoreError` message.

File format (version 1), one line of JSON with sorted keys (shown wrapped)::

    {"algorithm": "sm2",
     "cipher": {"ciphertext": "<96 hex: 32-byte encrypted scalar || 16-byte tag>",
                "name": "sm4-gcm", "nonce": "<24 hex>"},
     "kdf": {"n": 131072, "name": "scrypt", "p": 1, "r": 8, "salt": "<32 hex>"},
     "key_id": "did:tongban:<chainId>:<issuerId>#<keyId>",
     "public_key": "<66 hex: compressed point>",
     "version": 1}

Associated data = ``b"tongban-keystore/v1\n"`` || the file without ``cipher.nonce`` and
``cipher.ciphertext``, serialised as JSON with sorted keys, ``(",", ":")`` separators and ASCII
escapes. See ``docs/crypto.md``.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ledger.crypto import sm4
from ledger.crypto.errors import CryptoError, KeystoreError
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey
from ledger.crypto.sm3 import sm3_hex

__all__ = [
    "DEFAULT_SCRYPT",
    "FORMAT_VERSION",
    "Keystore",
    "KeystoreEntry",
    "ScryptParams",
    "decrypt_key",
    "encrypt_key",
]

FORMAT_VERSION = 1
"""Version written to, and the only one read from, keystore files."""

_AAD_PREFIX = b"tongban-keystore/v1\n"
_SALT_SIZE = 16
_MAX_FILE = 16 * 1024
_UNLOCK_FAILED = "cannot unlock the key: wrong passphrase or damaged keystore file"
_MIN_LOG_N, _MAX_LOG_N = 10, 20
_MAX_MEMORY = 256 * 1024 * 1024


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters (RFC 7914). Memory use is about 128 * n * r bytes."""

    n: int = 2**17
    """CPU/memory cost, a power of two in [2^10, 2^20]."""
    r: int = 8
    """Block size, in [1, 32]."""
    p: int = 1
    """Parallelism, in [1, 16]."""

    def __post_init__(self) -> None:
        """Refuse parameters outside the accepted bounds (they also cap what a file may ask)."""
        if not all(
            isinstance(v, int) and not isinstance(v, bool) for v in (self.n, self.r, self.p)
        ):
            raise ValueError("scrypt parameters must be integers")
        if self.n & (self.n - 1) or not _MIN_LOG_N <= self.n.bit_length() - 1 <= _MAX_LOG_N:
            raise ValueError("scrypt n must be a power of two in [2^10, 2^20]")
        if not (1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise ValueError("scrypt r must be in [1, 32] and p in [1, 16]")
        if 128 * self.n * self.r > _MAX_MEMORY:
            raise ValueError("scrypt parameters need more than 256 MiB")


DEFAULT_SCRYPT = ScryptParams()
"""Production default: n = 2^17, r = 8, p = 1 (128 MiB, OWASP's scrypt recommendation)."""


@dataclass(frozen=True)
class KeystoreEntry:
    """An unlocked keystore entry."""

    key_id: str
    """The key id stored in (and authenticated by) the file."""
    private_key: Sm2PrivateKey
    """The decrypted private key."""


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        # NFC so the same passphrase typed through different input methods derives one key.
        raw = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    elif isinstance(passphrase, bytes):
        raw = passphrase
    else:
        raise TypeError("passphrase must be str or bytes")
    if not raw:
        raise ValueError("the passphrase must not be empty")
    if b"\x00" in raw:
        # scrypt keys HMAC with the passphrase, and HMAC zero-pads keys: "pw" and "pw\0" would
        # unlock the same file.
        raise ValueError("the passphrase must not contain NUL characters")
    return raw


def _derive(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    kdf = Scrypt(salt=salt, length=sm4.KEY_SIZE, n=params.n, r=params.r, p=params.p)
    return kdf.derive(passphrase)


def _aad(header: dict[str, Any]) -> bytes:
    canonical = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _AAD_PREFIX + canonical.encode("ascii")


def _header(key_id: str, public_key: str, params: ScryptParams, salt: str) -> dict[str, Any]:
    return {
        "algorithm": "sm2",
        "cipher": {"name": "sm4-gcm"},
        "kdf": {"n": params.n, "name": "scrypt", "p": params.p, "r": params.r, "salt": salt},
        "key_id": key_id,
        "public_key": public_key,
        "version": FORMAT_VERSION,
    }


def _check_key_id(key_id: str) -> None:
    if not isinstance(key_id, str) or not key_id or len(key_id) > 512:
        raise ValueError("key_id must be a non-empty string of at most 512 characters")


def encrypt_key(
    private_key: Sm2PrivateKey,
    key_id: str,
    passphrase: str | bytes,
    *,
    kdf: ScryptParams = DEFAULT_SCRYPT,
) -> bytes:
    """Return the keystore file contents (UTF-8 JSON) protecting ``private_key``.

    Pass cheaper ``kdf`` parameters only in tests; the default is production strength.
    """
    _check_key_id(key_id)
    salt = os.urandom(_SALT_SIZE)
    header = _header(key_id, private_key.public_key.compressed().hex(), kdf, salt.hex())
    sealed = sm4.seal(
        _derive(_passphrase_bytes(passphrase), salt, kdf), private_key.to_bytes(), _aad(header)
    )
    document = dict(header)
    document["cipher"] = {
        "ciphertext": sealed[sm4.NONCE_SIZE :].hex(),
        "name": "sm4-gcm",
        "nonce": sealed[: sm4.NONCE_SIZE].hex(),
    }
    return (json.dumps(document, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate key")
        result[name] = value
    return result


def _hex(value: Any, size: int) -> bytes:
    # Lowercase only: a flipped case bit must not decode to the same bytes.
    if not isinstance(value, str) or len(value) != 2 * size:
        raise ValueError("bad hex field")
    if value.strip("0123456789abcdef"):
        raise ValueError("bad hex field")
    return bytes.fromhex(value)


def _object(value: Any, names: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != names:
        raise ValueError("unexpected fields")
    return value


def _parse(data: bytes) -> tuple[dict[str, Any], ScryptParams, bytes, bytes, bytes]:
    """Return (header, kdf params, salt, sealed blob, public key bytes); raise ValueError."""
    if len(data) > _MAX_FILE:
        raise ValueError("file too large")
    document = _object(
        json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates),
        {"algorithm", "cipher", "kdf", "key_id", "public_key", "version"},
    )
    kdf = _object(document["kdf"], {"n", "name", "p", "r", "salt"})
    cipher = _object(document["cipher"], {"ciphertext", "name", "nonce"})
    if type(document["version"]) is not int or document["version"] != FORMAT_VERSION:
        raise ValueError("unsupported version")
    if document["algorithm"] != "sm2" or kdf["name"] != "scrypt" or cipher["name"] != "sm4-gcm":
        raise ValueError("unsupported algorithm")
    _check_key_id(document["key_id"])
    params = ScryptParams(n=kdf["n"], r=kdf["r"], p=kdf["p"])
    salt = _hex(kdf["salt"], _SALT_SIZE)
    public = _hex(document["public_key"], 33)
    sealed = _hex(cipher["nonce"], sm4.NONCE_SIZE) + _hex(cipher["ciphertext"], 32 + sm4.TAG_SIZE)
    header = _header(document["key_id"], document["public_key"], params, kdf["salt"])
    return header, params, salt, sealed, public


def decrypt_key(data: bytes, passphrase: str | bytes) -> KeystoreEntry:
    """Unlock keystore file contents; raise KeystoreError (one message) on any failure."""
    secret = _passphrase_bytes(passphrase)
    try:
        header, params, salt, sealed, public = _parse(data)
        scalar = sm4.open(_derive(secret, salt, params), sealed, _aad(header))
        private_key = Sm2PrivateKey.from_bytes(scalar)
        if private_key.public_key != Sm2PublicKey.from_bytes(public):
            raise KeystoreError(_UNLOCK_FAILED)
    except (ValueError, KeyError, TypeError, MemoryError, RecursionError, CryptoError) as exc:
        # One message for every cause, so the error reveals nothing about the file or passphrase.
        raise KeystoreError(_UNLOCK_FAILED) from exc
    return KeystoreEntry(key_id=header["key_id"], private_key=private_key)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes, *, overwrite: bool) -> None:
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            # link() fails if the target exists: no window where an existing key is replaced.
            os.link(temporary, path)
            os.unlink(temporary)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


class Keystore:
    """A directory of keystore files, one per key id (file name: SM3 of the key id)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Use ``directory`` (created with mode 0700 when first written to)."""
        self.directory = Path(directory)

    def path_for(self, key_id: str) -> Path:
        """Return the file that holds ``key_id`` (hashed, so any key id is a safe file name)."""
        _check_key_id(key_id)
        return self.directory / f"{sm3_hex(key_id.encode('utf-8'))}.json"

    def save(
        self,
        key_id: str,
        private_key: Sm2PrivateKey,
        passphrase: str | bytes,
        *,
        kdf: ScryptParams = DEFAULT_SCRYPT,
        overwrite: bool = False,
    ) -> Path:
        """Encrypt and write a key atomically (temp file, fsync, rename; mode 0600).

        Refuses to replace an existing key id unless ``overwrite`` is true.
        """
        path = self.path_for(key_id)
        data = encrypt_key(private_key, key_id, passphrase, kdf=kdf)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            _write_atomic(path, data, overwrite=overwrite)
        except FileExistsError as exc:
            raise KeystoreError("a key with this key id already exists") from exc
        return path

    def _read(self, key_id: str) -> bytes:
        path = self.path_for(key_id)
        try:
            with path.open("rb") as handle:
                return handle.read(_MAX_FILE + 1)
        except FileNotFoundError as exc:
            raise KeystoreError("no key with this key id") from exc

    def load(self, key_id: str, passphrase: str | bytes) -> Sm2PrivateKey:
        """Decrypt the key stored under ``key_id``; raise KeystoreError on any failure."""
        entry = decrypt_key(self._read(key_id), passphrase)
        if entry.key_id != key_id:
            raise KeystoreError(_UNLOCK_FAILED)
        return entry.private_key

    def public_key(self, key_id: str) -> Sm2PublicKey:
        """Return the public key recorded for ``key_id`` WITHOUT authenticating it.

        Only :meth:`load` authenticates the file; use this for display and lookup.
        """
        data = self._read(key_id)
        try:
            _header, _params, _salt, _sealed, public = _parse(data)
            return Sm2PublicKey.from_bytes(public)
        except (ValueError, KeyError, TypeError, RecursionError, CryptoError) as exc:
            raise KeystoreError("damaged keystore file") from exc

    def key_ids(self) -> Iterator[str]:
        """Yield the key ids recorded in the directory (unauthenticated, like public_key)."""
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob("*.json")):
            if path.name.startswith(".tmp-"):
                continue
            try:
                document = json.loads(path.read_bytes()[:_MAX_FILE])
            except (ValueError, RecursionError, OSError):
                continue
            if isinstance(document, dict) and isinstance(document.get("key_id"), str):
                yield document["key_id"]
