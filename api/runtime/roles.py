"""``tongban serve --role api`` and ``--role writer``: one province on several hosts.

``role = "all"`` (the default) is the supervisor of ``api.runtime.supervisor``:
one host deploys or joins, provisions, is the writer and serves the API.
Split roles join a province already provisioned (by an ``all`` start or the
consortium step) on one shared store and one chain:

- ``api``: HTTP workers only. No writer duties, no deploying, no provisioning;
  the contract addresses come from the configuration. ``/readyz`` says
  whether some writer holds the lease.
- ``writer``: the writer's duties only, no HTTP. Several may run: one holds
  the store lease ``writer`` and the others wait; a waiting writer takes over
  about ``writer_lease_seconds`` after the active one stopped renewing it.

Neither takes the data directory's lock: hosts sharing a store may share a
data directory too (one machine with SQLite), and the writer lease, not the
lock, keeps the writers apart. Both need a chain they did not start (a URL)
and the province's keys already in ``data_dir/keys`` (a host never creates
keys of its own: they would not be the province's).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount

from api.http.metrics import WriterMetrics
from api.runtime.parts import ChainPlan, ProvinceParts, open_province
from api.runtime.provision import ProvisionReport
from api.runtime.settings import Settings, SettingsError
from api.runtime.supervisor import Supervisor, bind_http, watch_until_stopped
from api.runtime.tls import server_context
from api.runtime.writer import writer_holder, writer_loop
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.chain.node.accounts import load_keystore
from ledger.chain.node.client import ChainClient, checksum
from ledger.chain.node.connection import ANVIL, EMBEDDED, Chain, open_chain

__all__ = [
    "WriterHost",
    "api_host_description",
    "run_api_host",
    "run_writer_host",
    "start_api_host",
]

log = logging.getLogger(__name__)

OPERATOR_KEYSTORE = "evm-operator.json"


def _named_addresses(settings: Settings) -> dict[str, str]:
    """The configured contract addresses, checked before anything is started."""
    role = settings.role
    if settings.chain in (EMBEDDED, ANVIL):
        raise SettingsError(
            f"--role {role} joins a chain started elsewhere: set TONGBAN_CHAIN to the node's URL"
        )
    named = {
        "TONGBAN_REGISTRY": settings.registry,
        "TONGBAN_CREDENTIAL_ANCHOR": settings.credential_anchor,
        "TONGBAN_AUDIT_ANCHOR": settings.audit_anchor,
    }
    checked: dict[str, str] = {}
    for name, address in named.items():
        if not address:
            raise SettingsError(
                f"--role {role} needs the province's contract addresses; {name} is not set "
                "(`tongban serve --role all --json` prints them under contracts)"
            )
        try:
            checked[name] = checksum(address)
        except ValueError:
            raise SettingsError(f"{name} is not an EVM address") from None
    _check_keys(settings)
    return checked


def _joined_plan(named: dict[str, str], chain: Chain) -> ChainPlan:
    """The chain plan from the configured addresses, each checked to hold a contract."""
    client = chain.client
    for name, address in named.items():
        if not client.code(address):
            raise SettingsError(f"no contract at {name} on chain {client.chain_id}")
    addresses = ConsortiumAddresses(*named.values())
    return ChainPlan(client.url, client.chain_id, addresses, 0)


def _check_keys(settings: Settings) -> None:
    keys = settings.keys_dir
    if not keys.is_dir() or not any(keys.glob("*.json")):
        raise SettingsError(
            f"--role {settings.role} needs the province's keys in {keys}; copy them from the "
            "host that first started the province (a new key would not be the province's)"
        )


def _admission(parts: ProvinceParts, client: ChainClient) -> ProvisionReport:
    """What the registry says of this issuer (read only: split roles provision nothing)."""
    registry = IssuerRegistry(client, parts.plan.addresses.registry)
    status = registry.issuer_status(parts.settings.issuer_id)
    return ProvisionReport(parts.settings.issuer_id, status, is_admin=False)


def start_api_host(settings: Settings) -> Supervisor:
    """Bring up an API host (``--role api``): HTTP workers on the shared store; undone on error."""
    server_context(settings)
    named = _named_addresses(settings)
    if settings.public_url is None:
        # Each host would otherwise put its own address in the status list URLs it issues.
        log.warning(
            "public_url is not set: credentials issued here name this host in their status "
            "list URLs; set TONGBAN_PUBLIC_URL to the address clients reach every API host by"
        )
    listener = bind_http(settings)
    if settings.http_port == 0:
        settings = settings.model_copy(update={"http_port": listener.getsockname()[1]})
    chain: Chain | None = None
    parts: ProvinceParts | None = None
    service: Supervisor | None = None
    try:
        chain = open_chain(settings.chain_config())
        plan = _joined_plan(named, chain)
        parts = open_province(settings, plan)
        service = Supervisor(settings, None, parts, _admission(parts, chain.client), listener)
        service.start_workers()
    except BaseException:
        if service is not None:
            service.close()
        else:
            listener.close()
            if parts is not None:
                parts.close()
        if chain is not None:
            chain.close()
        raise
    service.closers.append(chain.close)
    return service


def api_host_description(service: Supervisor) -> dict[str, Any]:
    """What ``serve --role api`` prints once ready (camelCase, like the API)."""
    plan = service.parts.plan
    return {
        "role": "api",
        "apiUrl": service.url,
        "rpcUrl": plan.rpc_url,
        "chainId": plan.chain_id,
        "issuerId": service.settings.issuer_id,
        "issuerDid": service.parts.issuer_config.did,
        "workers": service.settings.workers,
        "contracts": plan.addresses.by_name(),
    }


@dataclass
class WriterHost:
    """A running ``--role writer``: the chain, the province's parts and the writer loop."""

    settings: Settings
    chain: Chain
    account: LocalAccount
    parts: ProvinceParts

    def description(self, holder: str) -> dict[str, Any]:
        """What ``serve --role writer`` prints once ready (camelCase)."""
        plan = self.parts.plan
        return {
            "role": "writer",
            "holder": holder,
            "rpcUrl": plan.rpc_url,
            "chainId": plan.chain_id,
            "issuerId": self.settings.issuer_id,
            "operatorAccount": self.account.address,
            "writerLeaseSeconds": self.settings.writer_lease_seconds,
            "contracts": plan.addresses.by_name(),
        }

    def close(self) -> None:
        """Close the store, then the chain connection."""
        self.parts.close()
        self.chain.close()


