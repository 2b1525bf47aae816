"""Issuing gives every credential its Bitstring Status List entries, signed with it.

``CredentialIssuer(status_base=...)`` reserves one random slot per credential
before signing (``credentials.issuance.status_entries``), writes one
``BitstringStatusListEntry`` per purpose (revocation, suspension) at that slot's
index into the credential, and binds the slot to the credential's digest in the
transaction that stores it. No chain is needed for any of it. Every test runs
on SQLite, then on PostgreSQL.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from credentials.credential import (
    IssueRequest,
    SignedCredential,
    credential_digest,
    secured_form,
)
from credentials.cryptosuite import verify_proof
from credentials.did import issuer_did
from credentials.errors import CredentialIdTakenError
from credentials.holder import Holder
from credentials.issuance import (
    CredentialIssuer,
    Idempotency,
    IssuerConfig,
    Replay,
    request_hash,
)
from credentials.issuance.status_slots import Slot, slot_of
from credentials.status_list import ENTRY_TYPE, list_url
from credentials.submitted import SubmittedCredential
from ledger.crypto import sm4
from ledger.crypto.errors import InvalidSignature
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.contracts import ZJ
from tests.helpers.credentials import ZJ_KEY, degree_request

CHAIN_ID = 31337
BASE = "https://zj.example.gov.cn/tongban"
PURPOSES = ("revocation", "suspension")


@pytest.fixture
def db(any_db: Database) -> Database:
    """The issuer's store, once per engine (tests/conftest.py ``any_db``)."""
    return any_db


def _issuer(
    db: Database, status_base: Callable[[], str | None] | None = lambda: BASE
) -> CredentialIssuer:
    config = IssuerConfig(CHAIN_ID, ZJ, "0x" + "11" * 20, batch_size=100, batch_max_wait_ms=1000)
    signer = LocalSigner(f"{issuer_did(CHAIN_ID, ZJ)}#key-1", ZJ_KEY)
    return CredentialIssuer(
        db,
        config,
        signer,
        data_key=sm4.generate_key(),
        clock=lambda: 1_800_000_000_000,
        status_base=status_base,
    )


def _slot_rows(db: Database) -> list[tuple[int, int, bytes | None]]:
    with db.read() as tx:
        rows = tx.fetchall("SELECT list_number, idx, digest FROM status_list_slots")
    return [(int(n), int(i), None if d is None else bytes(d)) for n, i, d in rows]


def _bound_slot(db: Database, credential: SignedCredential) -> Slot:
    with db.read() as tx:
        slot = slot_of(tx, credential.digest)
    assert slot is not None
    return slot


def _check_entries(entries: list[dict[str, Any]], slot: Slot) -> None:
    """Two entries, one per purpose, at ``slot``, naming their lists under ``BASE``."""
    assert [e["statusPurpose"] for e in entries] == list(PURPOSES)
    for entry, purpose in zip(entries, PURPOSES, strict=True):
        url = list_url(BASE, slot.list_number, purpose)
        assert url == f"{BASE}/status-lists/{slot.list_number}/{purpose}"
        assert entry == {
            "id": f"{url}#{slot.index}",
            "type": ENTRY_TYPE,
            "statusPurpose": purpose,
            "statusListIndex": str(slot.index),
            "statusListCredential": url,
        }


def test_each_credential_gets_two_entries_at_its_bound_slot(db: Database, holder: Holder) -> None:
    issuer = _issuer(db)
    credential = issuer.issue(degree_request(holder))
    entries = credential.document["credentialStatus"]
    assert entries[0]["type"] == "BitstringStatusListEntry"
    slot = _bound_slot(db, credential)
    assert slot.list_number == 1
    _check_entries(entries, slot)
    assert _slot_rows(db) == [(1, slot.index, credential.digest)]
    # The stored (sealed) credential is the one answered, entries included.
    stored = issuer.credential(credential.digest, require_anchor=False)
    assert stored["credentialStatus"] == entries


