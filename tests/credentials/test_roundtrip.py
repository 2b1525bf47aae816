"""Issue in Zhejiang, anchor, verify in Guangdong, which shares only the chain."""

from __future__ import annotations

import json

from credentials.holder import Holder
from credentials.issuance import AnchoringState
from credentials.reasons import CheckStatus, Reason
from tests.helpers.credentials import (
    DEGREE_CLAIMS,
    IssuingProvince,
    VerifyingProvince,
    degree_request,
    request,
)


def test_a_credential_verifies_in_another_province(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    assert zhejiang.issuer.anchoring_status(issued.digest).state is AnchoringState.PENDING
    zhejiang.anchor_all()
    status = zhejiang.issuer.anchoring_status(issued.digest)
    assert status.state is AnchoringState.ANCHORED
    credential = zhejiang.issuer.credential(issued.digest)
    # What travels between provinces is bytes; Guangdong knows nothing else.
    wire = json.dumps(credential, ensure_ascii=False).encode()
    guangdong.sync()
    result = guangdong.verifier.verify_credential(wire, request(1))
    assert result.verdict is CheckStatus.VALID, result.checks
    assert [c.status for c in result.checks] == [CheckStatus.VALID] * 6 + [
        CheckStatus.SKIPPED,
        CheckStatus.VALID,
    ]
    assert result.check(6).reason_code == Reason.NOT_APPLICABLE
    assert result.index_height == guangdong.index.height
    assert result.digests == (issued.digest_hex,)
    # The access event: verifier identity, purpose, digest, pseudonym; no personal data.
    event = guangdong.audit.event(guangdong.audit.size() - 1)
    assert event is not None
    body = event.event.to_json()
    assert body["action"] == "credential.verify"
    assert body["resource"] == "credential:" + issued.digest_hex
    assert body["outcome"] == "success"
    assert body["actor"] == "verifier-app"
    assert body["purpose"] == "cross-province.enrolment"
    assert body["subject"]["pseudonym"] != holder.did
    text = json.dumps(body, ensure_ascii=False)
    assert holder.did not in text
    assert all(str(v) not in text for v in DEGREE_CLAIMS.values())


def test_a_two_of_ten_presentation_verifies(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    credential = zhejiang.issuer.credential(issued.digest)
    guangdong.sync()
    challenge = guangdong.verifier.issue_challenge()
    presentation = holder.present(
        [(credential, ["degreeLevel", "awardingInstitution"])],
        challenge=challenge.value,
        domain=guangdong.config.did,
    )
    assert len(presentation["verifiableCredential"][0]["disclosures"]) == 2
    wire = json.dumps(presentation, ensure_ascii=False).encode()
    result = guangdong.verifier.verify_presentation(wire, request(2))
    assert result.verdict is CheckStatus.VALID, result.checks
    assert all(c.status is CheckStatus.VALID for c in result.checks)
    event = guangdong.audit.event(guangdong.audit.size() - 1)
    assert event is not None
    assert event.event.action == "presentation.verify"
    assert event.event.resource.startswith("presentation:")
    # The same presentation again: the challenge is spent.
    again = guangdong.verifier.verify_presentation(wire, request(3))
    assert again.verdict is CheckStatus.INVALID
    failure = again.first_failure()
    assert failure is not None
    assert (failure.number, failure.reason_code) == (6, Reason.CHALLENGE_USED)
