"""IssuerRegistry governance: M-of-N proposals admit, suspend, reinstate and change the set."""

from __future__ import annotations

import pytest

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy
from ledger.chain.contracts.calls import raising_named_reverts, transact_named
from ledger.chain.contracts.errors import (
    IssuerRegistryAlreadyApprovedError,
    IssuerRegistryGovernanceOnlyError,
    IssuerRegistryGovernorExistsError,
    IssuerRegistryGovernorUnknownError,
    IssuerRegistryInvalidAccountError,
    IssuerRegistryInvalidDivisionCodeError,
    IssuerRegistryInvalidExpiryError,
    IssuerRegistryInvalidGovernorCountError,
    IssuerRegistryInvalidIssuerIdError,
    IssuerRegistryInvalidNameError,
    IssuerRegistryInvalidTargetError,
    IssuerRegistryInvalidThresholdError,
    IssuerRegistryIssuerExistsError,
    IssuerRegistryIssuerNotActiveError,
    IssuerRegistryIssuerNotSuspendedError,
    IssuerRegistryNotGovernorError,
    IssuerRegistryProposalAlreadyExecutedError,
    IssuerRegistryProposalExpiredError,
    IssuerRegistryProposalStaleError,
    IssuerRegistryUnknownActionError,
    IssuerRegistryUnknownIssuerError,
    IssuerRegistryUnknownProposalError,
)
from ledger.chain.contracts.registry import (
    MAX_PROPOSAL_LIFETIME,
    GovernanceAction,
    IssuerStatus,
    encode_issuer_id,
)
from tests.helpers.contracts import GD, ZJ, ZJ_CODE, World, event_names, rejects

HAINAN = 3
HAINAN_CODE = 460000


def test_deployment_state(world: World) -> None:
    registry = world.registry
    assert sorted(registry.governors()) == sorted(g.address for g in world.governors)
    assert registry.threshold() == 2
    assert registry.governor_set_version() == 1
    assert registry.proposal_count() == 2  # the two admissions of the fixture
    zj = registry.issuer(ZJ)
    assert (zj.issuer_id, zj.division_code, zj.name, zj.status) == (
        ZJ,
        ZJ_CODE,
        "浙江省",
        IssuerStatus.ACTIVE,
    )
    assert zj.did == f"did:tongban:{world.client.chain_id}:{ZJ}"
    assert zj.admin == world.zj_admin.address
    assert (zj.writer_count, zj.key_count) == (1, 1)
    assert registry.issuer_did(GD) == f"did:tongban:{world.client.chain_id}:{GD}"


def test_admission_needs_m_approvals_and_emits_events(world: World) -> None:
    registry, (g0, g1, g2) = world.registry, world.governors
    admin = world.new_sender()
    first = registry.propose_admit_issuer(g0, HAINAN, HAINAN_CODE, "海南省", admin.address)
    assert not first.executed
    assert event_names(first.tx) == ["ProposalCreated", "ProposalApproved"]
    created = first.tx.event("ProposalCreated").args
    assert created["action"] == GovernanceAction.ADMIT_ISSUER
    assert created["proposer"] == g0.address
    # One approval of two: nothing changed.
    assert registry.issuer_status(HAINAN) == IssuerStatus.NONE
    rejects(IssuerRegistryUnknownIssuerError, lambda: registry.issuer(HAINAN))
    proposal = registry.proposal(first.proposal_id)
    assert (proposal.approvals, proposal.executed) == (1, False)
    assert registry.has_approved(first.proposal_id, g0.address)
    assert not registry.has_approved(first.proposal_id, g1.address)

    second = registry.approve(g1, first.proposal_id)
    assert second.executed
    assert event_names(second.tx) == ["ProposalApproved", "IssuerAdmitted", "ProposalExecuted"]
    admitted = second.tx.event("IssuerAdmitted").args
    assert admitted["issuerId"] == HAINAN
    assert admitted["divisionCode"] == HAINAN_CODE
    assert admitted["did"] == f"did:tongban:{world.client.chain_id}:{HAINAN}"
    assert admitted["admin"] == admin.address
    assert registry.issuer(HAINAN).status == IssuerStatus.ACTIVE
    assert registry.proposal(first.proposal_id).executed
    # A third approval comes too late.
    rejects(
        IssuerRegistryProposalAlreadyExecutedError,
        lambda: registry.approve(g2, first.proposal_id),
    )


