"""What the issuing pipeline is configured with and answers: configuration, states, reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from credentials.credential import SignedCredential
from credentials.did import issuer_did
from credentials.errors import ConfigurationError
from credentials.status import StatusAction
from credentials.zhengzhao.division import parse_division_code
from credentials.zhengzhao.errors import IdentifierError
from ledger.chain.node.client import checksum

BATCH_KIND = "credential_batch"
"""Outbox kind of batch anchoring; the item key is ``<issuerId>:<root hex>``."""

STATUS_KIND = "credential_status"
"""Outbox kind of status changes; the item key is ``<issuerId>:<request id>``."""

DUPLICATE_ROOT = "CredentialAnchorDuplicateRoot"
"""The revert that tells the outbox a batch root is already anchored (by us)."""

INVALID_TRANSITION = "CredentialAnchorInvalidTransition"
"""The revert a status change gets when the chain already has the target status."""


@dataclass(frozen=True)
class IssuerConfig:
    """An issuing province: which chain, which issuer, which contract, how to batch."""

    chain_id: int
    issuer_id: int
    credential_anchor: str
    batch_size: int = 1000
    batch_max_wait_ms: int = 5_000
    jurisdiction: str | None = None
    """The province's GB/T 2260 code (six digits), the 管辖属地编码 of its certificates."""

    def __post_init__(self) -> None:
        """Check ranges (a batch holds 1..2^20 credentials) and the jurisdiction code."""
        if self.jurisdiction is not None:
            try:
                parse_division_code(self.jurisdiction, field="jurisdiction")
            except IdentifierError as exc:
                raise ConfigurationError(
                    f"the jurisdiction is not a GB/T 2260 code: {exc}"
                ) from None
        if not 1 <= self.batch_size <= 2**20:
            raise ConfigurationError("batch_size must be between 1 and 1,048,576")
        if self.batch_max_wait_ms < 0:
            raise ConfigurationError("batch_max_wait_ms must not be negative")
        object.__setattr__(self, "credential_anchor", checksum(self.credential_anchor))

    @property
    def did(self) -> str:
        """The issuer's DID."""
        return issuer_did(self.chain_id, self.issuer_id)


class AnchoringState(StrEnum):
    """Where a credential's digest is on its way to the chain."""

    PENDING = "pending"
    SEALED = "sealed"
    ANCHORED = "anchored"


@dataclass(frozen=True)
class AnchoringStatus:
    """A credential's anchoring state; batch fields are set once sealed, block fields once final."""

    digest: bytes
    state: AnchoringState
    root: bytes | None = None
    tree_size: int | None = None
    leaf_index: int | None = None
    block_number: int | None = None
    block_time: int | None = None


@dataclass(frozen=True)
class SealedBatch:
    """A batch that was sealed and handed to the outbox."""

    batch_id: int
    root: bytes
    tree_size: int


@dataclass(frozen=True)
class StatusRequest:
    """A status change handed to the outbox (one transaction)."""

    request_id: int
    action: StatusAction
    reason: int
    digests: tuple[bytes, ...]


class StatusRequestState(StrEnum):
    """Where a status request is: waiting for the chain, final there, or given up by the outbox."""

    PENDING = "pending"
    FINAL = "final"
    FAILED = "failed"


@dataclass(frozen=True)
class StatusRequestProgress:
    """A status request and how far it got (``block_number`` once final by our transaction)."""

    request: StatusRequest
    state: StatusRequestState
    block_number: int | None = None


@dataclass
class CompromiseReport:
    """What the key compromise workflow did."""

    key_id: str
    compromised_from: int
    affected: list[bytes] = field(default_factory=list)
    revocations: list[StatusRequest] = field(default_factory=list)
    reissued: dict[bytes, SignedCredential] = field(default_factory=dict)
