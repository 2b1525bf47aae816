"""``/issuer`` and ``/operations`` over HTTP: keys, writers, and the key compromise workflow."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from api.cli.keys import parse_time
from api.cli.options import InputFileError
from api.errors import ProblemCode
from api.province.clients import Role
from credentials.credential import IssueRequest
from credentials.holder import Holder
from credentials.issuance import AnchoringState
from credentials.reasons import CheckStatus
from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.chain.contracts.registry import IssuerStatus
from tests.helpers.admin_province import admin_province, drive
from tests.helpers.contracts import ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import ServedProvince
from tests.helpers.server import Reply


def _ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, reply.text
    return reply.json()


def _problem(reply: Reply, status: int, code: ProblemCode) -> dict[str, Any]:
    assert reply.status == status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["code"] == code.value, body
    return body


def _post(province: ServedProvince, path: str, body: Any = None) -> Reply:
    return province.request("POST", path, Role.OPERATOR, json_body=body)


def _accepted(province: ServedProvince, path: str, body: Any = None) -> dict[str, Any]:
    reply = _post(province, path, body)
    answer: dict[str, Any] = _ok(reply, 202)
    operation = answer.get("operation", answer)
    assert reply.header("Location") == f"/operations/{operation['operationId']}"
    assert operation["state"] == "queued"
    assert operation["kind"] == "registry_admin"
    return answer


def _final(province: ServedProvince, operation_id: int) -> dict[str, Any]:
    drive(province)
    operation: dict[str, Any] = _ok(
        province.request("GET", f"/operations/{operation_id}", Role.OPERATOR)
    )
    assert operation["state"] == "final", operation
    return operation


def _keys(province: ServedProvince) -> dict[str, dict[str, Any]]:
    issuer = _ok(province.request("GET", "/issuer", Role.OPERATOR))
    return {k["keyId"]: k for k in issuer["keys"]}


def _admin_events(province: ServedProvince) -> list[tuple[str, str]]:
    return [
        (r.event.action, r.event.outcome)
        for r in province.parts.audit_log.iterate()
        if r.event.action.startswith("issuer.")
    ]


def test_keys_rotate_and_retire_and_writers_come_and_go(world: World, tmp_path: Path) -> None:
    with admin_province(world, tmp_path) as province:
        issuer = _ok(province.request("GET", "/issuer", Role.OPERATOR))
        assert issuer["issuerId"] == ZJ
        assert issuer["status"] == "active"
        assert issuer["operatorIsAdmin"] is True
        assert issuer["activeKeyId"] == "key-1"
        assert [k["keyId"] for k in issuer["keys"]] == ["key-1"]
        assert issuer["keys"][0]["held"]
        assert issuer["keys"][0]["active"]
        writers = {w["account"] for w in issuer["writers"] if w["current"]}
        assert writers == {world.accounts.zj_writer.address, world.accounts.zj_admin.address}
        assert province.request("GET", "/issuer", Role.ISSUER).status == 403

        # Rotate: the next key id, created now, registered once the operation is final.
        rotated = _accepted(province, "/issuer/keys", {})
        assert rotated["keyId"] == "key-2"
        assert rotated["operation"]["function"] == "addKey"
        assert province.parts.keys.public_key("key-2").compressed().hex() == rotated["publicKey"]
        operation = _final(province, rotated["operation"]["operationId"])
        [added] = operation["events"]
        assert added["name"] == "KeyAdded"
        assert added["args"]["keyId"] == "key-2"
        assert added["args"]["publicKey"] == rotated["publicKey"]
        keys = _keys(province)
        assert keys["key-2"]["active"]
        assert keys["key-2"]["validNow"]
        assert not keys["key-1"]["active"]
        assert keys["key-1"]["validNow"]

        # Refusals: a taken id, a bad id, a backdated key (nothing is created).
        _problem(_post(province, "/issuer/keys", {"keyId": "key-2"}), 409, ProblemCode.KEY_ID_TAKEN)
        bad = _problem(
            _post(province, "/issuer/keys", {"keyId": "no spaces"}),
            422,
            ProblemCode.VALIDATION_FAILED,
        )
        assert "no spaces" not in json.dumps(bad)
        backdated = _problem(
            _post(province, "/issuer/keys", {"keyId": "key-3", "validFrom": 1}),
            409,
            ProblemCode.CHAIN_REFUSED,
        )
        assert "IssuerRegistryKeyBackdated" in backdated["detail"]
        assert not province.parts.keys.has_signing_key("key-3")

        # Retire key-1 (it stays listed, with its retirement time), then refuse a second time.
        retired = _accepted(province, "/issuer/keys/key-1/retire")
        assert retired["function"] == "retireKey"
        _final(province, retired["operationId"])
        assert _keys(province)["key-1"]["retiredAt"] is not None
        assert not _keys(province)["key-1"]["validNow"]
        again = _problem(
            _post(province, "/issuer/keys/key-1/retire"), 409, ProblemCode.CHAIN_REFUSED
        )
        assert "IssuerRegistryKeyAlreadyRetired" in again["detail"]
        _problem(_post(province, "/issuer/keys/key-9/retire"), 404, ProblemCode.NOT_FOUND)

        # Writers: appoint a new account, then retire it.
        account = world.new_sender().address
        added_writer = _accepted(province, "/issuer/writers", {"account": account})
        _final(province, added_writer["operationId"])
        assert world.registry.writer_status(ZJ, account) == (True, True)
        _problem(
            _post(province, "/issuer/writers", {"account": "0x1234"}),
            422,
            ProblemCode.VALIDATION_FAILED,
        )
        retired_writer = _accepted(province, f"/issuer/writers/{account}/retire")
        _final(province, retired_writer["operationId"])
        assert world.registry.writer_status(ZJ, account) == (False, True)
        _problem(_post(province, f"/issuer/writers/{account}/retire"), 404, ProblemCode.NOT_FOUND)

        # An account that is not the issuer's admin is refused before anything is created.
        province.context.operator_account = world.accounts.zj_writer.address
        refused = _problem(
            _post(province, "/issuer/keys", {"keyId": "key-4"}), 409, ProblemCode.CHAIN_REFUSED
        )
        assert "IssuerRegistryNotIssuerAdmin" in refused["detail"]
        assert not province.parts.keys.has_signing_key("key-4")

        # Other outbox items (credential batches...) are not operations.
        _problem(
            province.request("GET", "/operations/999", Role.OPERATOR), 404, ProblemCode.NOT_FOUND
        )
        assert province.request("GET", "/operations/1", Role.AUDITOR).status == 403

        events = _admin_events(province)
        assert events.count(("issuer.key.rotate", "success")) == 1
        assert events.count(("issuer.key.rotate", "invalid")) == 3
        assert ("issuer.key.retire", "not_found") in events
        assert events.count(("issuer.writer.add", "success")) == 1
        assert events.count(("issuer.writer.retire", "success")) == 1


def _issue_three(province: ServedProvince) -> list[bytes]:
    signer = province.parts.keyring.credential_signer()
    digests = []
    for _ in range(3):
        holder = Holder.generate()
        request = IssueRequest("degree-certificate", holder.did, dict(DEGREE_CLAIMS))
        digests.append(province.parts.issuer.issue(request, signer=signer).digest)
    return digests


def test_the_key_compromise_workflow_end_to_end(world: World, tmp_path: Path) -> None:
    with admin_province(world, tmp_path) as province:
        issuer = province.parts.issuer
        old = _issue_three(province)
        province.anchor_all()
        anchored = issuer.anchoring_status(old[0])
        assert anchored.state is AnchoringState.ANCHORED
        assert anchored.block_time is not None
        respond = "/issuer/keys/key-1/compromise-response"
        _problem(_post(province, respond), 409, ProblemCode.KEY_NOT_COMPROMISED)

        # Compromised from an hour ahead: key-1 still signs, so the response is refused.
        later = world.now() + 3600
        marked = _accepted(province, "/issuer/keys/key-1/compromise", {"compromisedFrom": later})
        assert marked["function"] == "markKeyCompromised"
        _final(province, marked["operationId"])
        _problem(_post(province, respond), 409, ProblemCode.KEY_STILL_ACTIVE)

        # From before the credentials' anchoring: they are void, and no key signs now.
        since = anchored.block_time - 1
        earlier = _accepted(province, "/issuer/keys/key-1/compromise", {"compromisedFrom": since})
        _final(province, earlier["operationId"])
        assert _keys(province)["key-1"]["compromisedFrom"] == since
        _problem(_post(province, respond), 503, ProblemCode.NO_SIGNING_KEY)
        for digest in old:
            result = province.parts.verifier.evaluate_credential(issuer.credential(digest))
            assert result.check(2).status is CheckStatus.INVALID

        rotated = _accepted(province, "/issuer/keys", {"keyId": "key-2"})
        _final(province, rotated["operation"]["operationId"])
        answer = _ok(_post(province, respond))
        assert answer["keyId"] == "key-1"
        assert answer["compromisedFrom"] == since
        assert answer["newKeyId"] == "key-2"
        assert (answer["affected"], answer["revoked"], answer["reissued"]) == (3, 3, 3)
        assert sorted(answer["replacements"]) == sorted(d.hex() for d in old)

        province.anchor_all()  # the revocations and the new batch reach the chain
        for digest in old:
            assert world.credential.status_of(ZJ, digest).status is DigestStatus.REVOKED
        for new_hex in answer["replacements"].values():
            credential = issuer.credential(bytes.fromhex(new_hex))
            assert credential["proof"]["verificationMethod"].endswith("#key-2")
            result = province.parts.verifier.evaluate_credential(credential)
            assert result.valid, result.first_failure()

        # Again: nothing left to revoke or re-issue.
        second = _ok(_post(province, respond))
        assert (second["revoked"], second["reissued"]) == (0, 0)

        log = [r.event for r in province.parts.audit_log.iterate()]
        reissues = [e for e in log if e.action == "credential.reissue"]
        assert {e.resource for e in reissues} == {
            f"credential:{h}" for h in answer["replacements"].values()
        }
        assert all(e.subject is not None for e in reissues)
        outcomes = [e.outcome for e in log if e.action == "issuer.key.compromise_response"]
        assert outcomes == ["invalid", "invalid", "invalid", "success", "success"]
        assert world.registry.issuer_status(ZJ) is IssuerStatus.ACTIVE


def test_tongban_keys_talks_to_the_service(world: World, tmp_path: Path) -> None:
    with admin_province(world, tmp_path) as province:
        url = f"http://127.0.0.1:{province.server.port}"
        env = tongban_env(TONGBAN_API_URL=url, TONGBAN_API_TOKEN=province.tokens[Role.OPERATOR])

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [TONGBAN, "keys", *args], capture_output=True, text=True, env=env, timeout=60
            )

        rotated = run("rotate", "--key-id", "key-7", "--json")
        assert rotated.returncode == 0, rotated.stderr
        answer = json.loads(rotated.stdout)
        assert answer["keyId"] == "key-7"
        assert answer["operation"]["state"] == "queued"
        drive(province)

        listed = run("list")
        assert listed.returncode == 0, listed.stderr
        assert "active key: key-7" in listed.stdout

        refused = run("respond", "key-1")
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: ")
        assert "key-not-compromised" in refused.stderr


def test_compromise_times_are_unix_seconds_or_iso_with_a_zone() -> None:
    assert parse_time("1767225600") == 1767225600
    assert parse_time("2026-01-01T00:00:00Z") == 1767225600
    assert parse_time("2026-01-01T08:00:00+08:00") == 1767225600
    for bad in ("yesterday", "2026-01-01T00:00:00"):
        with pytest.raises(InputFileError):
            parse_time(bad)
