"""The VC API dialect of ``POST /credentials/issue`` and ``POST /credentials/status`` (#13).

One route, two dialects, chosen by the body's top-level member: the W3C VC API
(``credential``; ``credentialId``) and Tongban's catalogue (``template``;
``action``). Both or neither is 400. Each dialect keeps its own answer shape
and status code, and the VC API bodies validate against the pinned
``w3c/vcalm`` OpenAPI schemas (tests/helpers/vcalm.py). Test names cite the VC
API sections ("Issue Credential", "Update Status") and VCDM 2.0 where a rule
comes from there.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.province.clients import Role
from credentials.holder import Holder
from credentials.status import DigestStatus
from credentials.vcdm import CREDENTIALS_V1
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue_body, problem
from tests.helpers.server import Reply
from tests.helpers.vcalm import assert_vcalm_body

V2 = "https://www.w3.org/ns/credentials/v2"


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, issuing."""
    with served_province(world, tmp_path, ZJ) as province:
        yield province


def _post(province: ServedProvince, path: str, body: Any, key: str | None = None) -> Reply:
    headers = dict(PERSONAL)
    if key is not None:
        headers["Idempotency-Key"] = key
    return province.request("POST", path, Role.ISSUER, json_body=body, headers=headers)


def _plain(province: ServedProvince, **members: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": province.did,
        "credentialSubject": {"memberOf": "示例协会", "memberSince": "2020"},
    }
    credential.update(members)
    return credential


def _issue(province: ServedProvince, body: dict[str, Any]) -> dict[str, Any]:
    reply = _post(province, "/credentials/issue", body)
    assert reply.status == 201, reply.text
    answer: dict[str, Any] = reply.json()
    assert_vcalm_body("/credentials/issue", "post", 201, answer)
    return answer


def _verify(province: ServedProvince, credential: dict[str, Any]) -> dict[str, Any]:
    body = {"verifiableCredential": credential, "options": {}}
    reply = province.request(
        "POST", "/credentials/verify", Role.VERIFIER, json_body=body, headers=PERSONAL
    )
    assert reply.status == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_issue_credential_answers_201_with_the_verifiable_credential(
    zhejiang: ServedProvince,
) -> None:
    request = {"credential": _plain(zhejiang), "options": {}}
    assert_vcalm_body("/credentials/issue", "post", None, request)
    issued = _issue(zhejiang, request)["verifiableCredential"]
    # The submitted credential, secured: one proof is an object (VC Data Integrity 2.1).
    assert issued["proof"]["type"] == "DataIntegrityProof"
    assert issued["proof"]["cryptosuite"] == "sm2-jcs-2026"
    assert issued["credentialSubject"] == request["credential"]["credentialSubject"]
    assert issued["type"] == request["credential"]["type"]
    # Every credential gets a status entry per purpose (Bitstring Status List).
    purposes = [entry["statusPurpose"] for entry in issued["credentialStatus"]]
    assert purposes == ["revocation", "suspension"]
    zhejiang.anchor_all()
    anchored = zhejiang.request(
        "GET",
        f"/credentials/{_digest_of(zhejiang, issued)}",
        Role.ISSUER,
        headers=PERSONAL,
    ).json()["credential"]
    assert anchored["anchor"]["type"] == "TongbanAnchorProof2026"
    result = _verify(zhejiang, anchored)
    assert result["verified"] is True, result
    assert result["verdict"] == "VALID"


def _digest_of(province: ServedProvince, credential: dict[str, Any]) -> str:
    return str(province.parts.verifier.evaluate_credential(credential).digests[0])


def test_issue_credential_with_mandatory_pointers_makes_the_other_claims_disclosable(
    zhejiang: ServedProvince,
) -> None:
    request = {
        "credential": _plain(zhejiang),
        "options": {"mandatoryPointers": ["/credentialSubject/memberOf"]},
    }
    issued = _issue(zhejiang, request)["verifiableCredential"]
    subject = issued["credentialSubject"]
    assert subject["memberOf"] == "示例协会"  # mandatory: always revealed
    assert "memberSince" not in subject
    assert len(subject["_sd"]) == 4  # one claim + decoys, a multiple of 4
    assert [d[1] for d in issued["disclosures"]] == ["/credentialSubject/memberSince"]


