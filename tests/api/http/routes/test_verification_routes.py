"""The verification routes over HTTP: challenges, credentials, presentations (single-use)."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from api.errors import ProblemCode
from api.http.schemas.credentials import ChallengeOut, VerificationOut
from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue, problem, verify_at
from tests.helpers.server import Province

CHOSEN = ["degreeLevel", "awardingInstitution"]


def _anchored_credential(province: ServedProvince, holder: Holder) -> dict[str, Any]:
    digest = issue(province, holder.did)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def _challenge(province: ServedProvince, **kwargs: Any) -> dict[str, Any]:
    reply = province.request("POST", "/challenges", Role.VERIFIER, **kwargs)
    assert reply.status == 201, reply.text
    document: dict[str, Any] = reply.json()
    ChallengeOut.model_validate(document)
    return document


def _verify_presentation(province: ServedProvince, presentation: dict[str, Any]) -> dict[str, Any]:
    reply = province.request(
        "POST",
        "/presentations/verify",
        Role.VERIFIER,
        json_body={"verifiablePresentation": presentation},
        headers=PERSONAL,
    )
    assert reply.status == 200, reply.text
    result: dict[str, Any] = reply.json()
    assert (
        VerificationOut.model_validate(result).model_dump(mode="json", exclude_none=True) == result
    )
    return result


def test_a_presentation_of_two_claims_verifies_once_at_the_other_province(
    world: World, tmp_path: Path
) -> None:
    holder = Holder.generate()
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        credential = _anchored_credential(zhejiang, holder)
        guangdong.sync()
        # No body at all, or an empty object: both ask for a challenge.
        challenge = _challenge(guangdong)
        assert challenge["domain"] == guangdong.did
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", challenge["expiresAt"])
        spare = _challenge(guangdong, json_body={})
        assert spare["challenge"] != challenge["challenge"]
        extra = guangdong.request("POST", "/challenges", Role.VERIFIER, json_body={"x": 1})
        problem(extra, 422, ProblemCode.VALIDATION_FAILED)

        presentation = holder.present(
            [(credential, CHOSEN)], challenge=challenge["challenge"], domain=guangdong.did
        )
        assert len(presentation["verifiableCredential"][0]["disclosures"]) == 2
        result = _verify_presentation(guangdong, presentation)
        assert result["verdict"] == "VALID", result
        assert result["kind"] == "presentation"
        assert [c["status"] for c in result["checks"]] == ["VALID"] * 8
        assert result["checks"][7]["message"].startswith("2 disclosure")

        again = _verify_presentation(guangdong, presentation)
        assert again["verdict"] == "INVALID"
        assert (again["checks"][6]["status"], again["checks"][6]["reasonCode"]) == (
            "INVALID",
            "challenge_used",
        )

        # A presentation meant for another verifier fails its domain check.
        elsewhere = holder.present(
            [(credential, CHOSEN)], challenge=spare["challenge"], domain=zhejiang.did
        )
        wrong = _verify_presentation(guangdong, elsewhere)
        assert wrong["checks"][6]["reasonCode"] == "domain_mismatch"

        logged = events(guangdong)
        assert [e.action for e in logged] == ["presentation.verify"] * 3
        assert [e.outcome for e in logged] == ["success", "invalid", "invalid"]
        assert {(e.actor, e.actor_org) for e in logged} == {("verifier-app", ORGS[GD])}
        assert logged[0].subject == guangdong.parts.audit_log.pseudonyms.subject(holder.did)
        assert guangdong.context.metrics.verified.value() == 3
        metrics = guangdong.request("GET", "/metrics").text
        assert 'tongban_verification_duration_seconds_count{kind="presentation"} 3' in metrics
        # Zhejiang's log has only its own issue and read.
        assert [e.action for e in events(zhejiang)] == ["credential.issue", "credential.read"]


def test_a_bad_credential_is_a_result_and_a_bad_body_is_refused(
    world: World, tmp_path: Path
) -> None:
    holder = Holder.generate()
    with served_province(world, tmp_path, ZJ) as zhejiang:
        credential = _anchored_credential(zhejiang, holder)
        assert verify_at(zhejiang, credential)["verdict"] == "VALID"

        tampered = copy.deepcopy(credential)
        tampered["disclosures"][0][2] = "someone else"
        result = verify_at(zhejiang, tampered)
        assert result["verdict"] == "INVALID"
        assert result["checks"][7]["reasonCode"] == "disclosure_not_in_sd"
        # The finding names the disclosure and its claim, and points at it; never the value.
        claim = tampered["disclosures"][0][1].rsplit("/", 1)[1]
        assert result["checks"][7]["message"].startswith(f"disclosure 0 (claim {claim})")
        assert result["checks"][7]["at"] == "/disclosures/0"
        assert VerificationOut.model_validate(result).model_dump(
            mode="json", exclude_none=True
        ) == (result)
        assert "someone else" not in str(result)

        # Not a credential at all (VC API: 400), not the route's shape (422), or not
        # JSON: refused before any verification (tests/api/http/routes/test_verify_vcapi.py).
        for body, status, code in (
            ({"verifiableCredential": {"hello": "world"}}, 400, ProblemCode.BAD_REQUEST),
            ({"verifiableCredential": [credential]}, 400, ProblemCode.BAD_REQUEST),
            ({"credential": credential}, 422, ProblemCode.VALIDATION_FAILED),
        ):
            reply = zhejiang.request(
                "POST", "/credentials/verify", Role.VERIFIER, json_body=body, headers=PERSONAL
            )
            problem(reply, status, code)
        not_json = zhejiang.request(
            "POST",
            "/credentials/verify",
            Role.VERIFIER,
            body=b'{"verifiableCredential": ',
            headers={**PERSONAL, "Content-Type": "application/json"},
        )
        problem(not_json, 400, ProblemCode.INVALID_JSON)
        no_purpose = zhejiang.request(
            "POST",
            "/credentials/verify",
            Role.VERIFIER,
            json_body={"verifiableCredential": credential},
        )
        problem(no_purpose, 422, ProblemCode.VALIDATION_FAILED)
        as_issuer = zhejiang.request(
            "POST",
            "/credentials/verify",
            Role.ISSUER,
            json_body={"verifiableCredential": credential},
            headers=PERSONAL,
        )
        problem(as_issuer, 403, ProblemCode.FORBIDDEN)
        as_holder = zhejiang.request("POST", "/challenges", Role.HOLDER)
        problem(as_holder, 403, ProblemCode.FORBIDDEN)

        verified = [e for e in events(zhejiang) if e.action == "credential.verify"]
        assert [e.outcome for e in verified] == ["success", "invalid"]


def test_verification_routes_answer_unavailable_without_a_verifier(province: Province) -> None:
    problem(province.request("POST", "/challenges", Role.VERIFIER), 503, ProblemCode.UNAVAILABLE)
    reply = province.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": {}},
        headers=PERSONAL,
    )
    problem(reply, 503, ProblemCode.UNAVAILABLE)
    assert reply.header("Retry-After") is not None