def test_non_governor_cannot_propose_or_approve(world: World) -> None:
    registry = world.registry
    for stranger in (world.outsider, world.zj_admin, world.zj_writer):
        with pytest.raises(IssuerRegistryNotGovernorError) as caught:
            registry.propose_suspend_issuer(stranger, GD)
        error = caught.value
        assert error.fields == {"account": stranger.address}
    pending = registry.propose_suspend_issuer(world.governors[0], GD)
    rejects(
        IssuerRegistryNotGovernorError,
        lambda: registry.approve(world.outsider, pending.proposal_id),
    )
    assert registry.issuer_status(GD) == IssuerStatus.ACTIVE


def test_double_approval_is_rejected(world: World) -> None:
    registry, g0 = world.registry, world.governors[0]
    pending = registry.propose_suspend_issuer(g0, GD)
    error = rejects(
        IssuerRegistryAlreadyApprovedError, lambda: registry.approve(g0, pending.proposal_id)
    )
    assert error.fields == {"proposalId": pending.proposal_id, "governor": g0.address}
    assert registry.issuer_status(GD) == IssuerStatus.ACTIVE


def test_unknown_proposal_and_unknown_action(world: World) -> None:
    registry, g0 = world.registry, world.governors[0]
    rejects(IssuerRegistryUnknownProposalError, lambda: registry.approve(g0, 999))
    rejects(IssuerRegistryUnknownProposalError, lambda: registry.proposal(999))
    expires = world.now() + 3600
    error = rejects(
        IssuerRegistryUnknownActionError,
        lambda: transact_named(registry.contract, g0, "propose", 0, b"", expires),
    )
    assert error.fields == {"action": 0}


def test_expiry_bounds_and_expired_proposals(world: World) -> None:
    registry, (g0, g1, _) = world.registry, world.governors
    now = world.now()
    rejects(
        IssuerRegistryInvalidExpiryError,
        lambda: registry.propose_suspend_issuer(g0, GD, expires_at=now),
    )
    rejects(
        IssuerRegistryInvalidExpiryError,
        lambda: registry.propose_suspend_issuer(
            g0, GD, expires_at=now + MAX_PROPOSAL_LIFETIME + 3600
        ),
    )
    pending = registry.propose_suspend_issuer(g0, GD, expires_at=now + 3600)
    world.advance(3601)
    error = rejects(
        IssuerRegistryProposalExpiredError, lambda: registry.approve(g1, pending.proposal_id)
    )
    assert error.fields["expiresAt"] == now + 3600
    assert registry.issuer_status(GD) == IssuerStatus.ACTIVE


def test_admission_parameters_are_checked(world: World) -> None:
    registry, g0 = world.registry, world.governors[0]
    admin = world.outsider.address
    rejects(
        IssuerRegistryInvalidIssuerIdError,
        lambda: registry.propose_admit_issuer(g0, 0, HAINAN_CODE, "x", admin),
    )
    rejects(
        IssuerRegistryIssuerExistsError,
        lambda: registry.propose_admit_issuer(g0, ZJ, HAINAN_CODE, "x", admin),
    )
    for code in (0, 99999, 1000000):
        with pytest.raises(IssuerRegistryInvalidDivisionCodeError):
            registry.propose_admit_issuer(g0, HAINAN, code, "x", admin)
    for name in ("", "省" * 43):  # 0 bytes, 129 bytes
        with pytest.raises(IssuerRegistryInvalidNameError):
            registry.propose_admit_issuer(g0, HAINAN, HAINAN_CODE, name, admin)
    rejects(
        IssuerRegistryInvalidAccountError,
        lambda: registry.propose_admit_issuer(g0, HAINAN, HAINAN_CODE, "x", "0x" + "00" * 20),
    )


