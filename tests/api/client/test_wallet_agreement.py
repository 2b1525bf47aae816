"""The wallet's check and the verifier agree: same verdict, same reason code.

The tamper corpus (``tests.helpers.tamper``, the verifier's 10,000 mutations) is
fed to both ``api.client.wallet.check_credential`` and ``Verifier.evaluate_credential``.
The wallet receives credentials, not presentations, so a presentation case
contributes the credentials it carries. The wallet is given what ``tongban wallet
receive --url`` gives it: the key its issuer's DID document lists for the proof's
verification method; and, like a wallet configured for this consortium, the
verifier's chain id and CredentialAnchor.

Where the verifier's lowest-numbered failure is one of ``OUT_OF_REACH`` the case
is excluded: those checks read the chain (or the verification time), which the
wallet does not have. Every other case must agree exactly: VALID where the
wallet accepts, and otherwise the wallet's ``WalletError.reason`` is the
verifier's first failure's reason code.
"""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import api.client.wallet as wallet_module
from api.client.wallet import WalletError, check_credential, issuer_key
from credentials.anchor_proof import data_integrity_proofs
from credentials.did import resolve_issuer
from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.verify import OfflineFailure, ParsedCredential, Passed, TrustedChain, Verifier
from credentials.verify import check_offline as shared
from ledger.crypto.sm2 import Sm2PublicKey
from tests.helpers.contracts import World
from tests.helpers.credentials import (
    VerifyingProvince,
    make_issuing_province,
    make_verifying_province,
)
from tests.helpers.tamper import SEED, TOTAL, Scene, mutations, setup_scene

OUT_OF_REACH: dict[Reason, str] = {
    Reason.VERIFICATION_METHOD_UNKNOWN: "(1) which keys the registry holds, at the index height",
    Reason.ISSUER_UNKNOWN: "(2) whether the registry admitted the issuer",
    Reason.KEY_NOT_YET_VALID_AT_ANCHOR: "(2) the key's registry history at the anchor block time",
    Reason.KEY_RETIRED_AT_ANCHOR: "(2) the key's registry history at the anchor block time",
    Reason.KEY_COMPROMISED_AT_ANCHOR: "(2) the key's registry history at the anchor block time",
    Reason.ANCHOR_PROOF_MISSING: (
        "(3) the wallet stores a credential before its batch is anchored and fetches the "
        "anchor proof later (fetch-proofs); only a verifier requires it"
    ),
    Reason.ROOT_NOT_ANCHORED: "(3) whether the root is anchored on chain",
    Reason.ANCHOR_TREE_SIZE_MISMATCH: "(3) the anchored tree size on chain",
    Reason.ANCHOR_BLOCK_MISMATCH: "(3) the anchoring block on chain",
    Reason.REVOKED: "(4) the digest's status on chain",
    Reason.SUSPENDED: "(4) the digest's status on chain",
    Reason.NOT_YET_VALID: "(5) the verification time: judged when presented, by the verifier",
    Reason.EXPIRED: "(5) the verification time: judged when presented, by the verifier",
}
"""Verifier reason codes the wallet cannot reach, and why (the excluded cases)."""


@pytest.fixture
def scene(world: World, tmp_path: Path) -> Iterator[tuple[Scene, VerifyingProvince]]:
    zhejiang = make_issuing_province(world, tmp_path)
    guangdong = make_verifying_province(world, tmp_path)
    try:
        yield setup_scene(zhejiang, guangdong, world, Holder.generate()), guangdong
    finally:
        guangdong.audit.close()
        guangdong.db.close()
        zhejiang.db.close()


