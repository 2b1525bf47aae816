"""The VC API (VCALM) dialect of ``POST /credentials/verify`` and ``POST /presentations/verify``.

Each test names the section of the VC API (w3c/vcalm, pinned in tests/vectors/vcalm) or of
the VC Data Model 2.0 it follows. The standard members of every 200 are validated against the
pinned ``VerifyCredentialResult`` / ``VerifyPresentationResult`` schemas
(``tests.helpers.vcalm``); Tongban's members beside them (``TONGBAN_MEMBERS``) are the
documented extensions, which the pinned schemas' ``additionalProperties: false`` would refuse,
so they are checked apart.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.schemas.credentials import VerificationOut
from api.province.clients import Role
from credentials.holder import Holder
from credentials.verify.vcapi import UNKNOWN_OPTION_PROVIDED, VERIFICATION_PROBLEM_BASE
from ledger.store.database import StoreError
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue, problem
from tests.helpers.server import Reply
from tests.helpers.vcalm import assert_vcalm_body, vcalm_schema

CHOSEN = ["degreeLevel", "awardingInstitution"]
CREDENTIALS = "/credentials/verify"
PRESENTATIONS = "/presentations/verify"
TONGBAN_MEMBERS = {
    "kind",
    "verdict",
    "indexHeight",
    "credentialDigests",
    "checks",
    "statuses",
    "statusList",
    "zhengzhao",
}
SECRET = "110101199003071234"
"""A value that must never come back in an error (an ID number)."""


@pytest.fixture
def provinces(world: World, tmp_path: Path) -> Iterator[tuple[ServedProvince, ServedProvince]]:
    """Zhejiang issues, Guangdong verifies."""
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        yield zhejiang, guangdong


def _anchored(province: ServedProvince, holder: Holder) -> dict[str, Any]:
    digest = issue(province, holder.did)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def _post(province: ServedProvince, path: str, body: dict[str, Any]) -> Reply:
    return province.request("POST", path, Role.VERIFIER, json_body=body, headers=PERSONAL)


def _result(province: ServedProvince, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """A 200 whose standard members match the pinned VC API schema and whose rest is ours."""
    reply = _post(province, path, body)
    assert reply.status == 200, reply.text
    result: dict[str, Any] = reply.json()
    standard = set(vcalm_schema(path, "post", 200)["properties"])
    assert_vcalm_body(path, "post", 200, {k: v for k, v in result.items() if k in standard})
    assert set(result) - standard <= TONGBAN_MEMBERS, set(result) - standard
    assert isinstance(result["verified"], bool)
    # Our own published model describes the same body, member for member.
    assert VerificationOut.model_validate(result).model_dump(mode="json", exclude_none=True) == (
        result
    )
    return result


def _challenge(province: ServedProvince) -> str:
    reply = province.request("POST", "/challenges", Role.VERIFIER)
    assert reply.status == 201, reply.text
    value: str = reply.json()["challenge"]
    return value


def _malformed(reply: Reply, *pointers: str) -> dict[str, Any]:
    """A 400 ``bad-request`` naming exactly ``pointers`` (VC API: invalid input is a 400)."""
    body = problem(reply, 400, ProblemCode.BAD_REQUEST)
    assert [e["field"] for e in body["errors"]] == list(pointers), body
    assert SECRET not in reply.text
    return body


# -- VC API 3.5.1 Verify Credential ---------------------------------------------------------


def test_vcapi_verify_credential_with_options_answers_verified_true_and_tongban_members(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    credential = _anchored(zhejiang, Holder.generate())
    guangdong.sync()
    choices: list[dict[str, Any] | None] = [{}, None]
    for options in choices:
        body: dict[str, Any] = {"verifiableCredential": credential}
        if options is not None:
            body["options"] = options
        result = _result(guangdong, CREDENTIALS, body)
        assert (result["verified"], result["verdict"]) == (True, "VALID")
        assert result["problemDetails"] == []
        # VerifyCredentialOptions.returnCredential / returnResults: "if false or not provided".
        assert "credential" not in result
        assert "results" not in result
        assert [c["status"] for c in result["checks"]][:6] == ["VALID"] * 6

    asked = {"returnResults": True, "returnCredential": True, "returnProblemDetails": True}
    full = _result(guangdong, CREDENTIALS, {"verifiableCredential": credential, "options": asked})
    assert full["credential"] == credential
    assert full["results"]["validFrom"] == {"verified": True, "input": credential["validFrom"]}
    assert full["results"]["credentialSchema"] == [
        {"verified": True, "input": credential["credentialSchema"]}
    ]
    # One proof is an object (VC Data Integrity 2.1); the anchor travels beside it.
    assert full["results"]["proof"] == [{"verified": True, "input": credential["proof"]}]
    quiet = _result(
        guangdong,
        CREDENTIALS,
        {"verifiableCredential": credential, "options": {"returnProblemDetails": False}},
    )
    assert "problemDetails" not in quiet
    assert [e.outcome for e in events(guangdong)] == ["success"] * 4


def test_vcapi_error_handling_a_tampered_credential_is_200_verified_false_with_problem_details(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    credential = _anchored(zhejiang, Holder.generate())
    guangdong.sync()
    tampered = copy.deepcopy(credential)
    tampered["disclosures"][0][2] = SECRET
    options = {"returnResults": True}
    result = _result(guangdong, CREDENTIALS, {"verifiableCredential": tampered, "options": options})
    assert (result["verified"], result["verdict"]) == (False, "INVALID")
    # "If an error is included, the verified property MUST be set to false" (VC API 3.7.1).
    [found] = result["problemDetails"]
    assert found["type"] == VERIFICATION_PROBLEM_BASE + "disclosure_not_in_sd"
    assert found["title"] == "Disclosure not in sd"
    assert (found["check"], found["reasonCode"], found["at"]) == (
        "disclosures",
        "disclosure_not_in_sd",
        "/disclosures/0",
    )
    assert found["detail"].startswith("disclosure 0 (claim ")
    assert SECRET not in str(result["problemDetails"]) + str(result["checks"])
    # The issuer's signature still holds: the proof verified.
    assert [p["verified"] for p in result["results"]["proof"]] == [True]

    forged = copy.deepcopy(credential)
    forged["proof"]["proofValue"] = "z" + "1" * 86
    result = _result(guangdong, CREDENTIALS, {"verifiableCredential": forged, "options": options})
    assert result["verified"] is False
    assert result["problemDetails"][0]["check"] == "issuer-proof"
    assert result["results"]["proof"][0]["verified"] is False
    assert [e.outcome for e in events(guangdong)] == ["invalid", "invalid"]


def test_vcapi_verify_credential_a_pending_anchor_is_verified_false_with_its_own_problem_type(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    pending = issue(zhejiang, Holder.generate().did)["credential"]
    assert "anchor" not in pending  # the issuer's proof only: the batch is not anchored
    result = _result(guangdong, CREDENTIALS, {"verifiableCredential": pending, "options": {}})
    assert (result["verified"], result["verdict"]) == (False, "INVALID")
    types = [p["type"] for p in result["problemDetails"]]
    assert types == [VERIFICATION_PROBLEM_BASE + "anchor_proof_missing"]
    assert result["problemDetails"][0]["title"] == "Anchor pending"


MALFORMED_CREDENTIALS: list[tuple[str, Any, list[str]]] = [
    # VCDM 2.0 §4: a verifiable credential is a JSON object.
    ("not an object", [1, 2], ["/verifiableCredential"]),
    ("a string", SECRET, ["/verifiableCredential"]),
    ("null", None, ["/verifiableCredential"]),
    # §4.3 Contexts
    ("no @context", {"@context": None}, ["/verifiableCredential/@context"]),
    ("wrong @context", {"@context": [SECRET]}, ["/verifiableCredential/@context/0"]),
    # §4.5 Types
    ("no type", {"type": None}, ["/verifiableCredential/type"]),
    ("type without VerifiableCredential", {"type": [SECRET]}, ["/verifiableCredential/type"]),
    # §4.9 Validity Period; VCDM 1.1 §4.6 issuanceDate
    ("validFrom not a date-time", {"validFrom": SECRET}, ["/verifiableCredential/validFrom"]),
    (
        "validUntil without offset",
        {"validUntil": "2030-01-01T00:00:00"},
        ["/verifiableCredential/validUntil"],
    ),
    (
        "issuanceDate malformed",
        {"issuanceDate": "2030-02-30T00:00:00Z"},
        ["/verifiableCredential/issuanceDate"],
    ),
    # §4.4 Identifiers
    ("id not a URL", {"id": SECRET}, ["/verifiableCredential/id"]),
    # Data Integrity §2.1: a proof is an object (or a set of them)
    ("proof a string", {"proof": SECRET}, ["/verifiableCredential/proof"]),
    (
        "proof with a non-object",
        {"proof": [{"type": "x"}, SECRET]},
        ["/verifiableCredential/proof"],
    ),
]


def _broken(credential: dict[str, Any], change: Any) -> Any:
    if not isinstance(change, dict):
        return change
    document = copy.deepcopy(credential)
    for name, value in change.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return document


def test_vcdm_2_0_section_4_a_document_that_is_not_a_credential_is_400_naming_the_member(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    credential = _anchored(zhejiang, Holder.generate())
    guangdong.sync()
    for case, change, pointers in MALFORMED_CREDENTIALS:
        body = {"verifiableCredential": _broken(credential, change), "options": {}}
        reply = _post(guangdong, CREDENTIALS, body)
        try:
            _malformed(reply, *pointers)
            assert_vcalm_body(CREDENTIALS, "post", 400, reply.json())
        except AssertionError as exc:
            raise AssertionError(f"{case}: {exc}") from None
    # A VCDM 1.1 credential without issuanceDate is malformed too (VCDM 1.1 §4.6).
    v1 = {**credential, "@context": ["https://www.w3.org/2018/credentials/v1"]}
    for name in ("validFrom", "validUntil"):
        v1.pop(name, None)
    _malformed(
        _post(guangdong, CREDENTIALS, {"verifiableCredential": v1}),
        *["/verifiableCredential/issuanceDate"],
    )
    # A refused request is no access: no event, no verification counted.
    assert events(guangdong) == []
    assert guangdong.context.metrics.verified.value() == 0
    # A well-formed credential that Tongban cannot verify is a result, not a 400.
    foreign = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "ExampleDegreeCredential"],
        "issuer": "did:example:university",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:alice", "degree": "BSc"},
    }
    result = _result(guangdong, CREDENTIALS, {"verifiableCredential": foreign})
    assert (result["verified"], result["verdict"]) == (False, "INVALID")
    # An issuer outside the consortium: its proofs are checked (it has none).
    assert [(p["check"], p["reasonCode"]) for p in result["problemDetails"]] == [
        ("issuer-proof", "proof_missing"),
        ("issuer-key", "issuer_not_in_registry"),
    ]
    assert [e.outcome for e in events(guangdong)] == ["invalid"]


# -- VC API 3.2.3 Options ----------------------------------------------------------------------


def test_vcapi_options_an_unknown_or_malformed_option_is_an_error_naming_it(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    holder = Holder.generate()
    credential = _anchored(zhejiang, holder)
    guangdong.sync()
    # "Implementations MUST throw an error if an endpoint receives data, options, or option
    # values that it does not understand": UNKNOWN_OPTION_PROVIDED (VC API 3.7).
    cases: list[tuple[Any, str]] = [
        ({"checks": ["proof"]}, "/options/checks"),
        ({SECRET: True}, "/options/*"),
        # A lone credential has no holder proof to carry a challenge (VerifyCredentialOptions).
        ({"challenge": _challenge(guangdong)}, "/options/challenge"),
        ({"returnResults": "yes"}, "/options/returnResults"),
        ([SECRET], "/options"),
    ]
    for options, pointer in cases:
        reply = _post(
            guangdong, CREDENTIALS, {"verifiableCredential": credential, "options": options}
        )
        body = _malformed(reply, pointer)
        unknown = isinstance(options, dict) and pointer != "/options/returnResults"
        assert (UNKNOWN_OPTION_PROVIDED in body["errors"][0]["rule"]) is unknown, body
    # Unknown members beside the request's own stay refused (422, as every strict body).
    reply = _post(guangdong, CREDENTIALS, {"verifiableCredential": credential, "extra": 1})
    problem(reply, 422, ProblemCode.VALIDATION_FAILED)

    # A presentation request with an unknown option uses up nothing: its challenge still works.
    challenge = _challenge(guangdong)
    presentation = holder.present([(credential, CHOSEN)], challenge=challenge, domain=guangdong.did)
    for options in ({"returnResults": True}, {"challenge": 7}):
        reply = _post(
            guangdong, PRESENTATIONS, {"verifiablePresentation": presentation, "options": options}
        )
        _malformed(reply, "/options/" + next(iter(options)))
    assert events(guangdong) == []
    ok = _result(
        guangdong,
        PRESENTATIONS,
        {"verifiablePresentation": presentation, "options": {"challenge": challenge}},
    )
    assert ok["verified"] is True, ok


# -- VC API 3.5.2 Verify Presentation, 3.5.3 Create Challenge -------------------------------


def test_vcapi_verify_presentation_options_challenge_is_single_use_and_a_replay_never_verifies(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    holder = Holder.generate()
    credential = _anchored(zhejiang, holder)
    guangdong.sync()
    challenge = _challenge(guangdong)
    presentation = holder.present([(credential, CHOSEN)], challenge=challenge, domain=guangdong.did)
    options = {"challenge": challenge, "domain": guangdong.did, "returnPresentation": True}
    body = {"verifiablePresentation": presentation, "options": options}
    first = _result(guangdong, PRESENTATIONS, body)
    assert (first["verified"], first["verdict"]) == (True, "VALID"), first
    assert first["problemDetails"] == []
    assert first["verifiablePresentation"] == presentation
    shown = first["results"]["presentation"]
    assert shown["challenge"] == {"verified": True, "input": challenge}
    assert shown["domain"] == {"verified": True, "input": guangdong.did}
    assert shown["holder"] == {"verified": True, "input": holder.did}
    assert shown["proof"] == [
        {"verified": True, "input": presentation["proof"], "problemDetails": []}
    ]

    again = _result(guangdong, PRESENTATIONS, body)
    assert (again["verified"], again["verdict"]) == (False, "INVALID")
    assert again["checks"][6]["reasonCode"] == "challenge_used"
    assert again["results"]["presentation"]["challenge"]["verified"] is False
    # The replay's access event is no fresh success.
    assert [e.outcome for e in events(guangdong)] == ["success", "invalid"]

    # Without options the proof's own challenge must still be one this verifier issued.
    fresh = holder.present(
        [(credential, CHOSEN)], challenge=_challenge(guangdong), domain=guangdong.did
    )
    plain = _result(guangdong, PRESENTATIONS, {"verifiablePresentation": fresh, "options": {}})
    assert plain["verified"] is True
    assert "verifiablePresentation" not in plain


def test_vcapi_options_challenge_never_issued_differing_or_domain_mismatch_is_invalid(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    holder = Holder.generate()
    credential = _anchored(zhejiang, holder)
    guangdong.sync()

    def check6(presentation: dict[str, Any], options: dict[str, Any]) -> str:
        body = {"verifiablePresentation": presentation, "options": options}
        result = _result(guangdong, PRESENTATIONS, body)
        assert (result["verified"], result["verdict"]) == (False, "INVALID"), result
        problems = [str(p["reasonCode"]) for p in result["problemDetails"]]
        assert problems == [result["checks"][6]["reasonCode"]]
        return problems[0]

    invented = secrets.token_urlsafe(24)
    never = holder.present([(credential, CHOSEN)], challenge=invented, domain=guangdong.did)
    assert check6(never, {"challenge": invented}) == "challenge_not_issued"

    issued, other = _challenge(guangdong), _challenge(guangdong)
    signed = holder.present([(credential, CHOSEN)], challenge=issued, domain=guangdong.did)
    assert check6(signed, {"challenge": other}) == "challenge_mismatch"
    assert check6(signed, {"challenge": issued, "domain": "did:example:elsewhere"}) == (
        "domain_mismatch"
    )
    # The mismatches used up neither challenge: the presentation verifies with its own.
    good = _result(
        guangdong,
        PRESENTATIONS,
        {"verifiablePresentation": signed, "options": {"challenge": issued}},
    )
    assert good["verified"] is True
    assert [e.outcome for e in events(guangdong)] == ["invalid"] * 3 + ["success"]


def test_vcdm_2_0_section_4_13_a_document_that_is_not_a_presentation_is_400_and_uses_nothing(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    zhejiang, guangdong = provinces
    holder = Holder.generate()
    credential = _anchored(zhejiang, holder)
    guangdong.sync()
    challenge = _challenge(guangdong)
    presentation = holder.present([(credential, CHOSEN)], challenge=challenge, domain=guangdong.did)
    broken_credential = copy.deepcopy(presentation)
    del broken_credential["verifiableCredential"][0]["@context"]
    cases: list[tuple[Any, str]] = [
        ("not a presentation", "/verifiablePresentation"),
        ({**presentation, "type": ["VerifiableCredential"]}, "/verifiablePresentation/type"),
        ({**presentation, "proof": SECRET}, "/verifiablePresentation/proof"),
        ({**presentation, "holder": SECRET}, "/verifiablePresentation/holder"),
        (broken_credential, "/verifiablePresentation/verifiableCredential/0/@context"),
    ]
    for document, pointer in cases:
        reply = _post(guangdong, PRESENTATIONS, {"verifiablePresentation": document})
        _malformed(reply, pointer)
    assert events(guangdong) == []
    result = _result(guangdong, PRESENTATIONS, {"verifiablePresentation": presentation})
    assert result["verified"] is True


# -- ERROR: the verifier could not decide -------------------------------------------------------


def test_an_undecided_verification_is_503_not_verified_false(
    provinces: tuple[ServedProvince, ServedProvince], monkeypatch: pytest.MonkeyPatch
) -> None:
    zhejiang, guangdong = provinces
    credential = _anchored(zhejiang, Holder.generate())
    guangdong.sync()
    verifier = guangdong.context.verifier
    assert verifier is not None

    def unreadable() -> Any:
        raise StoreError("the disk is gone")

    monkeypatch.setattr(verifier.index, "view", unreadable)
    reply = _post(guangdong, CREDENTIALS, {"verifiableCredential": credential})
    body = problem(reply, 503, ProblemCode.STORE_UNAVAILABLE)
    assert reply.header("Retry-After") is not None
    assert "verified" not in body
    # The attempt is an access all the same, recorded as an error.
    assert [e.outcome for e in events(guangdong)] == ["error"]


# -- the app's own OpenAPI ---------------------------------------------------------------------


def test_the_openapi_document_describes_options_and_the_vc_api_result(
    provinces: tuple[ServedProvince, ServedProvince],
) -> None:
    _, guangdong = provinces
    document = guangdong.request("GET", "/openapi.json").json()
    schemas = document["components"]["schemas"]
    credential_in = schemas["VerifyCredentialIn"]["properties"]
    assert set(credential_in["options"]["properties"]) == {
        "returnResults",
        "returnProblemDetails",
        "returnCredential",
    }
    assert credential_in["options"]["additionalProperties"] is False
    presentation_in = schemas["VerifyPresentationIn"]["properties"]
    assert set(presentation_in["options"]["properties"]) == {
        "challenge",
        "domain",
        "returnPresentation",
    }
    assert schemas["VerifyCredentialIn"]["additionalProperties"] is False
    out = schemas["VerificationOut"]
    assert {"verified", "problemDetails", "results", "credential", "verifiablePresentation"} <= set(
        out["properties"]
    )
    assert "verified" in out["required"]
    for path in (CREDENTIALS, PRESENTATIONS):
        operation = document["paths"][path]["post"]
        assert {"200", "400", "500", "503"} <= set(operation["responses"]), path
