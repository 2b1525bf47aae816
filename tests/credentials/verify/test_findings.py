"""What a failed check names: the element at fault and, for a status, its reason and block.

A tampered disclosure is named by its position and claim (and ``at`` points at
it, in a presentation through its credential); a member that does not belong
is named when its name looks like one, ``*`` otherwise; a revoked or suspended
credential's check (4) names the on-chain reason code and the block of the
change, which the result also lists as structured fields (``statuses``).
Never a value of the document.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.status import DigestStatus, StatusReason
from credentials.verify.result import StatusFinding
from tests.helpers.credentials import (
    DEGREE_CLAIMS,
    IssuingProvince,
    VerifyingProvince,
    degree_request,
    request,
)

SECRET = "王秘密"
ID_NUMBER = "110101199003071234"


def _anchored(zhejiang: IssuingProvince, holder: Holder, count: int = 1) -> list[dict[str, Any]]:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(count)])
    zhejiang.anchor_all()
    return [zhejiang.issuer.credential(c.digest) for c in issued]


def _digest(credential: dict[str, Any], guangdong: VerifyingProvince) -> str:
    [digest] = guangdong.verifier.evaluate_credential(credential).digests
    return digest


def _change_block(zhejiang: IssuingProvince, request_id: int) -> int:
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    progress = zhejiang.issuer.status_request(request_id)
    assert progress is not None
    assert progress.block_number is not None
    return progress.block_number


def _no_values(result: Any, *values: str) -> None:
    text = json.dumps(result.to_json(), ensure_ascii=False)
    for value in values:
        assert value not in text, value


def test_a_revoked_credential_names_its_reason_code_and_block(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    [credential] = _anchored(zhejiang, holder)
    digest = bytes.fromhex(_digest(credential, guangdong))
    [revocation] = zhejiang.issuer.revoke([digest], StatusReason.ISSUED_IN_ERROR)
    block = _change_block(zhejiang, revocation.request_id)
    guangdong.sync()
    result = guangdong.verifier.verify_credential(credential, request())
    check = result.check(4)
    assert (check.status, check.reason_code) == (CheckStatus.INVALID, Reason.REVOKED)
    assert check.message == (
        f"the issuer revoked the credential: reason issued_in_error (code 3) in block {block}"
    )
    assert result.statuses == (StatusFinding(digest.hex(), DigestStatus.REVOKED, 3, block),)
    answer = result.to_json()
    assert answer["statuses"] == [
        {
            "digest": digest.hex(),
            "status": "revoked",
            "reason": "issued_in_error",
            "reasonCode": 3,
            "blockNumber": block,
        }
    ]
    # The standard members stay as they were.
    assert set(answer) == {
        "kind",
        "verdict",
        "indexHeight",
        "credentialDigests",
        "checks",
        "statuses",
    }


def test_a_suspension_in_a_presentation_is_named_with_its_credential(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    credentials = _anchored(zhejiang, holder, 2)
    digests = [_digest(c, guangdong) for c in credentials]
    [suspension] = zhejiang.issuer.suspend([bytes.fromhex(digests[1])], StatusReason.UNDER_REVIEW)
    block = _change_block(zhejiang, suspension.request_id)
    guangdong.sync()
    challenge = guangdong.verifier.issue_challenge()
    presentation = holder.present(
        [(c, ["degreeName"]) for c in credentials],
        challenge=challenge.value,
        domain=guangdong.config.did,
    )
    result = guangdong.verifier.verify_presentation(presentation, request())
    check = result.check(4)
    assert check.reason_code == Reason.SUSPENDED
    assert check.message == (
        f"credential 1: the issuer suspended the credential: "
        f"reason under_review (code 7) in block {block}"
    )
    assert [s.to_json() for s in result.statuses] == [
        {"digest": digests[0], "status": "none", "reason": "unspecified", "reasonCode": 0},
        {
            "digest": digests[1],
            "status": "suspended",
            "reason": "under_review",
            "reasonCode": 7,
            "blockNumber": block,
        },
    ]


def test_a_tampered_disclosure_is_named_by_position_and_claim(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    [credential] = _anchored(zhejiang, holder)
    guangdong.sync()
    tampered = copy.deepcopy(credential)
    index = next(i for i, d in enumerate(tampered["disclosures"]) if d[1].endswith("/holderName"))
    tampered["disclosures"][index][2] = SECRET
    result = guangdong.verifier.verify_credential(tampered, request())
    check = result.check(7)
    assert (check.status, check.reason_code) == (CheckStatus.INVALID, Reason.DISCLOSURE_NOT_IN_SD)
    assert check.message == (
        f"disclosure {index} (claim holderName) does not hash to a digest in _sd"
    )
    assert check.at == f"/disclosures/{index}"
    assert result.to_json()["checks"][7]["at"] == f"/disclosures/{index}"
    _no_values(result, SECRET, DEGREE_CLAIMS["holderName"])


def test_in_a_presentation_the_pointer_goes_through_the_credential(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    credentials = _anchored(zhejiang, holder, 2)
    guangdong.sync()
    challenge = guangdong.verifier.issue_challenge()
    presentation = holder.present(
        [(c, ["degreeLevel", "degreeName"]) for c in credentials],
        challenge=challenge.value,
        domain=guangdong.config.did,
    )
    # Altered after signing: the holder's signature fails too, the disclosure is still named.
    presentation["verifiableCredential"][1]["disclosures"][1][2] = SECRET
    result = guangdong.verifier.verify_presentation(presentation, request())
    check = result.check(7)
    assert check.reason_code == Reason.DISCLOSURE_NOT_IN_SD
    assert check.message == (
        "credential 1: disclosure 1 (claim degreeName) does not hash to a digest in _sd"
    )
    assert check.at == "/verifiableCredential/1/disclosures/1"
    _no_values(result, SECRET)


def test_a_member_that_does_not_belong_is_named_unless_its_name_could_be_data(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    [credential] = _anchored(zhejiang, holder)
    # A disclosable claim put in clear: named, its value is not.
    in_clear = copy.deepcopy(credential)
    in_clear["credentialSubject"]["holderName"] = SECRET
    result = guangdong.verifier.verify_credential(in_clear, request())
    check = result.check(0)
    assert check.reason_code == Reason.SUBJECT_INVALID
    assert check.message.endswith("may not be in clear: holderName")
    assert check.at == "/credentialSubject/holderName"
    _no_values(result, SECRET)
    # A key that is an ID number, or a name: `*`.
    for key in (ID_NUMBER, SECRET):
        hidden = copy.deepcopy(credential)
        hidden["credentialSubject"][key] = "x"
        result = guangdong.verifier.verify_credential(hidden, request())
        assert result.check(0).message.endswith("may not be in clear: *")
        assert result.check(0).at == "/credentialSubject"
        _no_values(result, key, ID_NUMBER[6:12])
    # Unknown and missing members of the credential itself.
    odd = {k: v for k, v in credential.items() if k != "proof"}
    odd["nickname"] = SECRET
    odd[ID_NUMBER] = 1
    result = guangdong.verifier.verify_credential(odd, request())
    check = result.check(0)
    assert (check.reason_code, check.at) == (Reason.STRUCTURE_INVALID, "/nickname")
    assert check.message == "the credential lacks proof and has unknown members nickname, *"
    _no_values(result, SECRET, ID_NUMBER)


def test_a_disclosure_of_a_claim_in_clear_is_named(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    [credential] = _anchored(zhejiang, holder)
    doubled = copy.deepcopy(credential)
    doubled["disclosures"].insert(1, copy.deepcopy(doubled["disclosures"][0]))
    result = guangdong.verifier.verify_credential(doubled, request())
    check = result.check(0)
    name = doubled["disclosures"][0][1].rsplit("/", 1)[1]
    assert check.reason_code == Reason.DISCLOSURE_DUPLICATE
    assert check.message == f"disclosure 1 of the credential discloses claim {name} a second time"
    assert check.at == "/disclosures/1"
