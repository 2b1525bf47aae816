"""The service's own assembly (``api.runtime.parts``): one province issues, another verifies."""

from __future__ import annotations

from pathlib import Path

from api.runtime.writer import province_duties
from credentials.credential import IssueRequest
from credentials.holder import Holder
from credentials.issuance import Idempotency, request_hash
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


def test_the_writer_prunes_expired_idempotency_keys(world: World, tmp_path: Path) -> None:
    """A province that stops issuing still drops its expired keys (docs/api.md, expiry)."""
    holder = Holder.generate()
    with served_province(world, tmp_path, ZJ) as zhejiang:
        issuer = zhejiang.parts.issuer
        request = IssueRequest("degree-certificate", holder.did, dict(DEGREE_CLAIMS))
        key = Idempotency("issuer-app", "k-1", request_hash("issue", [request]))
        issuer.issue_once([request], key, signer=zhejiang.parts.keyring.credential_signer())
        duties = {d.name: d for d in province_duties(zhejiang.parts, [], zhejiang.batches)}
        prune = duties["idempotency-prune"]
        assert prune.interval <= 3600
        assert prune.run() == 0  # not expired yet
        issuer.idempotency_ttl_ms = 0
        assert prune.run() == 1
