"""The demo consortium ``make run`` seeds on a local chain, so a newcomer can try everything.

On a chain this service starts itself (``embedded`` or ``anvil``) and only with
``TONGBAN_DEMO``: three governor accounts (2-of-3 approval) in encrypted
keystores under ``<data dir>/demo/governors/``, the consortium contracts
deployed with them, and two provinces admitted through real proposals and
approvals:

| issuer id | division | name | admin and writer |
|---|---|---|---|
| 1 | 330000 | Zhejiang | this service's own EVM account |
| 2 | 440000 | Guangdong | ``<data dir>/demo/440000/keys/evm-operator.json`` |

``<data dir>/demo/440000/tongban.toml`` configures the second province's
service; it joins this chain with ``--chain <this node's URL>``, the command
``second_province_command`` prints (runnable as printed, from the directory
the first service was started in). The URL stays valid across restarts of
the first service: its embedded chain keeps its port. Each
province gets one demo API client per role, whose tokens are written once to
``<data dir>/demo/<division>/tokens.json`` (mode 0600): a demo convenience, since
a real deployment shows a token once and keeps only its hash. Each province
also registers one fictitious issuing agency per template, which its demo
clients may issue for (``api.runtime.demo_agencies``). Every demo
keystore uses the published demo passphrases, which the service refuses on a
real chain. Seeding is idempotent: a restart finds the issuers admitted and
changes nothing.

Stores: the first province's is the one its settings name (PostgreSQL with
``TONGBAN_DATABASE_URL``, else ``<data dir>/store.sqlite``); the second
province always keeps its SQLite file ``<data dir>/demo/440000/store.sqlite``,
so two provinces never share a database. When the first runs on PostgreSQL,
the printed command starts the second with ``env -u TONGBAN_DATABASE_URL``,
since an exported variable outranks its TOML file.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from api.province.clients import ClientRegistry, Role
from api.runtime.demo_agencies import allow_demo_agencies, ensure_demo_agencies
from api.runtime.settings import DEMO_EVM_PASSPHRASE, ENV_PREFIX, Settings
from api.runtime.store import open_store
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.contracts.registry import IssuerRegistry, IssuerStatus
from ledger.chain.node.accounts import load_or_create_keystore
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import NonceManager
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase

__all__ = [
    "DEMO_GOVERNORS",
    "DEMO_PROVINCES",
    "DEMO_THRESHOLD",
    "DemoProvince",
    "demo_governor_accounts",
    "ensure_demo_clients",
    "governor_keystore_path",
    "second_province_command",
    "second_province_config",
    "seed_demo",
    "tokens_path",
    "tongban_program",
]

log = logging.getLogger(__name__)

DEMO_GOVERNORS = 3
DEMO_THRESHOLD = 2
DEMO_FUNDING_WEI = 10**24
DATABASE_URL_ENV = ENV_PREFIX + "DATABASE_URL"


@dataclass(frozen=True)
class DemoProvince:
    """A province of the demo consortium."""

    issuer_id: int
    division_code: int
    name: str
    http_port_offset: int


DEMO_PROVINCES = (
    DemoProvince(1, 330000, "Zhejiang", 0),
    DemoProvince(2, 440000, "Guangdong", 1),
)


def demo_dir(settings: Settings) -> Path:
    """Where the demo keeps its governors and its second province."""
    return settings.data_dir / "demo"


def governor_keystore_path(settings: Settings, number: int) -> Path:
    """The keystore of demo governor ``number`` (1-3)."""
    return demo_dir(settings) / "governors" / f"governor-{number}.json"


def demo_governor_accounts(settings: Settings) -> list[LocalAccount]:
    """The three demo governors (created on first use)."""
    return [
        load_or_create_keystore(governor_keystore_path(settings, n), DEMO_EVM_PASSPHRASE)[0]
        for n in range(1, DEMO_GOVERNORS + 1)
    ]


def _second_province_dir(settings: Settings, province: DemoProvince) -> Path:
    return demo_dir(settings) / str(province.division_code)


def second_province_config(settings: Settings) -> Path:
    """The TOML settings file of the demo's second province."""
    return _second_province_dir(settings, DEMO_PROVINCES[1]) / "tongban.toml"


def tongban_program() -> str:
    """How to run this installation's ``tongban`` from the current directory, as a shell word.

    ``tongban`` when that name on ``PATH`` is this installation (or when no
    entry point lies beside this interpreter); else that entry point, relative
    when it lies under the current directory (``.venv/bin/tongban`` from the
    repository root).
    """
    entry = Path(sys.executable).with_name("tongban")
    on_path = shutil.which("tongban")
    if not entry.is_file() or (on_path is not None and Path(on_path).resolve() == entry.resolve()):
        return "tongban"
    try:
        shown = str(entry.relative_to(Path.cwd()))
    except ValueError:
        shown = str(entry)
    return shlex.quote(shown)


