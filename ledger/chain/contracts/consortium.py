"""Deploy and bind the consortium's three contracts.

``IssuerRegistry`` goes first; ``CredentialAnchor`` and ``AuditAnchor`` take its
address in their constructors, so the three are deployed in order by
``deploy_consortium`` rather than through a static ``ContractSpec`` plan.
``ensure_consortium`` does the same against a deployment record
(``ledger.chain.contracts.deployment``): it reuses a recorded set whose three contracts
still have code and otherwise deploys a fresh, consistent set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.binding import deploy_with_receipt
from ledger.chain.contracts.calls import raising_named_reverts
from ledger.chain.contracts.credential_anchor import CredentialAnchor
from ledger.chain.contracts.deployment import (
    DeployedContract,
    Deployment,
    load_deployment,
    save_deployment,
)
from ledger.chain.contracts.registry import MAX_GOVERNORS, IssuerRegistry
from ledger.chain.errors import ChainConfigError
from ledger.chain.node.client import ChainClient, checksum
from ledger.chain.node.transactions import NonceManager

REGISTRY = "IssuerRegistry"
CREDENTIAL_ANCHOR = "CredentialAnchor"
AUDIT_ANCHOR = "AuditAnchor"
CONSORTIUM_CONTRACTS = (REGISTRY, CREDENTIAL_ANCHOR, AUDIT_ANCHOR)
"""Artifact names of the consortium contracts, in deployment order."""


@dataclass(frozen=True)
class ConsortiumAddresses:
    """Where the three consortium contracts live on one chain."""

    registry: str
    credential_anchor: str
    audit_anchor: str

    def by_name(self) -> dict[str, str]:
        """The addresses keyed by artifact name."""
        return {
            REGISTRY: self.registry,
            CREDENTIAL_ANCHOR: self.credential_anchor,
            AUDIT_ANCHOR: self.audit_anchor,
        }


@dataclass(frozen=True)
class Consortium:
    """Bindings of the three consortium contracts."""

    registry: IssuerRegistry
    credential_anchor: CredentialAnchor
    audit_anchor: AuditAnchor

    @property
    def addresses(self) -> ConsortiumAddresses:
        """The contracts' addresses."""
        return ConsortiumAddresses(
            self.registry.address, self.credential_anchor.address, self.audit_anchor.address
        )


def _check_governance(governors: Sequence[str], threshold: int) -> list[str]:
    members: list[str] = [checksum(g) for g in governors]
    if not 1 <= len(members) <= MAX_GOVERNORS:
        raise ChainConfigError(f"the consortium needs 1 to {MAX_GOVERNORS} governors")
    if len(set(members)) != len(members):
        raise ChainConfigError("the governors must be distinct accounts")
    if not 1 <= threshold <= len(members):
        raise ChainConfigError("the approval threshold M must satisfy 1 <= M <= governors")
    return members


def _deploy(sender: NonceManager, name: str, *args: Any) -> tuple[str, DeployedContract]:
    with raising_named_reverts():
        contract, receipt = deploy_with_receipt(sender, load_artifact(name), *args)
    record = DeployedContract(
        address=contract.address,
        block_number=int(receipt["blockNumber"], 16),
        tx_hash=str(receipt["transactionHash"]),
    )
    return contract.address, record


def _deploy_all(
    sender: NonceManager, governors: Sequence[str], threshold: int
) -> tuple[ConsortiumAddresses, dict[str, DeployedContract]]:
    members = _check_governance(governors, threshold)
    registry, registry_record = _deploy(sender, REGISTRY, members, threshold)
    credential, credential_record = _deploy(sender, CREDENTIAL_ANCHOR, registry)
    audit, audit_record = _deploy(sender, AUDIT_ANCHOR, registry)
    records = {
        REGISTRY: registry_record,
        CREDENTIAL_ANCHOR: credential_record,
        AUDIT_ANCHOR: audit_record,
    }
    return ConsortiumAddresses(registry, credential, audit), records


def deploy_consortium(
    sender: NonceManager, governors: Sequence[str], threshold: int
) -> ConsortiumAddresses:
    """Deploy IssuerRegistry (``governors``, M = ``threshold``), then both anchors bound to it."""
    return _deploy_all(sender, governors, threshold)[0]


def bind_consortium(client: ChainClient, addresses: ConsortiumAddresses) -> Consortium:
    """Bindings of the three contracts at ``addresses``."""
    return Consortium(
        registry=IssuerRegistry(client, addresses.registry),
        credential_anchor=CredentialAnchor(client, addresses.credential_anchor),
        audit_anchor=AuditAnchor(client, addresses.audit_anchor),
    )


def consortium_addresses(deployment: Deployment) -> ConsortiumAddresses:
    """The consortium's addresses in a deployment record (``ChainConfigError`` if missing)."""
    return ConsortiumAddresses(
        registry=deployment.address(REGISTRY),
        credential_anchor=deployment.address(CREDENTIAL_ANCHOR),
        audit_anchor=deployment.address(AUDIT_ANCHOR),
    )


def ensure_consortium(
    sender: NonceManager, governors: Sequence[str], threshold: int, record: Path
) -> Deployment:
    """Reuse the recorded consortium if all three contracts still have code; else deploy it.

    A partial or stale set is never mixed with new contracts: the anchors must
    point at the recorded registry, so the three are deployed together. Other
    contracts in the record are kept. The record is written atomically.
    """
    client = sender.client
    previous = load_deployment(record)
    deployment = Deployment(chain_id=client.chain_id)
    if previous is not None and previous.chain_id == client.chain_id:
        deployment.contracts.update(
            {k: v for k, v in previous.contracts.items() if client.code(v.address)}
        )
    if not all(name in deployment.contracts for name in CONSORTIUM_CONTRACTS) or not _consistent(
        client, deployment
    ):
        _, records = _deploy_all(sender, governors, threshold)
        deployment.contracts.update(records)
    save_deployment(deployment, record)
    return deployment


def _consistent(client: ChainClient, deployment: Deployment) -> bool:
    consortium = bind_consortium(client, consortium_addresses(deployment))
    registry = consortium.registry.address
    return (
        consortium.credential_anchor.registry_address() == registry
        and consortium.audit_anchor.registry_address() == registry
    )
