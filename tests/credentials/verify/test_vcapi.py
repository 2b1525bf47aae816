"""``credentials.verify.vcapi``: the VC API view of a verification, and its one 400/200 line.

Tests are named after the section they follow: the VC Data Model 2.0 (and 1.1) for what makes
a document a credential or a presentation at all, the VC API (w3c/vcalm) for options, the
verification result and problem details.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

import pytest

from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.verify.result import unavailable
from credentials.verify.vcapi import (
    MALFORMED_OPTION,
    UNKNOWN_OPTION_PROVIDED,
    VERIFICATION_PROBLEM_BASE,
    Malformed,
    RequestProblem,
    VcApiVerification,
    VerifyOptions,
    check_request,
    problem_details,
    read_options,
    verify,
)
from credentials.verify.verifier import ExpectedProof
from ledger.audit.events import Outcome
from tests.helpers.credentials import IssuingProvince, VerifyingProvince, degree_request, request

SECRET = "110101199003071234"
"""A value that must never appear in a rule (an ID number)."""

# The VC API's own example credential (VerifyPresentationResult.yml), a VCDM 2.0 credential.
SPEC_CREDENTIAL: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "http://example.gov/credentials/3732",
    "type": ["VerifiableCredential", "DriverLicense"],
    "issuer": "did:example:dmv456",
    "validFrom": "2023-01-01T00:00:00Z",
    "validUntil": "2027-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:alice123", "licenseNumber": "DL123456789"},
    "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022"},
}

V1_CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    "type": ["VerifiableCredential"],
    "issuer": {"id": "did:example:issuer"},
    "issuanceDate": "2010-01-01T19:23:24Z",
    "credentialSubject": {"id": "did:example:subject", "alumniOf": "Example University"},
}

SPEC_PRESENTATION: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": "VerifiablePresentation",
    "holder": "did:example:12345",
    "verifiableCredential": [SPEC_CREDENTIAL],
    "proof": {"type": "DataIntegrityProof", "challenge": "abc", "domain": "example.com"},
}


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    for name, value in changes.items():
        key = "@context" if name == "context" else name
        if value is None:
            changed.pop(key, None)
        else:
            changed[key] = value
    return changed


# -- VC Data Model 2.0 §4: what a credential is --------------------------------------------


@pytest.mark.parametrize(
    "document",
    [SPEC_CREDENTIAL, V1_CREDENTIAL, _with(SPEC_CREDENTIAL, proof=[{"type": "A"}, {"type": "B"}])],
    ids=["vcdm-2.0", "vcdm-1.1", "proof-set"],
)
def test_vcdm_conforming_credentials_are_well_formed_requests(document: dict[str, Any]) -> None:
    assert check_request("credential", document, {}) == VerifyOptions()


def test_vcdm_2_0_section_12_an_enveloped_credential_is_well_formed() -> None:
    enveloped = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": "EnvelopedVerifiableCredential",
        "id": "data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
    }
    assert check_request("credential", enveloped, None) == VerifyOptions()
    for broken, pointer in [
        (_with(enveloped, context=SECRET), "/verifiableCredential/@context"),
        (_with(enveloped, id=None), "/verifiableCredential/id"),
    ]:
        checked = check_request("credential", broken, None)
        assert isinstance(checked, Malformed)
        assert [p.pointer for p in checked.problems] == [pointer]


MALFORMED: list[tuple[str, Any, str, Reason]] = [
    ("§4 not an object", [SECRET], "/verifiableCredential", Reason.STRUCTURE_INVALID),
    ("§4.3 no @context", _with(SPEC_CREDENTIAL, context=None), "/@context", Reason.CONTEXT_INVALID),
    (
        "§4.3 base context not first",
        _with(SPEC_CREDENTIAL, context=[SECRET]),
        "/@context/0",
        Reason.CONTEXT_INVALID,
    ),
    ("§4.5 no type", _with(SPEC_CREDENTIAL, type=None), "/type", Reason.TYPE_INVALID),
    (
        "§4.5 type lacks VerifiableCredential",
        _with(SPEC_CREDENTIAL, type=[SECRET]),
        "/type",
        Reason.TYPE_INVALID,
    ),
    ("§4.4 id not a URL", _with(SPEC_CREDENTIAL, id=SECRET), "/id", Reason.ID_INVALID),
    ("§4.7 no issuer", _with(SPEC_CREDENTIAL, issuer=None), "/issuer", Reason.ISSUER_INVALID),
    (
        "§4.8 no credentialSubject",
        _with(SPEC_CREDENTIAL, credentialSubject=None),
        "/credentialSubject",
        Reason.SUBJECT_INVALID,
    ),
    (
        "§4.9 validFrom not a dateTimeStamp",
        _with(SPEC_CREDENTIAL, validFrom=SECRET),
        "/validFrom",
        Reason.DATES_INVALID,
    ),
    (
        "§4.9 validUntil without a time zone",
        _with(SPEC_CREDENTIAL, validUntil="2027-01-01T00:00:00"),
        "/validUntil",
        Reason.DATES_INVALID,
    ),
    (
        "1.1 §4.6 issuanceDate malformed",
        _with(V1_CREDENTIAL, issuanceDate="2010-02-30T00:00:00Z"),
        "/issuanceDate",
        Reason.DATES_INVALID,
    ),
    (
        "1.1 §4.6 issuanceDate missing",
        _with(V1_CREDENTIAL, issuanceDate=None),
        "/issuanceDate",
        Reason.DATES_INVALID,
    ),
    (
        "DI §2.1 proof a string",
        _with(SPEC_CREDENTIAL, proof=SECRET),
        "/proof",
        Reason.PROOF_SET_INVALID,
    ),
    (
        "DI §2.1 proof set with a non-object",
        _with(SPEC_CREDENTIAL, proof=[{"type": "A"}, SECRET]),
        "/proof",
        Reason.PROOF_SET_INVALID,
    ),
]


@pytest.mark.parametrize(
    ("case", "document", "pointer", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_vcdm_a_document_that_is_not_a_credential_is_a_malformed_request_naming_the_member(
    case: str, document: Any, pointer: str, reason: Reason
) -> None:
    checked = check_request("credential", document, {})
    assert isinstance(checked, Malformed), case
    [found] = checked.problems
    expected = (
        pointer
        if pointer.startswith("/verifiableCredential")
        else f"/verifiableCredential{pointer}"
    )
    assert found.pointer == expected
    assert found.type == VERIFICATION_PROBLEM_BASE + reason.value
    assert SECRET not in found.rule + checked.detail() + str(found.to_json())


def test_vcdm_2_0_section_4_13_presentations_and_the_credentials_they_carry() -> None:
    assert check_request("presentation", SPEC_PRESENTATION, {}) == VerifyOptions()
    broken = _with(SPEC_PRESENTATION, verifiableCredential=[SPEC_CREDENTIAL, {"type": SECRET}])
    checked = check_request("presentation", broken, {})
    assert isinstance(checked, Malformed)
    assert [p.pointer for p in checked.problems] == [
        "/verifiablePresentation/verifiableCredential/1/@context"
    ]
    alone = _with(SPEC_PRESENTATION, verifiableCredential=_with(SPEC_CREDENTIAL, id=SECRET))
    checked = check_request("presentation", alone, {})
    assert isinstance(checked, Malformed)
    assert [p.pointer for p in checked.problems] == [
        "/verifiablePresentation/verifiableCredential/id"
    ]
    for document, pointer in [
        (_with(SPEC_PRESENTATION, type=["VerifiableCredential"]), "/verifiablePresentation/type"),
        (_with(SPEC_PRESENTATION, holder=SECRET), "/verifiablePresentation/holder"),
        (_with(SPEC_PRESENTATION, proof=[SECRET]), "/verifiablePresentation/proof"),
        (SECRET, "/verifiablePresentation"),
    ]:
        checked = check_request("presentation", document, None)
        assert isinstance(checked, Malformed)
        assert [p.pointer for p in checked.problems] == [pointer]
        assert SECRET not in checked.problems[0].rule


# -- VC API 3.2.3 Options -------------------------------------------------------------------


def test_vcapi_options_known_ones_with_their_defaults() -> None:
    assert read_options("credential", None) == VerifyOptions()
    assert read_options("credential", {}) == VerifyOptions(
        return_results=False, return_problem_details=True, return_document=False
    )
    assert read_options(
        "credential",
        {"returnResults": True, "returnCredential": True, "returnProblemDetails": False},
    ) == VerifyOptions(return_results=True, return_problem_details=False, return_document=True)
    read = read_options(
        "presentation", {"challenge": "c", "domain": "d", "returnPresentation": True}
    )
    assert read == VerifyOptions(return_document=True, challenge="c", domain="d")
    assert read.expected() == ExpectedProof(challenge="c", domain="d")
    assert VerifyOptions().expected() is None


def test_vcapi_options_unknown_or_malformed_options_are_errors_naming_them() -> None:
    # "Implementations MUST throw an error if an endpoint receives data, options, or option
    # values that it does not understand" (VC API 3.2.3): UNKNOWN_OPTION_PROVIDED (3.7).
    found = read_options("credential", {"checks": ["proof"], SECRET: 1, "returnResults": "yes"})
    assert isinstance(found, list)
    assert [(p.pointer, p.type) for p in found] == [
        ("/options/checks", UNKNOWN_OPTION_PROVIDED),
        ("/options/*", UNKNOWN_OPTION_PROVIDED),
        ("/options/returnResults", MALFORMED_OPTION),
    ]
    assert all(SECRET not in p.rule for p in found)
    # A lone credential has no holder proof: options.challenge is not one of its options.
    [challenge] = read_options("credential", {"challenge": "c"})  # type: ignore[misc]
    assert challenge.type == UNKNOWN_OPTION_PROVIDED
    assert "/presentations/verify" in challenge.rule
    # The presentation route does not know the credential route's options, nor a non-string.
    found = read_options("presentation", {"returnResults": True, "challenge": 1})
    assert isinstance(found, list)
    assert [p.type for p in found] == [UNKNOWN_OPTION_PROVIDED, MALFORMED_OPTION]
    assert read_options("presentation", ["challenge"]) == [
        RequestProblem("/options", "must be a JSON object", MALFORMED_OPTION)
    ]


def test_a_request_with_a_bad_document_and_bad_options_names_both() -> None:
    checked = check_request("credential", _with(SPEC_CREDENTIAL, type=None), {"nope": 1})
    assert isinstance(checked, Malformed)
    assert [p.pointer for p in checked.problems] == ["/verifiableCredential/type", "/options/nope"]
    assert checked.unknown_option


# -- VC API 3.7 Error Handling: verified, problem details, undecided ----------------------------


def test_vcapi_verified_is_true_only_for_valid_and_each_failing_check_is_a_problem(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(3)])
    pending = zhejiang.issuer.credential(issued[2].digest, require_anchor=False)
    zhejiang.anchor_all()
    zhejiang.issuer.revoke([issued[1].digest])
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    guangdong.sync()
    valid, revoked = (zhejiang.issuer.credential(c.digest) for c in issued[:2])
    verifier = guangdong.verifier

    good = verify(verifier, "credential", valid, {"returnResults": True})
    assert isinstance(good, VcApiVerification)
    assert (good.verified, good.decided) == (True, True)
    answer = good.to_json()
    assert (answer["verified"], answer["verdict"]) == (True, "VALID")
    assert answer["problemDetails"] == []
    assert answer["results"]["validFrom"] == {"verified": True, "input": valid["validFrom"]}

    bad = verify(verifier, "credential", revoked, None)
    assert isinstance(bad, VcApiVerification)
    assert (bad.verified, bad.decided) == (False, True)
    [problem] = bad.to_json()["problemDetails"]
    assert problem["type"] == VERIFICATION_PROBLEM_BASE + "revoked"
    assert (problem["check"], problem["reasonCode"]) == ("status", "revoked")
    assert problem["detail"] == bad.result.check(4).message

    # A credential whose batch is not anchored yet: pending, not verified, its own type.
    waiting = verify(verifier, "credential", pending, {})
    assert isinstance(waiting, VcApiVerification)
    assert (waiting.verified, waiting.result.verdict) == (False, CheckStatus.INVALID)
    assert [(p["type"], p["title"]) for p in problem_details(waiting.result)] == [
        (VERIFICATION_PROBLEM_BASE + "anchor_proof_missing", "Anchor pending")
    ]


def test_vcapi_an_error_verdict_is_undecided_never_verified_false() -> None:
    result = unavailable("credential", ["00" * 32], "did:key:zExample")
    assert result.verdict is CheckStatus.ERROR
    undecided = VcApiVerification("credential", result, {}, VerifyOptions())
    assert (undecided.decided, undecided.unavailable, undecided.verified) == (False, True, False)


# -- VC API 3.5.2 Verify Presentation: options.challenge and options.domain ----------------------


def test_vcapi_options_challenge_must_be_issued_here_carried_by_the_proof_and_used_once(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    guangdong.sync()
    credential = zhejiang.issuer.credential(issued.digest)
    verifier = guangdong.verifier
    did = guangdong.config.did

    def check6(presentation: dict[str, Any], expected: ExpectedProof | None) -> str:
        result = verifier.evaluate_presentation(presentation, expected=expected)
        return str(result.check(6).reason_code)

    invented = secrets.token_urlsafe(24)
    never = holder.present([(credential, ["degreeName"])], challenge=invented, domain=did)
    assert check6(never, ExpectedProof(challenge=invented)) == Reason.CHALLENGE_NOT_ISSUED
    # Without options the same presentation keeps its historical reason.
    assert check6(never, None) == Reason.CHALLENGE_UNKNOWN

    mine, other = verifier.issue_challenge(), verifier.issue_challenge()
    signed = holder.present([(credential, ["degreeName"])], challenge=mine.value, domain=did)
    assert check6(signed, ExpectedProof(challenge=other.value)) == Reason.CHALLENGE_MISMATCH
    assert check6(signed, ExpectedProof(challenge=mine.value, domain="did:example:x")) == (
        Reason.DOMAIN_MISMATCH
    )
    # Neither mismatch used a challenge up: the presentation verifies once, then never again.
    first = verifier.evaluate_presentation(signed, expected=ExpectedProof(mine.value, did))
    assert first.valid, first.checks
    replay = verifier.evaluate_presentation(signed, expected=ExpectedProof(mine.value, did))
    assert (replay.verdict, replay.check(6).reason_code) == (
        CheckStatus.INVALID,
        Reason.CHALLENGE_USED,
    )
    # The replay's access event is no fresh success.
    event = verifier.access_event(replay, request(), "presentation.verify")
    assert event.outcome is Outcome.INVALID
    assert verifier.access_event(first, request(), "presentation.verify").outcome is Outcome.SUCCESS
    # The other challenge is still unused.
    again = holder.present([(credential, ["degreeName"])], challenge=other.value, domain=did)
    assert verifier.evaluate_presentation(again, expected=ExpectedProof(other.value)).valid
