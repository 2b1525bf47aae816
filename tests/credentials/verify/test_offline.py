"""The checks that need no chain (``credentials.verify.offline``), without a chain.

Credentials are signed locally as Zhejiang (its key-1 is scalar 1) and anchor proofs
built over in-memory Merkle trees, as the citizen's wallet would see them.
"""

from __future__ import annotations

import copy
from typing import Any

from credentials.anchor_proof import AnchorProof
from credentials.credential import (
    IssueRequest,
    credential_digest,
    issue_credential,
    with_anchor_proof,
)
from credentials.did import issuer_verification_method
from credentials.holder import Holder
from credentials.reasons import Check, Reason
from credentials.verify import OfflineFailure, Passed, TrustedChain, check_offline
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.tree import MemoryTree
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY

CHAIN_ID = 31337
ZJ = 1
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _issue() -> dict[str, Any]:
    signer = LocalSigner(issuer_verification_method(CHAIN_ID, ZJ, "key-1"), ZJ_KEY)
    request = IssueRequest("degree-certificate", Holder.generate().did, DEGREE_CLAIMS)
    return issue_credential(
        request, signer, chain_id=CHAIN_ID, issuer_id=ZJ, now_ms=1_780_000_000_000
    ).document


def _anchored(credential: dict[str, Any]) -> dict[str, Any]:
    tree = MemoryTree(SM3_TREE)
    digest = credential_digest(credential)
    for leaf in (bytes(32), digest, bytes([1]) * 32):
        tree.append_data(leaf)
    proof = AnchorProof(
        CHAIN_ID, CONTRACT, ZJ, tree.root(), 1, tree.size, tuple(tree.inclusion_proof(1)), 42
    )
    return with_anchor_proof(credential, proof.to_json())


def _failure(outcome: object) -> tuple[Check, Reason]:
    assert isinstance(outcome, OfflineFailure), outcome
    return outcome.check, outcome.reason


def test_a_sound_credential_passes_with_or_without_the_key_and_the_anchor_proof() -> None:
    credential = _issue()
    for document in (credential, _anchored(credential)):
        outcome = check_offline(document, issuer_key=ZJ_KEY.public_key)
        assert isinstance(outcome, Passed)
        assert outcome.value.digest == credential_digest(credential)
        assert isinstance(check_offline(document), Passed)


def test_the_signature_is_checked_only_with_a_key() -> None:
    altered = copy.deepcopy(_issue())
    altered["validFrom"] = "2020-01-01T00:00:00Z"
    assert isinstance(check_offline(altered), Passed)
    wrong = Sm2PrivateKey.generate().public_key
    assert _failure(check_offline(altered, issuer_key=ZJ_KEY.public_key)) == (
        Check.ISSUER_PROOF,
        Reason.SIGNATURE_INVALID,
    )
    assert _failure(check_offline(_issue(), issuer_key=wrong)) == (
        Check.ISSUER_PROOF,
        Reason.SIGNATURE_INVALID,
    )


def test_the_trusted_chain_and_contract_are_compared_only_when_known() -> None:
    anchored = _anchored(_issue())
    assert isinstance(check_offline(anchored, trusted=TrustedChain(CHAIN_ID, CONTRACT)), Passed)
    assert _failure(check_offline(anchored, trusted=TrustedChain(CHAIN_ID + 1))) == (
        Check.ISSUER_PROOF,
        Reason.ISSUER_CHAIN_MISMATCH,
    )
    other = "0x" + "ab" * 20
    assert _failure(check_offline(anchored, trusted=TrustedChain(CHAIN_ID, other))) == (
        Check.ANCHOR,
        Reason.ANCHOR_CONTRACT_MISMATCH,
    )
    foreign = copy.deepcopy(anchored)
    foreign["anchor"]["chainId"] = CHAIN_ID + 1
    assert _failure(check_offline(foreign)) == (Check.ANCHOR, Reason.ANCHOR_CHAIN_MISMATCH)


def test_the_lowest_numbered_failure_is_reported() -> None:
    anchored = _anchored(_issue())
    broken = copy.deepcopy(anchored)
    broken["anchor"]["leafIndex"] = 0  # (3)
    broken["disclosures"][0][2] = "tampered"  # (7)
    assert _failure(check_offline(broken)) == (Check.ANCHOR, Reason.ANCHOR_ROOT_MISMATCH)
    broken["proof"]["proofPurpose"] = "authentication"  # (1)
    assert _failure(check_offline(broken)) == (Check.ISSUER_PROOF, Reason.PROOF_PURPOSE_MISMATCH)
    broken["type"] = []  # (0)
    assert _failure(check_offline(broken)) == (Check.PARSE, Reason.TYPE_INVALID)


def test_a_decoded_string_is_a_json_string_not_text() -> None:
    assert _failure(check_offline('{"a": 1}')) == (Check.PARSE, Reason.STRUCTURE_INVALID)
