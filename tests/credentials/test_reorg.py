"""A reorg below finality removes a batch's anchoring: no proof is handed out, the outbox
re-anchors, and the credential then verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from credentials.errors import AnchorPendingError
from credentials.holder import Holder
from credentials.issuance import BATCH_KIND, AnchoringState
from credentials.reasons import CheckStatus, Reason
from ledger.chain import outbox
from ledger.chain.outbox import OutboxState
from tests.helpers.contracts import ZJ, World
from tests.helpers.credentials import (
    VerifyingProvince,
    degree_request,
    make_issuing_province,
    request,
)


def test_a_reorged_anchoring_is_redone_before_any_proof_exists(
    world: World, tmp_path: Path, guangdong: VerifyingProvince, holder: Holder
) -> None:
    zhejiang = make_issuing_province(world, tmp_path, confirmations=3)
    try:
        issued = zhejiang.issuer.issue(degree_request(holder))
        [batch] = zhejiang.anchorer.seal_due(force=True)
        key = f"{ZJ}:{batch.root.hex()}"
        zhejiang.processor.step()  # signs and sends: anvil mines it at once
        zhejiang.processor.step()  # sees it mined, 1 of 3 confirmations
        item = outbox.item(zhejiang.db, BATCH_KIND, key)
        assert item is not None
        assert item.state is OutboxState.CONFIRMED
        assert world.credential.anchor_of(ZJ, batch.root) is not None
        # Mined but not final: nothing is handed out.
        assert zhejiang.issuer.anchoring_status(issued.digest).state is AnchoringState.SEALED
        with pytest.raises(AnchorPendingError):
            zhejiang.issuer.anchor_proof(issued.digest)
        with pytest.raises(AnchorPendingError):
            zhejiang.issuer.credential(issued.digest)
        # A verifier that already indexed the mined block sees the root...
        guangdong.sync()
        with guangdong.index.view() as view:
            assert view.anchor(ZJ, batch.root) is not None

        world.client.rpc("anvil_reorg", 1, [])  # the anchoring block is replaced
        assert world.credential.anchor_of(ZJ, batch.root) is None
        # ...and forgets it after the reorg.
        guangdong.sync()
        with guangdong.index.view() as view:
            assert view.anchor(ZJ, batch.root) is None
        unanchored = zhejiang.issuer.credential(issued.digest, require_anchor=False)
        early = guangdong.verifier.verify_credential(unanchored, request(1))
        assert early.verdict is CheckStatus.INVALID
        assert early.check(3).reason_code == Reason.ANCHOR_PROOF_MISSING

        report = zhejiang.processor.step()
        item = outbox.item(zhejiang.db, BATCH_KIND, key)
        assert item is not None
        assert item.id in report.reorged
        assert item.id in report.rebroadcast or item.id in report.requeued
        with pytest.raises(AnchorPendingError):
            zhejiang.issuer.anchor_proof(issued.digest)
        world.client.rpc("anvil_mine", 3)
        zhejiang.processor.run_until_final(timeout=60, poll=0.01)

        status = zhejiang.issuer.anchoring_status(issued.digest)
        assert status.state is AnchoringState.ANCHORED
        on_chain = world.credential.anchor_of(ZJ, batch.root)
        assert on_chain is not None
        assert status.block_number == on_chain.block_number
        proof = zhejiang.issuer.anchor_proof(issued.digest)
        assert proof.block_number == on_chain.block_number
        guangdong.sync()
        result = guangdong.verifier.verify_credential(
            zhejiang.issuer.credential(issued.digest), request(2)
        )
        assert result.verdict is CheckStatus.VALID, result.checks
    finally:
        zhejiang.db.close()
