"""Exactly-once issuance: an idempotency key is stored with the digests it answered.

A keyed issuance (``Idempotency``: the caller's scope, e.g. its API client id,
the key it chose, and the SM3 hash of what it asked) is stored in
``cred_idempotency`` with the digests of the credentials it issued, in order,
**in the same store transaction as those credentials**: a crash leaves either
both or neither. A retry with the same scope and key finds the row: with the
same request hash it replays those credentials, with another it is a conflict;
nothing new is issued either way.

Keys expire ``DEFAULT_TTL_MS`` (24 hours) after the issuance that stored them:
an expired key acts as new. Expired rows are pruned lazily, by the next keyed
issuance (in its own transaction), or by ``prune``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credentials.credential import SignedCredential
from credentials.issuance.store import split_hashes
from credentials.jcs import canonicalize
from credentials.submitted import CredentialRequest, SubmittedCredential
from ledger.crypto.sm3 import sm3
from ledger.store.database import Transaction

__all__ = [
    "DEFAULT_TTL_MS",
    "Idempotency",
    "KeyedIssue",
    "Replay",
    "StoredKey",
    "find",
    "prune",
    "record",
    "request_hash",
]

DEFAULT_TTL_MS = 24 * 60 * 60 * 1000
"""How long an idempotency key is remembered: 24 hours from its issuance."""


@dataclass(frozen=True)
class Idempotency:
    """One keyed issuance: whose key (``scope``), the ``key``, and the request's hash."""

    scope: str
    key: str
    request_hash: bytes


class Replay(StrEnum):
    """What a keyed issuance did."""

    NEW = "new"
    """The key was unknown (or expired): the credentials were issued now."""
    REPLAYED = "replayed"
    """The key answered the same request before: its credentials, nothing issued."""
    CONFLICT = "conflict"
    """The key answered another request before: nothing issued, nothing returned."""


@dataclass(frozen=True)
class KeyedIssue:
    """The credentials of a keyed issuance (none on a conflict) and what it did."""

    credentials: list[SignedCredential]
    replay: Replay


@dataclass(frozen=True)
class StoredKey:
    """A live key: the hash of the request it answered and that answer's digests."""

    request_hash: bytes
    digests: tuple[bytes, ...]


def _request_json(request: CredentialRequest) -> dict[str, Any]:
    if isinstance(request, SubmittedCredential):
        submitted: dict[str, Any] = {
            "credential": dict(request.credential),
            "disclosable": list(request.disclosable),
        }
        if request.mandatory is not None:
            submitted["mandatory"] = list(request.mandatory)
        if request.credential_id is not None:
            submitted["credentialId"] = request.credential_id
        # As in the template dialect: only when named (``options.agency``).
        if request.agency is not None:
            submitted["agency"] = {"code": request.agency.code, "name": request.agency.name}
        return submitted
    document: dict[str, Any] = {
        "template": request.template,
        "holder": request.holder,
        "claims": dict(request.claims),
    }
    if request.valid_from is not None:
        document["validFrom"] = request.valid_from
    if request.valid_until is not None:
        document["validUntil"] = request.valid_until
    # Only when named, so the hashes of keys stored before agencies existed stay the same.
    if request.agency is not None:
        document["agency"] = {"code": request.agency.code, "name": request.agency.name}
    if request.related_file is not None:
        document["certificateFile"] = request.related_file.to_request_json()
    return document


def request_hash(kind: str, requests: Sequence[CredentialRequest]) -> bytes:
    """SM3 of the JCS of ``kind`` (which operation) and ``requests``: what a key stands for.

    Canonical, so the same requests sent with other spacing or member order hash
    the same; an absent date and a null one are the same request.
    """
    document = {"kind": kind, "requests": [_request_json(r) for r in requests]}
    return sm3(canonicalize(document))


def _live_after(now_ms: int, ttl_ms: int) -> int:
    return now_ms - ttl_ms


def find(tx: Transaction, idempotency: Idempotency, now_ms: int, ttl_ms: int) -> StoredKey | None:
    """The live row of ``idempotency``'s scope and key, or None (never stored, or expired)."""
    row = tx.fetchone(
        "SELECT request_hash, digests FROM cred_idempotency "
        "WHERE scope = ? AND idem_key = ? AND created_at_ms > ?",
        (idempotency.scope, idempotency.key, _live_after(now_ms, ttl_ms)),
    )
    if row is None:
        return None
    return StoredKey(bytes(row[0]), split_hashes(bytes(row[1])))


def prune(tx: Transaction, now_ms: int, ttl_ms: int) -> int:
    """Delete the expired keys; returns how many."""
    return tx.execute(
        "DELETE FROM cred_idempotency WHERE created_at_ms <= ?", (_live_after(now_ms, ttl_ms),)
    )


def record(
    tx: Transaction,
    idempotency: Idempotency,
    digests: Sequence[bytes],
    now_ms: int,
    ttl_ms: int,
) -> None:
    """Store ``idempotency`` with ``digests`` (after pruning expired keys, its own included).

    Call it in the transaction that stores the credentials, after ``find`` found
    nothing in that same transaction.
    """
    prune(tx, now_ms, ttl_ms)
    tx.execute(
        "INSERT INTO cred_idempotency (scope, idem_key, request_hash, digests, created_at_ms) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            idempotency.scope,
            idempotency.key,
            idempotency.request_hash,
            b"".join(digests),
            now_ms,
        ),
    )
