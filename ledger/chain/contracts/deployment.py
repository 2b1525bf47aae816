"""Deploy the consortium's contracts once and remember where they are.

The record (``deployment.json`` in the data directory) names each contract's
address and deployment block for one chain id. On start the service reuses a
record whose contracts still have code on the chain and deploys what is missing.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy_with_receipt
from ledger.chain.errors import ChainConfigError
from ledger.chain.node.transactions import NonceManager


@dataclass(frozen=True)
class ContractSpec:
    """One contract to deploy: its artifact name and constructor arguments."""

    name: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class DeployedContract:
    """Where a contract was deployed."""

    address: str
    block_number: int
    tx_hash: str


@dataclass
class Deployment:
    """The contracts of one chain, by artifact name."""

    chain_id: int
    contracts: dict[str, DeployedContract] = field(default_factory=dict)

    def address(self, name: str) -> str:
        """The address of contract ``name``."""
        try:
            return self.contracts[name].address
        except KeyError:
            raise ChainConfigError(
                f"contract {name} is not deployed on chain {self.chain_id}"
            ) from None


def load_deployment(path: Path) -> Deployment | None:
    """Read a deployment record, or None if there is none."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return None
    except json.JSONDecodeError:
        raise ChainConfigError(f"deployment record {path} is not valid JSON") from None
    return Deployment(
        chain_id=int(document["chain_id"]),
        contracts={k: DeployedContract(**v) for k, v in document["contracts"].items()},
    )


def save_deployment(deployment: Deployment, path: Path) -> None:
    """Write a deployment record atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".deployment-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(deployment), handle, indent=2, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def ensure_deployed(
    sender: NonceManager, specs: Sequence[ContractSpec], record: Path
) -> Deployment:
    """Reuse the recorded contracts that still have code; deploy the others and record them."""
    client = sender.client
    previous = load_deployment(record)
    deployment = Deployment(chain_id=client.chain_id)
    if previous is not None and previous.chain_id == client.chain_id:
        for name, deployed in previous.contracts.items():
            if client.code(deployed.address):
                deployment.contracts[name] = deployed
    for spec in specs:
        if spec.name in deployment.contracts:
            continue
        contract, receipt = deploy_with_receipt(sender, load_artifact(spec.name), *spec.args)
        deployment.contracts[spec.name] = DeployedContract(
            address=contract.address,
            block_number=int(receipt["blockNumber"], 16),
            tx_hash=str(receipt["transactionHash"]),
        )
    save_deployment(deployment, record)
    return deployment