def test_execution_rechecks_state(world: World) -> None:
    """Two proposals admitting the same id: the second cannot execute."""
    registry, (g0, g1, g2) = world.registry, world.governors
    a = registry.propose_admit_issuer(g0, HAINAN, HAINAN_CODE, "甲", world.outsider.address)
    b = registry.propose_admit_issuer(g2, HAINAN, HAINAN_CODE, "乙", world.outsider.address)
    assert registry.approve(g1, a.proposal_id).executed
    rejects(IssuerRegistryIssuerExistsError, lambda: registry.approve(g1, b.proposal_id))
    assert registry.issuer(HAINAN).name == "甲"
    assert not registry.proposal(b.proposal_id).executed


def test_suspend_and_reinstate(world: World) -> None:
    registry = world.registry
    suspended = world.pass_proposal(lambda g: registry.propose_suspend_issuer(g, GD))
    assert event_names(suspended.tx)[-2:] == ["IssuerSuspended", "ProposalExecuted"]
    assert registry.issuer_status(GD) == IssuerStatus.SUSPENDED
    rejects(
        IssuerRegistryIssuerNotActiveError,
        lambda: registry.propose_suspend_issuer(world.governors[0], GD),
    )
    reinstated = world.pass_proposal(lambda g: registry.propose_reinstate_issuer(g, GD))
    assert reinstated.tx.event("IssuerReinstated").args["issuerId"] == GD
    assert registry.issuer_status(GD) == IssuerStatus.ACTIVE
    rejects(
        IssuerRegistryIssuerNotSuspendedError,
        lambda: registry.propose_reinstate_issuer(world.governors[0], GD),
    )
    rejects(
        IssuerRegistryUnknownIssuerError,
        lambda: registry.propose_suspend_issuer(world.governors[0], 77),
    )


def test_replace_issuer_admin(world: World) -> None:
    registry = world.registry
    new_admin = world.new_sender()
    outcome = world.pass_proposal(
        lambda g: registry.propose_replace_admin(g, ZJ, new_admin.address)
    )
    replaced = outcome.tx.event("IssuerAdminReplaced").args
    assert (replaced["previousAdmin"], replaced["newAdmin"]) == (
        world.zj_admin.address,
        new_admin.address,
    )
    assert registry.issuer(ZJ).admin == new_admin.address
    rejects(
        IssuerRegistryInvalidAccountError,
        lambda: registry.propose_replace_admin(world.governors[0], ZJ, new_admin.address),
    )


def test_add_governor_then_old_proposals_are_stale(world: World) -> None:
    registry, (g0, g1, g2) = world.registry, world.governors
    newcomer = world.new_sender()
    open_proposal = registry.propose_suspend_issuer(g2, GD)
    outcome = world.pass_proposal(lambda g: registry.propose_add_governor(g, newcomer.address))
    changed = outcome.tx.event("GovernorSetChanged").args
    assert (changed["version"], changed["governorCount"], changed["threshold"]) == (2, 4, 2)
    assert "RoleGranted" in event_names(outcome.tx)
    assert registry.is_governor(newcomer.address)
    assert registry.governor_set_version() == 2
    # The proposal made under version 1 can no longer gather approvals.
    error = rejects(
        IssuerRegistryProposalStaleError, lambda: registry.approve(g1, open_proposal.proposal_id)
    )
    assert error.fields == {
        "proposalId": open_proposal.proposal_id,
        "proposalVersion": 1,
        "currentVersion": 2,
    }
    # The newcomer takes part in new proposals.
    fresh = registry.propose_suspend_issuer(newcomer, GD)
    assert registry.approve(g0, fresh.proposal_id).executed
    rejects(
        IssuerRegistryGovernorExistsError,
        lambda: registry.propose_add_governor(g0, newcomer.address),
    )


def test_removed_governor_approvals_do_not_count(world: World) -> None:
    """A governor approves, is removed; its approval must not help the proposal pass."""
    registry, (_, g1, g2) = world.registry, world.governors
    pending = registry.propose_suspend_issuer(g2, GD)  # g2 approves by proposing
    world.pass_proposal(lambda g: registry.propose_remove_governor(g, g2.address))
    assert not registry.is_governor(g2.address)
    assert registry.governor_set_version() == 2
    rejects(IssuerRegistryProposalStaleError, lambda: registry.approve(g1, pending.proposal_id))
    assert registry.issuer_status(GD) == IssuerStatus.ACTIVE
    rejects(IssuerRegistryNotGovernorError, lambda: registry.propose_suspend_issuer(g2, GD))


