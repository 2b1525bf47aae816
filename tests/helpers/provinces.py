"""Provinces built by the service's own assembly (``open_province``), served for tests.

``served_province(world, tmp_path, issuer_id)`` gives one province on the test
anvil: its keystore (fast scrypt, tests only), its store, the real
``ProvinceParts`` as the writer builds them, an outbox processor for the
issuer's writer account, the batch anchorer, an API client per role and
uvicorn on 127.0.0.1. Tests drive the writer's duties by hand
(``anchor_all``, ``sync``) instead of waiting for timers.

Zhejiang (``ZJ``) signs with its registered ``key-1`` (private scalar 1, see
``tests/conftest.py``); Guangdong (``GD``) gets a fresh key registered by its
admin when the province is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.http.app import create_app
from api.http.context import ProvinceContext
from api.province.clients import Role
from api.runtime.parts import ChainPlan, ProvinceParts, open_province
from api.runtime.settings import Settings
from api.runtime.writer import batch_anchorer, operator_outbox
from credentials.issuance import BatchAnchorer
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxProcessor
from ledger.crypto.keystore import Keystore, ScryptParams
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.agencies import register_test_agency
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.server import ApiServer, Reply

FAST = ScryptParams(n=2**10)
"""Tests only: the default KDF is production strength and costs a fraction of a second."""

PASSPHRASE = "test-province-keys"
ORGS = {ZJ: "330000", GD: "440000"}
PERSONAL = {"X-Purpose": "cross-province.enrolment", "X-Legal-Basis": "prc.pipl.art13"}
"""Declaration headers for routes that touch personal data."""


def _keystore(directory: Path, key_id: str, signing: Sm2PrivateKey) -> None:
    keystore = Keystore(directory)
    keystore.save(f"signing-{key_id}", signing, PASSPHRASE, kdf=FAST)
    keystore.save("data-key", Sm2PrivateKey.generate(), PASSPHRASE, kdf=FAST)
    keystore.save("pseudonym-v1", Sm2PrivateKey.generate(), PASSPHRASE, kdf=FAST)


@dataclass
class ServedProvince:
    """One province: its parts, its writer's outbox and batches, its API and tokens."""

    world: World
    parts: ProvinceParts
    processor: OutboxProcessor
    batches: BatchAnchorer
    context: ProvinceContext
    server: ApiServer
    tokens: dict[Role, str]

    @property
    def issuer_id(self) -> int:
        """The province's issuer id."""
        return self.parts.settings.issuer_id

    @property
    def did(self) -> str:
        """The province's DID (also its verifier DID)."""
        return self.parts.issuer_config.did

    def sync(self) -> None:
        """Bring the chain index up to the head (the writer's ``chain-index`` duty)."""
        self.parts.index.sync()

    def anchor_all(self) -> None:
        """Seal what is pending, drive the outbox until final, and sync the index."""
        self.batches.seal_due(force=True)
        self.processor.run_until_final(timeout=60, poll=0.01)
        self.sync()

    def request(self, method: str, path: str, role: Role | None = None, **kwargs: Any) -> Reply:
        """A request with the token of ``role`` (None: no token)."""
        token = None if role is None else self.tokens[role]
        return self.server.request(method, path, token=token, **kwargs)

    def close(self) -> None:
        """Stop the server and close the store."""
        self.server.stop()
        self.parts.close()


def build_province(
    world: World, tmp_path: Path, issuer_id: int = ZJ, *, database_url: str | None = None
) -> ServedProvince:
    """Build (but do not start) province ``issuer_id`` in ``tmp_path`` (its store: PostgreSQL
    at ``database_url``, else the SQLite file in its data directory)."""
    accounts = world.accounts
    if issuer_id == ZJ:
        signing, key_id = Sm2PrivateKey.from_bytes((1).to_bytes(32, "big")), "key-1"
        writer = accounts.zj_writer
    elif issuer_id == GD:
        # GD's registered key-1 is a bare point; this province signs with key-1x instead.
        signing, key_id = Sm2PrivateKey.generate(), "key-1x"
        writer = accounts.gd_writer
        admin = NonceManager(world.client, accounts.gd_admin)
        world.registry.add_key(admin, GD, key_id, signing.public_key.compressed())
    else:
        raise ValueError("the test consortium has issuers ZJ and GD only")
    data_dir = tmp_path / f"province-{issuer_id}"
    keys_dir = data_dir / "keys"
    _keystore(keys_dir, key_id, signing)
    settings = Settings(
        data_dir=data_dir,
        chain=world.client.url,
        chain_id=world.client.chain_id,
        issuer_id=issuer_id,
        division_code=int(ORGS[issuer_id]),
        key_passphrase=PASSPHRASE,
        evm_key_passphrase="test-evm-keys",
        batch_max_wait_ms=60_000,
        database_url=database_url,
    )
    plan = ChainPlan(world.client.url, world.client.chain_id, world.addresses, 0)
    parts = open_province(settings, plan, writer=True)
    processor = operator_outbox(parts, writer)
    batches = batch_anchorer(parts)
    batches.register(processor)
    parts.checkpoints.register(processor)
    parts.index.sync()
    parts.keyring.refresh()
    context = parts.context()
    tokens = {}
    agencies = [register_test_agency(context.db)]
    for role in Role:
        issued = context.clients.create(
            f"{role.value} app",
            ORGS[issuer_id],
            [role],
            client_id=f"{role.value}-app",
            agencies=agencies,
        )
        tokens[role] = issued.token
    server = ApiServer(create_app(context))
    return ServedProvince(world, parts, processor, batches, context, server, tokens)


@contextmanager
def served_province(
    world: World, tmp_path: Path, issuer_id: int = ZJ, *, database_url: str | None = None
) -> Iterator[ServedProvince]:
    """Province ``issuer_id`` served for the duration of the ``with`` block."""
    province = build_province(world, tmp_path, issuer_id, database_url=database_url)
    province.server.start()
    try:
        yield province
    finally:
        province.close()
