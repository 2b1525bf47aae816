"""Typed binding of the ``CredentialAnchor`` contract: batch roots and digest statuses.

A root is keyed by (issuer, root); anchoring the same pair twice raises
``CredentialAnchorDuplicateRootError``, which an outbox reads as "already done"
when the anchoring was its own. Digest statuses follow the transition table
None->Suspended, None->Revoked, Suspended->None, Suspended->Revoked (Revoked is
final). See ``docs/contracts.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from ledger.chain.contracts.binding import ContractBinding
from ledger.chain.contracts.calls import TxOutcome, call_named, transact_named
from ledger.chain.node.client import BlockId, checksum
from ledger.chain.node.transactions import NonceManager

MAX_BATCH = 1000
"""Most digests one array call takes (the contract's ``MAX_BATCH``)."""

ZERO_HASH = bytes(32)
"""The metadata hash used when a batch has none."""

STATUS_CHANGES = ("revoke", "suspend", "reinstate")
"""The status-changing functions; each has a ``...Batch`` form taking up to ``MAX_BATCH``."""


class DigestStatus(IntEnum):
    """Status of a credential digest under its issuer."""

    NONE = 0
    REVOKED = 1
    SUSPENDED = 2


ALLOWED_TRANSITIONS: frozenset[tuple[DigestStatus, DigestStatus]] = frozenset(
    {
        (DigestStatus.NONE, DigestStatus.SUSPENDED),
        (DigestStatus.NONE, DigestStatus.REVOKED),
        (DigestStatus.SUSPENDED, DigestStatus.NONE),
        (DigestStatus.SUSPENDED, DigestStatus.REVOKED),
    }
)
"""The (from, to) status pairs the contract accepts; Revoked is final."""


@dataclass(frozen=True)
class AnchorRecord:
    """Where and when an issuer anchored a root."""

    issuer_id: int
    root: bytes
    block_number: int
    timestamp: int
    tree_size: int


@dataclass(frozen=True)
class StatusRecord:
    """A digest's status, the reason code of its last change and that change's block time."""

    status: DigestStatus
    reason: int
    updated_at: int | None


def _bytes32(value: bytes, what: str) -> bytes:
    raw = bytes(value)
    if len(raw) != 32:
        raise ValueError(f"{what} must be 32 bytes, got {len(raw)}")
    return raw


def _status(values: Any) -> StatusRecord:
    status, reason, updated_at = values
    return StatusRecord(DigestStatus(status), int(reason), int(updated_at) or None)


class CredentialAnchor(ContractBinding):
    """The ``CredentialAnchor`` at one address."""

    ARTIFACT = "CredentialAnchor"

    # -------------------------------------------------------------- calldata

    @classmethod
    def anchor_calldata(
        cls, issuer_id: int, root: bytes, tree_size: int, metadata_hash: bytes = ZERO_HASH
    ) -> bytes:
        """Calldata of ``anchor`` with the arguments ``anchor`` takes, for an outbox to send."""
        return cls.calldata(
            "anchor",
            issuer_id,
            _bytes32(root, "root"),
            tree_size,
            _bytes32(metadata_hash, "metadata hash"),
        )

    @classmethod
    def status_calldata(
        cls, change: str, issuer_id: int, digests: Sequence[bytes], reason: int
    ) -> bytes:
        """Calldata of status ``change`` (``revoke``, ``suspend``, ``reinstate``) for ``digests``.

        One digest calls the single function, several its ``...Batch`` form (at most
        ``MAX_BATCH``), as the methods of the same names send them.
        """
        if change not in STATUS_CHANGES:
            raise ValueError(f"a status change is one of {', '.join(STATUS_CHANGES)}")
        items = [_bytes32(d, "digest") for d in digests]
        if len(items) == 1:
            return cls.calldata(str(change), issuer_id, items[0], reason)
        return cls.calldata(f"{change}Batch", issuer_id, items, reason)

    def registry_address(self) -> str:
        """The IssuerRegistry this contract trusts."""
        return checksum(call_named(self.contract, "registry"))

    # ---------------------------------------------------------------- writes

    def anchor(
        self,
        sender: NonceManager,
        issuer_id: int,
        root: bytes,
        tree_size: int,
        metadata_hash: bytes = ZERO_HASH,
    ) -> TxOutcome:
        """Anchor batch ``root`` of ``tree_size`` credentials for ``issuer_id`` (sender: writer)."""
        return transact_named(
            self.contract,
            sender,
            "anchor",
            issuer_id,
            _bytes32(root, "root"),
            tree_size,
            _bytes32(metadata_hash, "metadata hash"),
        )

    def revoke(self, sender: NonceManager, issuer_id: int, digest: bytes, reason: int) -> TxOutcome:
        """Revoke one digest (final)."""
        return self._single("revoke", sender, issuer_id, digest, reason)

    def suspend(
        self, sender: NonceManager, issuer_id: int, digest: bytes, reason: int
    ) -> TxOutcome:
        """Suspend one digest."""
        return self._single("suspend", sender, issuer_id, digest, reason)

    def reinstate(
        self, sender: NonceManager, issuer_id: int, digest: bytes, reason: int
    ) -> TxOutcome:
        """Reinstate one suspended digest."""
        return self._single("reinstate", sender, issuer_id, digest, reason)

    def revoke_batch(
        self, sender: NonceManager, issuer_id: int, digests: Sequence[bytes], reason: int
    ) -> TxOutcome:
        """Revoke up to ``MAX_BATCH`` digests in one transaction (all or nothing)."""
        return self._batch("revokeBatch", sender, issuer_id, digests, reason)

    def suspend_batch(
        self, sender: NonceManager, issuer_id: int, digests: Sequence[bytes], reason: int
    ) -> TxOutcome:
        """Suspend up to ``MAX_BATCH`` digests in one transaction (all or nothing)."""
        return self._batch("suspendBatch", sender, issuer_id, digests, reason)

    def reinstate_batch(
        self, sender: NonceManager, issuer_id: int, digests: Sequence[bytes], reason: int
    ) -> TxOutcome:
        """Reinstate up to ``MAX_BATCH`` digests in one transaction (all or nothing)."""
        return self._batch("reinstateBatch", sender, issuer_id, digests, reason)

    def _single(
        self, function: str, sender: NonceManager, issuer_id: int, digest: bytes, reason: int
    ) -> TxOutcome:
        return transact_named(
            self.contract, sender, function, issuer_id, _bytes32(digest, "digest"), reason
        )

    def _batch(
        self,
        function: str,
        sender: NonceManager,
        issuer_id: int,
        digests: Sequence[bytes],
        reason: int,
    ) -> TxOutcome:
        items = [_bytes32(d, "digest") for d in digests]
        return transact_named(self.contract, sender, function, issuer_id, items, reason)

    # ----------------------------------------------------------------- reads

    def anchor_of(
        self, issuer_id: int, root: bytes, *, block: BlockId = "latest"
    ) -> AnchorRecord | None:
        """Where and when ``issuer_id`` anchored ``root``, or None if it did not."""
        block_number, timestamp, tree_size = call_named(
            self.contract, "anchorOf", issuer_id, _bytes32(root, "root"), block=block
        )
        if int(block_number) == 0:
            return None
        return AnchorRecord(
            issuer_id, bytes(root), int(block_number), int(timestamp), int(tree_size)
        )

    def is_anchored(self, issuer_id: int, root: bytes, *, block: BlockId = "latest") -> bool:
        """Whether ``issuer_id`` anchored ``root``."""
        return bool(
            call_named(self.contract, "isAnchored", issuer_id, _bytes32(root, "root"), block=block)
        )

    def status_of(
        self, issuer_id: int, digest: bytes, *, block: BlockId = "latest"
    ) -> StatusRecord:
        """The status of ``digest`` under ``issuer_id``."""
        return _status(
            call_named(
                self.contract, "statusOf", issuer_id, _bytes32(digest, "digest"), block=block
            )
        )

    def statuses_of(
        self, issuer_id: int, digests: Sequence[bytes], *, block: BlockId = "latest"
    ) -> list[StatusRecord]:
        """The statuses of up to ``MAX_BATCH`` digests, in order."""
        items = [_bytes32(d, "digest") for d in digests]
        return [
            _status(v)
            for v in call_named(self.contract, "statusesOf", issuer_id, items, block=block)
        ]
