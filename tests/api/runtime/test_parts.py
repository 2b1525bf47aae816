"""The service's own assembly (``api.runtime.parts``): one province issues, another verifies."""

from __future__ import annotations

from pathlib import Path

from credentials.credential import IssueRequest
from credentials.holder import Holder
from credentials.verify import VerificationRequest
from ledger.audit.events import Caller
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.provinces import served_province


def test_open_province_issues_and_another_province_verifies(world: World, tmp_path: Path) -> None:
    holder = Holder.generate()
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        assert zhejiang.parts.keyring.active_key_id() == "key-1"
        assert guangdong.parts.keyring.active_key_id() == "key-1x"
        assert zhejiang.parts.audit_log.signer.key_id == "key-1"
        signer = zhejiang.parts.keyring.credential_signer()
        assert signer.key_id == f"{zhejiang.did}#key-1"
        request = IssueRequest("degree-certificate", holder.did, dict(DEGREE_CLAIMS))
        issued = zhejiang.parts.issuer.issue(request, signer=signer)
        zhejiang.anchor_all()
        credential = zhejiang.parts.issuer.credential(issued.digest)
        guangdong.sync()
        result = guangdong.parts.verifier.verify_credential(
            credential,
            VerificationRequest(Caller("verifier-app", "440000"), "enrolment", "prc.pipl", "r-1"),
        )
        assert result.valid, result.first_failure()
        # The verification is an access event in Guangdong's log, not Zhejiang's.
        assert [r.event.action for r in guangdong.parts.audit_log.iterate()] == [
            "credential.verify"
        ]
        assert zhejiang.parts.audit_log.size() == 0
