"""The issuer's API in any process: issue credentials, answer about them, change their status.

Issuing builds and signs (optionally in a ``SigningPool``), then one store
transaction stores every credential (SM4-GCM sealed) as *pending*; it never
waits for the chain. The writer's ``BatchAnchorer`` seals and anchors them;
``anchor_proof`` answers once a credential's batch is final. ``issue_once``
issues exactly once per idempotency key (``credentials.issuance.idempotency``):
the key is stored in the transaction that stores the credentials. Before
signing, a certificate of a national template issued for an agency gets its
证照标识 (``credentials.issuance.zhengzhao_ids``), stored with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from credentials.anchor_proof import AnchorProof
from credentials.credential import IssueRequest, SignedCredential, with_anchor_proof
from credentials.did import parse_issuer_verification_method
from credentials.errors import (
    AnchorPendingError,
    ConfigurationError,
    CredentialIdTakenError,
    UnknownCredentialError,
)
from credentials.issuance import (
    compromise,
    idempotency,
    status_changes,
    status_entries,
    status_slots,
    zhengzhao_ids,
)
from credentials.issuance.idempotency import Idempotency, KeyedIssue, Replay, StoredKey
from credentials.issuance.records import (
    AnchoringStatus,
    CompromiseReport,
    IssuerConfig,
    StatusRequest,
    StatusRequestProgress,
)
from credentials.issuance.status_slots import Slot
from credentials.issuance.store import IssuedRow, anchoring_of, prepare
from credentials.signing import SigningPool, sign_in_process
from credentials.status import DigestStatus, StatusAction, StatusReason
from credentials.submitted import CredentialRequest, SubmittedCredential
from credentials.zhengzhao import serials
from credentials.zhengzhao.identifier import ZhengzhaoId
from ledger.clock import now_ms
from ledger.crypto import sm4
from ledger.crypto.signer import Signer
from ledger.store.database import Database, Transaction


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
        idempotency_ttl_ms: int = idempotency.DEFAULT_TTL_MS,
        status_base: Callable[[], str | None] | None = None,
        indexed_height: Callable[[], int] | None = None,
    ) -> None:
        """Issue as ``config``'s issuer with ``signer`` (key id ``<issuer DID>#<keyId>``).

        ``data_key`` is the SM4 key that seals stored credentials (they hold personal
        data); ``pool`` signs in worker processes with the same key.
        ``idempotency_ttl_ms`` is how long ``issue_once`` remembers a key.
        ``status_base`` gives the public base URL of the province's status lists:
        while it gives one, every credential gets a ``BitstringStatusListEntry``
        per purpose (``credentials.issuance.status_entries``).
        ``indexed_height`` gives the height of the chain index this province's
        verifier reads: with it, a final batch counts as anchored (its state, its
        anchor proof) only once that index holds the batch's block, so whatever the
        province hands out as anchored it also verifies as anchored.
        """
        self.db = db
        self.config = config
        self.data_key = data_key
        self.clock = clock
        self.idempotency_ttl_ms = idempotency_ttl_ms
        self.pool = pool
        self.signer = signer
        self.status_base = status_base
        self.indexed_height = indexed_height
        self._check_signer(signer, pool)
        prepare(db, config)
        status_slots.prepare(db)
        serials.prepare(db)

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

    def issue(
        self, request: CredentialRequest, *, signer: Signer | None = None
    ) -> SignedCredential:
        """Issue one credential (see ``issue_many``)."""
        return self.issue_many([request], signer=signer)[0]

    def issue_many(
        self,
        requests: Sequence[CredentialRequest],
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
        signed, slots, zz_ids = self._sign(requests, signer, pool, now)
        self._store(signed, slots, zz_ids, _lookup_ids(requests, signed), now, None)
        return signed

    def issue_once(
        self,
        requests: Sequence[CredentialRequest],
        key: Idempotency,
        *,
        signer: Signer | None = None,
        pool: SigningPool | None = None,
    ) -> KeyedIssue:
        """``issue_many`` at most once per ``key``'s scope and key (while the key lives).

        A live key with the same request hash replays the credentials it answered
        (read back from the store, in the same order); with another hash it is a
        conflict. Either way nothing is signed or stored. Otherwise the credentials
        and the key are stored in one transaction, which looks for the key again
        first: of two concurrent requests with one key, one issues and the other
        replays it.
        """
        if not requests:
            raise ValueError("a keyed issuance needs at least one request")
        now = self.clock()
        with self.db.read() as tx:
            found = idempotency.find(tx, key, now, self.idempotency_ttl_ms)
        if found is not None:
            return self._replay(found, key)
        # Only here, past the replay: a retried key answers its stored identifiers.
        signed, slots, zz_ids = self._sign(requests, signer, pool, now)
        raced = self._store(signed, slots, zz_ids, _lookup_ids(requests, signed), now, key)
        if raced is not None:
            return self._replay(raced, key)
        return KeyedIssue(signed, Replay.NEW)

    def digest_named(self, credential_id: str) -> bytes:
        """The digest of the credential named ``credential_id`` (VC API ``credentialId``/``id``).

        Raises ``UnknownCredentialError`` when no credential issued here has that name.
        """
        with self.db.read() as tx:
            row = tx.fetchone(
                "SELECT digest FROM cred_ids WHERE credential_id = ?", (credential_id,)
            )
        if row is None:
            raise UnknownCredentialError("no credential issued here has this id")
        return bytes(row[0])

    def digest_by_zhengzhao_id(self, identifier: str) -> bytes:
        """The digest of the credential issued here with 证照标识 ``identifier`` (one indexed read).

        Raises ``UnknownCredentialError`` when no credential issued here has it.
        """
        with self.db.read() as tx:
            digest = zhengzhao_ids.digest_of(tx, identifier)
        if digest is None:
            raise UnknownCredentialError("no credential issued here has this identifier")
        return digest

    def prune_idempotency_keys(self) -> int:
        """Delete the expired idempotency keys now (keyed issuance also does it as it goes)."""
        with self.db.write() as tx:
            return idempotency.prune(tx, self.clock(), self.idempotency_ttl_ms)

    def _sign(
        self,
        requests: Sequence[CredentialRequest],
        signer: Signer | None,
        pool: SigningPool | None,
        now: int,
    ) -> tuple[list[SignedCredential], list[Slot], list[str | None]]:
        """Allocate 证照标识 and status list slots (when a base URL is known), build and sign.

        Returns the credentials, their slots and, per credential, its 证照标识 or None.
        """
        jurisdiction = self.config.jurisdiction
        needed = zhengzhao_ids.needed(requests, jurisdiction, now_ms=now)
        base = self.status_base() if self.status_base is not None else None
        allocated: dict[tuple[str, str], list[ZhengzhaoId]] = {}
        slots: list[Slot] = []
        if needed or base is not None:
            # Both inside the credential, so reserved before signing: one commit for both.
            with self.db.write() as tx:
                if needed:
                    allocated = serials.allocate_in(tx, needed, now_ms=now)
                if base is not None:
                    slots = status_slots.reserve_in(tx, len(requests), now=now)
        requests, zz_ids = zhengzhao_ids.apply(requests, allocated, jurisdiction)
        if base is not None:
            requests = status_entries.with_slots(requests, slots, base)
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
        return signed, slots, zz_ids

    def _seal(self, credential: SignedCredential) -> bytes:
        return sm4.seal(self.data_key, credential.body, credential.digest)

    def _store(
        self,
        signed: Sequence[SignedCredential],
        slots: Sequence[Slot],
        zz_ids: Sequence[str | None],
        ids: Sequence[tuple[str, bytes]],
        now: int,
        key: Idempotency | None,
    ) -> StoredKey | None:
        """Store ``signed``, their 证照标识 ``zz_ids``, lookup ``ids``, and ``key`` with digests.

        Returns None, or a race winner's row: if another request stored ``key``
        first, nothing is stored. Raises ``CredentialIdTakenError`` (nothing stored)
        when one of ``ids`` already names a credential.
        """
        rows = [(c.digest, c.key_id, c.template, now, self._seal(c)) for c in signed]
        ttl = self.idempotency_ttl_ms
        with self.db.write() as tx:
            if key is not None:
                found = idempotency.find(tx, key, now, ttl)
                if found is not None:
                    return found
            if ids:
                _check_ids_free(tx, [credential_id for credential_id, _ in ids])
            tx.executemany(
                "INSERT INTO cred_issued (digest, key_id, template, issued_at_ms, document) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            tx.executemany("INSERT INTO cred_ids (credential_id, digest) VALUES (?, ?)", ids)
            if slots:
                status_slots.bind(tx, zip(slots, [c.digest for c in signed], strict=True))
            zhengzhao_ids.bind(tx, zip(zz_ids, [c.digest for c in signed], strict=True))
            if key is not None:
                idempotency.record(tx, key, [c.digest for c in signed], now, ttl)
        return None

    def _replay(self, found: StoredKey, key: Idempotency) -> KeyedIssue:
        if found.request_hash != key.request_hash:
            return KeyedIssue([], Replay.CONFLICT)
        credentials = []
        with self.db.read() as tx:
            for digest in found.digests:
                row = tx.fetchone(
                    "SELECT key_id, template, document FROM cred_issued WHERE digest = ?",
                    (digest,),
                )
                if row is None:
                    # Stored in one transaction with its key: the store is damaged.
                    raise LookupError("an idempotency key names a credential the store lacks")
                key_id, template, sealed = row
                body = sm4.open(self.data_key, bytes(sealed), digest)
                credentials.append(SignedCredential(body, digest, str(key_id), str(template)))
        return KeyedIssue(credentials, Replay.REPLAYED)

    # ---------------------------------------------------------------- queries

    def _read(self, digest: bytes) -> IssuedRow:
        with self.db.read() as tx:
            return IssuedRow.read(tx, digest)

    def anchoring_status(self, digest: bytes) -> AnchoringStatus:
        """Whether ``digest`` is pending, sealed into a batch, or anchored (final)."""
        row = self._read(digest)
        return anchoring_of(digest, row, self._indexed([row]))

    def answers(self, digests: Sequence[bytes]) -> list[tuple[dict[str, Any], AnchoringStatus]]:
        """Each credential (its anchor proof in, once final) and its anchoring, in one snapshot.

        What ``credential(d, require_anchor=False)`` and ``anchoring_status(d)`` give,
        for many digests at once: a replayed issuance answers with them.
        """
        with self.db.read() as tx:
            rows = [(bytes(d), IssuedRow.read(tx, d)) for d in digests]
        indexed = self._indexed([row for _, row in rows])
        return [
            (
                self._document(row, d, indexed, require_anchor=False),
                anchoring_of(d, row, indexed),
            )
            for d, row in rows
        ]

    def _indexed(self, rows: Iterable[IssuedRow]) -> int | None:
        """The chain index height to judge ``rows`` by: read once, only if a batch is final.

        None (no ``indexed_height``, or nothing final) lets finality alone decide.
        """
        if self.indexed_height is None:
            return None
        if not any(row.batch is not None and row.batch.anchored for row in rows):
            return None
        return self.indexed_height()

    def anchor_proof(self, digest: bytes) -> AnchorProof:
        """The anchor proof of ``digest``; ``AnchorPendingError`` until its batch is final."""
        row = self._read(digest)
        return self._proof(row, self._indexed([row]))

    def _proof(self, row: IssuedRow, indexed: int | None) -> AnchorProof:
        batch = row.batch
        if batch is None or batch.block_number is None or not batch.anchored_at(indexed):
            raise AnchorPendingError("the credential's batch is not anchored on chain yet")
        return AnchorProof(
            chain_id=self.config.chain_id,
            contract=self.config.credential_anchor,
            issuer_id=self.config.issuer_id,
            root=batch.root,
            leaf_index=batch.leaf_index,
            tree_size=batch.tree_size,
            audit_path=batch.audit_path,
            block_number=batch.block_number,
        )

    def _open(self, sealed: bytes, digest: bytes) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(sm4.open(self.data_key, bytes(sealed), digest))
        return document

    def credential(self, digest: bytes, *, require_anchor: bool = True) -> dict[str, Any]:
        """The credential to hand to its holder: with its anchor proof once final.

        With ``require_anchor`` (the default) an unanchored credential raises
        ``AnchorPendingError``; otherwise it is returned with the issuer proof only.
        """
        row = self._read(digest)
        return self._document(
            row, bytes(digest), self._indexed([row]), require_anchor=require_anchor
        )

    def _document(
        self, row: IssuedRow, digest: bytes, indexed: int | None, *, require_anchor: bool
    ) -> dict[str, Any]:
        document = self._open(row.document, digest)
        try:
            proof = self._proof(row, indexed)
        except AnchorPendingError:
            if require_anchor:
                raise
            return document
        return with_anchor_proof(document, proof.to_json())

    def replaced_by(self, digest: bytes) -> bytes | None:
        """The digest of the credential that re-issued ``digest`` (key compromise), if any."""
        return self._read(digest).replaced_by

    def local_status(self, digest: bytes) -> DigestStatus:
        """The status this issuer last *requested* for ``digest`` (the chain may lag)."""
        return self._read(digest).status

    def status_request(self, request_id: int) -> StatusRequestProgress | None:
        """Status request ``request_id`` and its state (failed: the outbox gave it up), or None."""
        return status_changes.status_request(self.db, self.config, request_id)

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
        now = self.clock()
        with self.db.write() as tx:
            return status_changes.request_status_changes(
                tx, self.config, action, unique, reason, now
            )

    # -------------------------------------------------------- key compromise

    def affected_by_compromise(self, key_id: str, compromised_from: int) -> list[bytes]:
        """Credentials signed with ``key_id`` that a compromise from ``compromised_from`` voids.

        That is every credential whose batch was anchored at or after that time
        (Unix seconds, block time), and every one not anchored yet (it can only be
        anchored later). Credentials already re-issued are included once.
        """
        with self.db.read() as tx:
            return compromise.affected_by_compromise(tx, key_id, compromised_from)

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
                row = IssuedRow.read(tx, digest)
                if row.status is not DigestStatus.REVOKED:
                    to_revoke.append(digest)
                if row.replaced_by is None:
                    document = self._open(row.document, digest)
                    pending.append((digest, compromise.reissue_request(document)))
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


def _lookup_ids(
    requests: Sequence[CredentialRequest], signed: Sequence[SignedCredential]
) -> list[tuple[str, bytes]]:
    """Each credential's VC API name (``credentialId``, else ``id``) and digest."""
    ids: list[tuple[str, bytes]] = []
    for request, credential in zip(requests, signed, strict=True):
        name = (
            request.lookup_id
            if isinstance(request, SubmittedCredential)
            else credential.document.get("id")
        )
        if isinstance(name, str):
            ids.append((name, credential.digest))
    if len({name for name, _ in ids}) != len(ids):
        raise CredentialIdTakenError("two credentials of one request share an id")
    return ids


def _check_ids_free(tx: Transaction, names: Sequence[str]) -> None:
    for name in names:
        if tx.fetchone("SELECT 1 FROM cred_ids WHERE credential_id = ?", (name,)) is not None:
            raise CredentialIdTakenError("a credential with this id was issued already")
