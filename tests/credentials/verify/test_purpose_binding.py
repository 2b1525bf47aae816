"""Purpose-bound presentations (用证事由, docs/purposes.md): VC Data Model 2.0 §5.5 termsOfUse.

The holder binds a presentation to one purpose code; the verifier refuses it at
check (6) when the request declares another, and the access event records the
declared purpose. The binding is covered by the holder's proof.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from credentials.errors import DisclosureError
from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.verify.outcome import Failed, Passed
from credentials.verify.purpose_binding import (
    PURPOSE_OF_USE_TYPE,
    bound_purpose,
    purpose_binding,
    purpose_term,
)
from tests.helpers.credentials import (
    IssuingProvince,
    VerifyingProvince,
    degree_request,
    request,
)

ENROLMENT = "cross-province.enrolment"


def _term(purpose: str = ENROLMENT) -> dict[str, Any]:
    return {"type": PURPOSE_OF_USE_TYPE, "purpose": purpose}


def test_a_presentation_without_terms_of_use_is_bound_to_no_purpose() -> None:
    found = bound_purpose({"type": ["VerifiablePresentation"]})
    assert isinstance(found, Passed)
    assert found.value is None
    assert isinstance(purpose_binding({}, "audit.review"), Passed)


@pytest.mark.parametrize("terms", [_term(), [_term()]])
def test_one_entry_or_a_list_of_one_binds_the_purpose(terms: Any) -> None:
    found = bound_purpose({"termsOfUse": terms})
    assert isinstance(found, Passed)
    assert found.value == ENROLMENT


@pytest.mark.parametrize(
    "terms",
    [
        [],
        [_term(), _term("audit.review")],
        {"type": "SomeoneElsesPolicy", "purpose": ENROLMENT},
        {"type": PURPOSE_OF_USE_TYPE},
        {"type": PURPOSE_OF_USE_TYPE, "purpose": ENROLMENT, "note": "x"},
        {"type": PURPOSE_OF_USE_TYPE, "purpose": "Cross Province"},
        {"type": PURPOSE_OF_USE_TYPE, "purpose": 7},
        {"type": PURPOSE_OF_USE_TYPE, "purpose": "lookup.110101199003071234"},
        "cross-province.enrolment",
    ],
)
def test_terms_of_use_other_than_one_purpose_entry_are_malformed(terms: Any) -> None:
    found = purpose_binding({"termsOfUse": terms}, ENROLMENT)
    assert isinstance(found, Failed)
    assert found.reason is Reason.PURPOSE_OF_USE_MALFORMED
    assert found.at == "/termsOfUse"


def test_a_bound_purpose_must_equal_the_declared_one() -> None:
    bound = {"termsOfUse": _term()}
    assert isinstance(purpose_binding(bound, ENROLMENT), Passed)
    other = purpose_binding(bound, "audit.review")
    assert isinstance(other, Failed)
    assert other.reason is Reason.PURPOSE_MISMATCH


def test_purpose_term_refuses_a_code_the_audit_log_would_refuse() -> None:
    assert purpose_term(ENROLMENT) == _term()
    with pytest.raises(ValueError, match="purpose code"):
        purpose_term("Enrolment 110101199003071234")
    with pytest.raises(ValueError, match="nine digits"):
        purpose_term("lookup.110101199003071234")


def _presented(
    zhejiang: IssuingProvince,
    guangdong: VerifyingProvince,
    holder: Holder,
    purpose: str | None,
) -> dict[str, Any]:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    credential = zhejiang.issuer.credential(issued.digest)
    guangdong.sync()
    return holder.present(
        [(credential, ["degreeName"])],
        challenge=guangdong.verifier.issue_challenge().value,
        domain=guangdong.config.did,
        purpose=purpose,
    )


def test_a_presentation_bound_to_the_declared_purpose_is_valid(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    presentation = _presented(zhejiang, guangdong, holder, ENROLMENT)
    assert presentation["termsOfUse"] == _term()
    result = guangdong.verifier.verify_presentation(presentation, request(purpose=ENROLMENT))
    assert result.valid, result.checks


def test_a_presentation_bound_to_another_purpose_is_invalid_at_check_6(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    presentation = _presented(zhejiang, guangdong, holder, ENROLMENT)
    before = guangdong.audit.size()
    result = guangdong.verifier.verify_presentation(presentation, request(purpose="audit.review"))
    assert result.verdict is CheckStatus.INVALID
    failure = result.first_failure()
    assert failure is not None
    assert (failure.number, failure.reason_code) == (6, Reason.PURPOSE_MISMATCH)
    # The access event records the purpose the verifier declared, and the refusal.
    assert guangdong.audit.size() == before + 1
    events = guangdong.audit.events_about(holder.did)
    assert events[-1].event.purpose == "audit.review"
    assert events[-1].event.outcome == "invalid"
    # The refusal used the challenge up: no probing of purposes with one challenge.
    again = guangdong.verifier.verify_presentation(presentation, request(1, purpose=ENROLMENT))
    failure = again.first_failure()
    assert failure is not None
    assert (failure.number, failure.reason_code) == (6, Reason.CHALLENGE_USED)


def test_an_unbound_presentation_verifies_under_any_declared_purpose(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    presentation = _presented(zhejiang, guangdong, holder, None)
    assert "termsOfUse" not in presentation
    result = guangdong.verifier.verify_presentation(presentation, request(purpose="audit.review"))
    assert result.valid, result.checks


@pytest.mark.parametrize("change", ["tamper", "remove", "add"])
def test_changing_the_terms_of_use_breaks_the_holder_proof(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder, change: str
) -> None:
    presentation = _presented(zhejiang, guangdong, holder, None if change == "add" else ENROLMENT)
    changed = copy.deepcopy(presentation)
    if change == "tamper":
        changed["termsOfUse"]["purpose"] = "audit.review"
    elif change == "remove":
        del changed["termsOfUse"]
    else:
        changed["termsOfUse"] = _term("audit.review")
    result = guangdong.verifier.verify_presentation(changed, request(purpose="audit.review"))
    failure = result.first_failure()
    assert failure is not None
    assert (failure.number, failure.reason_code) == (6, Reason.HOLDER_SIGNATURE_INVALID)


def test_a_holder_cannot_bind_a_malformed_purpose(holder: Holder) -> None:
    with pytest.raises(DisclosureError, match="purpose code"):
        holder.present([({}, [])], challenge="c", domain="d", purpose="Not A Code")
