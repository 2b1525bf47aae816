"""Consortium governance (M of N) from a province service or a governor's terminal.

A province service may act for one governor account (``governor_keystore``):
its ``/governance`` routes propose and approve through the outbox, pinned to
that account (``api.province.operations``: simulated first, sent by the writer's
governor processor). ``tongban governance`` signs directly with a governor
keystore instead, so a second governor can approve from a terminal.

Both read proposals the same way (``describe_proposal``): the stored
proposal, its decoded parameters and whether it is open, executed, expired or
stale (the governor set changed since it was made; it must be proposed
again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount

from api.errors import SettingsError
from api.province.audited import AdminInputError, AdminNotFoundError
from api.province.operations import GOVERNANCE_KIND, ChainOperation, submit
from ledger.chain.contracts.errors import IssuerRegistryUnknownProposalError
from ledger.chain.contracts.registry import (
    DEFAULT_PROPOSAL_LIFETIME,
    MAX_PROPOSAL_LIFETIME,
    GovernanceAction,
    IssuerRegistry,
    Proposal,
)
from ledger.chain.errors import ChainConfigError
from ledger.chain.node.accounts import keystore_address, load_keystore
from ledger.chain.node.client import checksum
from ledger.crypto.sm3 import sm3
from ledger.store.database import Database

__all__ = [
    "ACTION_NAMES",
    "Governance",
    "ProposalState",
    "ProposalView",
    "UnknownProposalError",
    "chain_time",
    "decode_params",
    "describe_proposal",
    "list_proposals",
    "load_governor_account",
    "proposal_expiry",
    "proposal_json",
]

ALREADY_APPROVED = "IssuerRegistryAlreadyApproved"
MAX_LISTED = 100

ACTION_NAMES: dict[GovernanceAction, str] = {
    GovernanceAction.ADMIT_ISSUER: "admit-issuer",
    GovernanceAction.SUSPEND_ISSUER: "suspend-issuer",
    GovernanceAction.REINSTATE_ISSUER: "reinstate-issuer",
    GovernanceAction.REPLACE_ISSUER_ADMIN: "replace-admin",
    GovernanceAction.ADD_GOVERNOR: "add-governor",
    GovernanceAction.REMOVE_GOVERNOR: "remove-governor",
    GovernanceAction.SET_THRESHOLD: "set-threshold",
    GovernanceAction.RESET_AUDIT_EPOCH: "reset-audit-epoch",
}
"""Each action's name in the API and on the command line."""

_PARAMS: dict[GovernanceAction, tuple[tuple[str, str], ...]] = {
    GovernanceAction.ADMIT_ISSUER: (
        ("issuerId", "uint32"),
        ("divisionCode", "uint32"),
        ("name", "string"),
        ("admin", "address"),
    ),
    GovernanceAction.SUSPEND_ISSUER: (("issuerId", "uint32"),),
    GovernanceAction.REINSTATE_ISSUER: (("issuerId", "uint32"),),
    GovernanceAction.REPLACE_ISSUER_ADMIN: (("issuerId", "uint32"), ("newAdmin", "address")),
    GovernanceAction.ADD_GOVERNOR: (("governor", "address"),),
    GovernanceAction.REMOVE_GOVERNOR: (("governor", "address"),),
    GovernanceAction.SET_THRESHOLD: (("threshold", "uint8"),),
    GovernanceAction.RESET_AUDIT_EPOCH: (("auditAnchor", "address"), ("logId", "uint32")),
}


class UnknownProposalError(AdminNotFoundError):
    """No proposal has this id."""


class ProposalState(StrEnum):
    """Where a proposal stands."""

    OPEN = "open"
    EXECUTED = "executed"
    EXPIRED = "expired"
    STALE = "stale"


@dataclass(frozen=True)
class ProposalView:
    """A proposal, its decoded parameters, its state, and the threshold it needs."""

    proposal: Proposal
    params: dict[str, Any]
    state: ProposalState
    threshold: int
    approved_by_governor: bool | None
    """Whether the governor asked about approved it (None: nobody asked about)."""

    @property
    def action_name(self) -> str:
        """The action's API name (``admit-issuer`` ...)."""
        return ACTION_NAMES[self.proposal.action]


def proposal_json(view: ProposalView) -> dict[str, Any]:
    """The JSON form of a proposal (the API's ``ProposalOut``, also ``tongban governance``)."""
    proposal = view.proposal
    return {
        "proposalId": proposal.proposal_id,
        "action": view.action_name,
        "params": view.params,
        "proposer": proposal.proposer,
        "createdAt": proposal.created_at,
        "expiresAt": proposal.expires_at,
        "approvals": proposal.approvals,
        "threshold": view.threshold,
        "executed": proposal.executed,
        "state": view.state.value,
        "governorSetVersion": proposal.governor_set_version,
        "approvedByThisGovernor": view.approved_by_governor,
    }


def decode_params(action: GovernanceAction, params: bytes) -> dict[str, Any]:
    """The parameters of a proposal by name (addresses checksummed); {} if undecodable."""
    names = _PARAMS[action]
    try:
        values = abi_decode([kind for _, kind in names], params)
    except Exception:  # noqa: BLE001 - a proposal's stored bytes are validated on chain
        return {}
    return {
        name: checksum(value) if kind == "address" else value
        for (name, kind), value in zip(names, values, strict=True)
    }


