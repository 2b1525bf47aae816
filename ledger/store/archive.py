r"""An encrypted, authenticated archive of records: SM4-GCM in chunks (format version 1).

Layout::

    magic  b"TONGBAN-BACKUP\n"                      15 bytes
    length of the header                            4 bytes, big-endian
    header  JSON: format, kdf salt, key check, created_at_ms, label
    frames  (flag: 1 byte, length: 4 bytes, sealed chunk)*   the last one has flag 1

The backup key (16 bytes, kept outside the archive) never encrypts anything
itself: each archive gets its own key, HMAC-SM3(backup key, "tongban-backup/v1/key"
|| salt) truncated to 16 bytes, with a fresh random 16-byte salt, so no two
archives share a (key, nonce) pair. The header carries HMAC-SM3(archive key,
"tongban-backup/v1/check"): a wrong backup key is refused from the header
alone, before any record is read or anything is written. Every chunk is
``sm4.seal`` (random nonce, tag) of zlib-compressed records with associated
data SM3(header) || chunk number || last flag, so chunks cannot be reordered,
dropped, spliced from another archive, or the archive cut short unnoticed.

Records are JSON lines; a ``bytes`` value is written as ``{"b": "<base64>"}``.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ledger import clock
from ledger.crypto import sm4
from ledger.crypto.errors import DecryptionFailed
from ledger.crypto.sm3 import hmac_sm3, sm3
from ledger.store.database import StoreError

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "ArchiveError",
    "ArchiveReader",
    "ArchiveWriter",
    "WrongKeyError",
    "load_key",
    "new_key_file",
]

MAGIC = b"TONGBAN-BACKUP\n"
"""The first bytes of every archive."""

FORMAT_VERSION = 1
"""The archive format written, and the only one read."""

_KEY_LABEL = b"tongban-backup/v1/key"
_CHECK_LABEL = b"tongban-backup/v1/check"
_SALT_SIZE = 16
_CHUNK = 1 << 20
_MAX_HEADER = 64 * 1024
_MAX_FRAME = 2 * _CHUNK + sm4.OVERHEAD + 1024
_FRAME = struct.Struct(">BI")


class ArchiveError(StoreError):
    """The archive or the backup key cannot be used (the message says which and why)."""


class WrongKeyError(ArchiveError):
    """The backup key is not the one this archive was written with."""


def load_key(path: Path) -> bytes:
    """The 16-byte backup key in ``path`` (32 hex digits, surrounding whitespace ignored)."""
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        raise ArchiveError(f"backup key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError):
        raise ArchiveError(f"backup key file {path} cannot be read") from None
    if len(text) != 2 * sm4.KEY_SIZE or text.strip("0123456789abcdefABCDEF"):
        raise ArchiveError(f"backup key file {path} must hold 32 hexadecimal digits")
    return bytes.fromhex(text)


def new_key_file(path: Path) -> None:
    """Write a fresh random backup key to ``path`` (mode 0600); never overwrites a file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ArchiveError(f"{path} already exists: a backup key is never overwritten") from None
    except OSError as exc:
        raise ArchiveError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(sm4.generate_key().hex() + "\n")


def _archive_key(backup_key: bytes, salt: bytes) -> bytes:
    return hmac_sm3(backup_key, _KEY_LABEL + salt)[: sm4.KEY_SIZE]


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b": base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot archive a value of type {type(value).__name__}")


def _decode(document: dict[str, Any]) -> Any:
    if set(document) == {"b"}:
        return base64.b64decode(document["b"], validate=True)
    return document


def _aad(header_hash: bytes, number: int, last: bool) -> bytes:
    return header_hash + struct.pack(">QB", number, 1 if last else 0)