def second_province_command(settings: Settings, chain_url: str) -> str:
    """The shell command that starts the demo's second province on the chain at ``chain_url``."""
    config = shlex.quote(str(second_province_config(settings)))
    command = f"{tongban_program()} serve --config {config} --chain {shlex.quote(chain_url)}"
    if settings.database_url is not None:
        # The environment outranks the TOML file: a TONGBAN_DATABASE_URL exported for
        # the first province would put the second one in the same database.
        return f"env -u {DATABASE_URL_ENV} {command}"
    return command


def _write_second_config(
    settings: Settings,
    province: DemoProvince,
    directory: Path,
    addresses: ConsortiumAddresses,
) -> None:
    port = settings.http_port + province.http_port_offset if settings.http_port else 0
    config = directory / "tongban.toml"
    config.write_text(
        "# The demo's second province; join the first one's chain with\n"
        "#   tongban serve --config <this file> --chain <the first service's node URL>\n"
        f'data_dir = "{directory.resolve()}"\n'
        f"chain_id = {settings.chain_id}\n"
        f"issuer_id = {province.issuer_id}\n"
        f"division_code = {province.division_code}\n"
        f'issuer_name = "{province.name}"\n'
        f"http_port = {port}\n"
        "# The consortium's contracts: a verifier trusts its own configuration, never a document.\n"
        f'registry = "{addresses.registry}"\n'
        f'credential_anchor = "{addresses.credential_anchor}"\n'
        f'audit_anchor = "{addresses.audit_anchor}"\n',
        "utf-8",
    )


def _admin_for(
    settings: Settings, province: DemoProvince, own: LocalAccount, addresses: ConsortiumAddresses
) -> LocalAccount:
    if province.issuer_id == settings.issuer_id:
        return own
    directory = _second_province_dir(settings, province)
    account, _ = load_or_create_keystore(
        directory / "keys" / "evm-operator.json", settings.evm_key_passphrase.get_secret_value()
    )
    _write_second_config(settings, province, directory, addresses)
    return account


def tokens_path(settings: Settings, division_code: int) -> Path:
    """Where the demo keeps the API tokens of the province ``division_code``."""
    return demo_dir(settings) / str(division_code) / "tokens.json"


def _open_store(settings: Settings, province: DemoProvince) -> Database:
    if province.issuer_id == settings.issuer_id:
        return open_store(settings)
    # The second province keeps its SQLite file even when this one is on PostgreSQL:
    # two provinces never share a store (see the module).
    return SqliteDatabase(_second_province_dir(settings, province) / "store.sqlite")


def ensure_demo_clients(settings: Settings) -> dict[int, Path]:
    """Create each demo province's API clients (one per role) once; returns the token files.

    Registers the demo's issuing agencies first, at every start
    (``api.runtime.demo_agencies``); the demo clients may issue for all of them.
    """
    written = {}
    for province in DEMO_PROVINCES:
        path = tokens_path(settings, province.division_code)
        written[province.division_code] = path
        db = _open_store(settings, province)
        try:
            registry = ClientRegistry(db)
            agencies = ensure_demo_agencies(db, province.division_code)
            if path.exists():
                allow_demo_agencies(registry, f"demo-{Role.ISSUER.value}", agencies)
                continue
            tokens = {
                role.value: registry.create(
                    f"demo {role.value}",
                    str(province.division_code),
                    [role],
                    client_id=f"demo-{role.value}",
                    agencies=agencies,
                ).token
                for role in Role
            }
        finally:
            db.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(tokens, handle, indent=2)
    return written


def _fund(client: ChainClient, address: str) -> None:
    if client.balance(address) < DEMO_FUNDING_WEI // 1000:
        client.set_balance(address, DEMO_FUNDING_WEI)


def seed_demo(
    client: ChainClient,
    registry: IssuerRegistry,
    settings: Settings,
    own: LocalAccount,
    governors: list[LocalAccount],
    addresses: ConsortiumAddresses,
) -> list[int]:
    """Admit the demo provinces that are not admitted yet; returns their issuer ids.

    Governor 1 proposes, governor 2 approves (the second approval executes).
    Every admin account is funded on the dev chain so it can send transactions.
    """
    for governor in governors:
        _fund(client, governor.address)
    senders = [NonceManager(client, g) for g in governors[:DEMO_THRESHOLD]]
    admitted = []
    for province in DEMO_PROVINCES:
        admin = _admin_for(settings, province, own, addresses)
        _fund(client, admin.address)
        if registry.issuer_status(province.issuer_id) is not IssuerStatus.NONE:
            continue
        proposal = registry.propose_admit_issuer(
            senders[0], province.issuer_id, province.division_code, province.name, admin.address
        )
        outcome = registry.approve(senders[1], proposal.proposal_id)
        if not outcome.executed:
            raise RuntimeError("the demo admission did not execute at the threshold")
        admitted.append(province.issuer_id)
        log.info(
            "demo province admitted",
            extra={"issuer_id": province.issuer_id, "division_code": province.division_code},
        )
    return admitted