def test_issue_credential_tongban_disclosable_pointers_extension(zhejiang: ServedProvince) -> None:
    request = {
        "credential": _plain(zhejiang),
        "options": {"disclosablePointers": ["/credentialSubject/memberOf"]},
    }
    issued = _issue(zhejiang, request)["verifiableCredential"]
    assert "memberOf" not in issued["credentialSubject"]
    assert issued["credentialSubject"]["memberSince"] == "2020"
    both = {
        "credential": _plain(zhejiang),
        "options": {"disclosablePointers": [], "mandatoryPointers": []},
    }
    problem(_post(zhejiang, "/credentials/issue", both), 422, ProblemCode.VALIDATION_FAILED)


def test_issue_credential_of_a_template_type_follows_the_template(
    zhejiang: ServedProvince,
) -> None:
    template = issue_body(Holder.generate().did)
    credential: dict[str, Any] = {
        "@context": [V2],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": zhejiang.did,
        "credentialSubject": {"id": template["holder"], **template["claims"]},
    }
    issued = _issue(zhejiang, {"credential": credential})["verifiableCredential"]
    # The template's rules: its contexts, schema, urn:uuid id and disclosable claims.
    assert issued["credentialSchema"]["id"].endswith("/degree-certificate/v1")
    assert issued["id"].startswith("urn:uuid:")
    assert "holderName" not in issued["credentialSubject"]
    assert len(issued["credentialSubject"]["_sd"]) == 12
    broken = copy.deepcopy(credential)
    del broken["credentialSubject"]["degreeName"]
    reply = _post(zhejiang, "/credentials/issue", {"credential": broken})
    body = problem(reply, 400, ProblemCode.BAD_REQUEST)
    assert body["errors"][0]["field"] == "/credential/credentialSubject/degreeName"


def test_issue_credential_vcdm_1_1_is_issued_in_its_own_data_model(
    zhejiang: ServedProvince,
) -> None:
    credential = {
        "@context": [CREDENTIALS_V1],
        "type": ["VerifiableCredential"],
        "issuer": zhejiang.did,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "memberOf": "示例协会"},
    }
    issued = _issue(zhejiang, {"credential": credential})["verifiableCredential"]
    assert issued["@context"][0] == CREDENTIALS_V1
    assert issued["issuanceDate"] == "2026-01-01T00:00:00Z"
    assert "validFrom" not in issued


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"@context": ["https://example.com/not-v2"]}, "/credential/@context/0"),
        ({"issuer": "did:tongban:31337:99"}, "/credential/issuer"),
        ({"type": ["MembershipCredential"]}, "/credential/type"),
        ({"validFrom": "2026-02-30T00:00:00Z"}, "/credential/validFrom"),
        (
            {"validFrom": "2026-03-01T00:00:00Z", "validUntil": "2026-02-01T00:00:00Z"},
            "/credential/validUntil",
        ),
        ({"id": "not a url"}, "/credential/id"),
        ({"credentialSubject": []}, "/credential/credentialSubject"),
        ({"proof": {"type": "DataIntegrityProof"}}, "/credential/proof"),
        ({"@context": [V2, "https://example.com/unknown-context"]}, "/credential/@context/1"),
    ],
)
def test_issue_credential_a_non_conforming_credential_is_400_naming_the_member(
    zhejiang: ServedProvince, change: dict[str, Any], field: str
) -> None:
    reply = _post(zhejiang, "/credentials/issue", {"credential": _plain(zhejiang, **change)})
    body = problem(reply, 400, ProblemCode.BAD_REQUEST)
    assert [e["field"] for e in body["errors"]] == [field]
    assert "示例" not in reply.text  # a claim value is never echoed


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"options": {}},
        {"credential": {}, "template": "degree-certificate"},
    ],
)
def test_issue_both_or_neither_dialect_is_400(zhejiang: ServedProvince, body: Any) -> None:
    reply = _post(zhejiang, "/credentials/issue", body)
    problem(reply, 400, ProblemCode.BAD_REQUEST)


def test_issue_the_template_dialect_keeps_its_own_answer(zhejiang: ServedProvince) -> None:
    reply = _post(zhejiang, "/credentials/issue", issue_body(Holder.generate().did))
    assert reply.status == 201, reply.text
    answer = reply.json()
    assert set(answer) == {"digest", "credential", "anchoring"}
    assert answer["anchoring"]["state"] == "pending"


