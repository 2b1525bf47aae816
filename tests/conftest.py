"""Fixtures shared by the whole suite: real chain nodes, a deployed consortium, keys, a store.

One anvil runs for the session; each test that uses ``anvil`` runs inside an
``evm_snapshot`` that is reverted afterwards, so tests stay independent and fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.node.accounts import create_account
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import NodeProcess, start_anvil
from ledger.chain.node.transactions import NonceManager
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.contracts import Accounts, World, deploy_test_consortium
from tests.helpers.postgres import PostgresCluster, PostgresMissingError, start_cluster
from tests.helpers.stores import ENGINES, StoreTarget
from tests.portal.xdist_scope import (  # noqa: F401 - the controller's xdist hook
    pytest_xdist_make_scheduler,
)

ANVIL_CHAIN_ID = 31337
FUNDING_WEI = 10**24


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[NodeProcess]:
    """A session-wide anvil on 127.0.0.1 (one block per transaction)."""
    node = start_anvil(ANVIL_CHAIN_ID)
    yield node
    node.stop()


@pytest.fixture
def anvil(anvil_node: NodeProcess) -> Iterator[ChainClient]:
    """A client on the session anvil; chain state is reverted after the test."""
    client = ChainClient(anvil_node.url, ANVIL_CHAIN_ID)
    snapshot = client.rpc("evm_snapshot")
    yield client
    client.rpc("evm_revert", snapshot)


@pytest.fixture
def new_sender(anvil: ChainClient) -> Callable[[], NonceManager]:
    """Factory of funded accounts on the test anvil, each with its own NonceManager."""

    def make() -> NonceManager:
        account = create_account()
        anvil.set_balance(account.address, FUNDING_WEI)
        return NonceManager(anvil, account)

    return make


# -- the consortium: 3 governors (M = 2), issuers Zhejiang (1) and Guangdong (2) --------
# Deployed once per session, outside any test's snapshot; each test then runs
# inside the ``anvil`` fixture's snapshot and gets fresh senders.


@pytest.fixture(scope="session")
def consortium_setup(anvil_node: NodeProcess) -> tuple[Accounts, ConsortiumAddresses]:
    """Deploy the consortium once and admit the two issuers, each with a writer and a key."""
    return deploy_test_consortium(ChainClient(anvil_node.url, ANVIL_CHAIN_ID))


@pytest.fixture
def world(consortium_setup: tuple[Accounts, ConsortiumAddresses], anvil: ChainClient) -> World:
    """The deployed consortium, inside this test's snapshot."""
    accounts, addresses = consortium_setup
    return World(anvil, accounts, addresses)


# -- a province's keys and store --------------------------------------------------------


@pytest.fixture
def signer() -> LocalSigner:
    """A province SM2 signing key (not registered on chain unless a test does it)."""
    return LocalSigner("audit-2026", Sm2PrivateKey.generate())


@pytest.fixture
def pseudonyms() -> PseudonymKeys:
    """Fresh pseudonym keys."""
    return PseudonymKeys.generate()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    """A new SQLite store in the test's temporary directory."""
    database = SqliteDatabase(tmp_path / "store.sqlite")
    yield database
    database.close()


# -- PostgreSQL: one cluster per run, started by the first test that needs it --------------


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A throw-away PostgreSQL server on 127.0.0.1 (tests/helpers/postgres.py), stopped after."""
    try:
        cluster = start_cluster()
    except PostgresMissingError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """The URL of a new, empty database on the test cluster, dropped after the test."""
    name = postgres_cluster.create_database()
    yield postgres_cluster.url(name)
    postgres_cluster.drop_database(name)


@pytest.fixture(params=ENGINES)
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> StoreTarget:
    """Where a new, empty store is, once per engine (``sqlite``, ``postgresql``)."""
    if request.param == "sqlite":
        return StoreTarget("sqlite", tmp_path / "store.sqlite")
    # Asked for only here, so runs without PostgreSQL tests never start the cluster.
    url: str = request.getfixturevalue("postgres_database")
    return StoreTarget("postgresql", url)


@pytest.fixture
def any_db(store_target: StoreTarget) -> Iterator[Database]:
    """A new store on each engine in turn (store-facing tests use it as their ``db``)."""
    database = store_target.open()
    yield database
    database.close()
