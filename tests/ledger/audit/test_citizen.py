"""The citizen view: only the holder, with a fresh challenge, sees who accessed their data."""

from __future__ import annotations

import pytest

from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy
from ledger.audit.citizen import CitizenAccessError, CitizenView
from ledger.audit.citizen_request import request_payload
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto import multikey
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import verify_inclusion
from ledger.store.challenges import Challenges
from ledger.store.database import Database
from tests.helpers.audit import VERIFIER, access
from tests.helpers.contracts import ZJ, World


def _holder() -> tuple[LocalSigner, str]:
    key = Sm2PrivateKey.generate()
    signer = LocalSigner("holder", key)
    return signer, "did:key:" + multikey.encode(signer.public_key)


def test_the_holder_sees_their_events_with_proofs_to_the_anchored_checkpoint(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> None:
    holder, did = _holder()
    _, other_did = _holder()
    audit_log = AuditLog(db, ZJ, signer, pseudonyms)
    anchorer = CheckpointAnchorer(audit_log, world.client.chain_id, world.audit, CheckpointPolicy())
    writer = world.accounts.zj_writer
    processor = OutboxProcessor(
        db, NonceManager(world.client, writer, OutboxJournal(db, writer.address))
    )
    anchorer.register(processor)
    try:
        audit_log.append_many(
            VERIFIER,
            [access(i, subject=did if i % 3 == 0 else other_did) for i in range(12)],
        )
        anchorer.maybe_checkpoint(force=True)
        processor.run_until_final()
        audit_log.append(VERIFIER, access(99, subject=did))  # not anchored yet

        view = CitizenView(audit_log, anchorer, Challenges(db))
        challenge = view.challenge(did)
        signature = holder.sign(request_payload(ZJ, did, challenge))
        report = view.answer(did, challenge, signature, "req-citizen-1")

        assert [r.result.index for r in report.records] == [0, 3, 6, 9, 12]
        anchored = report.anchored
        assert anchored is not None
        assert anchored.tree_size == 12
        assert world.audit.latest_checkpoint(ZJ).root == anchored.root  # type: ignore[union-attr]
        for record in report.records[:-1]:
            assert record.inclusion_proof is not None
            verify_inclusion(
                SM3_TREE,
                record.result.index,
                anchored.tree_size,
                record.result.receipt.leaf_hash,
                record.inclusion_proof,
                anchored.root,
            )
        assert report.records[-1].inclusion_proof is None  # after the last anchored checkpoint
        last = audit_log.event(audit_log.size() - 1)
        assert last is not None
        assert last.event.action == "audit.citizen_view"  # the answer itself was logged

        with pytest.raises(CitizenAccessError, match="already used"):
            view.answer(did, challenge, signature, "req-citizen-2")
    finally:
        audit_log.close()


def test_someone_else_cannot_ask_for_the_holder(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> None:
    _, did = _holder()
    intruder, _ = _holder()
    audit_log = AuditLog(db, ZJ, signer, pseudonyms)
    view = CitizenView(
        audit_log, CheckpointAnchorer(audit_log, world.client.chain_id, world.audit), Challenges(db)
    )
    try:
        challenge = view.challenge(did)
        forged = intruder.sign(request_payload(ZJ, did, challenge))
        with pytest.raises(CitizenAccessError, match="signature"):
            view.answer(did, challenge, forged, "r1")
        with pytest.raises(CitizenAccessError, match="did:key"):
            view.challenge("110101199003071234")
        # A challenge issued for one holder cannot serve another, even correctly signed.
        holder_other, other = _holder()
        signed_by_other = holder_other.sign(request_payload(ZJ, other, challenge))
        with pytest.raises(CitizenAccessError, match="refused"):
            view.answer(other, challenge, signed_by_other, "r2")
    finally:
        audit_log.close()
