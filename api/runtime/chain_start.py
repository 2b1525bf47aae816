"""Wire the concrete parts of one province's service together.

``start_chain`` locks the data directory, reaches (or starts) the chain,
loads the province's EVM account and makes sure the contracts are deployed.
``StartedChain.close`` undoes it in reverse order.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from api.runtime.demo import DEMO_THRESHOLD, demo_governor_accounts, seed_demo
from api.runtime.settings import DEMO_EVM_PASSPHRASE, Settings, SettingsError
from ledger.chain.contracts.consortium import (
    AUDIT_ANCHOR,
    CREDENTIAL_ANCHOR,
    REGISTRY,
    ConsortiumAddresses,
    consortium_addresses,
    ensure_consortium,
)
from ledger.chain.contracts.deployment import DeployedContract, Deployment
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.chain.node.accounts import load_or_create_keystore
from ledger.chain.node.client import ChainClient, checksum
from ledger.chain.node.connection import ANVIL, EMBEDDED, Chain, open_chain
from ledger.chain.node.transactions import NonceManager
from ledger.datadir import DataDirLock

log = logging.getLogger(__name__)

DEV_FUNDING_WEI = 10**24
_DEV_FUNDING_FLOOR_WEI = 10**21


@dataclass
class StartedChain:
    """A province started on its chain: data-dir lock, chain, EVM account, sender, contracts."""

    settings: Settings
    lock: DataDirLock
    chain: Chain
    account: LocalAccount
    sender: NonceManager
    deployment: Deployment
    dev_chain: bool
    """Started here, or a local development node (ganache, anvil): never real value."""

    @property
    def addresses(self) -> ConsortiumAddresses:
        """The consortium this province works in."""
        return consortium_addresses(self.deployment)

    @property
    def start_block(self) -> int:
        """The registry's deployment block (0 when joined by address: read from genesis)."""
        return self.deployment.contracts[REGISTRY].block_number

    @property
    def endpoint_file(self) -> Path:
        """Where the running service publishes its chain endpoint for other commands."""
        return self.settings.data_dir / "chain" / "endpoint.json"

    def close(self) -> None:
        """Stop the local node (if any) and release the data directory."""
        self.endpoint_file.unlink(missing_ok=True)
        self.chain.close()
        self.lock.release()


def _undo_on_error(steps: list[Callable[[], None]]) -> None:
    for step in reversed(steps):
        try:
            step()
        except Exception:
            log.exception("cleanup step failed")


def start_chain(settings: Settings, *, province_keys: bool = True) -> StartedChain:
    """Bring up one province's service; on any failure, leave nothing running.

    ``province_keys`` False (``tongban chain deploy``) checks only the EVM
    passphrase: the province's SM2 and pseudonym keys are not used then.
    """
    local_chain = settings.chain in (EMBEDDED, ANVIL)
    if not local_chain and settings.demo:
        raise SettingsError(
            "TONGBAN_DEMO seeds a throw-away consortium and is refused on a chain this service "
            "did not start; unset it (or use chain 'embedded' or 'anvil')"
        )
    lock = DataDirLock(settings.data_dir)
    lock.acquire()
    undo: list[Callable[[], None]] = [lock.release]
    try:
        chain = open_chain(settings.chain_config())
        undo.append(chain.close)
        dev_chain = local_chain or chain.client.is_dev_node()
        demo_setting = (
            settings.demo_passphrase_setting
            if province_keys
            else "TONGBAN_EVM_KEY_PASSPHRASE"
            if settings.evm_key_passphrase.get_secret_value() == DEMO_EVM_PASSPHRASE
            else None
        )
        if not dev_chain and demo_setting is not None:
            raise SettingsError(
                f"{demo_setting} is the published demo value; set a secret passphrase "
                "before connecting to a chain other than a local development node"
            )
        account, created = load_or_create_keystore(
            settings.data_dir / "keys" / "evm-operator.json",
            settings.evm_key_passphrase.get_secret_value(),
        )
        if created:
            log.info("created the province EVM account", extra={"address": account.address})
        client = chain.client
        if client.is_dev_node() and client.balance(account.address) < _DEV_FUNDING_FLOOR_WEI:
            client.set_balance(account.address, DEV_FUNDING_WEI)
        sender = NonceManager(client, account, finality_depth=settings.confirmations)
        sender.reconcile()
        deployment = _deployment(settings, sender)
        if settings.demo:
            registry = IssuerRegistry(client, deployment.address(REGISTRY))
            seed_demo(
                client,
                registry,
                settings,
                account,
                demo_governor_accounts(settings),
                consortium_addresses(deployment),
            )
    except BaseException:
        _undo_on_error(undo)
        raise
    runtime = StartedChain(settings, lock, chain, account, sender, deployment, dev_chain)
    runtime.endpoint_file.parent.mkdir(parents=True, exist_ok=True)
    runtime.endpoint_file.write_text(
        json.dumps({"url": client.url, "chain_id": client.chain_id, "pid": os.getpid()}),
        "utf-8",
    )
    return runtime


def _governance(settings: Settings, own: str) -> tuple[list[str], int]:
    if settings.demo:
        return [g.address for g in demo_governor_accounts(settings)], DEMO_THRESHOLD
    if settings.governors:
        return list(settings.governors), settings.governance_threshold
    return [own], 1


def _joined(settings: Settings, client: ChainClient) -> Deployment:
    """The consortium named by the settings' addresses (nothing is deployed)."""
    named = {
        REGISTRY: settings.registry,
        CREDENTIAL_ANCHOR: settings.credential_anchor,
        AUDIT_ANCHOR: settings.audit_anchor,
    }
    missing = [name for name, address in named.items() if not address]
    if missing:
        raise SettingsError(
            "TONGBAN_REGISTRY, TONGBAN_CREDENTIAL_ANCHOR and TONGBAN_AUDIT_ANCHOR go together; "
            f"{missing[0]} is missing"
        )
    deployment = Deployment(chain_id=client.chain_id)
    for name, address in named.items():
        try:
            checked = checksum(str(address))
        except ValueError:
            raise SettingsError(f"the {name} address is not an EVM address") from None
        if not client.code(checked):
            raise SettingsError(
                f"no contract at the configured {name} address on chain {client.chain_id}"
            )
        deployment.contracts[name] = DeployedContract(checked, 0, "")
    return deployment


def _deployment(settings: Settings, sender: NonceManager) -> Deployment:
    if settings.registry or settings.credential_anchor or settings.audit_anchor:
        return _joined(settings, sender.client)
    governors, threshold = _governance(settings, sender.address)
    return ensure_consortium(sender, governors, threshold, settings.data_dir / "deployment.json")


def read_endpoint(settings: Settings) -> str | None:
    """The chain URL a running service on ``settings.data_dir`` published, if any."""
    try:
        document = json.loads((settings.data_dir / "chain" / "endpoint.json").read_text("utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return str(document["url"])
