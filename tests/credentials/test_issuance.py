"""The issuing pipeline: batching, anchoring through the outbox, proofs, status, key compromise.

The issuer's store (``db``, and Zhejiang's) is SQLite, then PostgreSQL; Guangdong stays on SQLite.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credentials.credential import IssueRequest
from credentials.did import issuer_did
from credentials.errors import (
    AnchorPendingError,
    ConfigurationError,
    InputRejectedError,
    SchemaViolationError,
    StatusTransitionError,
    UnknownCredentialError,
    UnknownTemplateError,
)
from credentials.holder import Holder
from credentials.issuance import (
    BATCH_KIND,
    DEFAULT_TTL_MS,
    STATUS_KIND,
    AnchoringState,
    BatchAnchorer,
    CredentialIssuer,
    Idempotency,
    IssuerConfig,
    Replay,
    idempotency,
    request_hash,
)
from credentials.reasons import CheckStatus, Reason, Verdict
from credentials.signing import SigningPool
from credentials.status import DigestStatus, StatusReason
from ledger.chain import outbox
from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import encode_call
from ledger.chain.index import ChainIndex
from ledger.crypto import sm4
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import verify_inclusion
from ledger.store.database import Database
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import (
    DEGREE_CLAIMS,
    ZJ_KEY,
    IssuingProvince,
    VerifyingProvince,
    degree_request,
    make_issuing_province,
    request,
)


@pytest.fixture
def db(any_db: Database) -> Database:
    """The issuer's store, once per engine (tests/conftest.py ``any_db``)."""
    return any_db


@pytest.fixture
def zhejiang(world: World, tmp_path: Path, any_db: Database) -> IssuingProvince:
    """Zhejiang issuing from a store on each engine in turn (batches, status changes, outbox)."""
    return make_issuing_province(world, tmp_path, db=any_db)


