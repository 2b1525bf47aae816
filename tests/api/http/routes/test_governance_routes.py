"""``/governance`` over HTTP as governor 0, and ``tongban governance`` as governor 1 (M = 2)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from api.errors import ProblemCode
from api.province.clients import Role
from api.runtime.writer import governor_outbox
from ledger.chain.contracts.registry import IssuerStatus
from ledger.chain.node.accounts import save_keystore
from tests.helpers.admin_province import admin_province, drive
from tests.helpers.contracts import World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import ServedProvince

NEW_ISSUER = 3
KEYSTORE_PASSPHRASE = "governor-test-passphrase"


def _propose(province: ServedProvince, body: dict[str, Any]) -> Any:
    return province.request("POST", "/governance/proposals", Role.GOVERNOR, json_body=body)


def _cli(world: World, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        TONGBAN,
        "governance",
        *args,
        "--data-dir",
        str(tmp_path / "cli"),
        "--chain",
        world.client.url,
        "--chain-id",
        str(world.client.chain_id),
        "--registry",
        world.addresses.registry,
    ]
    env = tongban_env(TONGBAN_GOVERNOR_KEY_PASSPHRASE=KEYSTORE_PASSPHRASE)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=90)


def test_governor_0_proposes_over_http_and_governor_1_approves_from_a_terminal(
    world: World, tmp_path: Path
) -> None:
    keystores = tmp_path / "governors"
    for number, account in enumerate(world.accounts.governors[:2]):
        save_keystore(account, keystores / f"governor-{number}.json", KEYSTORE_PASSPHRASE)
    with admin_province(world, tmp_path) as province:
        assert province.request("GET", "/governance", Role.GOVERNOR).status == 503
        parts = province.parts
        parts.settings = parts.settings.model_copy(
            update={
                "governor_keystore": keystores / "governor-0.json",
                "governor_key_passphrase": SecretStr(KEYSTORE_PASSPHRASE),
            }
        )
        governor = world.accounts.governors[0].address
        assert parts.context().governor_account == governor  # as a worker would see it
        assert governor_outbox(parts, parts.settings, operator=governor) is None
        processor = governor_outbox(parts, parts.settings)
        assert processor is not None
        assert processor.sender.address == governor
        province.context.governor_account = governor

        overview = province.request("GET", "/governance", Role.GOVERNOR).json()
        assert overview["governor"] == governor
        assert overview["isGovernor"] is True
        assert overview["threshold"] == 2
        assert province.request("GET", "/governance", Role.OPERATOR).status == 403

        admin = world.new_sender().address
        body = {
            "action": "admit-issuer",
            "issuerId": NEW_ISSUER,
            "divisionCode": 310000,
            "name": "Shanghai",
            "admin": admin,
        }
        reply = _propose(province, body)
        assert reply.status == 202, reply.text
        operation = reply.json()
        assert operation["kind"] == "governance"
        assert operation["account"] == governor
        # The operator's processor leaves the governor's item alone.
        for _ in range(3):
            assert province.processor.step().submitted == []
        pending = province.request("GET", f"/operations/{operation['operationId']}", Role.GOVERNOR)
        assert pending.json()["state"] == "queued"
        drive(province, processor)
        done = province.request("GET", f"/operations/{operation['operationId']}", Role.GOVERNOR)
        final = done.json()
        assert final["state"] == "final", final
        assert final["executed"] is False
        proposal_id = final["proposalId"]
        assert proposal_id is not None
        assert {e["name"] for e in final["events"]} == {"ProposalCreated", "ProposalApproved"}

        shown = province.request("GET", f"/governance/proposals/{proposal_id}", Role.GOVERNOR)
        proposal = shown.json()
        assert proposal["action"] == "admit-issuer"
        assert proposal["params"] == {
            "issuerId": NEW_ISSUER,
            "divisionCode": 310000,
            "name": "Shanghai",
            "admin": admin,
        }
        assert (proposal["state"], proposal["approvals"]) == ("open", 1)
        assert proposal["approvedByThisGovernor"] is True

        again = province.request(
            "POST", f"/governance/proposals/{proposal_id}/approvals", Role.GOVERNOR
        )
        assert again.status == 409, again.text
        assert again.json()["code"] == ProblemCode.CHAIN_REFUSED.value
        assert "IssuerRegistryAlreadyApproved" in again.json()["detail"]
        missing = province.request("GET", "/governance/proposals/9999", Role.GOVERNOR)
        assert missing.status == 404
        wrong = _propose(province, {"action": "suspend-issuer", "issuerId": 1, "name": "x"})
        assert wrong.status == 422
        assert wrong.json()["errors"] == [
            {"field": "/name", "rule": "not accepted for suspend-issuer"}
        ]
        duplicate = _propose(province, {**body, "issuerId": 1})
        assert duplicate.status == 409
        assert "IssuerRegistryIssuerExists" in duplicate.json()["detail"]

        # Governor 1 approves from a terminal, signing with its own keystore.
        approved = _cli(
            world,
            tmp_path,
            "approve",
            str(proposal_id),
            "--keystore",
            str(keystores / "governor-1.json"),
            "--json",
        )
        assert approved.returncode == 0, approved.stderr
        outcome = json.loads(approved.stdout)
        assert outcome["executed"] is True
        assert outcome["proposal"]["state"] == "executed"
        assert outcome["proposal"]["approvedByThisGovernor"] is True
        assert world.registry.issuer_status(NEW_ISSUER) is IssuerStatus.ACTIVE
        assert world.registry.issuer(NEW_ISSUER).admin == admin

        listed = province.request("GET", "/governance/proposals?limit=5", Role.GOVERNOR).json()
        assert listed["proposals"][0]["proposalId"] == proposal_id
        assert listed["proposals"][0]["state"] == "executed"

        refused = _cli(
            world,
            tmp_path,
            "approve",
            str(proposal_id),
            "--keystore",
            str(keystores / "governor-1.json"),
        )
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: ")
        assert "ProposalAlreadyExecuted" in refused.stderr

        events = [
            (r.event.action, r.event.outcome)
            for r in parts.audit_log.iterate()
            if r.event.action.startswith("governance.")
        ]
        assert events == [
            ("governance.propose", "success"),
            ("governance.approve", "invalid"),
            ("governance.propose", "invalid"),
        ]


def test_tongban_governance_proposes_and_reads_with_a_keystore(
    world: World, tmp_path: Path
) -> None:
    keystore = tmp_path / "governor-1.json"
    save_keystore(world.accounts.governors[1], keystore, KEYSTORE_PASSPHRASE)
    proposed = _cli(
        world,
        tmp_path,
        "propose",
        "suspend-issuer",
        "--issuer-id",
        "2",
        "--keystore",
        str(keystore),
        "--json",
    )
    assert proposed.returncode == 0, proposed.stderr
    outcome = json.loads(proposed.stdout)
    assert outcome["executed"] is False
    proposal = outcome["proposal"]
    assert (proposal["action"], proposal["params"]) == ("suspend-issuer", {"issuerId": 2})
    assert proposal["proposer"] == world.accounts.governors[1].address
    assert world.registry.issuer_status(2) is IssuerStatus.ACTIVE  # 1 of 2 approvals

    shown = _cli(world, tmp_path, "show", str(outcome["proposalId"]), "--keystore", str(keystore))
    assert shown.returncode == 0, shown.stderr
    assert "suspend-issuer  open  1/2 approvals, approved by you" in shown.stdout

    incomplete = _cli(world, tmp_path, "propose", "admit-issuer", "--issuer-id", "9")
    assert incomplete.returncode == 2
    assert incomplete.stderr.strip() == "error: admit-issuer needs --division-code"
