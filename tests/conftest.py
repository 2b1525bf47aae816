"""Fixtures shared by the whole suite: real chain nodes started by the tests.

One anvil runs for the session; each test that uses ``anvil`` runs inside an
``evm_snapshot`` that is reverted afterwards, so tests stay independent and fast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ledger.chain.accounts import create_account
from ledger.chain.client import ChainClient
from ledger.chain.nodes import NodeProcess, start_anvil
from ledger.chain.transactions import NonceManager

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
