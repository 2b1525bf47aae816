"""Fixtures for the audit log: every test with ``db`` runs on SQLite, then on PostgreSQL.

The stores and keys come from tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.audit import LOG_ID


@pytest.fixture
def db(any_db: Database) -> Database:
    """A new store, once per engine (tests/conftest.py ``any_db``)."""
    return any_db


@pytest.fixture
def audit_log(db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys) -> Iterator[AuditLog]:
    log = AuditLog(db, LOG_ID, signer, pseudonyms)
    yield log
    log.close()
