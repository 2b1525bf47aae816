"""Receipts: the log's signed word that it accepted an event at an index, at a time.

Appends are group-committed, so one signature covers a *batch* of consecutive
events: the log signs (log id, first index, count, batch root, time), where
the batch root is the RFC 9162 root over the batch's leaf hashes. An event's
receipt is that signed statement plus the event's audit path inside the
batch. For a batch of one the batch root is the leaf hash itself and the path
is empty, so the signed statement is exactly the design card's (log id, event
leaf hash, index, time).

Signed message: ``SignedPayload("tongban/audit-receipt/v1", JCS({"batchRoot":
hex, "count": n, "firstIndex": i, "logId": id, "time": "...Z"}))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ledger.audit.errors import ReceiptError
from ledger.audit.events import canonical_json, format_time
from ledger.crypto.errors import CryptoError
from ledger.crypto.signer import SignedPayload, Signer, verify_payload
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.merkle.batch import batch_paths as merkle_batch_paths
from ledger.merkle.errors import BatchError, MerkleError
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof

RECEIPT_DOMAIN = "tongban/audit-receipt/v1"


@dataclass(frozen=True)
class BatchStatement:
    """What the log signs for one group commit."""

    log_id: int
    first_index: int
    count: int
    batch_root: bytes
    time_ms: int

    def payload(self) -> SignedPayload:
        """The domain-tagged payload that is signed."""
        message = canonical_json(
            {
                "logId": self.log_id,
                "firstIndex": self.first_index,
                "count": self.count,
                "batchRoot": self.batch_root.hex(),
                "time": format_time(self.time_ms),
            }
        )
        return SignedPayload(RECEIPT_DOMAIN, message)


@dataclass(frozen=True)
class SignedBatch:
    """A batch statement with the log's signature and the signing key's id."""

    statement: BatchStatement
    key_id: str
    signature: bytes


def sign_batch(statement: BatchStatement, signer: Signer) -> SignedBatch:
    """Sign ``statement`` with the log's key."""
    return SignedBatch(statement, signer.key_id, signer.sign(statement.payload()))


@dataclass(frozen=True)
class Receipt:
    """Proof that the log accepted ``leaf_hash`` at ``index``."""

    index: int
    leaf_hash: bytes
    batch: SignedBatch
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form (hex hashes, base64-free) for APIs and exports."""
        statement = self.batch.statement
        return {
            "type": "TongbanAuditReceipt/v1",
            "logId": statement.log_id,
            "index": self.index,
            "leafHash": self.leaf_hash.hex(),
            "time": format_time(statement.time_ms),
            "batch": {
                "firstIndex": statement.first_index,
                "count": statement.count,
                "root": statement.batch_root.hex(),
                "path": [p.hex() for p in self.path],
            },
            "keyId": self.batch.key_id,
            "signature": self.batch.signature.hex(),
        }

    @classmethod
    def from_json(cls, document: Any) -> Receipt:
        """Parse ``to_json()`` output; raises ``ReceiptError`` if malformed."""
        from ledger.audit.events import parse_time

        try:
            batch = document["batch"]
            statement = BatchStatement(
                log_id=int(document["logId"]),
                first_index=int(batch["firstIndex"]),
                count=int(batch["count"]),
                batch_root=bytes.fromhex(batch["root"]),
                time_ms=parse_time(str(document["time"])),
            )
            return cls(
                index=int(document["index"]),
                leaf_hash=bytes.fromhex(document["leafHash"]),
                batch=SignedBatch(
                    statement, str(document["keyId"]), bytes.fromhex(document["signature"])
                ),
                path=tuple(bytes.fromhex(p) for p in batch["path"]),
            )
        except (KeyError, TypeError, ValueError):
            raise ReceiptError("malformed receipt") from None

    def verify(self, hasher: TreeHasher, public_key: Sm2PublicKey, log_id: int) -> None:
        """Check the path to the batch root and the log's signature; raises ``ReceiptError``."""
        statement = self.batch.statement
        if statement.log_id != log_id:
            raise ReceiptError(f"receipt is from log {statement.log_id}, not {log_id}")
        offset = self.index - statement.first_index
        try:
            root = root_from_inclusion_proof(
                hasher, offset, statement.count, self.leaf_hash, self.path
            )
        except MerkleError as exc:
            raise ReceiptError(f"receipt path is invalid: {exc}") from None
        if root != statement.batch_root:
            raise ReceiptError("receipt path does not lead to the signed batch root")
        try:
            verify_payload(public_key, statement.payload(), self.batch.signature)
        except CryptoError:
            raise ReceiptError("receipt signature does not verify") from None


def batch_paths(
    hasher: TreeHasher, leaves: Sequence[bytes]
) -> tuple[bytes, list[tuple[bytes, ...]]]:
    """The receipt tree of one signed batch: its root over ``leaves`` and every event's path.

    The math is ``ledger.merkle.batch.batch_paths``; its refusals (no leaves, a leaf
    hash of the wrong length, as an altered export may hold) come out as
    ``ReceiptError``, which receipt checks already report.
    """
    try:
        return merkle_batch_paths(hasher, leaves)
    except BatchError as exc:
        raise ReceiptError(f"the batch cannot be rebuilt: {exc}") from None
