"""Shared pieces of the consortium contract tests: the deployed world and small helpers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.contracts.calls import TxOutcome
from ledger.chain.contracts.consortium import (
    Consortium,
    ConsortiumAddresses,
    bind_consortium,
    deploy_consortium,
)
from ledger.chain.contracts.errors import ConsortiumRevertError
from ledger.chain.contracts.registry import ProposalOutcome
from ledger.chain.node.accounts import create_account
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import NonceManager

ZJ = 1  # issuer id of Zhejiang (division code 330000)
GD = 2  # issuer id of Guangdong (division code 440000)
ZJ_CODE = 330000
GD_CODE = 440000
FUNDING_WEI = 10**24

# The SM2 generator G, compressed (the public key of private key 1): a real curve point.
SM2_G = bytes.fromhex("0232c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7")


def random_point() -> bytes:
    """A well-formed compressed-point encoding (the contract checks format, not the curve)."""
    return bytes([2 + os.urandom(1)[0] % 2]) + b"\x0f" + os.urandom(31)


def digest() -> bytes:
    """A random 32-byte digest or root."""
    return os.urandom(32)


def fund(client: ChainClient) -> LocalAccount:
    """A new account with plenty of ether on the test anvil."""
    account = create_account()
    client.set_balance(account.address, FUNDING_WEI)
    return account


@dataclass(frozen=True)
class Accounts:
    """The accounts of the session-wide consortium deployment."""

    deployer: LocalAccount
    governors: tuple[LocalAccount, ...]
    outsider: LocalAccount
    zj_admin: LocalAccount
    zj_writer: LocalAccount
    gd_admin: LocalAccount
    gd_writer: LocalAccount


class World:
    """The deployed consortium seen from one test: bindings and a sender per account.

    Senders are fresh ``NonceManager``s; call ``refresh`` after an ``evm_revert``
    so that their nonces are read from the chain again.
    """

    def __init__(self, client: ChainClient, accounts: Accounts, addresses: ConsortiumAddresses):
        self.client = client
        self.accounts = accounts
        self.addresses = addresses
        self.consortium: Consortium = bind_consortium(client, addresses)
        self.registry = self.consortium.registry
        self.credential = self.consortium.credential_anchor
        self.audit = self.consortium.audit_anchor
        self.refresh()

    def refresh(self) -> None:
        """New NonceManagers for every account (after a snapshot revert)."""
        a, c = self.accounts, self.client
        self.deployer = NonceManager(c, a.deployer)
        self.governors = [NonceManager(c, g) for g in a.governors]
        self.outsider = NonceManager(c, a.outsider)
        self.zj_admin = NonceManager(c, a.zj_admin)
        self.zj_writer = NonceManager(c, a.zj_writer)
        self.gd_admin = NonceManager(c, a.gd_admin)
        self.gd_writer = NonceManager(c, a.gd_writer)

    def new_sender(self) -> NonceManager:
        """A funded account that holds no role."""
        return NonceManager(self.client, fund(self.client))

    def now(self) -> int:
        """The latest block's timestamp."""
        return int(self.client.get_block("latest")["timestamp"], 16)

    def advance(self, seconds: int) -> None:
        """Move chain time forward by ``seconds`` and mine a block."""
        self.client.rpc("evm_increaseTime", seconds)
        self.client.rpc("evm_mine")

    def pass_proposal(self, propose: Callable[[NonceManager], ProposalOutcome]) -> ProposalOutcome:
        """Propose with governor 0 and approve with governor 1 (M = 2): the action executes."""
        first = propose(self.governors[0])
        assert not first.executed
        second = self.registry.approve(self.governors[1], first.proposal_id)
        assert second.executed
        return second

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Run the block inside an ``evm_snapshot`` that is reverted afterwards."""
        snap = self.client.rpc("evm_snapshot")
        try:
            self.refresh()
            yield
        finally:
            self.client.rpc("evm_revert", snap)
            self.refresh()


def deploy_test_consortium(client: ChainClient) -> tuple[Accounts, ConsortiumAddresses]:
    """Deploy the test consortium on ``client``'s chain: 3 governors (M = 2), issuers Zhejiang
    (``ZJ``, key-1 = ``SM2_G``) and Guangdong (``GD``, key-1 a bare point), each admitted
    with an admin, a writer and that key."""
    accounts = Accounts(
        deployer=fund(client),
        governors=tuple(fund(client) for _ in range(3)),
        outsider=fund(client),
        zj_admin=fund(client),
        zj_writer=fund(client),
        gd_admin=fund(client),
        gd_writer=fund(client),
    )
    deployer = NonceManager(client, accounts.deployer)
    addresses = deploy_consortium(deployer, [g.address for g in accounts.governors], 2)
    registry = bind_consortium(client, addresses).registry
    g0, g1 = (NonceManager(client, g) for g in accounts.governors[:2])
    for issuer_id, code, name, admin, writer, key in (
        (ZJ, ZJ_CODE, "浙江省", accounts.zj_admin, accounts.zj_writer, SM2_G),
        (GD, GD_CODE, "广东省", accounts.gd_admin, accounts.gd_writer, random_point()),
    ):
        proposed = registry.propose_admit_issuer(g0, issuer_id, code, name, admin.address)
        registry.approve(g1, proposed.proposal_id)
        admin_sender = NonceManager(client, admin)
        registry.add_writer(admin_sender, issuer_id, writer.address)
        registry.add_key(admin_sender, issuer_id, "key-1", key)
    return accounts, addresses


E = TypeVar("E", bound=ConsortiumRevertError)


def rejects(error: type[E], action: Callable[[], object]) -> E:
    """Run ``action`` and return the named error it raised (fail if it raised nothing else)."""
    with pytest.raises(error) as caught:
        action()
    return caught.value


def event_names(outcome: TxOutcome) -> list[str]:
    """The names of the events a transaction emitted, in order."""
    return [e.name for e in outcome.events]