class Clock:
    """A settable millisecond clock."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _offline_issuer(db: Database, clock: Clock | None = None) -> CredentialIssuer:
    config = IssuerConfig(31337, ZJ, "0x" + "11" * 20, batch_size=4, batch_max_wait_ms=1000)
    signer = LocalSigner(f"{issuer_did(31337, ZJ)}#key-1", ZJ_KEY)
    return CredentialIssuer(
        db, config, signer, data_key=sm4.generate_key(), clock=clock or Clock(1_800_000_000_000)
    )


def test_issuance_needs_no_chain(db: Database, holder: Holder) -> None:
    issuer = _offline_issuer(db)
    issued = issuer.issue_many([degree_request(holder) for _ in range(3)])
    assert len({c.digest for c in issued}) == 3
    for credential in issued:
        assert issuer.anchoring_status(credential.digest).state is AnchoringState.PENDING
        with pytest.raises(AnchorPendingError):
            issuer.anchor_proof(credential.digest)
        document = issuer.credential(credential.digest, require_anchor=False)
        assert document == credential.document
    with pytest.raises(UnknownCredentialError):
        issuer.anchoring_status(b"\x00" * 32)


def test_stored_credentials_are_sealed(db: Database, holder: Holder) -> None:
    issuer = _offline_issuer(db)
    issuer.issue(degree_request(holder))
    with db.read() as tx:
        rows = tx.fetchall("SELECT document FROM cred_issued")
    blob = bytes(rows[0][0])
    for value in DEGREE_CLAIMS.values():
        assert str(value).encode() not in blob
    assert holder.did.encode() not in blob


def test_bad_requests_are_refused_without_echoing_values(db: Database, holder: Holder) -> None:
    issuer = _offline_issuer(db)
    secret = "SECRET-VALUE-42"
    with pytest.raises(SchemaViolationError) as caught:
        issuer.issue(degree_request(holder, claims={**DEGREE_CLAIMS, "degreeLevel": secret}))
    assert secret not in str(caught.value)
    assert caught.value.pointer == "/credentialSubject/degreeLevel"
    with pytest.raises(SchemaViolationError):
        issuer.issue(degree_request(holder, claims={**DEGREE_CLAIMS, "unknownClaim": "x"}))
    missing = dict(DEGREE_CLAIMS)
    del missing["holderName"]
    with pytest.raises(SchemaViolationError):
        issuer.issue(degree_request(holder, claims=missing))
    with pytest.raises(InputRejectedError) as big:
        issuer.issue(degree_request(holder, claims={**DEGREE_CLAIMS, "studyMode": 2**60}))
    assert big.value.reason == Reason.INPUT_NUMBER_OUT_OF_RANGE
    with pytest.raises(SchemaViolationError):
        issuer.issue(degree_request(holder, holder="did:key:zNotAKey"))
    with pytest.raises(UnknownTemplateError):
        issuer.issue(degree_request(holder, template="passport"))
    with pytest.raises(SchemaViolationError):
        issuer.issue(
            degree_request(
                holder, valid_from="2030-01-01T00:00:00Z", valid_until="2029-01-01T00:00:00Z"
            )
        )
    # One bad request in a batch: nothing is stored.
    with pytest.raises(SchemaViolationError):
        issuer.issue_many(
            [degree_request(holder), degree_request(holder, claims={"holderName": "x"})]
        )
    with db.read() as tx:
        count = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
    assert count is not None
    assert count[0] == 0


def test_configuration_is_checked(db: Database) -> None:
    config = IssuerConfig(31337, ZJ, "0x" + "11" * 20)
    wrong = LocalSigner(f"{issuer_did(31337, GD)}#key-1", ZJ_KEY)
    with pytest.raises(ConfigurationError):
        CredentialIssuer(db, config, wrong, data_key=sm4.generate_key())
    _offline_issuer(db)
    other = IssuerConfig(31337, GD, "0x" + "11" * 20)
    signer = LocalSigner(f"{issuer_did(31337, GD)}#key-1", ZJ_KEY)
    with pytest.raises(ConfigurationError):
        CredentialIssuer(db, other, signer, data_key=sm4.generate_key())
    with pytest.raises(ConfigurationError):
        IssuerConfig(31337, ZJ, "0x" + "11" * 20, batch_size=0)


def test_status_calldata_is_the_bindings_encoding(db: Database, holder: Holder) -> None:
    issuer = _offline_issuer(db)
    digests = [c.digest for c in issuer.issue_many([degree_request(holder) for _ in range(3)])]
    [single] = issuer.revoke(digests[:1], StatusReason.ISSUED_IN_ERROR)
    [bulk] = issuer.suspend(digests[1:], StatusReason.UNDER_REVIEW)
    artifact = load_artifact("CredentialAnchor")
    expected = {
        single.request_id: encode_call(artifact, "revoke", ZJ, digests[0], 3),
        bulk.request_id: encode_call(artifact, "suspendBatch", ZJ, digests[1:], 7),
    }
    for request_id, calldata in expected.items():
        item = outbox.item(db, STATUS_KIND, f"{ZJ}:{request_id}")
        assert item is not None
        assert item.to_address == issuer.config.credential_anchor
        assert item.calldata == calldata


def test_batches_seal_on_size_then_on_time(world: World, db: Database, holder: Holder) -> None:
    clock = Clock(1_800_000_000_000)
    config = IssuerConfig(
        world.client.chain_id, ZJ, world.addresses.credential_anchor, batch_size=4,
        batch_max_wait_ms=1000,
    )  # fmt: skip
    signer = LocalSigner(f"{config.did}#key-1", ZJ_KEY)
    issuer = CredentialIssuer(db, config, signer, data_key=sm4.generate_key(), clock=clock)
    anchorer = BatchAnchorer(db, config, world.credential, clock=clock)
    issued = issuer.issue_many([degree_request(holder) for _ in range(10)])
    sealed = anchorer.seal_due()
    assert [b.tree_size for b in sealed] == [4, 4]
    assert anchorer.seal_due() == []  # 2 wait for more company, or for time
    states = [issuer.anchoring_status(c.digest).state for c in issued]
    assert states == [AnchoringState.SEALED] * 8 + [AnchoringState.PENDING] * 2
    clock.now += 1000
    [last] = anchorer.seal_due()
    assert last.tree_size == 2
    for batch in [*sealed, last]:
        item = outbox.item(db, BATCH_KIND, f"{ZJ}:{batch.root.hex()}")
        assert item is not None
        assert item.to_address == world.addresses.credential_anchor
        assert item.calldata == world.credential.contract.encode(
            "anchor", ZJ, batch.root, batch.tree_size, bytes(32)
        )
    status = issuer.anchoring_status(issued[5].digest)
    assert (status.root, status.tree_size, status.leaf_index) == (sealed[1].root, 4, 1)


def test_anchor_proofs_after_finality(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(7)])
    zhejiang.anchor_all()
    roots = set()
    for index, credential in enumerate(issued):
        proof = zhejiang.issuer.anchor_proof(credential.digest)
        assert (proof.leaf_index, proof.tree_size, proof.issuer_id) == (index, 7, ZJ)
        assert proof.contract == zhejiang.world.addresses.credential_anchor
        verify_inclusion(
            SM3_TREE,
            proof.leaf_index,
            proof.tree_size,
            SM3_TREE.hash_leaf(credential.digest),
            proof.audit_path,
            proof.root,
        )
        roots.add(proof.root)
    [root] = roots
    anchored = zhejiang.world.credential.anchor_of(ZJ, root)
    assert anchored is not None
    assert anchored.tree_size == 7
    status = zhejiang.issuer.anchoring_status(issued[0].digest)
    assert (status.block_number, status.block_time) == (anchored.block_number, anchored.timestamp)
    guangdong.sync()
    for credential in issued:
        document = zhejiang.issuer.credential(credential.digest)
        result = guangdong.verifier.verify_credential(document, request())
        assert result.valid, result.checks


def test_an_anchoring_already_on_chain_is_read_back(
    zhejiang: IssuingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    [batch] = zhejiang.anchorer.seal_due(force=True)
    # The writer's earlier life anchored the root, then crashed before recording it.
    world = zhejiang.world
    world.credential.anchor(world.zj_writer, ZJ, batch.root, batch.tree_size)
    zhejiang.sender.resync()
    report = zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    item = outbox.item(zhejiang.db, BATCH_KIND, f"{ZJ}:{batch.root.hex()}")
    assert item is not None
    assert item.already_done, (item, report)
    proof = zhejiang.issuer.anchor_proof(issued.digest)
    anchored = world.credential.anchor_of(ZJ, batch.root)
    assert anchored is not None
    assert proof.block_number == anchored.block_number


def test_revocation_and_suspension_single_and_in_bulk(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(6)])
    zhejiang.anchor_all()
    digests = [c.digest for c in issued]
    issuer = zhejiang.issuer
    [single] = issuer.revoke([digests[0]], StatusReason.ISSUED_IN_ERROR)
    [bulk] = issuer.revoke(digests[1:4], StatusReason.DATA_CHANGED)
    assert bulk.digests == tuple(digests[1:4])
    issuer.suspend(digests[4:6], StatusReason.UNDER_REVIEW)
    issuer.reinstate([digests[5]], StatusReason.REVIEW_CLEARED)
    with pytest.raises(StatusTransitionError):
        issuer.revoke([digests[0]])
    with pytest.raises(StatusTransitionError):
        issuer.reinstate([digests[1]])
    with pytest.raises(StatusTransitionError):
        issuer.suspend([digests[4]])
    with pytest.raises(UnknownCredentialError):
        issuer.revoke([b"\x01" * 32])
    assert issuer.local_status(digests[4]) is DigestStatus.SUSPENDED
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    credential_anchor = zhejiang.world.credential
    on_chain = credential_anchor.statuses_of(ZJ, digests)
    assert [s.status for s in on_chain] == [DigestStatus.REVOKED] * 4 + [
        DigestStatus.SUSPENDED,
        DigestStatus.NONE,
    ]
    assert on_chain[0].reason == StatusReason.ISSUED_IN_ERROR
    assert on_chain[5].reason == StatusReason.REVIEW_CLEARED
    item = outbox.item(zhejiang.db, "credential_status", f"{ZJ}:{single.request_id}")
    assert item is not None
    assert item.block_number is not None
    guangdong.sync()
    reasons = []
    for digest in digests:
        result = guangdong.verifier.verify_credential(issuer.credential(digest), request())
        reasons.append(result.check(4).reason_code)
    assert reasons == [Reason.REVOKED] * 4 + [Reason.SUSPENDED, Reason.OK]


def test_key_compromise_workflow(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    world = zhejiang.world
    issuer = zhejiang.issuer
    key2 = Sm2PrivateKey.generate()
    world.registry.add_key(world.zj_admin, ZJ, "key-2", key2.public_key.compressed())
    signer2 = LocalSigner(f"{zhejiang.config.did}#key-2", key2)
    early = issuer.issue_many([degree_request(holder) for _ in range(2)], signer=signer2)
    zhejiang.anchor_all()
    world.advance(100)
    late = issuer.issue_many([degree_request(holder) for _ in range(3)], signer=signer2)
    unrelated = issuer.issue(degree_request(holder))  # key-1
    zhejiang.anchor_all()
    late_time = issuer.anchoring_status(late[0].digest).block_time
    early_time = issuer.anchoring_status(early[0].digest).block_time
    assert late_time is not None
    assert early_time is not None
    assert early_time < late_time
    pending = issuer.issue(degree_request(holder), signer=signer2)  # not anchored yet
    # The admin marks key-2 compromised from the late batch's block time.
    world.registry.mark_key_compromised(world.zj_admin, ZJ, "key-2", late_time)

    affected = issuer.affected_by_compromise("key-2", late_time)
    assert affected == [c.digest for c in late] + [pending.digest]
    report = issuer.respond_to_compromise("key-2", late_time, issuer.signer)
    assert report.affected == affected
    assert sum(len(r.digests) for r in report.revocations) == 4
    assert set(report.reissued) == set(affected)
    for old, new in report.reissued.items():
        assert issuer.replaced_by(old) == new.digest
        assert new.key_id == "key-1"
    zhejiang.anchor_all()
    guangdong.sync()

    def verdict(digest: bytes) -> tuple[CheckStatus | Verdict, str, str]:
        result = guangdong.verifier.verify_credential(issuer.credential(digest), request())
        return result.verdict, result.check(2).reason_code, result.check(4).reason_code

    for credential in late:
        assert verdict(credential.digest) == (
            CheckStatus.INVALID,
            Reason.KEY_COMPROMISED_AT_ANCHOR,
            Reason.REVOKED,
        )
    for credential in [*early, unrelated]:
        assert verdict(credential.digest) == (CheckStatus.VALID, Reason.OK, Reason.OK)
    for new in report.reissued.values():
        assert verdict(new.digest) == (CheckStatus.VALID, Reason.OK, Reason.OK)
        old_claims = {d[1]: d[2] for d in early[0].document["disclosures"]}
        new_claims = {d[1]: d[2] for d in new.document["disclosures"]}
        assert old_claims == new_claims
    # Running it again changes nothing: all revoked, all re-issued.
    again = issuer.respond_to_compromise("key-2", late_time, issuer.signer)
    assert again.revocations == []
    assert again.reissued == {}


def test_a_signing_pool_signs_the_same_credentials(db: Database, holder: Holder) -> None:
    config = IssuerConfig(31337, ZJ, "0x" + "11" * 20)
    signer = LocalSigner(f"{config.did}#key-1", ZJ_KEY)
    with SigningPool(signer.key_id, ZJ_KEY, workers=2, chunk=3) as pool:
        issuer = CredentialIssuer(db, config, signer, data_key=sm4.generate_key(), pool=pool)
        issued = issuer.issue_many([degree_request(holder) for _ in range(8)])
        assert len({c.digest for c in issued}) == 8
        with pytest.raises(SchemaViolationError):
            issuer.issue_many(
                [degree_request(holder)] * 4
                + [IssueRequest("degree-certificate", holder.did, {"holderName": "x"})]
            )
        other = LocalSigner(f"{config.did}#key-2", Sm2PrivateKey.generate())
        with pytest.raises(ConfigurationError):
            CredentialIssuer(db, config, other, data_key=sm4.generate_key(), pool=pool)
    with db.read() as tx:
        count = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
    assert count is not None
    assert count[0] == 8
    document = issuer.credential(issued[0].digest, require_anchor=False)
    assert json.loads(json.dumps(document)) == issued[0].document


# -- exactly once per idempotency key ------------------------------------------------------


def _count(db: Database, table: str) -> int:
    with db.read() as tx:
        row = tx.fetchone(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


def test_a_key_issues_once_replays_in_order_and_refuses_another_request(
    db: Database,
) -> None:
    clock = Clock(1_800_000_000_000)
    issuer = _offline_issuer(db, clock)
    requests = [degree_request(Holder.generate()) for _ in range(3)]
    key = Idempotency("issuer-app", "k-1", request_hash("issue/batch", requests))
    first = issuer.issue_once(requests, key)
    assert first.replay is Replay.NEW
    clock.now += 1000
    again = issuer.issue_once(requests, key)
    assert again.replay is Replay.REPLAYED
    assert [c.digest for c in again.credentials] == [c.digest for c in first.credentials]
    assert [c.document for c in again.credentials] == [c.document for c in first.credentials]
    assert [c.key_id for c in again.credentials] == [c.key_id for c in first.credentials]
    other = Idempotency("issuer-app", "k-1", request_hash("issue/batch", requests[:2]))
    assert issuer.issue_once(requests[:2], other).credentials == []
    assert issuer.issue_once(requests[:2], other).replay is Replay.CONFLICT
    elsewhere = Idempotency("issuer-two", "k-1", key.request_hash)
    assert issuer.issue_once(requests, elsewhere).replay is Replay.NEW
    assert _count(db, "cred_issued") == 6


def test_the_request_hash_is_canonical_and_names_the_operation(holder: Holder) -> None:
    one = degree_request(holder)
    reordered = degree_request(holder, claims=dict(reversed(list(DEGREE_CLAIMS.items()))))
    assert request_hash("issue", [one]) == request_hash("issue", [reordered])
    assert request_hash("issue", [one]) != request_hash("issue/batch", [one])
    dated = degree_request(holder, valid_until="2099-12-31T00:00:00Z")
    assert request_hash("issue", [one]) != request_hash("issue", [dated])
    assert request_hash("issue", [one, dated]) != request_hash("issue", [dated, one])


def test_keys_expire_and_are_pruned(db: Database, holder: Holder) -> None:
    clock = Clock(1_800_000_000_000)
    issuer = _offline_issuer(db, clock)
    requests = [degree_request(holder)]
    key = Idempotency("issuer-app", "k-1", request_hash("issue", requests))
    [first] = issuer.issue_once(requests, key).credentials
    other = Idempotency("issuer-app", "k-2", key.request_hash)
    issuer.issue_once(requests, other)
    clock.now += DEFAULT_TTL_MS - 1
    assert issuer.issue_once(requests, key).replay is Replay.REPLAYED
    assert issuer.prune_idempotency_keys() == 0
    clock.now += 1
    renewed = issuer.issue_once(requests, key)
    assert renewed.replay is Replay.NEW
    assert renewed.credentials[0].digest != first.digest
    # The renewed key replaced the expired one; the other expired key went with it.
    assert _count(db, "cred_idempotency") == 1
    clock.now += DEFAULT_TTL_MS
    assert issuer.prune_idempotency_keys() == 1
    assert _count(db, "cred_idempotency") == 0


def test_credentials_and_their_key_are_stored_together_or_not_at_all(
    db: Database, holder: Holder, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = _offline_issuer(db)
    requests = [degree_request(holder) for _ in range(2)]
    key = Idempotency("issuer-app", "k-1", request_hash("issue/batch", requests))

    def crash(*args: object) -> None:
        raise OSError("the disk went away")

    monkeypatch.setattr(idempotency, "record", crash)
    with pytest.raises(OSError, match="disk"):
        issuer.issue_once(requests, key)
    assert _count(db, "cred_issued") == 0
    monkeypatch.undo()
    assert issuer.issue_once(requests, key).replay is Replay.NEW
    assert (_count(db, "cred_issued"), _count(db, "cred_idempotency")) == (2, 1)


def test_a_final_batch_counts_as_anchored_once_the_provinces_index_holds_it(
    zhejiang: IssuingProvince, holder: Holder
) -> None:
    """What a province hands out as anchored, its own verifier (reading its index) accepts."""
    world = zhejiang.world
    index = ChainIndex(
        zhejiang.db,
        world.client.chain_id,
        world.addresses.registry,
        world.addresses.credential_anchor,
        client=world.client,
    )
    zhejiang.issuer.indexed_height = lambda: index.height
    [issued] = zhejiang.issuer.issue_many([degree_request(holder)])
    zhejiang.anchor_all()
    # Final on chain, but the index has not synced the anchor's block yet.
    assert index.height < world.client.block_number()
    assert zhejiang.issuer.anchoring_status(issued.digest).state is AnchoringState.SEALED
    with pytest.raises(AnchorPendingError):
        zhejiang.issuer.anchor_proof(issued.digest)
    with pytest.raises(AnchorPendingError):
        zhejiang.issuer.credential(issued.digest)
    index.sync()
    status = zhejiang.issuer.anchoring_status(issued.digest)
    assert status.state is AnchoringState.ANCHORED
    assert status.block_number is not None
    assert status.block_number <= index.height
    assert zhejiang.issuer.anchor_proof(issued.digest).block_number == status.block_number
