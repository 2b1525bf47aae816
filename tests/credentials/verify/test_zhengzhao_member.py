"""Check (0) of the 电子证照 member ``zhengzhao``: each broken member INVALID with its own reason.

The credentials are built and signed here with the member added to the secured form
before signing (Zhejiang's registered key-1), so the signature holds and only the
member is at fault. The verifier reports each credential's member (``zhengzhao`` in
the result JSON); a credential without one verifies and reports as before.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from credentials.credential import IssueRequest, build_credential, sign_credential
from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.issuance import CredentialIssuer
from credentials.reasons import CheckStatus, Reason
from credentials.templates import TEMPLATES
from credentials.times import format_ms
from credentials.verify.outcome import Failed, Passed
from credentials.verify.parse import load_credential
from credentials.zhengzhao.identifier import ZhengzhaoId
from credentials.zhengzhao.profile import MEMBER, Agency, zhengzhao_member
from ledger.crypto import sm4
from ledger.crypto.signer import LocalSigner
from tests.helpers.credentials import (
    CLAIMS_BY_TEMPLATE,
    ZJ_KEY,
    IssuingProvince,
    VerifyingProvince,
    request,
)

SIGNER = LocalSigner(f"{issuer_did(31337, 1)}#key-1", ZJ_KEY)
NOW = 1_780_000_000_000
# A fictitious agency code with valid GB 32100 and GB 11714 check characters.
AGENCY = Agency(code="11330100TB000001XA", name="杭州市西湖区教育局")
OTHER_AGENCY_CODE = "11330100TB0000028A"
SERIAL = "2026000001"


def member_for(
    template: str, *, agency: str = AGENCY.code, type_code: str | None = None
) -> dict[str, Any]:
    """A well-formed member of ``template``; the identifier may name another agency or type."""
    national = TEMPLATES[template].national
    assert national is not None
    identifier = ZhengzhaoId(type_code or national.type_code, agency, SERIAL, 1)
    return zhengzhao_member(national, AGENCY, str(identifier), "330106")


def signed(
    template: str,
    member: Any,
    holder: Holder | None = None,
    *,
    claims: dict[str, Any] | None = None,
    holder_did: str | None = None,
) -> dict[str, Any]:
    """A credential of ``template`` signed by Zhejiang with ``member`` (None: without one)."""
    did = holder_did or (holder or Holder.generate()).did
    request_ = IssueRequest(template, did, claims or CLAIMS_BY_TEMPLATE[template])
    _, secured, disclosures = build_credential(request_, chain_id=31337, issuer_id=1, now_ms=NOW)
    secured.pop(MEMBER, None)
    if member is not None:
        secured[MEMBER] = member
    return sign_credential(
        secured, disclosures, SIGNER, template=template, created=format_ms(NOW)
    ).document


def parsed(document: dict[str, Any]) -> Passed[Any] | Failed:
    return load_credential(document, text=False)


def test_ids_of_this_file_are_valid() -> None:
    Agency(AGENCY.code, AGENCY.name)
    ZhengzhaoId("11100000TB000001XB001", OTHER_AGENCY_CODE, SERIAL, 1)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_a_well_formed_member_passes_check_0_for_every_template(template: str) -> None:
    outcome = parsed(signed(template, member_for(template)))
    assert isinstance(outcome, Passed), outcome


def test_a_credential_without_the_member_passes_as_before() -> None:
    assert isinstance(parsed(signed("degree-certificate", None)), Passed)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(member: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = member
        for name in parents:
            target = target[name]
        target[last] = value

    return mutate


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda member: member.pop(name)


def _identifier_check_character(member: dict[str, Any]) -> None:
    body, check = member["identifier"][:-1], member["identifier"][-1]
    member["identifier"] = body + ("0" if check != "0" else "1")


def _identifier_for(**names: str) -> Callable[[dict[str, Any]], None]:
    def mutate(member: dict[str, Any]) -> None:
        member["identifier"] = member_for("degree-certificate", **names)["identifier"]

    return mutate


def _other_template(member: dict[str, Any]) -> None:
    other = member_for("business-licence")
    member["typeCode"] = other["typeCode"]
    member["identifier"] = other["identifier"]


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], Reason, str]] = {
    "missing-identifier": (_drop("identifier"), Reason.ZHENGZHAO_MALFORMED, ""),
    "unknown-member": (_set("holderCode", "x"), Reason.ZHENGZHAO_MALFORMED, ""),
    "type-name-not-string": (_set("typeName", 7), Reason.ZHENGZHAO_MALFORMED, "/typeName"),
    "agency-without-code": (
        _set("issuingAgency", {"name": "x"}),
        Reason.ZHENGZHAO_MALFORMED,
        "/issuingAgency",
    ),
    "agency-code-check-character": (
        _set("issuingAgency/code", AGENCY.code[:-1] + "0"),
        Reason.ZHENGZHAO_MALFORMED,
        "/issuingAgency/code",
    ),
    "jurisdiction-unknown-province": (
        _set("jurisdiction", "990000"),
        Reason.ZHENGZHAO_MALFORMED,
        "/jurisdiction",
    ),
    "identifier-check-character": (
        _identifier_check_character,
        Reason.ZHENGZHAO_IDENTIFIER_INVALID,
        "/identifier",
    ),
    "identifier-not-an-identifier": (
        _set("identifier", "1.2.156.3005.2.x"),
        Reason.ZHENGZHAO_IDENTIFIER_INVALID,
        "/identifier",
    ),
    "identifier-of-another-type": (
        _identifier_for(type_code="11100000TB0000028B001"),
        Reason.ZHENGZHAO_TYPE_CODE_MISMATCH,
        "/typeCode",
    ),
    "identifier-of-another-agency": (
        _identifier_for(agency=OTHER_AGENCY_CODE),
        Reason.ZHENGZHAO_AGENCY_MISMATCH,
        "/issuingAgency/code",
    ),
    "trust-grade-outside-a-d": (
        _set("trustGrade", "E"),
        Reason.ZHENGZHAO_TRUST_GRADE_INVALID,
        "/trustGrade",
    ),
    "usage-note-with-grade-b": (
        _set("trustGrade", "B"),
        Reason.ZHENGZHAO_TRUST_GRADE_INVALID,
        "/usageNote",
    ),
    "grade-a-without-usage-note": (
        _drop("usageNote"),
        Reason.ZHENGZHAO_TRUST_GRADE_INVALID,
        "/trustGrade",
    ),
    "type-name-not-the-templates": (
        _set("typeName", "学位证"),
        Reason.ZHENGZHAO_TEMPLATE_MISMATCH,
        "/typeName",
    ),
    "type-code-of-another-template": (
        _other_template,
        Reason.ZHENGZHAO_TEMPLATE_MISMATCH,
        "/typeCode",
    ),
}


@pytest.mark.parametrize("case", sorted(MUTATIONS))
def test_each_broken_member_is_invalid_at_check_0_with_its_own_reason(case: str) -> None:
    mutate, reason, at = MUTATIONS[case]
    member = member_for("degree-certificate")
    mutate(member)
    outcome = parsed(signed("degree-certificate", member))
    assert isinstance(outcome, Failed), case
    assert outcome.reason is reason, (case, outcome.message)
    assert outcome.at == f"/{MEMBER}{at}"
    # Messages name members and fields, never the member's values.
    for value in (member.get("identifier"), AGENCY.name, SERIAL):
        if isinstance(value, str):
            assert value not in outcome.message


def test_the_member_is_not_an_object() -> None:
    outcome = parsed(signed("degree-certificate", ["not", "an", "object"]))
    assert isinstance(outcome, Failed)
    assert outcome.reason is Reason.ZHENGZHAO_MALFORMED


def test_each_reason_is_distinct_and_new() -> None:
    codes = [r.value for r in Reason if r.name.startswith("ZHENGZHAO_")]
    assert len(codes) == len(set(codes)) == 6
    assert {reason for _, reason, _ in MUTATIONS.values()} == {Reason(c) for c in codes}


def test_the_verifier_reports_the_member_of_a_credential(
    guangdong: VerifyingProvince, holder: Holder
) -> None:
    member = member_for("resident-certificate")
    credential = signed("resident-certificate", member, holder)
    result = guangdong.verifier.verify_credential(credential, request())
    assert result.check(0).status is CheckStatus.VALID
    reported = result.to_json()["zhengzhao"]
    assert reported == [{"credential": 0, **member}]
    assert reported[0]["trustGrade"] == "A"
    assert reported[0]["issuingAgency"] == {"name": AGENCY.name, "code": AGENCY.code}
    # Nothing of the holder: no claim value appears in what is reported.
    text = json.dumps(reported, ensure_ascii=False)
    for value in CLAIMS_BY_TEMPLATE["resident-certificate"].values():
        assert str(value) not in text


def test_an_issued_credential_verifies_and_reports_its_member_only_if_it_has_one(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    (issued,) = zhejiang.issuer.issue_many(
        [IssueRequest("degree-certificate", holder.did, CLAIMS_BY_TEMPLATE["degree-certificate"])]
    )
    zhejiang.anchor_all()
    guangdong.sync()
    credential = zhejiang.issuer.credential(issued.digest)
    result = guangdong.verifier.verify_credential(credential, request())
    assert result.valid, result.checks
    # Without the member (as before the issuer wrote one) the result has no zhengzhao.
    expected = [{"credential": 0, **credential[MEMBER]}] if MEMBER in credential else None
    assert result.to_json().get("zhengzhao") == expected


def test_a_presentation_reports_each_members_credential_by_position(
    guangdong: VerifyingProvince, holder: Holder
) -> None:
    plain = signed("degree-certificate", None, holder)
    member = member_for("marriage-certificate")
    with_member = signed("marriage-certificate", member, holder)
    challenge = guangdong.verifier.issue_challenge()
    presentation = holder.present(
        [(plain, ["degreeName"]), (with_member, ["registrationDate"])],
        challenge=challenge.value,
        domain=guangdong.config.did,
    )
    result = guangdong.verifier.verify_presentation(presentation, request())
    assert result.check(0).status is CheckStatus.VALID
    assert result.to_json()["zhengzhao"] == [{"credential": 1, **member}]


def test_a_certificate_issued_for_an_agency_verifies_valid_and_reports_its_member(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    # Zhejiang's issuer with its GB/T 2260 code: the issuer builds the member (H1's path).
    config = dataclasses.replace(zhejiang.config, jurisdiction="330000")
    issuer = CredentialIssuer(zhejiang.db, config, SIGNER, data_key=sm4.generate_key())
    claims = CLAIMS_BY_TEMPLATE["resident-certificate"]
    (issued,) = issuer.issue_many(
        [IssueRequest("resident-certificate", holder.did, claims, agency=AGENCY)]
    )
    zhejiang.anchor_all()
    guangdong.sync()
    credential = issuer.credential(issued.digest)
    member = credential[MEMBER]
    assert member["issuingAgency"] == {"name": AGENCY.name, "code": AGENCY.code}
    result = guangdong.verifier.verify_credential(credential, request())
    assert result.valid, result.checks
    assert result.to_json()["zhengzhao"] == [{"credential": 0, **member}]
    assert member["trustGrade"] == "A"
    assert member["jurisdiction"] == "330000"
    # Grade A's note (国办函 (2016) No. 108) names the agency that supplied the certificate.
    assert member["usageNote"] == f"此件由{AGENCY.name}提供，仅供办理政务服务事项时使用"  # noqa: RUF001
