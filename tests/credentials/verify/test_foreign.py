"""Credentials Tongban did not issue, through the verifier's checklist.

Each test names the section it follows: VC Data Integrity 1.0 (4.4 verify proof, 4.5
proof sets), the cryptosuites (vc-di-eddsa 3.2/3.3, vc-di-ecdsa 3.2/3.3), VC Data Model
2.0 (4.3 contexts, 4.9 validity period, 4.12 presentations) and Tongban's own rule that a
signature by an issuer outside the registry is ``UNREGISTERED_ISSUER``, never VALID.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from credentials.contexts import CREDENTIALS_V2
from credentials.cryptosuite import create_proof
from credentials.holder import Holder, derive_credential
from credentials.reasons import CheckStatus, Reason, Verdict
from credentials.suites import CanonLimits
from credentials.times import format_ms, now_ms
from credentials.verify.foreign import is_foreign, suite_reason
from credentials.verify.result import VerificationResult
from tests.helpers.credentials import IssuingProvince, VerifyingProvince, degree_request, request
from tests.helpers.foreign import ForeignKey, foreign_credential, presentation, sign

SUITES: list[tuple[str, str]] = [
    ("Ed25519", "eddsa-jcs-2022"),
    ("Ed25519", "eddsa-rdfc-2022"),
    ("P-256", "ecdsa-jcs-2019"),
    ("P-256", "ecdsa-rdfc-2019"),
    ("P-384", "ecdsa-jcs-2019"),
    ("P-384", "ecdsa-rdfc-2019"),
]


def _checks(result: VerificationResult) -> list[tuple[str, str]]:
    return [(c.status.value, c.reason_code) for c in result.checks]


@pytest.mark.parametrize(("curve", "suite"), SUITES)
def test_vc_di_4_4_a_foreign_credential_that_verifies_is_unregistered_issuer_never_valid(
    guangdong: VerifyingProvince, curve: Any, suite: str
) -> None:
    issuer = ForeignKey.generate(curve)
    credential = sign(foreign_credential(issuer), issuer, suite)
    result = guangdong.verifier.verify_credential(credential, request())
    assert result.verdict is Verdict.UNREGISTERED_ISSUER
    assert not result.valid
    assert _checks(result) == [
        ("VALID", "ok"),
        ("VALID", "ok"),
        ("INVALID", "issuer_not_in_registry"),
        ("SKIPPED", "not_applicable"),
        ("SKIPPED", "not_applicable"),
        ("VALID", "ok"),
        ("SKIPPED", "not_applicable"),
        ("SKIPPED", "not_applicable"),
    ]
    assert suite in result.check(1).message
    assert result.to_json()["verdict"] == "UNREGISTERED_ISSUER"
    # The access event: recorded, never a success (the log's outcomes are fixed).
    event = guangdong.audit.iterate()
    assert [r.event.outcome for r in event] == ["invalid"]
    assert [r.event.resource for r in guangdong.audit.iterate()] == [result.resource]


@pytest.mark.parametrize(("curve", "suite"), SUITES)
def test_vc_di_4_4_a_changed_claim_breaks_the_signature(
    guangdong: VerifyingProvince, curve: Any, suite: str
) -> None:
    issuer = ForeignKey.generate(curve)
    credential = sign(foreign_credential(issuer), issuer, suite)
    credential["credentialSubject"]["alumniOf"] = "Another School"
    result = guangdong.verifier.evaluate_credential(credential)
    assert result.verdict is CheckStatus.INVALID
    assert (result.check(1).status, result.check(1).reason_code) == (
        CheckStatus.INVALID,
        Reason.SIGNATURE_INVALID,
    )
    assert result.check(1).at == "/proof"


def test_vc_di_4_5_every_proof_of_a_set_must_verify_and_be_the_issuers(
    guangdong: VerifyingProvince,
) -> None:
    issuer = ForeignKey.generate("Ed25519")
    twice = sign(
        sign(foreign_credential(issuer), issuer, "eddsa-jcs-2022"), issuer, "eddsa-rdfc-2022"
    )
    result = guangdong.verifier.evaluate_credential(twice)
    assert result.verdict is Verdict.UNREGISTERED_ISSUER
    assert "eddsa-jcs-2022" in result.check(1).message
    assert "eddsa-rdfc-2022" in result.check(1).message
    stranger = ForeignKey.generate("P-256")
    mixed = sign(
        sign(foreign_credential(issuer), issuer, "eddsa-jcs-2022"), stranger, "ecdsa-jcs-2019"
    )
    result = guangdong.verifier.evaluate_credential(mixed)
    assert result.verdict is CheckStatus.INVALID
    assert result.check(1).reason_code == Reason.VERIFICATION_METHOD_NOT_ISSUER
    assert result.check(1).at == "/proof/1"


def test_a_signature_by_a_key_that_is_not_the_issuers_proves_nothing_about_the_issuer(
    guangdong: VerifyingProvince,
) -> None:
    issuer, forger = ForeignKey.generate("Ed25519"), ForeignKey.generate("Ed25519")
    credential = sign(foreign_credential(issuer), forger, "eddsa-jcs-2022")
    result = guangdong.verifier.evaluate_credential(credential)
    assert result.verdict is CheckStatus.INVALID
    assert result.check(1).reason_code == Reason.VERIFICATION_METHOD_NOT_ISSUER


def test_vcdm_4_3_a_context_outside_the_allow_list_is_refused_in_check_0(
    guangdong: VerifyingProvince,
) -> None:
    issuer = ForeignKey.generate("Ed25519")
    document = foreign_credential(issuer)
    document["@context"] = [CREDENTIALS_V2, "https://example.org/unknown/v1"]
    result = guangdong.verifier.evaluate_credential(sign(document, issuer, "eddsa-jcs-2022"))
    assert (result.check(0).status, result.check(0).reason_code) == (
        CheckStatus.INVALID,
        Reason.CONTEXT_NOT_ALLOWED,
    )
    assert result.check(0).at == "/@context"


def test_rdfc_1_0_a_canonicalization_over_its_cap_is_a_clear_invalid(
    guangdong: VerifyingProvince, monkeypatch: pytest.MonkeyPatch
) -> None:
    import credentials.verify.foreign as foreign

    issuer = ForeignKey.generate("Ed25519")
    credential = sign(foreign_credential(issuer), issuer, "eddsa-rdfc-2022")
    original = foreign.issuer_proofs
    tiny = CanonLimits(max_quads=3)
    monkeypatch.setattr(foreign, "issuer_proofs", lambda c, now: original(c, now, tiny))
    result = guangdong.verifier.evaluate_credential(credential)
    assert result.verdict is CheckStatus.INVALID
    assert result.check(1).reason_code == Reason.CANONICALIZATION_LIMIT


def test_vcdm_4_9_the_validity_period_follows_check_5s_rule(
    guangdong: VerifyingProvince,
) -> None:
    issuer = ForeignKey.generate("P-256")
    document = foreign_credential(issuer, validUntil="2024-01-01T00:00:00Z")
    credential = sign(document, issuer, "ecdsa-jcs-2019")
    result = guangdong.verifier.evaluate_credential(credential)
    assert result.verdict is CheckStatus.INVALID
    assert (result.check(5).reason_code, result.check(1).status) == (
        Reason.EXPIRED,
        CheckStatus.VALID,
    )
    early = guangdong.verifier.evaluate_credential(credential, now_ms=1_600_000_000_000)
    assert early.check(5).reason_code == Reason.NOT_YET_VALID


def test_a_tongban_credential_whose_issuer_was_changed_keeps_tongbans_check_0(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    credential = zhejiang.issuer.credential(issued.digest)
    assert not is_foreign(credential)
    changed = {**credential, "issuer": "did:example:someone"}
    assert not is_foreign(changed)
    result = guangdong.verifier.evaluate_credential(changed)
    assert result.check(0).reason_code == Reason.ISSUER_INVALID


def test_every_suite_reason_code_is_a_reason() -> None:
    documented = [
        "document_invalid", "document_limit", "proof_missing", "proof_malformed",
        "proof_type_unsupported", "cryptosuite_unsupported", "proof_chain_unsupported",
        "proof_set_too_large", "proof_purpose_mismatch", "proof_created_in_future",
        "proof_expired", "proof_context_mismatch", "verification_method_unresolvable",
        "verification_method_not_authorized", "verification_method_key_mismatch",
        "proof_value_invalid", "proof_signature_invalid", "context_not_allowed",
        "jsonld_invalid", "jsonld_undefined_term", "jsonld_relative_iri",
        "canonicalization_unsupported_literal", "canonicalization_limit",
    ]  # fmt: skip
    mapped = {code: suite_reason(code) for code in documented}
    assert mapped["proof_signature_invalid"] is Reason.SIGNATURE_INVALID
    assert mapped["proof_value_invalid"] is Reason.PROOF_VALUE_MALFORMED
    for code, reason in mapped.items():
        if code not in ("proof_signature_invalid", "proof_value_invalid"):
            assert reason.value == code
    assert suite_reason("proof_signature_invalid", holder=True) is Reason.HOLDER_SIGNATURE_INVALID


# -- presentations (VCDM 2.0 4.12, Data Integrity authentication) ---------------------------


def _tongban(zhejiang: IssuingProvince, holder: Holder) -> dict[str, Any]:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    return zhejiang.issuer.credential(issued.digest)


def _sm2_presentation(
    holder: Holder, credentials: list[dict[str, Any]], challenge: str, domain: str
) -> dict[str, Any]:
    unsigned = {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    }
    proof = create_proof(
        unsigned,
        holder.signer,
        verification_method=holder.verification_method,
        proof_purpose="authentication",
        created=format_ms(now_ms()),
        challenge=challenge,
        domain=domain,
    )
    return {**unsigned, "proof": proof}


def test_vcdm_4_12_a_presentation_may_mix_tongban_and_foreign_credentials(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    tongban = derive_credential(_tongban(zhejiang, holder), ["degreeName"])
    guangdong.sync()
    issuer = ForeignKey.generate("Ed25519")
    subject = {"id": holder.did, "alumniOf": "The School of Examples"}
    other = sign(foreign_credential(issuer, credentialSubject=subject), issuer, "eddsa-rdfc-2022")
    verifier = guangdong.verifier
    challenge = verifier.issue_challenge().value
    mixed = _sm2_presentation(holder, [tongban, other], challenge, guangdong.config.did)
    result = verifier.verify_presentation(mixed, request())
    assert result.verdict is Verdict.UNREGISTERED_ISSUER, result.checks
    assert result.check(6).status is CheckStatus.VALID
    assert result.check(2).message.startswith("credential 1:")
    assert result.check(2).at == "/verifiableCredential/1/issuer"
    # Combined per check (the worst): the foreign credential has no anchor to check.
    assert (result.check(3).reason_code, result.check(3).message[:13]) == (
        Reason.NOT_APPLICABLE,
        "credential 1:",
    )
    assert len(result.digests) == 2
    again = verifier.verify_presentation(mixed, request())
    assert again.check(6).reason_code == Reason.CHALLENGE_USED
    # A revoked Tongban credential in a mixed presentation is INVALID, not unregistered.
    zhejiang.issuer.revoke([bytes.fromhex(result.digests[0])])
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    guangdong.sync()
    challenge = verifier.issue_challenge().value
    revoked = _sm2_presentation(holder, [other, tongban], challenge, guangdong.config.did)
    result = verifier.verify_presentation(revoked, request())
    assert result.verdict is CheckStatus.INVALID
    assert result.check(4).reason_code == Reason.REVOKED


@pytest.mark.parametrize("curve", ["P-256", "P-384", "Ed25519"])
def test_a_presentation_signed_by_a_did_key_of_another_curve(
    guangdong: VerifyingProvince, curve: Any
) -> None:
    holder, issuer = ForeignKey.generate(curve), ForeignKey.generate("Ed25519")
    subject = {"id": holder.did, "alumniOf": "The School of Examples"}
    credential = sign(
        foreign_credential(issuer, credentialSubject=subject), issuer, "eddsa-jcs-2022"
    )
    verifier, did = guangdong.verifier, guangdong.config.did
    suite = "eddsa-jcs-2022" if curve == "Ed25519" else "ecdsa-jcs-2019"
    unsigned = presentation(holder, [credential])

    def signed(**options: Any) -> dict[str, Any]:
        return sign(unsigned, holder, suite, purpose="authentication", **options)

    good = signed(challenge=verifier.issue_challenge().value, domain=did)
    result = verifier.evaluate_presentation(good)
    assert result.verdict is Verdict.UNREGISTERED_ISSUER, result.checks
    assert result.check(6).status is CheckStatus.VALID
    elsewhere = signed(challenge=verifier.issue_challenge().value, domain="did:tongban:1:9")
    assert verifier.evaluate_presentation(elsewhere).check(6).reason_code == Reason.DOMAIN_MISMATCH
    invented = signed(challenge="made-up", domain=did)
    assert verifier.evaluate_presentation(invented).check(6).reason_code == Reason.CHALLENGE_UNKNOWN
    tampered = signed(challenge=verifier.issue_challenge().value, domain=did)
    tampered["verifiableCredential"] = [copy.deepcopy(credential)]
    tampered["verifiableCredential"][0]["validFrom"] = "2023-01-02T00:00:00Z"
    outcome = verifier.evaluate_presentation(tampered)
    assert outcome.check(6).reason_code == Reason.HOLDER_SIGNATURE_INVALID
    thief = ForeignKey.generate(curve)
    options = {"challenge": verifier.issue_challenge().value, "domain": did}
    stolen = sign(
        presentation(thief, [credential]), thief, suite, purpose="authentication", **options
    )
    assert (
        verifier.evaluate_presentation(stolen).check(6).reason_code
        == Reason.HOLDER_BINDING_MISMATCH
    )
    options = {"challenge": verifier.issue_challenge().value, "domain": did}
    forged = sign(unsigned, thief, suite, purpose="authentication", **options)
    assert (
        verifier.evaluate_presentation(forged).check(6).reason_code
        == Reason.HOLDER_VERIFICATION_METHOD_INVALID
    )
    wrong_purpose = sign(unsigned, holder, suite, challenge="x", domain=did)
    assert (
        verifier.evaluate_presentation(wrong_purpose).check(6).reason_code
        == Reason.HOLDER_PROOF_PURPOSE_MISMATCH
    )
