"""Fixtures for the audit log (the store and keys come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.sqlite import SqliteDatabase

LOG_ID = 330000
VERIFIER = Caller("verifier-app", "440000")


@pytest.fixture
def audit_log(
    db: SqliteDatabase, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[AuditLog]:
    log = AuditLog(db, LOG_ID, signer, pseudonyms)
    yield log
    log.close()


def access(
    n: int = 0, *, subject: str | None = "did:key:zHolder", key: str | None = None
) -> EventInput:
    """An ordinary verification event."""
    return EventInput(
        action="credential.verify",
        resource="credential:" + f"{n:064x}",
        purpose="cross-province.enrolment",
        legal_basis="prc.pipl.art13",
        outcome=Outcome.SUCCESS,
        request_id=f"req-{n}",
        subject_id=subject,
        idempotency_key=key,
    )
