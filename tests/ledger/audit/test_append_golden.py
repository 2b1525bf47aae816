"""The append path's output is pinned: fixed clock, random source and signatures give fixed rows.

The digest below was recorded from the code before the per-event work was cut
(issue #14). Any change to ids, pseudonyms, canonical JSON, leaf hashes, receipt
trees, tree nodes or signed statements changes it, so faster code must keep it.
It runs on each engine: PostgreSQL must store exactly the rows SQLite stores.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import secrets

import pytest

from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AppendResult, AuditLog, GuardRefusedError
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.crypto.sm3 import sm3
from ledger.store.database import Database, Transaction
from tests.helpers.stores import StoreTarget

GOLDEN = "05479c901cf80e0a5f3e61d65af4b906d4ea9426b336ca3cb6a4f98e8ae71a6a"


class _FixedSigner(LocalSigner):
    """Deterministic "signatures" (SM3 of the message), so the rows are reproducible."""

    def _sign_bytes(self, message: bytes) -> bytes:
        return sm3(b"fixed-signature" + message) * 2


class _Stream:
    """One seeded byte stream behind every random call the append path may make."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def bytes(self, n: int | None = 32) -> bytes:
        return self._random.randbytes(32 if n is None else n)

    def bits(self, k: int) -> int:
        size = (k + 7) // 8
        return int.from_bytes(self.bytes(size)) >> (size * 8 - k)


def _event(n: int, *, key: str | None = None) -> EventInput:
    subjects = [None, "did:key:zAlice", "did:key:zBob", "did:key:zCarol", f"did:key:zOne{n}"]
    outcomes = list(Outcome)
    return EventInput(
        action=("credential.verify", "record.read", "presentation.check")[n % 3],
        resource="credential:" + f"{n:064x}" if n % 4 else "record:household.register",
        purpose=("cross-province.enrolment", "social.security")[n % 2],
        legal_basis="prc.pipl.art13",
        outcome=outcomes[n % len(outcomes)],
        request_id=f"req-{n}",
        subject_id=subjects[n % len(subjects)],
        idempotency_key=key,
    )


def _digest(db: Database, results: list[list[AppendResult] | str]) -> str:
    state = hashlib.sha256()
    with db.read() as tx:
        for table in ("audit_batches", "audit_events", "audit_nodes"):
            for row in tx.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2"):
                state.update(repr(row).encode())
    for call in results:
        if isinstance(call, str):
            state.update(call.encode())
            continue
        for result in call:
            state.update(result.event.canonical_bytes())
            document = {
                "index": result.index,
                "replayed": result.replayed,
                "receipt": result.receipt.to_json(),
            }
            state.update(json.dumps(document, sort_keys=True).encode())
    return state.hexdigest()


def _run(store: StoreTarget, monkeypatch: pytest.MonkeyPatch) -> str:
    stream = _Stream(14)
    monkeypatch.setattr(os, "urandom", stream.bytes)
    monkeypatch.setattr(secrets, "token_bytes", stream.bytes)
    monkeypatch.setattr(secrets, "randbits", stream.bits)
    ticks = itertools.count(1_800_000_000_000, 7)
    db = store.open()
    signer = _FixedSigner("audit-golden", Sm2PrivateKey.generate())
    keys = PseudonymKeys({1: bytes(range(32)), 2: bytes(range(1, 33))}, 2)
    log = AuditLog(db, 330000, signer, keys, clock=lambda: next(ticks))
    caller = Caller("verifier-app", "440000")
    other = Caller("other-app", "310000")
    results: list[list[AppendResult] | str] = []
    try:
        results.append(log.append_many(caller, [_event(n) for n in range(3)]))
        results.append([log.append(other, _event(3, key="k-3"))])
        # Over 256 events: several signed batches; repeated keys inside and across calls.
        batch = [_event(n, key=f"k-{n % 40}" if n % 5 == 0 else None) for n in range(600)]
        results.append(log.append_many(caller, batch))
        results.append(log.append_many(other, [_event(3, key="k-3"), _event(601)]))

        def refuse(tx: Transaction) -> bool:
            return False

        try:
            log.submit(caller, [_event(700)], guard=refuse).result()
        except GuardRefusedError as exc:
            results.append(str(exc))
        results.append(log.append_many(caller, [_event(n) for n in range(800, 2100)]))
        results.append(log.append_many(other, [_event(5000)]))
    finally:
        log.close()
    try:
        return _digest(db, results)
    finally:
        db.close()


def test_appends_store_exactly_the_recorded_rows_and_receipts(
    store_target: StoreTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(store_target, monkeypatch) == GOLDEN
