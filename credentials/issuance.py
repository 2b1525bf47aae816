"""The issuing province's pipeline: issue, batch, anchor through the outbox, hand out proofs.

::

    issue / issue_many          any process: build + sign (optionally in a SigningPool),
         │                      then one store transaction stores every credential
         ▼                      (SM4-GCM sealed) as *pending*; never waits for the chain
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
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from credentials.anchor_proof import AnchorProof
from credentials.credential import (
    IssueRequest,
    SignedCredential,
    secured_form,
    with_anchor_proof,
)
from credentials.did import issuer_did, parse_issuer_verification_method
from credentials.disclosure import reveal
from credentials.errors import (
    AnchorPendingError,
    ConfigurationError,
    StatusTransitionError,
    UnknownCredentialError,
)
from credentials.signing import SigningPool, sign_in_process
from credentials.status import (
    ALLOWED_TRANSITIONS,
    DigestStatus,
    StatusAction,
    StatusReason,
    target_status,
)
from ledger.audit.receipts import batch_paths
from ledger.chain import outbox
from ledger.chain.contracts.credential_anchor import MAX_BATCH, ZERO_HASH, CredentialAnchor
from ledger.chain.node.client import checksum
from ledger.chain.outbox import OutboxItem, OutboxProcessor, OutboxState
from ledger.clock import now_ms
from ledger.crypto import sm4
from ledger.crypto.signer import Signer
from ledger.merkle.hasher import SM3_TREE
from ledger.store.database import Database, Transaction
from ledger.store.migrations import Migration, migrate

log = logging.getLogger(__name__)

__all__ = [
    "BATCH_KIND",
    "DUPLICATE_ROOT",
    "STATUS_KIND",
    "AnchoringState",
    "AnchoringStatus",
    "BatchAnchorer",
    "CompromiseReport",
    "CredentialIssuer",
    "IssuerConfig",
    "SealedBatch",
    "StatusRequest",
    "StatusRequestProgress",
    "StatusRequestState",
]

BATCH_KIND = "credential_batch"
"""Outbox kind of batch anchoring; the item key is ``<issuerId>:<root hex>``."""

STATUS_KIND = "credential_status"
"""Outbox kind of status changes; the item key is ``<issuerId>:<request id>``."""

DUPLICATE_ROOT = "CredentialAnchorDuplicateRoot"
"""The revert that tells the outbox a batch root is already anchored (by us)."""

INVALID_TRANSITION = "CredentialAnchorInvalidTransition"
"""The revert a status change gets when the chain already has the target status."""

MIGRATIONS = (
    Migration(
        1,
        "credentials",
        (
            "CREATE TABLE cred_meta (issuer_id INTEGER NOT NULL, chain_id INTEGER NOT NULL)",
            """CREATE TABLE cred_batches (
                id INTEGER PRIMARY KEY,
                root BLOB NOT NULL UNIQUE,
                tree_size INTEGER NOT NULL,
                sealed_at_ms INTEGER NOT NULL,
                state TEXT NOT NULL,
                block_number INTEGER,
                block_time INTEGER
            )""",
            """CREATE TABLE cred_issued (
                seq INTEGER PRIMARY KEY,
                digest BLOB NOT NULL UNIQUE,
                key_id TEXT NOT NULL,
                template TEXT NOT NULL,
                issued_at_ms INTEGER NOT NULL,
                document BLOB NOT NULL,
                batch_id INTEGER REFERENCES cred_batches (id),
                leaf_index INTEGER,
                audit_path BLOB,
                status INTEGER NOT NULL DEFAULT 0,
                replaced_by BLOB
            )""",
            "CREATE INDEX cred_issued_pending ON cred_issued (seq) WHERE batch_id IS NULL",
            "CREATE INDEX cred_issued_batch ON cred_issued (batch_id)",
            "CREATE INDEX cred_issued_key ON cred_issued (key_id)",
            """CREATE TABLE cred_status_requests (
                id INTEGER PRIMARY KEY,
                action TEXT NOT NULL,
                reason INTEGER NOT NULL,
                digests BLOB NOT NULL,
                created_at_ms INTEGER NOT NULL,
                state TEXT NOT NULL,
                block_number INTEGER
            )""",
        ),
    ),
)

_ANCHOR_SELECTOR = function_signature_to_4byte_selector("anchor(uint32,bytes32,uint64,bytes32)")
_SINGLE = {
    StatusAction.REVOKE: "revoke",
    StatusAction.SUSPEND: "suspend",
    StatusAction.REINSTATE: "reinstate",
}


def _calldata(signature: str, types: Sequence[str], args: Sequence[Any]) -> bytes:
    return function_signature_to_4byte_selector(signature) + abi_encode(list(types), list(args))


def anchor_calldata(issuer_id: int, root: bytes, tree_size: int) -> bytes:
    """Calldata of ``CredentialAnchor.anchor(issuerId, root, treeSize, 0x00..)``."""
    return _ANCHOR_SELECTOR + abi_encode(
        ["uint32", "bytes32", "uint64", "bytes32"], [issuer_id, root, tree_size, ZERO_HASH]
    )


def status_calldata(
    action: StatusAction, issuer_id: int, digests: Sequence[bytes], reason: int
) -> bytes:
    """Calldata of the single or array status function for ``digests`` (1..1000)."""
    name = _SINGLE[action]
    if len(digests) == 1:
        return _calldata(
            f"{name}(uint32,bytes32,uint16)",
            ["uint32", "bytes32", "uint16"],
            [issuer_id, digests[0], reason],
        )
    return _calldata(
        f"{name}Batch(uint32,bytes32[],uint16)",
        ["uint32", "bytes32[]", "uint16"],
        [issuer_id, list(digests), reason],
    )


@dataclass(frozen=True)
class IssuerConfig:
    """An issuing province: which chain, which issuer, which contract, how to batch."""

    chain_id: int
    issuer_id: int
    credential_anchor: str
    batch_size: int = 1000
    batch_max_wait_ms: int = 5_000

    def __post_init__(self) -> None:
        """Check ranges (a batch holds 1..2^20 credentials)."""
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


def _prepare(db: Database, config: IssuerConfig) -> None:
    outbox.prepare(db)
    migrate(db, "credentials", MIGRATIONS)
    with db.write() as tx:
        row = tx.fetchone("SELECT issuer_id, chain_id FROM cred_meta")
        if row is None:
            tx.execute(
                "INSERT INTO cred_meta (issuer_id, chain_id) VALUES (?, ?)",
                (config.issuer_id, config.chain_id),
            )
        elif (int(row[0]), int(row[1])) != (config.issuer_id, config.chain_id):
            raise ConfigurationError(
                "this store holds the credentials of another issuer or chain; use its own store"
            )


class CredentialIssuer:
    """Issues credentials into the store and answers about them (any process)."""

    def __init__(
        self,
        db: Database,
        config: IssuerConfig,
        signer: Signer,
        *,
        data_key: bytes,
        pool: SigningPool | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Issue as ``config``'s issuer with ``signer`` (key id ``<issuer DID>#<keyId>``).

        ``data_key`` is the SM4 key that seals stored credentials (they hold personal
        data); ``pool`` signs in worker processes with the same key.
        """
        self.db = db
        self.config = config
        self.data_key = data_key
        self.clock = clock
        self.pool = pool
        self.signer = signer
        self._check_signer(signer, pool)
        _prepare(db, config)

    def _check_signer(self, signer: Signer, pool: SigningPool | None) -> None:
        try:
            method = parse_issuer_verification_method(signer.key_id)
        except ValueError:
            raise ConfigurationError(
                "the signer's key id must be did:tongban:<chainId>:<issuerId>#<keyId>"
            ) from None
        if method.did != self.config.did:
            raise ConfigurationError("the signer's key id names another issuer or chain")
        if pool is not None and (
            pool.key_id != signer.key_id or pool.public_key != signer.public_key
        ):
            raise ConfigurationError("the signing pool holds another key than the signer")

    # ---------------------------------------------------------------- issuing

    def issue(self, request: IssueRequest, *, signer: Signer | None = None) -> SignedCredential:
        """Issue one credential (see ``issue_many``)."""
        return self.issue_many([request], signer=signer)[0]

    def issue_many(
        self,
        requests: Sequence[IssueRequest],
        *,
        signer: Signer | None = None,
        pool: SigningPool | None = None,
    ) -> list[SignedCredential]:
        """Build, sign and store ``requests``; all or none. Never waits for the chain.

        Each credential joins the pending (open) batch; ``anchoring_status`` and
        ``anchor_proof`` tell later where it went. ``signer``/``pool`` override the
        configured ones (the key compromise workflow re-issues under a new key).
        """
        if not requests:
            return []
        now = self.clock()
        chosen_signer = signer or self.signer
        chosen_pool = pool if pool is not None else (self.pool if signer is None else None)
        if signer is not None:
            self._check_signer(signer, pool)
        if chosen_pool is not None and len(requests) > 1:
            signed = chosen_pool.issue(
                requests,
                chain_id=self.config.chain_id,
                issuer_id=self.config.issuer_id,
                now_ms=now,
            )
        else:
            signed = sign_in_process(
                requests,
                chosen_signer,
                chain_id=self.config.chain_id,
                issuer_id=self.config.issuer_id,
                now_ms=now,
            )
        self._store(signed, now)
        return signed

    def _seal(self, credential: SignedCredential) -> bytes:
        return sm4.seal(self.data_key, credential.body, credential.digest)

    def _store(self, signed: Sequence[SignedCredential], now: int) -> None:
        rows = [(c.digest, c.key_id, c.template, now, self._seal(c)) for c in signed]
        with self.db.write() as tx:
            tx.executemany(
                "INSERT INTO cred_issued (digest, key_id, template, issued_at_ms, document) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    # ---------------------------------------------------------------- queries

    def _row(self, tx: Transaction, digest: bytes) -> tuple[Any, ...]:
        row = tx.fetchone(
            "SELECT i.document, i.batch_id, i.leaf_index, i.audit_path, b.root, b.tree_size, "
            "b.state, b.block_number, b.block_time, i.key_id, i.status, i.replaced_by "
            "FROM cred_issued i LEFT JOIN cred_batches b ON b.id = i.batch_id WHERE i.digest = ?",
            (bytes(digest),),
        )
        if row is None:
            raise UnknownCredentialError("no credential with that digest was issued here")
        return tuple(row)

    def anchoring_status(self, digest: bytes) -> AnchoringStatus:
        """Whether ``digest`` is pending, sealed into a batch, or anchored (final)."""
        with self.db.read() as tx:
            row = self._row(tx, digest)
        _doc, batch_id, leaf_index, _path, root, size, state, block, block_time = row[:9]
        if batch_id is None:
            return AnchoringStatus(bytes(digest), AnchoringState.PENDING)
        anchored = state == AnchoringState.ANCHORED
        return AnchoringStatus(
            bytes(digest),
            AnchoringState.ANCHORED if anchored else AnchoringState.SEALED,
            bytes(root),
            int(size),
            int(leaf_index),
            int(block) if anchored else None,
            int(block_time) if anchored else None,
        )

    def anchor_proof(self, digest: bytes) -> AnchorProof:
        """The anchor proof of ``digest``; ``AnchorPendingError`` until its batch is final."""
        with self.db.read() as tx:
            row = self._row(tx, digest)
        return self._proof(row)

    def _proof(self, row: tuple[Any, ...]) -> AnchorProof:
        _doc, batch_id, leaf_index, path, root, size, state, block = row[:8]
        if batch_id is None or state != AnchoringState.ANCHORED:
            raise AnchorPendingError("the credential's batch is not anchored on chain yet")
        raw = bytes(path)
        return AnchorProof(
            chain_id=self.config.chain_id,
            contract=self.config.credential_anchor,
            issuer_id=self.config.issuer_id,
            root=bytes(root),
            leaf_index=int(leaf_index),
            tree_size=int(size),
            audit_path=tuple(raw[i : i + 32] for i in range(0, len(raw), 32)),
            block_number=int(block),
        )

    def _open(self, sealed: bytes, digest: bytes) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(sm4.open(self.data_key, bytes(sealed), digest))
        return document

    def credential(self, digest: bytes, *, require_anchor: bool = True) -> dict[str, Any]:
        """The credential to hand to its holder: with its anchor proof once final.

        With ``require_anchor`` (the default) an unanchored credential raises
        ``AnchorPendingError``; otherwise it is returned with the issuer proof only.
        """
        with self.db.read() as tx:
            row = self._row(tx, digest)
        document = self._open(row[0], bytes(digest))
        try:
            proof = self._proof(row)
        except AnchorPendingError:
            if require_anchor:
                raise
            return document
        return with_anchor_proof(document, proof.to_json())

    def replaced_by(self, digest: bytes) -> bytes | None:
        """The digest of the credential that re-issued ``digest`` (key compromise), if any."""
        with self.db.read() as tx:
            row = self._row(tx, digest)
        return None if row[11] is None else bytes(row[11])

    def local_status(self, digest: bytes) -> DigestStatus:
        """The status this issuer last *requested* for ``digest`` (the chain may lag)."""
        with self.db.read() as tx:
            row = self._row(tx, digest)
        return DigestStatus(int(row[10]))

    def status_request(self, request_id: int) -> StatusRequestProgress | None:
        """Status request ``request_id`` and its state (failed: the outbox gave it up), or None."""
        with self.db.read() as tx:
            row = tx.fetchone(
                "SELECT action, reason, digests, state, block_number FROM cred_status_requests "
                "WHERE id = ?",
                (request_id,),
            )
        if row is None:
            return None
        raw = bytes(row[2])
        request = StatusRequest(
            request_id,
            StatusAction(row[0]),
            int(row[1]),
            tuple(raw[i : i + 32] for i in range(0, len(raw), 32)),
        )
        state = StatusRequestState(row[3])
        if state is StatusRequestState.PENDING:
            queued = outbox.item(self.db, STATUS_KIND, f"{self.config.issuer_id}:{request_id}")
            if queued is not None and queued.state is OutboxState.FAILED:
                state = StatusRequestState.FAILED
        return StatusRequestProgress(request, state, None if row[4] is None else int(row[4]))

    # ----------------------------------------------------------------- status

    def revoke(
        self, digests: Iterable[bytes], reason: int = StatusReason.UNSPECIFIED
    ) -> list[StatusRequest]:
        """Revoke ``digests`` (final), in requests of at most 1,000; returns the requests."""
        return self.change_status(StatusAction.REVOKE, digests, reason)

    def suspend(
        self, digests: Iterable[bytes], reason: int = StatusReason.UNSPECIFIED
    ) -> list[StatusRequest]:
        """Suspend ``digests``."""
        return self.change_status(StatusAction.SUSPEND, digests, reason)

    def reinstate(
        self, digests: Iterable[bytes], reason: int = StatusReason.UNSPECIFIED
    ) -> list[StatusRequest]:
        """Reinstate suspended ``digests``."""
        return self.change_status(StatusAction.REINSTATE, digests, reason)

    def change_status(
        self, action: StatusAction, digests: Iterable[bytes], reason: int
    ) -> list[StatusRequest]:
        """Request ``action`` for every digest (all or none), through the outbox.

        Every digest must have been issued here and allow the transition from the
        status this issuer last requested (``StatusTransitionError`` otherwise).
        """
        unique = list(dict.fromkeys(bytes(d) for d in digests))
        if not unique:
            return []
        if not 0 <= int(reason) <= 0xFFFF:
            raise StatusTransitionError("a status reason is a uint16 code")
        target = target_status(action)
        now = self.clock()
        requests: list[StatusRequest] = []
        with self.db.write() as tx:
            for index in range(0, len(unique), MAX_BATCH):
                chunk = unique[index : index + MAX_BATCH]
                self._check_transitions(tx, chunk, target)
                tx.execute(
                    "INSERT INTO cred_status_requests (action, reason, digests, created_at_ms, "
                    "state) VALUES (?, ?, ?, ?, 'pending')",
                    (action.value, int(reason), b"".join(chunk), now),
                )
                row = tx.fetchone("SELECT MAX(id) FROM cred_status_requests")
                request_id = int(row[0]) if row else 0
                tx.executemany(
                    "UPDATE cred_issued SET status = ? WHERE digest = ?",
                    [(int(target), d) for d in chunk],
                )
                outbox.enqueue(
                    tx,
                    STATUS_KIND,
                    f"{self.config.issuer_id}:{request_id}",
                    self.config.credential_anchor,
                    status_calldata(action, self.config.issuer_id, chunk, int(reason)),
                    done_errors=(INVALID_TRANSITION,),
                    now_ms=now,
                )
                requests.append(StatusRequest(request_id, action, int(reason), tuple(chunk)))
        return requests

    @staticmethod
    def _check_transitions(tx: Transaction, chunk: Sequence[bytes], target: DigestStatus) -> None:
        marks = ",".join("?" * len(chunk))
        rows = tx.fetchall(
            f"SELECT digest, status FROM cred_issued WHERE digest IN ({marks})",  # noqa: S608
            chunk,
        )
        if len(rows) != len(chunk):
            raise UnknownCredentialError("a digest was not issued here")
        for _digest, status in rows:
            if (DigestStatus(int(status)), target) not in ALLOWED_TRANSITIONS:
                raise StatusTransitionError(
                    f"a credential cannot go from {DigestStatus(int(status)).name.lower()} "
                    f"to {target.name.lower()}"
                )

    # -------------------------------------------------------- key compromise

    def affected_by_compromise(self, key_id: str, compromised_from: int) -> list[bytes]:
        """Credentials signed with ``key_id`` that a compromise from ``compromised_from`` voids.

        That is every credential whose batch was anchored at or after that time
        (Unix seconds, block time), and every one not anchored yet (it can only be
        anchored later). Credentials already re-issued are included once.
        """
        with self.db.read() as tx:
            rows = tx.fetchall(
                "SELECT i.digest FROM cred_issued i LEFT JOIN cred_batches b ON b.id = i.batch_id "
                "WHERE i.key_id = ? AND (b.state IS NULL OR b.state != ? OR b.block_time >= ?) "
                "ORDER BY i.seq",
                (key_id, AnchoringState.ANCHORED.value, compromised_from),
            )
        return [bytes(r[0]) for r in rows]

    def respond_to_compromise(
        self,
        key_id: str,
        compromised_from: int,
        new_signer: Signer,
        *,
        pool: SigningPool | None = None,
        reason: int = StatusReason.KEY_COMPROMISE,
    ) -> CompromiseReport:
        """List, revoke in bulk, and re-issue under ``new_signer`` the affected credentials.

        Marking the key compromised in the registry is the issuer admin's separate
        transaction (``IssuerRegistry.mark_key_compromised``); verifiers reject the
        affected credentials from then on whether or not they are revoked. The new
        credentials keep the claims, holder and validity period, with a new ``id`` and
        new salts; ``replaced_by`` links old to new.
        """
        report = CompromiseReport(key_id, compromised_from)
        report.affected = self.affected_by_compromise(key_id, compromised_from)
        with self.db.read() as tx:
            pending: list[tuple[bytes, IssueRequest]] = []
            to_revoke: list[bytes] = []
            for digest in report.affected:
                row = self._row(tx, digest)
                if DigestStatus(int(row[10])) is not DigestStatus.REVOKED:
                    to_revoke.append(digest)
                if row[11] is None:
                    pending.append((digest, self._reissue_request(row[0], digest)))
        report.revocations = self.revoke(to_revoke, reason)
        if pending:
            signed = self.issue_many([r for _, r in pending], signer=new_signer, pool=pool)
            with self.db.write() as tx:
                tx.executemany(
                    "UPDATE cred_issued SET replaced_by = ? WHERE digest = ?",
                    [(new.digest, old) for (old, _), new in zip(pending, signed, strict=True)],
                )
            report.reissued = {old: new for (old, _), new in zip(pending, signed, strict=True)}
        return report

    def _reissue_request(self, sealed: bytes, digest: bytes) -> IssueRequest:
        from credentials.templates import template_by_schema

        document = self._open(sealed, digest)
        secured = secured_form(document)
        template = template_by_schema(str(secured["credentialSchema"]["id"]))
        if template is None:
            raise ConfigurationError("a stored credential names an unknown schema")
        subject = reveal(secured["credentialSubject"], document.get("disclosures", []))
        holder = str(subject.pop("id"))
        return IssueRequest(
            template=template.name,
            holder=holder,
            claims=subject,
            valid_from=str(secured["validFrom"]),
            valid_until=secured.get("validUntil"),
        )


class BatchAnchorer:
    """Seals pending credentials into batches and anchors their roots (writer process only)."""

    def __init__(
        self,
        db: Database,
        config: IssuerConfig,
        anchor: CredentialAnchor,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Anchor ``config``'s batches in ``anchor`` (which must be the configured contract)."""
        if checksum(anchor.address) != config.credential_anchor:
            raise ConfigurationError("the CredentialAnchor binding is not the configured one")
        self.db = db
        self.config = config
        self.anchor = anchor
        self.clock = clock
        _prepare(db, config)

    def register(self, processor: OutboxProcessor) -> None:
        """Let ``processor`` report final batches and status changes to this issuer."""
        processor.on_final(BATCH_KIND, self._batch_final)
        processor.on_final(STATUS_KIND, self._status_final)

    def seal_due(self, *, force: bool = False) -> list[SealedBatch]:
        """Seal every batch that is due; returns the sealed batches.

        Full batches first, then, if the oldest pending credential waited
        ``batch_max_wait_ms`` (or ``force``), the remaining pending ones.
        """
        sealed: list[SealedBatch] = []
        while True:
            batch = self._seal_one(force)
            if batch is None:
                return sealed
            sealed.append(batch)

    def _seal_one(self, force: bool) -> SealedBatch | None:
        size = self.config.batch_size
        now = self.clock()
        with self.db.write() as tx:
            rows = tx.fetchall(
                "SELECT seq, digest, issued_at_ms FROM cred_issued WHERE batch_id IS NULL "
                "ORDER BY seq LIMIT ?",
                (size,),
            )
            if not rows:
                return None
            waited = now - int(rows[0][2])
            if len(rows) < size and not force and waited < self.config.batch_max_wait_ms:
                return None
            leaves = [SM3_TREE.hash_leaf(bytes(r[1])) for r in rows]
            root, paths = batch_paths(SM3_TREE, leaves)
            tx.execute(
                "INSERT INTO cred_batches (root, tree_size, sealed_at_ms, state) "
                "VALUES (?, ?, ?, ?)",
                (root, len(rows), now, AnchoringState.SEALED.value),
            )
            found = tx.fetchone("SELECT id FROM cred_batches WHERE root = ?", (root,))
            if found is None:
                raise RuntimeError("batch row vanished inside its own transaction")
            batch_id = int(found[0])
            tx.executemany(
                "UPDATE cred_issued SET batch_id = ?, leaf_index = ?, audit_path = ? WHERE seq = ?",
                [
                    (batch_id, index, b"".join(paths[index]), int(row[0]))
                    for index, row in enumerate(rows)
                ],
            )
            outbox.enqueue(
                tx,
                BATCH_KIND,
                f"{self.config.issuer_id}:{root.hex()}",
                self.config.credential_anchor,
                anchor_calldata(self.config.issuer_id, root, len(rows)),
                done_errors=(DUPLICATE_ROOT,),
                now_ms=now,
            )
        log.info("credential batch sealed", extra={"batch_id": batch_id, "size": len(rows)})
        return SealedBatch(batch_id, root, len(rows))

    def _batch_final(self, tx: Transaction, item: OutboxItem) -> None:
        issuer, _, root_hex = item.key.partition(":")
        root = bytes.fromhex(root_hex)
        record = self.anchor.anchor_of(int(issuer), root)
        if record is None:
            # Final without an anchor on chain cannot happen for our own item; keep the
            # batch sealed (no proof is handed out) and tell the operator.
            log.error("final batch is not anchored on chain", extra={"outbox_id": item.id})
            return
        tx.execute(
            "UPDATE cred_batches SET state = ?, block_number = ?, block_time = ? WHERE root = ?",
            (AnchoringState.ANCHORED.value, record.block_number, record.timestamp, root),
        )

    @staticmethod
    def _status_final(tx: Transaction, item: OutboxItem) -> None:
        request_id = int(item.key.partition(":")[2])
        tx.execute(
            "UPDATE cred_status_requests SET state = 'final', block_number = ? WHERE id = ?",
            (item.block_number, request_id),
        )
