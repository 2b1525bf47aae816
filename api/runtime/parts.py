"""One province's parts in one process, built from its settings and where the chain is.

``open_province(settings, plan)`` opens the store and the keys and builds what
every process of the province shares: the audit log, the chain index (read
only), the issuer, the verifier and the signing key ring. ``ProvinceParts.context``
is the ``ProvinceContext`` an API worker serves. The writer adds its duties on
top (``api.runtime.writer.province_duties``).

``ChainPlan`` is what the supervisor tells its workers about the chain: the
node URL, the chain id and the consortium's addresses. A verifier takes these
from its own configuration, never from a credential.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from api.http.context import ProvinceContext, RateLimits
from api.province.keyring import SigningKeyRing, chain_clock
from api.province.keys import ProvinceKeys, load_or_create_keys
from api.province.status_fetch import StatusListFetcher
from api.province.status_lists import default_public_base
from api.runtime.settings import Settings
from api.runtime.store import open_store
from credentials.did import issuer_did
from credentials.issuance import CredentialIssuer, IssuerConfig
from credentials.verify import Verifier, VerifierConfig
from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy
from ledger.audit.log import AuditLog
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.chain.index import ChainIndex
from ledger.chain.node.accounts import keystore_address
from ledger.chain.node.client import ChainClient
from ledger.store.challenges import Challenges
from ledger.store.database import Database

__all__ = ["ChainPlan", "ProvinceParts", "open_province", "status_lists_base"]


@dataclass(frozen=True)
class ChainPlan:
    """Where the province's chain and contracts are (JSON-serialisable for workers)."""

    rpc_url: str
    chain_id: int
    addresses: ConsortiumAddresses
    start_block: int
    """The block the registry was deployed in: the index reads nothing earlier."""

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "rpcUrl": self.rpc_url,
            "chainId": self.chain_id,
            "addresses": asdict(self.addresses),
            "startBlock": self.start_block,
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> ChainPlan:
        """Read the JSON form."""
        return cls(
            rpc_url=str(document["rpcUrl"]),
            chain_id=int(document["chainId"]),
            addresses=ConsortiumAddresses(**document["addresses"]),
            start_block=int(document["startBlock"]),
        )

    def dumps(self) -> str:
        """One line of JSON."""
        return json.dumps(self.to_json())


@dataclass
class ProvinceParts:
    """Everything one process of the province uses; ``close`` releases it."""

    settings: Settings
    plan: ChainPlan
    client: ChainClient
    db: Database
    keys: ProvinceKeys
    keyring: SigningKeyRing
    audit_log: AuditLog
    index: ChainIndex
    issuer: CredentialIssuer
    verifier: Verifier
    checkpoints: CheckpointAnchorer
    closers: list[Any] = field(default_factory=list)

    @property
    def issuer_config(self) -> IssuerConfig:
        """The issuing side's configuration."""
        return self.issuer.config

    def context(self) -> ProvinceContext:
        """The API context over these parts (one per worker process)."""
        context = ProvinceContext.build(
            self.db,
            self.audit_log,
            self.plan.chain_id,
            anchorer=self.checkpoints,
            chain=self.client,
            rate_limits=RateLimits.default(
                client_rate=self.settings.client_rate,
                client_burst=self.settings.client_burst,
                lookup_rate=self.settings.zhengzhao_lookup_rate,
                lookup_burst=self.settings.zhengzhao_lookup_burst,
            ),
        )
        context.issuer = self.issuer
        context.verifier = self.verifier
        context.index = self.index
        context.keyring = self.keyring
        context.addresses = self.plan.addresses
        context.keys = self.keys
        context.registry = IssuerRegistry(self.client, self.plan.addresses.registry)
        context.operator_account = keystore_address(self.settings.keys_dir / "evm-operator.json")
        governor = self.settings.governor_keystore
        context.governor_account = None if governor is None else keystore_address(governor)
        return context

    def close(self) -> None:
        """Finish queued appends and close the store."""
        for closer in reversed(self.closers):
            closer()
        self.audit_log.close()
        self.db.close()


def status_lists_base(settings: Settings) -> str | None:
    """The public base URL of the province's status lists (None: none is stable)."""
    if settings.public_url:
        return settings.public_url
    base = default_public_base(settings.http_host, settings.http_port)
    if base is not None and settings.tls_cert is not None:
        return "https://" + base.removeprefix("http://")
    return base


def open_province(settings: Settings, plan: ChainPlan, *, writer: bool = False) -> ProvinceParts:
    """Open the province's keys under ``settings.data_dir`` and its store, and build its parts.

    The store is PostgreSQL when ``database_url`` is set, else the SQLite file
    (``api.runtime.store``); each component migrates its tables as it opens them.

    ``writer`` gives the checkpoint anchorer its AuditAnchor binding and the
    chain index its client (only the writer signs checkpoints and syncs).
    """
    client = ChainClient(plan.rpc_url, plan.chain_id, timeout=settings.rpc_timeout)
    keys, _ = load_or_create_keys(
        settings.keys_dir, settings.signing_key_id, settings.key_passphrase.get_secret_value()
    )
    db = open_store(settings)
    try:
        did = issuer_did(plan.chain_id, settings.issuer_id)
        addresses = plan.addresses
        index = ChainIndex(
            db,
            plan.chain_id,
            addresses.registry,
            addresses.credential_anchor,
            client=client if writer else None,
            start_block=plan.start_block,
            confirmations=settings.confirmations,
        )
        keyring = SigningKeyRing(keys, index, settings.issuer_id, did, clock=chain_clock(client))
        audit_log = AuditLog(db, settings.issuer_id, keyring.log_signer(), keys.pseudonyms)
        keyring.attach(audit_log)
        checkpoints = CheckpointAnchorer(
            audit_log,
            plan.chain_id,
            AuditAnchor(client, addresses.audit_anchor) if writer else None,
            CheckpointPolicy(settings.checkpoint_seconds, settings.checkpoint_events),
        )
        issuer_config = IssuerConfig(
            chain_id=plan.chain_id,
            issuer_id=settings.issuer_id,
            credential_anchor=addresses.credential_anchor,
            batch_size=settings.batch_size,
            batch_max_wait_ms=settings.batch_max_wait_ms,
            jurisdiction=f"{settings.division_code:06d}",
        )
        # The constructor's signer is only a default: issuing passes the key ring's active one.
        issuer = CredentialIssuer(
            db,
            issuer_config,
            keys.credential_signer(did, keyring.log_key_id()),
            data_key=keys.data_key,
            status_base=lambda: status_lists_base(settings),
            indexed_height=lambda: index.height,
        )
        verifier = Verifier(
            VerifierConfig(
                chain_id=plan.chain_id,
                registry=addresses.registry,
                credential_anchor=addresses.credential_anchor,
                did=did,
            ),
            index,
            Challenges(db),
            audit_log,
            fetch_list=StatusListFetcher(db, status_lists_base(settings)),
        )
        return ProvinceParts(
            settings,
            plan,
            client,
            db,
            keys,
            keyring,
            audit_log,
            index,
            issuer,
            verifier,
            checkpoints,
        )
    except BaseException:
        # A pool of PostgreSQL connections (and its threads) must not outlive a failed start.
        db.close()
        raise
