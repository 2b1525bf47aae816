"""auditproof.js reads AuditAnchor on a real anvil over JSON-RPC and checks an event against it.

The province's log is anchored by the province's own code (``CheckpointAnchorer`` through the
outbox, tests/helpers/audit.py ``AnchoredAuditLog``) on the test consortium. The inputs are the
JSON the API serves (``appended``, ``checkpoint_out``, ``InclusionProofOut``). node's ``fetch``
talks to anvil the way the console page's does; the Chromium test is test_auditproof_browser.py.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from api.http.schemas.audit import ConsistencyProofOut, InclusionProofOut
from api.http.schemas.common import appended, checkpoint_out
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.audit import AnchoredAuditLog
from tests.helpers.contracts import ZJ, World
from tests.webwallet.auditproof_side import run_calls

STEPS = ["input", "chain", "key", "event", "receipt", "note", "anchor", "finality", "inclusion"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Province:
    """An anchored log and the API's JSON for its events, proofs and checkpoints."""

    def __init__(self, world: World, db: Database, signer: LocalSigner, keys: PseudonymKeys):
        self.world = world
        self.audit = AnchoredAuditLog(world, db, signer, keys)
        self.audit.append_and_anchor(5)
        self.audit.append_and_anchor(12)
        self.audit.append_and_anchor(16)
        self.key = signer.public_key.compressed().hex()

    def checkpoints(self) -> list[dict[str, Any]]:
        """GET /audit/checkpoints, oldest first."""
        stored = self.audit.anchorer.checkpoints()
        return [checkpoint_out(c).model_dump(by_alias=True) for c in stored]

    def options(self, index: int, checkpoint: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """verifyEventInBrowser's arguments for event ``index`` under ``checkpoint``."""
        log = self.audit.log
        result = log.event(index)
        assert result is not None
        size = checkpoint["treeSize"]
        _, root = log.root(size)
        proof = InclusionProofOut(
            index=index,
            tree_size=size,
            leaf_hash=result.receipt.leaf_hash.hex(),
            root=root.hex(),
            proof=[node.hex() for node in log.inclusion_proof(index, size)],
        ).model_dump(by_alias=True)
        body = appended(result)
        options = {
            "rpcUrl": self.world.client.url,
            "chainId": self.world.client.chain_id,
            "anchorAddress": self.world.addresses.audit_anchor,
            "logId": ZJ,
            "event": body["event"],
            "receipt": body["receipt"],
            "inclusionProof": proof,
            "checkpoint": checkpoint,
            "provincePublicKey": self.key,
        }
        options.update(changes)
        return options

    def consistency(self, size1: int, size2: int) -> dict[str, Any]:
        """GET /audit/proofs/consistency?from=size1&to=size2."""
        log = self.audit.log
        return ConsistencyProofOut.model_validate(
            {
                "from": size1,
                "to": size2,
                "fromRoot": log.root(size1)[1].hex(),
                "toRoot": log.root(size2)[1].hex(),
                "proof": [node.hex() for node in log.consistency_proof(size1, size2)],
            }
        ).model_dump(by_alias=True)


@pytest.fixture
def province(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Province:
    return Province(world, db, signer, pseudonyms)


def _codes(result: dict[str, Any]) -> dict[str, str]:
    return {step["step"]: step["code"] for step in result["steps"]}


def test_an_event_verifies_against_the_root_read_from_anvil_over_json_rpc(
    province: Province, world: World, signer: LocalSigner
) -> None:
    checkpoints = province.checkpoints()
    assert [c["treeSize"] for c in checkpoints] == [5, 17, 33]
    assert all(c["state"] == "anchored" for c in checkpoints)
    uncompressed = signer.public_key.uncompressed().hex()
    calls: list[list[Any]] = [
        ["verifyEvent", province.options(0, checkpoints[0])],
        ["verifyEvent", province.options(4, checkpoints[0])],
        ["verifyEvent", province.options(16, checkpoints[1], provincePublicKey=uncompressed)],
        ["verifyEvent", province.options(32, checkpoints[2])],
    ]
    results = run_calls(calls)
    on_chain = world.audit.checkpoints(ZJ)
    expected = [on_chain[0], on_chain[0], on_chain[1], on_chain[2]]
    for result, chained in zip(results, expected, strict=True):
        assert result["ok"] is True, result
        assert result["code"] == "ok"
        assert [(step["step"], step["code"]) for step in result["steps"]] == [
            (step, "ok") for step in STEPS
        ]
        assert result["keySource"] == "caller"
        assert result["anchored"]["root"] == chained.root.hex()
        assert result["anchored"]["treeSize"] == chained.tree_size
        assert result["anchored"]["blockNumber"] == chained.block_number
        assert result["anchored"]["index"] == chained.index
        assert result["anchored"]["confirmations"] >= 1


def test_wrong_chain_wrong_contract_unreachable_node_and_shallow_blocks_are_refused(
    province: Province, world: World
) -> None:
    newest = province.checkpoints()[-1]
    calls: list[list[Any]] = [
        ["verifyEvent", province.options(20, newest, chainId=world.client.chain_id + 1)],
        ["verifyEvent", province.options(20, newest, anchorAddress=world.addresses.registry)],
        ["verifyEvent", province.options(20, newest, rpcUrl=f"http://127.0.0.1:{_closed_port()}")],
        ["verifyEvent", province.options(20, newest, confirmations=3)],
        ["verifyEvent", province.options(20, newest, rpcUrl="file:///etc/passwd")],
        ["verifyEvent", province.options(20, {**newest, "blockNumber": None, "state": "pending"})],
    ]
    wrong_chain, wrong_contract, unreachable, shallow, bad_url, pending = run_calls(calls)
    assert (wrong_chain["ok"], _codes(wrong_chain)["chain"]) == (False, "chain.id_mismatch")
    assert _codes(wrong_chain)["inclusion"] == "skipped"
    assert (wrong_contract["ok"], wrong_contract["code"]) == (False, "anchor.not_found")
    assert (unreachable["ok"], unreachable["code"]) == (False, "rpc.unreachable")
    assert (shallow["ok"], shallow["code"]) == (False, "finality.too_shallow")
    assert _codes(shallow)["inclusion"] == "ok", "the proof itself holds; only depth is short"
    assert (bad_url["ok"], bad_url["code"]) == (False, "input.rpc_url")
    assert (pending["ok"], pending["code"]) == (False, "anchor.not_anchored")
    # Offline steps still ran and passed; the note names its chain, so the wrong one shows there.
    for result in (wrong_contract, unreachable, shallow, bad_url, pending):
        assert [_codes(result)[s] for s in ("event", "receipt", "note")] == ["ok"] * 3
    assert _codes(wrong_chain)["note"] == "note.origin_mismatch"

    world.client.rpc("evm_mine")
    world.client.rpc("evm_mine")
    [deep] = run_calls([["verifyEvent", province.options(20, newest, confirmations=3)]])
    assert (deep["ok"], deep["anchored"]["confirmations"]) == (True, 3)


def test_a_root_altered_in_the_provinces_database_is_detected_against_the_chain(
    province: Province,
) -> None:
    newest = province.checkpoints()[-1]
    forged = bytes(32 - 1) + b"\x01"
    province.audit.sql(
        "UPDATE audit_checkpoints SET root = ? WHERE tree_size = ?", forged, newest["treeSize"]
    )
    altered = province.checkpoints()[-1]
    assert altered["root"] == forged.hex()
    options = province.options(7, altered)
    # A province lying consistently would also serve a proof to its forged root: still refused,
    # since the browser checks the proof against the chain's root only.
    lying_proof = {**options["inclusionProof"], "root": forged.hex()}
    tampered_path = list(options["inclusionProof"]["proof"])
    tampered_path[0] = "00" * 32
    calls: list[list[Any]] = [
        ["verifyEvent", options],
        ["verifyEvent", {**options, "inclusionProof": lying_proof}],
        [
            "verifyEvent",
            province.options(
                7, newest, inclusionProof={**options["inclusionProof"], "proof": tampered_path}
            ),
        ],
    ]
    altered_root, lying, bad_path = run_calls(calls)
    assert (altered_root["ok"], _codes(altered_root)["anchor"]) == (False, "anchor.root_mismatch")
    assert _codes(altered_root)["note"] == "note.body_mismatch", "the signed note still says so"
    assert (lying["ok"], _codes(lying)["anchor"]) == (False, "anchor.root_mismatch")
    assert (bad_path["ok"], bad_path["code"]) == (False, "inclusion.root_mismatch")
    assert _codes(bad_path)["anchor"] == "ok"


def test_a_checkpoint_timeline_is_anchored_and_consistent_and_a_broken_link_is_found(
    province: Province, world: World
) -> None:
    checkpoints = province.checkpoints()
    proofs = [province.consistency(5, 17), province.consistency(17, 33)]
    base = {
        "rpcUrl": world.client.url,
        "chainId": world.client.chain_id,
        "anchorAddress": world.addresses.audit_anchor,
        "logId": ZJ,
        "provincePublicKey": province.key,
        "checkpoints": list(reversed(checkpoints)),
    }
    broken = [dict(proofs[0]), proofs[1]]
    broken[0]["proof"] = ["11" * 32, *proofs[0]["proof"][1:]]
    calls: list[list[Any]] = [
        ["timeline", {**base, "consistencyProofs": proofs}],
        ["timeline", {**base, "consistencyProofs": broken}],
        ["timeline", {**base, "consistencyProofs": proofs[1:]}],
        ["timeline", {**base, "consistencyProofs": [province.consistency(5, 33)]}],
    ]
    good, bad, missing, skipping = run_calls(calls)
    assert (good["ok"], good["code"]) == (True, "ok")
    assert [c["treeSize"] for c in good["checkpoints"]] == [5, 17, 33]
    assert all(c["ok"] for c in good["checkpoints"])
    assert [(link["from"], link["to"], link["ok"]) for link in good["links"]] == [
        (5, 17, True),
        (17, 33, True),
    ]
    assert (bad["ok"], bad["code"]) == (False, "consistency.root_mismatch")
    assert [link["ok"] for link in bad["links"]] == [False, True]
    assert (missing["ok"], missing["code"]) == (False, "consistency.missing")
    assert (skipping["ok"], skipping["code"]) == (False, "consistency.missing")


def test_without_a_key_given_the_receipt_key_is_read_from_the_registry_the_anchor_names(
    province: Province, world: World, signer: LocalSigner
) -> None:
    checkpoints = province.checkpoints()
    newest = checkpoints[-1]
    options = province.options(11, newest, provincePublicKey=None)
    unknown = {**options, "receipt": {**options["receipt"], "keyId": "key-that-is-not-there"}}
    timeline = {
        "rpcUrl": world.client.url,
        "chainId": world.client.chain_id,
        "anchorAddress": world.addresses.audit_anchor,
        "logId": ZJ,
        "checkpoints": checkpoints,
        "consistencyProofs": [province.consistency(5, 17), province.consistency(17, 33)],
    }
    from_chain, not_listed, timeline_from_chain = run_calls(
        [["verifyEvent", options], ["verifyEvent", unknown], ["timeline", timeline]]
    )
    assert (from_chain["ok"], from_chain["keySource"]) == (True, "chain"), from_chain
    assert (not_listed["ok"], _codes(not_listed)["key"]) == (False, "key.unknown")
    assert _codes(not_listed)["receipt"] == "skipped"
    assert timeline_from_chain["ok"] is True, timeline_from_chain
    assert [c["steps"][0]["step"] for c in timeline_from_chain["checkpoints"]] == ["note"] * 3

    # Marked compromised from before the receipt: refused; the registry keeps the key listed.
    world.registry.mark_key_compromised(world.zj_admin, ZJ, signer.key_id, 1)
    [compromised] = run_calls([["verifyEvent", options]])
    assert (compromised["ok"], compromised["code"]) == (False, "key.compromised")
    assert _codes(compromised)["inclusion"] == "ok", "the chain's root still holds the event"