def _open_writer_host(settings: Settings) -> WriterHost:
    named = _named_addresses(settings)
    keystore = settings.keys_dir / OPERATOR_KEYSTORE
    if not keystore.is_file():
        raise SettingsError(
            f"--role writer needs the province's EVM account {keystore}: every writer of a "
            "province signs with the same account (its nonces fence a writer that lost the lease)"
        )
    chain = open_chain(settings.chain_config())
    try:
        account = load_keystore(keystore, settings.evm_key_passphrase.get_secret_value())
        plan = _joined_plan(named, chain)
        parts = open_province(settings, plan, writer=True)
    except BaseException:
        chain.close()
        raise
    return WriterHost(settings, chain, account, parts)


def run_writer_host(
    settings: Settings, on_ready: Callable[[dict[str, Any]], None], stop: threading.Event
) -> None:
    """Run ``--role writer`` until ``stop`` is set: wait for the lease, run the duties under it.

    The loop runs in this thread; on ``stop`` it releases the lease (a standby
    takes over at once rather than after the lease time).
    """
    host = _open_writer_host(settings)
    try:
        holder = writer_holder()
        loop = writer_loop(host.parts, host.account, holder, WriterMetrics())
        log.info(
            "writer started; waiting for the writer lease",
            extra={"holder": holder, "lease_s": settings.writer_lease_seconds},
        )
        on_ready(host.description(holder))
        loop.run(stop)
    finally:
        host.close()


def run_api_host(
    settings: Settings,
    on_ready: Callable[[Supervisor], None],
    stop: threading.Event,
    reload: threading.Event | None = None,
) -> None:
    """Start an API host, call ``on_ready``, restart dying workers until ``stop``, then stop."""
    watch_until_stopped(start_api_host(settings), on_ready, stop, reload)
