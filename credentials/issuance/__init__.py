"""The issuing province's pipeline: issue, batch, anchor through the outbox, hand out proofs.

::

    issue / issue_many          any process: build + sign (optionally in a SigningPool),
    issue_once (keyed)          then one store transaction stores every credential
         │                      (SM4-GCM sealed) as *pending*, with its idempotency key
         ▼                      if any; never waits for the chain
    BatchAnchorer.seal_due      writer only: the oldest pending credentials form a batch
         │                      when ``batch_size`` are waiting or the oldest waited
         │                      ``batch_max_wait_ms``; the batch root (RFC 9162, SM3),
         │                      every leaf index and audit path, and the outbox item
         ▼                      ``credential_batch`` / ``<issuerId>:<root hex>`` commit together
    OutboxProcessor             writer only: sends ``anchor(issuer, root, size, 0)``, waits
         │                      for finality, survives crashes, drops and reorgs
         ▼
    on final (same transaction) the batch becomes *anchored* with the block number and
                                time read from the contract; only now does
                                ``anchor_proof`` answer for its credentials

Revocation, suspension and reinstatement by digest go through the same outbox
(kind ``credential_status``, one item per request of up to 1,000 digests). The key
compromise workflow lists the credentials a compromised key affects, revokes them
in bulk and re-issues them under a new key.

Modules: ``issuer`` (``CredentialIssuer``, any process), ``batches``
(``BatchAnchorer``, the writer), ``idempotency`` (exactly-once issuance per
key), ``zhengzhao_ids`` (the 证照标识 of national certificates, allocated
before signing), ``status_changes``, ``compromise``, ``store`` (schema and typed rows)
and ``records`` (configuration and answers). The names
below are importable from the package itself.
"""

from credentials.issuance.batches import BatchAnchorer
from credentials.issuance.idempotency import (
    DEFAULT_TTL_MS,
    Idempotency,
    KeyedIssue,
    Replay,
    request_hash,
)
from credentials.issuance.issuer import CredentialIssuer
from credentials.issuance.records import (
    BATCH_KIND,
    DUPLICATE_ROOT,
    INVALID_TRANSITION,
    STATUS_KIND,
    AnchoringState,
    AnchoringStatus,
    CompromiseReport,
    IssuerConfig,
    SealedBatch,
    StatusRequest,
    StatusRequestProgress,
    StatusRequestState,
)
from credentials.issuance.store import MIGRATIONS

__all__ = [
    "BATCH_KIND",
    "DEFAULT_TTL_MS",
    "DUPLICATE_ROOT",
    "INVALID_TRANSITION",
    "MIGRATIONS",
    "STATUS_KIND",
    "AnchoringState",
    "AnchoringStatus",
    "BatchAnchorer",
    "CompromiseReport",
    "CredentialIssuer",
    "Idempotency",
    "IssuerConfig",
    "KeyedIssue",
    "Replay",
    "SealedBatch",
    "StatusRequest",
    "StatusRequestProgress",
    "StatusRequestState",
    "request_hash",
]
