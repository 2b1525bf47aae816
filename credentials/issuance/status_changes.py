"""Revocation, suspension and reinstatement by digest, through the outbox.

A request covers up to ``MAX_BATCH`` digests and is one outbox item (kind
``credential_status``, key ``<issuerId>:<request id>``) sending the single or
array ``CredentialAnchor`` function. The issuer records the status it requested
at once (the chain may lag); the writer marks the request final when the outbox
reports its transaction final.
"""

from __future__ import annotations

from collections.abc import Sequence

from credentials.errors import StatusTransitionError, UnknownCredentialError
from credentials.issuance.records import (
    INVALID_TRANSITION,
    STATUS_KIND,
    IssuerConfig,
    StatusRequest,
    StatusRequestProgress,
    StatusRequestState,
)
from credentials.issuance.store import StatusRequestRow
from credentials.status import ALLOWED_TRANSITIONS, DigestStatus, StatusAction, target_status
from ledger.chain import outbox
from ledger.chain.contracts.credential_anchor import MAX_BATCH, CredentialAnchor
from ledger.chain.outbox import OutboxItem, OutboxState
from ledger.store.database import Database, Transaction


def request_status_changes(
    tx: Transaction,
    config: IssuerConfig,
    action: StatusAction,
    digests: Sequence[bytes],
    reason: int,
    now_ms: int,
) -> list[StatusRequest]:
    """Record and enqueue ``action`` for distinct ``digests``, in requests of ``MAX_BATCH``.

    Inside the caller's write transaction ``tx``, so all requests or none are made.
    Every digest must have been issued here (``UnknownCredentialError``) and allow
    the transition from the status last requested (``StatusTransitionError``).
    """
    if not 0 <= int(reason) <= 0xFFFF:
        raise StatusTransitionError("a status reason is a uint16 code")
    target = target_status(action)
    requests: list[StatusRequest] = []
    for index in range(0, len(digests), MAX_BATCH):
        chunk = list(digests[index : index + MAX_BATCH])
        _check_transitions(tx, chunk, target)
        tx.execute(
            "INSERT INTO cred_status_requests (action, reason, digests, created_at_ms, "
            "state) VALUES (?, ?, ?, ?, 'pending')",
            (action.value, int(reason), b"".join(chunk), now_ms),
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
            f"{config.issuer_id}:{request_id}",
            config.credential_anchor,
            CredentialAnchor.status_calldata(action, config.issuer_id, chunk, int(reason)),
            done_errors=(INVALID_TRANSITION,),
            now_ms=now_ms,
        )
        requests.append(StatusRequest(request_id, action, int(reason), tuple(chunk)))
    return requests


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


def status_request(
    db: Database, config: IssuerConfig, request_id: int
) -> StatusRequestProgress | None:
    """Status request ``request_id`` and its state (failed: the outbox gave it up), or None."""
    with db.read() as tx:
        found = StatusRequestRow.read(tx, request_id)
    if found is None:
        return None
    state = found.state
    if state is StatusRequestState.PENDING:
        queued = outbox.item(db, STATUS_KIND, f"{config.issuer_id}:{request_id}")
        if queued is not None and queued.state is OutboxState.FAILED:
            state = StatusRequestState.FAILED
    return StatusRequestProgress(found.request, state, found.block_number)


def status_final(tx: Transaction, item: OutboxItem) -> None:
    """Mark the request of outbox ``item`` final, in the outbox's own transaction."""
    request_id = int(item.key.partition(":")[2])
    tx.execute(
        "UPDATE cred_status_requests SET state = 'final', block_number = ? WHERE id = ?",
        (item.block_number, request_id),
    )