class ArchiveWriter:
    """Writes records to a new archive file: atomically (a temporary file renamed), mode 0600."""

    def __init__(self, path: Path, backup_key: bytes, *, label: str) -> None:
        """Start an archive at ``path`` (which must not exist) for ``backup_key``."""
        if len(backup_key) != sm4.KEY_SIZE:
            raise ArchiveError("a backup key is 16 bytes")
        if path.exists():
            raise ArchiveError(f"{path} already exists: choose a new file for the backup")
        self.path = path
        salt = secrets.token_bytes(_SALT_SIZE)
        self._key = _archive_key(backup_key, salt)
        header = {
            "format": FORMAT_VERSION,
            "cipher": "sm4-gcm",
            "kdf": "hmac-sm3",
            "salt": salt.hex(),
            "key_check": hmac_sm3(self._key, _CHECK_LABEL).hex(),
            "created_at_ms": clock.now_ms(),
            "label": label,
        }
        encoded = json.dumps(header, sort_keys=True).encode("ascii")
        self._header_hash = sm3(encoded)
        self._tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise ArchiveError(
                f"cannot write the backup in {path.parent}: {exc.strerror}"
            ) from None
        self._out: IO[bytes] = os.fdopen(fd, "wb")
        self._out.write(MAGIC + struct.pack(">I", len(encoded)) + encoded)
        self._buffer: list[bytes] = []
        self._buffered = 0
        self._chunks = 0
        self.bytes_written = 0

    def write(self, record: Any) -> None:
        """Append one JSON-serialisable record (``bytes`` values allowed anywhere)."""
        line = json.dumps(record, default=_encode, separators=(",", ":"), ensure_ascii=False)
        data = line.encode("utf-8") + b"\n"
        self._buffer.append(data)
        self._buffered += len(data)
        if self._buffered >= _CHUNK:
            self._flush(last=False)

    def _flush(self, *, last: bool) -> None:
        plain = zlib.compress(b"".join(self._buffer), 1)
        self._buffer, self._buffered = [], 0
        sealed = sm4.seal(self._key, plain, _aad(self._header_hash, self._chunks, last))
        self._out.write(_FRAME.pack(1 if last else 0, len(sealed)) + sealed)
        self._chunks += 1

    def finish(self) -> None:
        """Seal the last chunk, sync, and move the archive into place."""
        self._flush(last=True)
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        self.bytes_written = self._tmp.stat().st_size
        os.link(self._tmp, self.path)  # fails rather than replacing a file made meanwhile
        self._tmp.unlink()

    def abandon(self) -> None:
        """Delete the partial archive."""
        if not self._out.closed:
            self._out.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> ArchiveWriter:
        """The writer itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Finish on success; on an error leave no partial file behind."""
        if exc_type is None:
            self.finish()
        else:
            self.abandon()


class ArchiveReader:
    """Reads an archive's records after checking the key against its header."""

    def __init__(self, path: Path, backup_key: bytes) -> None:
        """Open ``path``; ``WrongKeyError`` at once if ``backup_key`` is not its key."""
        self.path = path
        try:
            self._in: IO[bytes] = path.open("rb")
        except FileNotFoundError:
            raise ArchiveError(f"backup file {path} does not exist") from None
        except OSError as exc:
            raise ArchiveError(f"cannot read backup file {path}: {exc.strerror}") from None
        try:
            self.header = self._read_header()
            salt = bytes.fromhex(str(self.header["salt"]))
            self._key = _archive_key(backup_key, salt)
            check = hmac_sm3(self._key, _CHECK_LABEL).hex()
        except (KeyError, ValueError, TypeError):
            self._in.close()
            raise ArchiveError(f"{path} has a damaged header") from None
        except ArchiveError:
            self._in.close()
            raise
        if not hmac.compare_digest(check, str(self.header.get("key_check"))):
            self._in.close()
            raise WrongKeyError(
                f"the backup key does not open {path}: it was written with another key"
            )

    def _read_header(self) -> dict[str, Any]:
        magic = self._in.read(len(MAGIC))
        if magic != MAGIC:
            raise ArchiveError(f"{self.path} is not a Tongban backup")
        (length,) = struct.unpack(">I", self._exact(4))
        if length > _MAX_HEADER:
            raise ArchiveError(f"{self.path} has a damaged header")
        encoded = self._exact(length)
        self._header_hash = sm3(encoded)
        header = json.loads(encoded)
        if not isinstance(header, dict):
            raise ValueError("header is not an object")
        if header.get("format") != FORMAT_VERSION:
            raise ArchiveError(
                f"{self.path} is backup format {header.get('format')!r}; "
                f"this Tongban reads format {FORMAT_VERSION}"
            )
        return header

    def _exact(self, size: int) -> bytes:
        data = self._in.read(size)
        if len(data) != size:
            raise ArchiveError(f"{self.path} is cut short")
        return data

    def _chunks(self) -> Iterator[bytes]:
        number = 0
        while True:
            flag, length = _FRAME.unpack(self._exact(_FRAME.size))
            if flag not in (0, 1) or length > _MAX_FRAME:
                raise ArchiveError(f"{self.path} is damaged (chunk {number})")
            sealed = self._exact(length)
            try:
                plain = sm4.open(self._key, sealed, _aad(self._header_hash, number, flag == 1))
                yield zlib.decompress(plain)
            except (DecryptionFailed, zlib.error):
                raise ArchiveError(
                    f"{self.path} is damaged or was altered (chunk {number} fails authentication)"
                ) from None
            number += 1
            if flag == 1:
                if self._in.read(1):
                    raise ArchiveError(f"{self.path} has data after its last chunk")
                return

    def records(self) -> Iterator[Any]:
        """Every record, in order; ``ArchiveError`` on the first damaged or missing chunk."""
        for chunk in self._chunks():
            for line in chunk.splitlines():
                yield json.loads(line, object_hook=_decode)

    def close(self) -> None:
        """Close the file."""
        self._in.close()

    def __enter__(self) -> ArchiveReader:
        """The reader itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the file."""
        self.close()