def test_governor_set_bounds(world: World) -> None:
    registry, (g0, g1, g2) = world.registry, world.governors
    rejects(
        IssuerRegistryGovernorUnknownError,
        lambda: registry.propose_remove_governor(g0, world.outsider.address),
    )
    for bad in (0, 4):
        with pytest.raises(IssuerRegistryInvalidThresholdError) as caught:
            registry.propose_set_threshold(g0, bad)
        error = caught.value
        assert error.fields == {"threshold": bad, "governorCount": 3}
    world.pass_proposal(lambda g: registry.propose_set_threshold(g, 3))
    assert registry.threshold() == 3
    # With M = N = 3 no governor can be removed (N - 1 < M).
    rejects(
        IssuerRegistryInvalidThresholdError,
        lambda: registry.propose_remove_governor(g0, g2.address),
    )
    # Now three approvals are needed.
    pending = registry.propose_suspend_issuer(g0, GD)
    assert not registry.approve(g1, pending.proposal_id).executed
    assert registry.issuer_status(GD) == IssuerStatus.ACTIVE
    assert registry.approve(g2, pending.proposal_id).executed
    assert registry.issuer_status(GD) == IssuerStatus.SUSPENDED


def test_threshold_one_executes_on_proposal(world: World) -> None:
    registry = world.registry
    world.pass_proposal(lambda g: registry.propose_set_threshold(g, 1))
    outcome = registry.propose_suspend_issuer(world.governors[2], GD)
    assert outcome.executed
    assert event_names(outcome.tx) == [
        "ProposalCreated",
        "ProposalApproved",
        "IssuerSuspended",
        "ProposalExecuted",
    ]


def test_roles_cannot_bypass_governance(world: World) -> None:
    contract, g0 = world.registry.contract, world.governors[0]
    role = contract.call("GOVERNOR_ROLE")
    for name, args in (
        ("grantRole", (role, world.outsider.address)),
        ("revokeRole", (role, world.governors[1].address)),
        ("renounceRole", (role, g0.address)),
    ):
        with pytest.raises(IssuerRegistryGovernanceOnlyError):
            transact_named(contract, g0, name, *args)
    assert world.registry.is_governor(g0.address)
    assert not world.registry.is_governor(world.outsider.address)


def test_reset_audit_epoch_target_is_checked(world: World) -> None:
    registry, g0 = world.registry, world.governors[0]
    for target in (world.outsider.address, world.credential.address, registry.address):
        with pytest.raises(IssuerRegistryInvalidTargetError):
            registry.propose_reset_audit_epoch(g0, target, ZJ)
    rejects(
        IssuerRegistryUnknownIssuerError,
        lambda: registry.propose_reset_audit_epoch(g0, world.audit.address, 99),
    )


def test_constructor_checks_governor_set(world: World) -> None:
    artifact = load_artifact("IssuerRegistry")
    deployer = world.deployer
    g = [s.address for s in world.governors]
    cases = [
        ([], 1, IssuerRegistryInvalidGovernorCountError),
        (
            [world.new_sender().address for _ in range(33)],
            1,
            IssuerRegistryInvalidGovernorCountError,
        ),
        ([g[0], g[0]], 1, IssuerRegistryGovernorExistsError),
        ([g[0], "0x" + "00" * 20], 1, IssuerRegistryInvalidAccountError),
        (g, 0, IssuerRegistryInvalidThresholdError),
        (g, 4, IssuerRegistryInvalidThresholdError),
    ]
    for governors, threshold, error in cases:
        with pytest.raises(error), raising_named_reverts():
            deploy(deployer, artifact, governors, threshold)


def test_proposal_record_fields(world: World) -> None:
    registry, g0 = world.registry, world.governors[0]
    expires = world.now() + 7200
    outcome = registry.propose(
        g0, GovernanceAction.SUSPEND_ISSUER, encode_issuer_id(GD), expires_at=expires
    )
    proposal = registry.proposal(outcome.proposal_id)
    assert proposal.action == GovernanceAction.SUSPEND_ISSUER
    assert proposal.params == encode_issuer_id(GD)
    assert proposal.proposer == g0.address
    assert proposal.expires_at == expires
    assert proposal.governor_set_version == 1
    assert proposal.created_at <= expires - 7200 + 5