def test_the_entries_are_inside_the_signed_secured_form(db: Database, holder: Holder) -> None:
    credential = _issuer(db).issue(degree_request(holder))
    document = credential.document
    secured = secured_form(document)
    assert "credentialStatus" in secured
    assert credential_digest(document) == credential.digest
    verify_proof(secured, document["proof"], ZJ_KEY.public_key)

    # Another index (a holder pointing at someone else's bit): digest and proof break.
    moved = copy.deepcopy(document)
    index = int(moved["credentialStatus"][0]["statusListIndex"])
    moved["credentialStatus"][0]["statusListIndex"] = str((index + 1) % 131_072)
    assert credential_digest(moved) != credential.digest
    with pytest.raises(InvalidSignature):
        verify_proof(secured_form(moved), moved["proof"], ZJ_KEY.public_key)
    # Entries dropped altogether: the same.
    dropped = {k: v for k, v in document.items() if k != "credentialStatus"}
    assert credential_digest(dropped) != credential.digest
    with pytest.raises(InvalidSignature):
        verify_proof(secured_form(dropped), dropped["proof"], ZJ_KEY.public_key)


def test_a_batch_of_50_gets_50_distinct_indexes_each_bound_to_its_credential(
    db: Database, holder: Holder
) -> None:
    issued = _issuer(db).issue_many([degree_request(holder) for _ in range(50)])
    slots = [_bound_slot(db, c) for c in issued]
    assert len({s.index for s in slots}) == 50
    for credential, slot in zip(issued, slots, strict=True):
        _check_entries(credential.document["credentialStatus"], slot)
    rows = _slot_rows(db)
    assert len(rows) == 50
    assert {d for _, _, d in rows} == {c.digest for c in issued}


def test_an_idempotent_replay_allocates_nothing_new(db: Database, holder: Holder) -> None:
    issuer = _issuer(db)
    requests: list[IssueRequest] = [degree_request(holder) for _ in range(3)]
    key = Idempotency("issuer-app", "key-1", request_hash("issue/batch", requests))
    first = issuer.issue_once(requests, key)
    assert first.replay is Replay.NEW
    rows = _slot_rows(db)
    assert len(rows) == 3

    again = issuer.issue_once(requests, key)
    assert again.replay is Replay.REPLAYED
    assert [c.digest for c in again.credentials] == [c.digest for c in first.credentials]
    assert [c.document["credentialStatus"] for c in again.credentials] == [
        c.document["credentialStatus"] for c in first.credentials
    ]
    assert _slot_rows(db) == rows  # no slot reserved, none bound again
    with db.read() as tx:
        row = tx.fetchone("SELECT SUM(reserved) FROM status_list_lists")
    assert row is not None
    assert int(row[0]) == 3


@pytest.mark.parametrize("status_base", [None, lambda: None], ids=["no-base", "base-unknown"])
def test_without_a_status_base_no_entries_are_added(
    db: Database, holder: Holder, status_base: Callable[[], str | None] | None
) -> None:
    credential = _issuer(db, status_base).issue(degree_request(holder))
    assert "credentialStatus" not in credential.document
    assert _slot_rows(db) == []
    with db.read() as tx:
        assert slot_of(tx, credential.digest) is None


def _submitted(**members: Any) -> dict[str, Any]:
    """An unsecured VCDM 2.0 credential of no template's type, as the VC API receives it."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": issuer_did(CHAIN_ID, ZJ),
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": Holder.generate().did, "memberOf": "浙江省数据局"},
        **members,
    }


def test_a_submitted_credential_keeps_its_own_status_before_the_issuers_entries(
    db: Database,
) -> None:
    own = {
        "id": "https://registry.example/status/7#42",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "message",
        "statusListIndex": "42",
        "statusListCredential": "https://registry.example/status/7",
    }
    issuer = _issuer(db)
    credential = issuer.issue(SubmittedCredential(_submitted(credentialStatus=own)))
    entries = credential.document["credentialStatus"]
    assert entries[0] == own
    _check_entries(entries[1:], _bound_slot(db, credential))
    assert credential_digest(credential.document) == credential.digest

    # Without its own status it gets the issuer's two entries only.
    plain = issuer.issue(SubmittedCredential(_submitted()))
    _check_entries(plain.document["credentialStatus"], _bound_slot(db, plain))


def test_an_issuance_refused_after_reserving_leaves_its_slot_unbound(db: Database) -> None:
    issuer = _issuer(db)
    kept = issuer.issue(SubmittedCredential(_submitted(), credential_id="urn:example:1"))
    with pytest.raises(CredentialIdTakenError):
        issuer.issue(SubmittedCredential(_submitted(), credential_id="urn:example:1"))
    rows = _slot_rows(db)
    assert len(rows) == 2  # the refused one's slot was reserved before signing...
    assert [d for _, _, d in rows if d is not None] == [kept.digest]  # ...and never bound
    unbound = next(i for _, i, d in rows if d is None)
    assert unbound != _bound_slot(db, kept).index
