"""Outbox items pinned to an account: each processor sends only what is its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.chain import outbox
from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, deploy
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor, OutboxState
from ledger.store.database import Database


@pytest.fixture
def db(any_db: Database) -> Database:
    """A new store with the outbox's tables, once per engine."""
    outbox.prepare(any_db)
    return any_db


def _processor(
    db: Database, client: ChainClient, base: NonceManager, *, shared: bool
) -> OutboxProcessor:
    sender = NonceManager(client, base.account, OutboxJournal(db, base.address))
    return OutboxProcessor(db, sender, shared=shared)


def _enqueue(
    db: Database, probe: BoundContract, key: str, value: int, account: str | None = None
) -> int:
    with db.write() as tx:
        return outbox.enqueue(
            tx, "probe", key, probe.address, probe.encode("record", value), account=account
        )


def _sent_by(client: ChainClient, db: Database, key: str) -> str:
    item = outbox.item(db, "probe", key)
    assert item is not None
    assert item.state is OutboxState.FINAL, item
    assert item.tx_hash is not None
    transaction = client.transaction(item.tx_hash)
    assert transaction is not None
    return str(transaction["from"]).lower()


def test_the_default_processor_never_takes_an_item_pinned_to_another_account(
    db: Database, anvil: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    operator, governor = new_sender(), new_sender()
    probe = deploy(operator, load_artifact("ChainProbe"), operator.address)
    probe.transact(operator, "grantRole", probe.call("WRITER_ROLE"), governor.address)
    shared = _processor(db, anvil, operator, shared=True)
    pinned_only = _processor(db, anvil, governor, shared=False)

    _enqueue(db, probe, "anchor", 1)
    _enqueue(db, probe, "own", 2, account=operator.address)
    gov_id = _enqueue(db, probe, "governance", 3, account=governor.address.lower())
    pinned = outbox.item(db, "probe", "governance")
    assert pinned is not None
    assert pinned.account == governor.address  # stored checksummed

    for _ in range(3):
        report = shared.step()
        assert gov_id not in report.submitted
    assert probe.call("count") == 2
    waiting = outbox.item(db, "probe", "governance")
    assert waiting is not None
    assert waiting.state is OutboxState.QUEUED
    assert _sent_by(anvil, db, "anchor") == operator.address.lower()
    assert _sent_by(anvil, db, "own") == operator.address.lower()

    # The governor's processor takes its own item only, never an unpinned one.
    later = _enqueue(db, probe, "later-anchor", 4)
    for _ in range(3):
        report = pinned_only.step()
        assert later not in report.submitted
    assert _sent_by(anvil, db, "governance") == governor.address.lower()
    still = outbox.item(db, "probe", "later-anchor")
    assert still is not None
    assert still.state is OutboxState.QUEUED

    shared.run_until_final()
    assert _sent_by(anvil, db, "later-anchor") == operator.address.lower()
    assert probe.call("count") == 4
    by_id = outbox.item_by_id(db, gov_id)
    assert by_id is not None
    assert by_id.key == "governance"
    assert outbox.item_by_id(db, 10_000) is None
