"""Fixtures for the audit log (the store and keys come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.audit import LOG_ID


@pytest.fixture
def audit_log(
    db: SqliteDatabase, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[AuditLog]:
    log = AuditLog(db, LOG_ID, signer, pseudonyms)
    yield log
    log.close()