def test_issue_credential_is_exactly_once_with_an_idempotency_key(
    zhejiang: ServedProvince,
) -> None:
    request = {"credential": _plain(zhejiang)}
    first = _post(zhejiang, "/credentials/issue", request, key="vcapi-once-1")
    again = _post(zhejiang, "/credentials/issue", request, key="vcapi-once-1")
    assert first.status == again.status == 201
    assert again.header("Idempotent-Replayed") == "true"
    assert first.json()["verifiableCredential"] == again.json()["verifiableCredential"]
    other = _post(
        zhejiang, "/credentials/issue", {"credential": _plain(zhejiang)}, key="vcapi-once-1"
    )
    assert other.status == 201  # the same body: a replay, not a conflict
    changed = {"credential": _plain(zhejiang, name="其他")}
    problem(
        _post(zhejiang, "/credentials/issue", changed, key="vcapi-once-1"),
        409,
        ProblemCode.IDEMPOTENCY_KEY_REUSED,
    )


def test_issue_credential_logs_one_access_event(zhejiang: ServedProvince) -> None:
    before = len(events(zhejiang))
    _issue(zhejiang, {"credential": _plain(zhejiang)})
    issued = [e for e in events(zhejiang)[before:] if e.action == "credential.issue"]
    assert len(issued) == 1


def _status(province: ServedProvince, body: dict[str, Any]) -> Reply:
    return province.request("POST", "/credentials/status", Role.ISSUER, json_body=body)


def test_update_status_revokes_by_credential_id(zhejiang: ServedProvince) -> None:
    credential = _plain(zhejiang, id="urn:uuid:6a1f4c3e-2b7d-4e0a-9c1b-3d2e1f0a9b8c")
    issued = _issue(zhejiang, {"credential": credential})["verifiableCredential"]
    zhejiang.anchor_all()
    request = {
        "credentialId": credential["id"],
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        "status": True,
    }
    assert_vcalm_body("/credentials/status", "post", None, request)
    reply = _status(zhejiang, request)
    assert reply.status == 200, reply.text
    assert_vcalm_body("/credentials/status", "post", 200, reply.json())
    assert reply.json()["requests"][0]["action"] == "revoke"
    zhejiang.anchor_all()
    digest = bytes.fromhex(_digest_of(zhejiang, issued))
    assert zhejiang.world.credential.status_of(ZJ, digest).status is DigestStatus.REVOKED
    # A revocation is final: setting its bit back is refused.
    undo = {**request, "status": False}
    problem(_status(zhejiang, undo), 400, ProblemCode.BAD_REQUEST)


def test_update_status_suspends_and_reinstates_by_credential_id_option(
    zhejiang: ServedProvince,
) -> None:
    issued = _issue(
        zhejiang, {"credential": _plain(zhejiang), "options": {"credentialId": "member-0042"}}
    )["verifiableCredential"]
    assert "member-0042" not in str(issued)  # credentialId is not written into the credential
    zhejiang.anchor_all()
    entry = {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}
    body = {"credentialId": "member-0042", "credentialStatus": entry, "status": True}
    assert _status(zhejiang, body).json()["requests"][0]["action"] == "suspend"
    zhejiang.anchor_all()
    again = {**body, "status": False}
    assert _status(zhejiang, again).json()["requests"][0]["action"] == "reinstate"


def test_update_status_unknown_credential_is_404(zhejiang: ServedProvince) -> None:
    body = {
        "credentialId": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
        "status": True,
    }
    problem(_status(zhejiang, body), 404, ProblemCode.NOT_FOUND)


def test_update_status_a_taken_credential_id_refuses_the_issuance(
    zhejiang: ServedProvince,
) -> None:
    body = {"credential": _plain(zhejiang), "options": {"credentialId": "member-taken"}}
    _issue(zhejiang, body)
    problem(_post(zhejiang, "/credentials/issue", body), 409, ProblemCode.CONFLICT)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "revoke", "credentialId": "x", "digests": ["00" * 32]},
        {"status": True},
    ],
)
def test_update_status_both_or_neither_dialect_is_400(zhejiang: ServedProvince, body: Any) -> None:
    problem(_status(zhejiang, body), 400, ProblemCode.BAD_REQUEST)


def test_update_status_the_digest_dialect_keeps_its_202(zhejiang: ServedProvince) -> None:
    issued = _post(zhejiang, "/credentials/issue", issue_body(Holder.generate().did)).json()
    zhejiang.anchor_all()
    reply = _status(zhejiang, {"action": "suspend", "digests": [issued["digest"]]})
    assert reply.status == 202, reply.text
    assert reply.json()["requests"][0]["action"] == "suspend"
