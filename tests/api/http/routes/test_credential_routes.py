"""The credential routes over HTTP: issue, anchoring, anchor proof, read, status, batches.

Two provinces of the test consortium, each built by the service's own assembly:
Zhejiang issues, Guangdong verifies what Zhejiang's holder shows it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.errors import ProblemCode
from api.http.schemas.credentials import (
    AnchoringOut,
    AnchorProofOut,
    BatchIssuedOut,
    CredentialOut,
    StatusOut,
    StatusRequestOut,
    VerificationOut,
)
from api.province.clients import Role
from credentials.anchor_proof import AnchorProof
from credentials.holder import Holder
from credentials.zhengzhao.agencies import event_org
from tests.helpers.agencies import TEST_AGENCY
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue, issue_body, problem, verify_at
from tests.helpers.server import Province, Reply


def _round_trips(model: Any, document: dict[str, Any]) -> None:
    # The answer is exactly the documented model, optional members left out.
    assert model.model_validate(document).model_dump(mode="json", exclude_none=True) == document


def test_issued_credential_is_anchored_read_and_verified_by_the_other_province(
    world: World, tmp_path: Path
) -> None:
    holder = Holder.generate()
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        reply = zhejiang.request(
            "POST",
            "/credentials/issue",
            Role.ISSUER,
            json_body=issue_body(holder.did, validUntil="2099-12-31T00:00:00Z"),
            headers=PERSONAL,
        )
        assert reply.status == 201, reply.text
        issued = reply.json()
        digest = issued["digest"]
        assert reply.header("Location") == f"/credentials/{digest}"
        assert len(digest) == 64
        assert set(digest) <= set("0123456789abcdef")
        assert issued["anchoring"] == {"digest": digest, "state": "pending"}
        signature = issued["credential"]["proof"]
        assert signature["type"] == "DataIntegrityProof"  # one proof: an object
        assert signature["cryptosuite"] == "sm2-jcs-2026"
        assert issued["credential"]["credentialSubject"]["id"] == holder.did
        assert issued["credential"]["validUntil"] == "2099-12-31T00:00:00Z"
        _round_trips(CredentialOut, issued)
        issue_request_id = reply.header("X-Request-Id")

        pending = zhejiang.request("GET", f"/credentials/{digest}/anchoring", Role.ISSUER)
        assert pending.json() == {"digest": digest, "state": "pending"}
        early = zhejiang.request("GET", f"/credentials/{digest}/anchor-proof", Role.HOLDER)
        problem(early, 409, ProblemCode.ANCHOR_PENDING)
        # Unanchored, the other province cannot verify it yet (check 3).
        guangdong.sync()
        result = verify_at(guangdong, issued["credential"])
        assert result["verdict"] == "INVALID"
        assert result["checks"][3]["reasonCode"] == "anchor_proof_missing"

        zhejiang.anchor_all()
        anchoring = zhejiang.request("GET", f"/credentials/{digest}/anchoring", Role.HOLDER).json()
        _round_trips(AnchoringOut, anchoring)
        assert anchoring["state"] == "anchored"
        assert anchoring["treeSize"] == 1
        assert anchoring["leafIndex"] == 0
        assert anchoring["blockTime"].endswith("Z")
        proof_reply = zhejiang.request("GET", f"/credentials/{digest}/anchor-proof", Role.ISSUER)
        assert proof_reply.status == 200, proof_reply.text
        proof = proof_reply.json()
        _round_trips(AnchorProofOut, proof)
        parsed = AnchorProof.from_json(proof)
        assert (parsed.chain_id, parsed.issuer_id) == (world.client.chain_id, ZJ)
        assert parsed.root.hex() == anchoring["root"]
        assert parsed.block_number == anchoring["blockNumber"]

        read = zhejiang.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
        assert read.status == 200, read.text
        document = read.json()
        _round_trips(CredentialOut, document)
        assert document["digest"] == digest
        assert document["anchoring"] == anchoring
        assert document["credential"]["proof"] == signature
        assert document["credential"]["anchor"] == proof
        read_request_id = read.header("X-Request-Id")

        guangdong.sync()
        result = verify_at(guangdong, document["credential"])
        assert result["verdict"] == "VALID", result
        assert result["credentialDigests"] == [digest]
        assert [c["status"] for c in result["checks"]] == ["VALID"] * 6 + ["SKIPPED", "VALID"]

        # Issue and read are in Zhejiang's log; the verification is in Guangdong's.
        issued_event, read_event = events(zhejiang)
        subject = zhejiang.parts.audit_log.pseudonyms.subject(holder.did)
        # The issuing client acted for the agency: it is the event's organisation.
        assert (issued_event.action, issued_event.actor, issued_event.actor_org) == (
            "credential.issue",
            "issuer-app",
            event_org(TEST_AGENCY),
        )
        assert (read_event.action, read_event.actor) == ("credential.read", "holder-app")
        for event, request_id in ((issued_event, issue_request_id), (read_event, read_request_id)):
            assert event.resource == f"credential:{digest}"
            assert (event.purpose, event.legal_basis) == (
                PERSONAL["X-Purpose"],
                PERSONAL["X-Legal-Basis"],
            )
            assert event.subject == subject
            assert event.request_id == request_id
            assert event.outcome == "success"
        first, second = events(guangdong)
        assert [first.action, second.action] == ["credential.verify"] * 2
        assert (second.actor, second.actor_org, second.outcome) == (
            "verifier-app",
            ORGS[GD],
            "success",
        )
        assert first.outcome == "invalid"
        assert second.subject == guangdong.parts.audit_log.pseudonyms.subject(holder.did)
        assert zhejiang.context.metrics.issued.value() == 1
        assert guangdong.context.metrics.verified.value() == 2
        metrics = guangdong.request("GET", "/metrics").text
        assert 'tongban_verification_duration_seconds_count{kind="credential"} 2' in metrics


def _status(province: ServedProvince, digest: str, role: Role = Role.ISSUER) -> dict[str, Any]:
    reply = province.request("GET", f"/credentials/{digest}/status", role)
    assert reply.status == 200, reply.text
    document: dict[str, Any] = reply.json()
    _round_trips(StatusOut, document)
    return document


def _change(
    province: ServedProvince, action: str, digests: list[str], reason: str = "unspecified"
) -> Reply:
    return province.request(
        "POST",
        "/credentials/status",
        Role.ISSUER,
        json_body={"action": action, "digests": digests, "reason": reason},
    )


def _request_state(province: ServedProvince, request_id: int) -> dict[str, Any]:
    reply = province.request("GET", f"/credentials/status-requests/{request_id}", Role.ISSUER)
    assert reply.status == 200, reply.text
    document: dict[str, Any] = reply.json()
    _round_trips(StatusRequestOut, document)
    return document


def _check4(province: ServedProvince, credential: dict[str, Any]) -> tuple[str, str, str]:
    result = verify_at(province, credential)
    check = result["checks"][4]
    return result["verdict"], check["status"], check["reasonCode"]


def test_suspension_reinstatement_and_revocation_reach_the_other_province(
    world: World, tmp_path: Path
) -> None:
    holder = Holder.generate()
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        first, second = issue(zhejiang, holder.did)["digest"], issue(zhejiang, holder.did)["digest"]
        zhejiang.anchor_all()
        credentials = {
            d: zhejiang.request("GET", f"/credentials/{d}", Role.ISSUER, headers=PERSONAL).json()[
                "credential"
            ]
            for d in (first, second)
        }
        as_verifier = _status(zhejiang, first, Role.VERIFIER)
        assert as_verifier == {
            "digest": first,
            "issuer": zhejiang.did,
            "onChain": {"status": "none", "reason": "unspecified", "reasonCode": 0},
            "indexHeight": zhejiang.parts.index.height,
        }
        assert _status(zhejiang, first)["requested"] == "none"

        # Suspend: requested at once, on chain once the transaction is final.
        reply = _change(zhejiang, "suspend", [first], "under_review")
        assert reply.status == 202, reply.text
        [request] = reply.json()["requests"]
        assert request == {
            "requestId": request["requestId"],
            "action": "suspend",
            "reason": "under_review",
            "count": 1,
            "state": "pending",
        }
        assert _request_state(zhejiang, request["requestId"]) == request
        waiting = _status(zhejiang, first)
        assert (waiting["requested"], waiting["onChain"]["status"]) == ("suspended", "none")
        zhejiang.anchor_all()
        final = _request_state(zhejiang, request["requestId"])
        assert final["state"] == "final"
        assert final["blockNumber"] > 0
        on_chain = _status(zhejiang, first)["onChain"]
        assert on_chain == {
            "status": "suspended",
            "reason": "under_review",
            "reasonCode": 7,
            "blockNumber": final["blockNumber"],
        }
        guangdong.sync()
        assert _check4(guangdong, credentials[first]) == ("INVALID", "INVALID", "suspended")
        assert _check4(guangdong, credentials[second]) == ("VALID", "VALID", "ok")
        # The verification names the reason and block, and lists them as the status route does.
        suspended = verify_at(guangdong, credentials[first])
        _round_trips(VerificationOut, suspended)
        assert suspended["statuses"] == [{"digest": first, **on_chain}]
        assert suspended["checks"][4]["message"] == (
            "the issuer suspended the credential: "
            f"reason under_review (code 7) in block {final['blockNumber']}"
        )

        # Reinstate: valid again.
        reply = _change(zhejiang, "reinstate", [first], "review_cleared")
        assert reply.status == 202, reply.text
        zhejiang.anchor_all()
        on_chain = _status(zhejiang, first)["onChain"]
        assert (on_chain["status"], on_chain["reason"]) == ("none", "review_cleared")
        guangdong.sync()
        assert _check4(guangdong, credentials[first]) == ("VALID", "VALID", "ok")

        # Revoke (a repeated digest counts once): final, and it cannot be reinstated.
        reply = _change(zhejiang, "revoke", [second, second], "issued_in_error")
        assert reply.status == 202, reply.text
        assert reply.json()["requests"][0]["count"] == 1
        zhejiang.anchor_all()
        guangdong.sync()
        assert _check4(guangdong, credentials[second]) == ("INVALID", "INVALID", "revoked")
        revoked = verify_at(guangdong, credentials[second])
        assert revoked["statuses"] == [{"digest": second, **_status(zhejiang, second)["onChain"]}]
        assert revoked["statuses"][0]["reasonCode"] == 3
        assert "reason issued_in_error (code 3) in block" in revoked["checks"][4]["message"]
        refused = problem(
            _change(zhejiang, "reinstate", [second]), 409, ProblemCode.STATUS_TRANSITION_REFUSED
        )
        assert second not in refused["detail"]
        assert _status(zhejiang, second)["requested"] == "revoked"

        # A digest not issued here refuses the whole request.
        unknown = "ab" * 32
        problem(_change(zhejiang, "suspend", [first, unknown]), 404, ProblemCode.NOT_FOUND)
        assert _status(zhejiang, first)["requested"] == "none"
        assert "requested" not in _status(zhejiang, unknown)
        bad = problem(_change(zhejiang, "suspend", ["AB" * 32]), 422, ProblemCode.VALIDATION_FAILED)
        assert bad["errors"][0]["field"] == "/digests/0"
        bad = problem(_change(zhejiang, "erase", [first]), 422, ProblemCode.VALIDATION_FAILED)
        assert bad["errors"][0]["field"] == "/action"
        missing = zhejiang.request("GET", "/credentials/status-requests/999", Role.ISSUER)
        problem(missing, 404, ProblemCode.NOT_FOUND)
        # Status changes are the issuer's; reading a status is also the verifier's and the
        # holder app's (a wallet checks its credentials; digests and chain state only).
        assert _change_as(zhejiang, Role.VERIFIER, first).status == 403
        assert zhejiang.request("GET", f"/credentials/{first}/status", Role.HOLDER).status == 200
        assert zhejiang.request("GET", f"/credentials/{first}/status", Role.AUDITOR).status == 403


def _change_as(province: ServedProvince, role: Role, digest: str) -> Reply:
    return province.request(
        "POST",
        "/credentials/status",
        role,
        json_body={"action": "revoke", "digests": [digest]},
    )


def test_a_batch_is_issued_in_order_with_one_event_each_or_not_at_all(
    world: World, tmp_path: Path
) -> None:
    holders = [Holder.generate() for _ in range(20)]
    with served_province(world, tmp_path, ZJ) as zhejiang:
        body = {"requests": [issue_body(h.did) for h in holders]}
        reply = zhejiang.request(
            "POST", "/credentials/issue/batch", Role.ISSUER, json_body=body, headers=PERSONAL
        )
        assert reply.status == 201, reply.text
        results = reply.json()["results"]
        _round_trips(BatchIssuedOut, reply.json())
        assert [r["credential"]["credentialSubject"]["id"] for r in results] == [
            h.did for h in holders
        ]
        assert len({r["digest"] for r in results}) == 20
        logged = events(zhejiang)
        assert [e.action for e in logged] == ["credential.issue"] * 20
        pseudonyms = zhejiang.parts.audit_log.pseudonyms
        for event, result, holder in zip(logged, results, holders, strict=True):
            assert event.resource == f"credential:{result['digest']}"
            assert event.subject == pseudonyms.subject(holder.did)
            assert event.request_id == reply.header("X-Request-Id")
        assert zhejiang.context.metrics.issued.value() == 20

        # One bad request (7) refuses the batch: 422 naming it, nothing stored or logged.
        secret = "1999-02-31-secret"
        bad = [issue_body(h.did) for h in holders]
        bad[7]["claims"]["dateOfBirth"] = secret
        reply = zhejiang.request(
            "POST",
            "/credentials/issue/batch",
            Role.ISSUER,
            json_body={"requests": bad},
            headers=PERSONAL,
        )
        refused = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
        assert refused["errors"][0]["field"] == "/requests/7/claims/dateOfBirth"
        assert secret not in reply.text
        assert zhejiang.parts.audit_log.size() == 20
        with zhejiang.parts.db.read() as tx:
            stored = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
        assert stored is not None
        assert stored[0] == 20

        zhejiang.anchor_all()
        anchored = [
            zhejiang.request("GET", f"/credentials/{r['digest']}/anchoring", Role.ISSUER).json()
            for r in results
        ]
        assert {a["treeSize"] for a in anchored} == {20}
        assert sorted(a["leafIndex"] for a in anchored) == list(range(20))


def _refused_issue(province: ServedProvince, body: dict[str, Any], field: str) -> Reply:
    reply = province.request(
        "POST", "/credentials/issue", Role.ISSUER, json_body=body, headers=PERSONAL
    )
    refused = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert [e["field"] for e in refused["errors"]] == [field], refused
    return reply


def test_bad_requests_are_refused_without_echoing_them(world: World, tmp_path: Path) -> None:
    holder = Holder.generate()
    secret_name = "王秘密"
    claims = {**DEGREE_CLAIMS, "holderName": secret_name}
    with served_province(world, tmp_path, ZJ) as zhejiang:
        reply = _refused_issue(
            zhejiang,
            issue_body(holder.did, template="no-such-template", claims=claims),
            "/template",
        )
        assert secret_name not in reply.text
        assert "no-such-template" not in reply.text
        assert "degree-certificate" in reply.json()["errors"][0]["rule"]

        bad_date = "2000-13-45"
        reply = _refused_issue(
            zhejiang,
            issue_body(holder.did, claims={**claims, "dateOfBirth": bad_date}),
            "/claims/dateOfBirth",
        )
        assert bad_date not in reply.text
        assert secret_name not in reply.text
        # An unknown claim is named when its name looks like a member name; a key that
        # is itself personal data (an ID number, a name) is shown as `*`.
        reply = _refused_issue(
            zhejiang,
            issue_body(holder.did, claims={**claims, "nickname": secret_name}),
            "/claims/nickname",
        )
        assert (
            reply.json()["errors"][0]["rule"] == "unknown claim: not one of the template's claims"
        )
        assert secret_name not in reply.text
        for key in ("110101199003071234", "张伟", "a/b~c"):
            reply = _refused_issue(
                zhejiang, issue_body(holder.did, claims={**claims, key: "x"}), "/claims/*"
            )
            assert reply.json()["errors"][0]["rule"] == (
                "unknown claim: not one of the template's claims"
            )
            assert key not in reply.text
            assert json.dumps(key)[1:-1] not in reply.text
            assert "1101011990" not in reply.text
        batch = zhejiang.request(
            "POST",
            "/credentials/issue/batch",
            Role.ISSUER,
            json_body={
                "requests": [
                    issue_body(holder.did, claims=claims),
                    issue_body(holder.did, claims={**claims, "nickname": "x"}),
                ]
            },
            headers=PERSONAL,
        )
        refused = problem(batch, 422, ProblemCode.VALIDATION_FAILED)
        assert [e["field"] for e in refused["errors"]] == ["/requests/1/claims/nickname"]
        without = {k: v for k, v in claims.items() if k != "degreeName"}
        reply = _refused_issue(
            zhejiang, issue_body(holder.did, claims=without), "/claims/degreeName"
        )
        assert "required" in reply.json()["errors"][0]["rule"]
        not_sm2 = "did:key:z" + "1" * 45
        reply = _refused_issue(zhejiang, issue_body(not_sm2, claims=claims), "/holder")
        assert not_sm2 not in reply.text
        reply = _refused_issue(
            zhejiang,
            issue_body(
                holder.did, validFrom="2030-01-01T00:00:00Z", validUntil="2029-01-01T00:00:00Z"
            ),
            "/validUntil",
        )
        reply = _refused_issue(
            zhejiang, issue_body(holder.did, validFrom="2030-01-01"), "/validFrom"
        )
        reply = _refused_issue(zhejiang, issue_body(holder.did, claims=[secret_name]), "/claims")
        assert secret_name not in reply.text
        assert zhejiang.parts.audit_log.size() == 0  # nothing was issued, nothing logged

        # The declaration is required; issuing is the issuer's.
        no_purpose = zhejiang.request(
            "POST", "/credentials/issue", Role.ISSUER, json_body=issue_body(holder.did)
        )
        assert problem(no_purpose, 422, ProblemCode.VALIDATION_FAILED)["errors"][0]["field"] == (
            "X-Purpose"
        )
        as_verifier = zhejiang.request(
            "POST",
            "/credentials/issue",
            Role.VERIFIER,
            json_body=issue_body(holder.did),
            headers=PERSONAL,
        )
        problem(as_verifier, 403, ProblemCode.FORBIDDEN)

        # Unknown digests: 404, and the attempted read is logged as not found.
        unknown = "cd" * 32
        read = zhejiang.request("GET", f"/credentials/{unknown}", Role.ISSUER, headers=PERSONAL)
        problem(read, 404, ProblemCode.NOT_FOUND)
        *_, denied, not_found = events(zhejiang)
        assert denied.action == "api.denied"
        assert (not_found.action, not_found.outcome, not_found.subject) == (
            "credential.read",
            "not_found",
            None,
        )
        for suffix in ("/anchoring", "/anchor-proof"):
            reply = zhejiang.request("GET", f"/credentials/{unknown}{suffix}", Role.HOLDER)
            problem(reply, 404, ProblemCode.NOT_FOUND)
        malformed = zhejiang.request("GET", "/credentials/ABC/anchoring", Role.HOLDER)
        problem(malformed, 422, ProblemCode.VALIDATION_FAILED)

        # Once the province's only key is retired, issuing stops (503 no-signing-key).
        world.registry.retire_key(world.zj_admin, ZJ, "key-1")
        zhejiang.sync()
        assert zhejiang.parts.keyring.active_key_id(fresh=True) is None
        reply = zhejiang.request(
            "POST",
            "/credentials/issue",
            Role.ISSUER,
            json_body=issue_body(holder.did),
            headers=PERSONAL,
        )
        problem(reply, 503, ProblemCode.NO_SIGNING_KEY)
        assert reply.header("Retry-After") is not None


def test_credential_routes_answer_unavailable_without_issuer_or_verifier(
    province: Province,
) -> None:
    holder = Holder.generate()
    digest = "ef" * 32
    issued = province.request(
        "POST",
        "/credentials/issue",
        Role.ISSUER,
        json_body=issue_body(holder.did),
        headers=PERSONAL,
    )
    problem(issued, 503, ProblemCode.UNAVAILABLE)
    for path in (f"/credentials/{digest}/anchoring", f"/credentials/{digest}/anchor-proof"):
        problem(province.request("GET", path, Role.ISSUER), 503, ProblemCode.UNAVAILABLE)
    status = province.request("GET", f"/credentials/{digest}/status", Role.VERIFIER)
    problem(status, 503, ProblemCode.UNAVAILABLE)
    change = province.request(
        "POST",
        "/credentials/status",
        Role.ISSUER,
        json_body={"action": "revoke", "digests": [digest]},
    )
    problem(change, 503, ProblemCode.UNAVAILABLE)