class Comparison:
    """Runs one credential through both, and tallies agreements and exclusions."""

    def __init__(self, verifier: Verifier, guangdong: VerifyingProvince, holder: str) -> None:
        self.verifier = verifier
        self.guangdong = guangdong
        self.holder = holder
        self.trusted = verifier.config.trusted
        self.documents: dict[str, dict[str, Any] | None] = {}
        self.agreed: Counter[str] = Counter()
        self.excluded: Counter[str] = Counter()

    def _did_document(self, issuer: str) -> dict[str, Any] | None:
        if issuer not in self.documents:
            try:
                with self.guangdong.index.view() as view:
                    self.documents[issuer] = resolve_issuer(view, issuer)
            except ValueError:
                self.documents[issuer] = None
        return self.documents[issuer]

    def issuer_key(self, credential: object) -> Sm2PublicKey | None:
        """The key ``tongban wallet receive --url`` would hand the wallet, if any."""
        if not isinstance(credential, dict) or not isinstance(credential.get("issuer"), str):
            return None
        proofs = data_integrity_proofs(credential)
        if not proofs or not isinstance(proofs[0], dict):
            return None
        method = proofs[0].get("verificationMethod")
        document = self._did_document(credential["issuer"])
        if not isinstance(method, str) or document is None:
            return None
        try:
            return issuer_key(document, method)
        except WalletError:
            return None

    def disagreement(self, credential: object, now_ms: int | None) -> str | None:
        """None if both agree (or the case is out of the wallet's reach), else what differs."""
        # The wallet holds decoded JSON, where a str is a JSON string; the verifier reads
        # a str as JSON text, so it gets that string's text.
        document = json.dumps(credential) if isinstance(credential, str) else credential
        result = self.verifier.evaluate_credential(document, now_ms=now_ms)
        failure = result.first_failure()
        if failure is not None and failure.status is CheckStatus.ERROR:
            return f"the verifier erred: {failure}"
        if failure is not None and failure.reason_code in OUT_OF_REACH:
            self.excluded[failure.reason_code] += 1
            return None
        expected = None if failure is None else failure.reason_code
        try:
            check_credential(
                credential,
                self.holder,
                issuer_public_key=self.issuer_key(credential),
                trusted=self.trusted,
            )
            found = None
        except WalletError as exc:
            found = None if exc.reason is None else exc.reason.value
            if found is None:
                return f"the wallet refused without a reason code: {exc}"
        if found != expected:
            return f"verifier {expected or 'VALID'}, wallet {found or 'accepted'}"
        self.agreed[expected or "VALID"] += 1
        return None


def _credentials_of(document: object, presentation: bool) -> list[object]:
    """What the wallet would receive from a case: the credential, or those a presentation holds."""
    if not presentation:
        return [document]
    carried = document.get("verifiableCredential") if isinstance(document, dict) else None
    return list(carried) if isinstance(carried, list) else []


def test_the_wallet_and_the_verifier_agree_on_every_mutation_the_wallet_can_judge(
    scene: tuple[Scene, VerifyingProvince], monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, guangdong = scene
    compare = Comparison(corpus.verifier, guangdong, corpus.holder.did)
    for document in [corpus.base, *corpus.credentials]:
        assert compare.disagreement(document, None) is None
    cases = 0
    no_credential = 0
    differences: list[tuple[str, object, str]] = []
    for case in mutations(corpus, random.Random(SEED)):
        cases += 1
        carried = _credentials_of(case.document, case.presentation)
        no_credential += not carried
        for credential in carried:
            difference = compare.disagreement(credential, case.now_ms)
            if difference is not None:
                differences.append((case.category, case.what, difference))
    assert cases == TOTAL
    assert differences == []

    # The three rules the wallet used to skip are now the verifier's, with its codes.
    base = corpus.base
    wrong_type = {**copy.deepcopy(base), "type": ["DegreeCertificate", "VerifiableCredential"]}
    unsorted_sd = copy.deepcopy(base)
    unsorted_sd["credentialSubject"]["_sd"].reverse()
    short_salt = copy.deepcopy(base)
    short_salt["disclosures"][0][0] = "AAAAAAAAAAAAAAAAAAAA"  # 15 bytes: under 128 bits
    for document, reason in [
        (wrong_type, Reason.TYPE_INVALID),
        (unsorted_sd, Reason.SD_INVALID),
        (short_salt, Reason.DISCLOSURE_SALT_TOO_SHORT),
    ]:
        assert compare.disagreement(document, None) is None
        with pytest.raises(WalletError) as refused:
            check_credential(document, corpus.holder.did, issuer_public_key=None)
        assert refused.value.reason is reason
        assert reason.value in str(refused.value)
    for reason in (Reason.TYPE_INVALID, Reason.SD_INVALID, Reason.SIGNATURE_INVALID):
        assert compare.agreed[reason] > 0, reason
    print(
        json.dumps(
            {
                "cases": cases,
                "presentation cases carrying no credential": no_credential,
                "agreed": dict(compare.agreed),
                "excluded (out of the wallet's reach)": dict(compare.excluded),
            },
            indent=1,
        )
    )

    # The comparison can fail: a wallet that lets a wrong type list through disagrees.

    def lenient(
        document: object,
        *,
        trusted: TrustedChain | None = None,
        issuer_key: Sm2PublicKey | None = None,
    ) -> Passed[ParsedCredential] | OfflineFailure:
        outcome = shared(document, trusted=trusted, issuer_key=issuer_key)
        if isinstance(outcome, OfflineFailure) and outcome.reason is Reason.TYPE_INVALID:
            assert isinstance(document, dict)
            # Like the old wallet: any type list naming VerifiableCredential will do.
            retyped = {**document, "type": base["type"]}
            return shared(retyped, trusted=trusted, issuer_key=issuer_key)
        return outcome

    monkeypatch.setattr(wallet_module, "check_offline", lenient)
    assert compare.disagreement(wrong_type, None) == "verifier type_invalid, wallet accepted"
