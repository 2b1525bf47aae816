"""Checkpoints: C2SP signed notes over (origin, tree size, root), signed with SM2.

Body (the signed text, every line ending in a newline)::

    tongban/<chainId>/<issuerId>
    <tree size, decimal>
    <root, standard base64>

followed by an empty line and one signature line per signer::

    — <key name> <base64(key id ‖ r ‖ s)>

- key name: ``tongban/<chainId>/<issuerId>#<keyId>`` (the key's on-chain id);
- key id: the first 4 bytes of ``SHA-256(key name ‖ 0x0A ‖ 0xFF ‖ "sm2-sm3" ‖
  compressed public key)``; 0xFF is signed-note's "unregistered algorithm"
  byte, so the algorithm identifier follows it;
- signature: SM2 over the body bytes exactly, user ID ``1234567812345678``,
  raw 64-byte r ‖ s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from ledger.audit.errors import CheckpointError
from ledger.crypto.errors import CryptoError
from ledger.crypto.signer import Signer
from ledger.crypto.sm2 import Sm2PublicKey

ALGORITHM_BYTE = b"\xff"
ALGORITHM_ID = b"sm2-sm3"
_DASH = "\u2014"
_NAME = re.compile(r"[^\s+]+")
_ORIGIN = re.compile(r"tongban/([0-9]{1,20})/([0-9]{1,10})")


def origin_for(chain_id: int, log_id: int) -> str:
    """The checkpoint origin of log ``log_id`` (the issuer id) on chain ``chain_id``."""
    return f"tongban/{chain_id}/{log_id}"


def key_name(origin: str, key_id: str) -> str:
    """The signed-note key name of key ``key_id`` signing for ``origin``."""
    name = f"{origin}#{key_id}"
    if not _NAME.fullmatch(name):
        raise CheckpointError("key names may not contain spaces or '+'")
    return name


def note_key_id(name: str, public_key: Sm2PublicKey) -> bytes:
    """The 4-byte signed-note key id of ``public_key`` under ``name``."""
    material = name.encode() + b"\n" + ALGORITHM_BYTE + ALGORITHM_ID + public_key.compressed()
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class Checkpoint:
    """A log state: its origin, tree size and root."""

    origin: str
    tree_size: int
    root: bytes

    def body(self) -> bytes:
        """The signed text of the note."""
        encoded = base64.b64encode(self.root).decode()
        return f"{self.origin}\n{self.tree_size}\n{encoded}\n".encode()

    @property
    def log_id(self) -> int:
        """The issuer id in the origin."""
        match = _ORIGIN.fullmatch(self.origin)
        if match is None:
            raise CheckpointError("origin is not tongban/<chainId>/<issuerId>")
        return int(match.group(2))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with one signature line."""

    checkpoint: Checkpoint
    key_name: str
    note_key_id: bytes
    signature: bytes

    def note(self) -> str:
        """The complete signed note text."""
        blob = base64.b64encode(self.note_key_id + self.signature).decode()
        return self.checkpoint.body().decode() + f"\n{_DASH} {self.key_name} {blob}\n"

    def verify(self, public_key: Sm2PublicKey) -> None:
        """Check the signature with ``public_key``; raises ``CheckpointError``."""
        if self.note_key_id != note_key_id(self.key_name, public_key):
            raise CheckpointError("the note's key id does not match the public key")
        try:
            public_key.verify(self.checkpoint.body(), self.signature)
        except CryptoError:
            raise CheckpointError("checkpoint signature does not verify") from None


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> SignedCheckpoint:
    """Sign ``checkpoint`` with the province key behind ``signer``."""
    name = key_name(checkpoint.origin, signer.key_id)
    # Signed notes sign the note text itself, not a domain-tagged payload: the
    # text starts with the origin, which already separates it from anything else.
    signature = signer.unsafe_sign_message(checkpoint.body())
    return SignedCheckpoint(checkpoint, name, note_key_id(name, signer.public_key), signature)


def parse_note(text: str) -> SignedCheckpoint:
    """Parse a signed note with exactly three body lines and one signature line."""
    body, sep, signatures = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) != 3:
        raise CheckpointError("a checkpoint note has three body lines, an empty line, signatures")
    origin, size_text, root_text = lines
    if not _ORIGIN.fullmatch(origin) or not size_text.isdigit() or size_text != str(int(size_text)):
        raise CheckpointError("bad origin or tree size line")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise CheckpointError("the root line is not base64") from None
    sig_lines = [line for line in signatures.split("\n") if line]
    if len(sig_lines) != 1 or not signatures.endswith("\n"):
        raise CheckpointError("expected exactly one signature line")
    parts = sig_lines[0].split(" ")
    if len(parts) != 3 or parts[0] != _DASH or not _NAME.fullmatch(parts[1]):
        raise CheckpointError("malformed signature line")
    try:
        blob = base64.b64decode(parts[2], validate=True)
    except binascii.Error:
        raise CheckpointError("the signature is not base64") from None
    if len(blob) != 4 + 64:
        raise CheckpointError("the signature must be a 4-byte key id and 64 bytes of r ‖ s")
    checkpoint = Checkpoint(origin, int(size_text), root)
    return SignedCheckpoint(checkpoint, parts[1], blob[:4], blob[4:])