def chain_time(registry: IssuerRegistry) -> int:
    """The latest block's timestamp."""
    return int(registry.client.get_block("latest")["timestamp"], 16)


def _state(proposal: Proposal, now: int, version: int) -> ProposalState:
    if proposal.executed:
        return ProposalState.EXECUTED
    if now >= proposal.expires_at:
        return ProposalState.EXPIRED
    if proposal.governor_set_version != version:
        return ProposalState.STALE
    return ProposalState.OPEN


def describe_proposal(
    registry: IssuerRegistry, proposal_id: int, governor: str | None = None
) -> ProposalView:
    """Proposal ``proposal_id`` as it stands now (``UnknownProposalError`` if none)."""
    if proposal_id < 1:
        raise UnknownProposalError("proposal ids start at 1")
    try:
        proposal = registry.proposal(proposal_id)
    except IssuerRegistryUnknownProposalError:
        raise UnknownProposalError("no proposal has that id") from None
    return _Standing.now(registry).view(registry, proposal, governor)


@dataclass(frozen=True)
class _Standing:
    """What a proposal's state is judged against: chain time, governor set, threshold."""

    time: int
    version: int
    threshold: int

    @classmethod
    def now(cls, registry: IssuerRegistry) -> _Standing:
        return cls(chain_time(registry), registry.governor_set_version(), registry.threshold())

    def view(
        self, registry: IssuerRegistry, proposal: Proposal, governor: str | None
    ) -> ProposalView:
        approved = (
            None if governor is None else registry.has_approved(proposal.proposal_id, governor)
        )
        return ProposalView(
            proposal=proposal,
            params=decode_params(proposal.action, proposal.params),
            state=_state(proposal, self.time, self.version),
            threshold=self.threshold,
            approved_by_governor=approved,
        )


def list_proposals(
    registry: IssuerRegistry, limit: int = 20, governor: str | None = None
) -> list[ProposalView]:
    """The newest ``limit`` proposals (at most ``MAX_LISTED``), newest first."""
    count = registry.proposal_count()
    standing = _Standing.now(registry)
    newest = range(count, max(0, count - min(limit, MAX_LISTED)), -1)
    return [standing.view(registry, registry.proposal(i), governor) for i in newest]


def proposal_expiry(registry: IssuerRegistry, expires_in: int | None) -> int:
    """The ``expiresAt`` of a proposal made now, ``expires_in`` seconds from the chain's time."""
    lifetime = DEFAULT_PROPOSAL_LIFETIME if expires_in is None else expires_in
    if not 0 < lifetime <= MAX_PROPOSAL_LIFETIME:
        raise AdminInputError("/expiresInSeconds", "must be between 1 s and 30 days")
    return chain_time(registry) + lifetime


def load_governor_account(path: Path, passphrase: str) -> LocalAccount:
    """Decrypt the governor keystore at ``path`` (``SettingsError`` naming the setting).

    The address the file names must be the decrypted account's.
    """
    try:
        account = load_keystore(path, passphrase)
        named = keystore_address(path)
    except ChainConfigError:
        raise SettingsError(
            f"cannot open the governor keystore {path}: check TONGBAN_GOVERNOR_KEYSTORE and "
            "TONGBAN_GOVERNOR_KEY_PASSPHRASE"
        ) from None
    if named is not None and named != account.address:
        raise SettingsError(f"the governor keystore {path} names another address than its key")
    return account


class Governance:
    """Proposals and approvals for one governor, through the outbox (any process)."""

    def __init__(self, db: Database, registry: IssuerRegistry, governor: str) -> None:
        """Act for ``governor`` (the account the writer's governor processor sends from)."""
        self.db = db
        self.registry = registry
        self.governor = str(checksum(governor))

    def _submit(self, function: str, what: str, calldata: bytes, done: tuple[str, ...]) -> int:
        operation = ChainOperation(
            GOVERNANCE_KIND,
            f"governance:{function}:{self.governor}:{what}",
            function,
            calldata,
            done,
        )
        return submit(self.db, self.registry, operation, sender=self.governor, pinned=True)

    def propose(
        self, action: GovernanceAction, params: bytes, *, expires_in: int | None = None
    ) -> int:
        """Enqueue ``propose(action, params, expiresAt)``; returns the operation id.

        The same action and parameters proposed again before any other proposal is
        made finds the same operation.
        """
        expires_at = proposal_expiry(self.registry, expires_in)
        calldata = self.registry.contract.encode("propose", int(action), params, expires_at)
        what = f"{int(action)}:{sm3(params).hex()[:32]}:{self.registry.proposal_count()}"
        return self._submit("propose", what, calldata, ())

    def approve(self, proposal_id: int) -> int:
        """Enqueue ``approve(proposalId)``; ``UnknownProposalError`` if there is no such one."""
        describe_proposal(self.registry, proposal_id)
        calldata = self.registry.contract.encode("approve", proposal_id)
        return self._submit("approve", str(proposal_id), calldata, (ALREADY_APPROVED,))

    def view(self, proposal_id: int) -> ProposalView:
        """Proposal ``proposal_id`` with whether this governor approved it."""
        return describe_proposal(self.registry, proposal_id, self.governor)

    def proposals(self, limit: int) -> list[ProposalView]:
        """The newest proposals, with whether this governor approved each."""
        return list_proposals(self.registry, limit, self.governor)
