"""The durable outbox against anvil: once and only once, through crashes, drops and reorgs."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from ledger.chain import outbox
from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, deploy
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxItem, OutboxJournal, OutboxProcessor, OutboxState
from ledger.store.database import Database, Transaction


@pytest.fixture
def db(any_db: Database) -> Database:
    """A new store with the outbox's tables, once per engine."""
    outbox.prepare(any_db)
    return any_db


class Writer:
    """A writer process's view: its NonceManager journaling into the outbox, its processor."""

    def __init__(
        self, db: Database, client: ChainClient, base: NonceManager, confirmations: int = 1
    ) -> None:
        self.sender = NonceManager(client, base.account, OutboxJournal(db, base.address))
        self.processor = OutboxProcessor(db, self.sender, confirmations=confirmations)
        self.finals: list[OutboxItem] = []
        self.processor.on_final("probe", self._record)

    def _record(self, tx: Transaction, item: OutboxItem) -> None:
        self.finals.append(item)


@pytest.fixture
def probe_and_base(new_sender: Callable[[], NonceManager]) -> tuple[BoundContract, NonceManager]:
    base = new_sender()
    return deploy(base, load_artifact("ChainProbe"), base.address), base


def _enqueue(
    db: Database, probe: BoundContract, key: str, value: int, done: tuple[str, ...] = ()
) -> int:
    with db.write() as tx:
        return outbox.enqueue(
            tx, "probe", key, probe.address, probe.encode("record", value), done_errors=done
        )


def test_items_become_final_once_and_handlers_run_once(
    db: Database, anvil: ChainClient, probe_and_base: tuple[BoundContract, NonceManager]
) -> None:
    probe, base = probe_and_base
    writer = Writer(db, anvil, base)
    ids = [_enqueue(db, probe, f"k{i}", i + 1) for i in range(3)]
    assert _enqueue(db, probe, "k0", 99) == ids[0]  # same key: same item, nothing new
    writer.processor.run_until_final()
    writer.processor.step()
    assert probe.call("count") == 3
    assert sorted(i.id for i in writer.finals) == ids
    final = outbox.item(db, "probe", "k1")
    assert final is not None
    assert final.state is OutboxState.FINAL
    assert final.block_number is not None
    assert outbox.lag(db).open_items == 0


def test_a_crash_after_signing_before_sending_is_resumed(
    db: Database, anvil: ChainClient, probe_and_base: tuple[BoundContract, NonceManager]
) -> None:
    probe, base = probe_and_base
    item_id = _enqueue(db, probe, "crash", 5)
    # The first writer signs and journals, then dies before broadcasting.
    dead = Writer(db, anvil, base)
    queued = outbox.item(db, "probe", "crash")
    assert queued is not None
    signed = dead.sender.account.sign_transaction(
        {
            "chainId": anvil.chain_id,
            "nonce": dead.sender.next_nonce,
            "gas": 200_000,
            "to": probe.address,
            "data": queued.calldata,
            "value": 0,
            **anvil.fee_fields(),
            "type": 2,
        }
    )
    from ledger.chain.node.transactions import JournalEntry

    dead.sender.journal.record(
        JournalEntry(
            dead.sender.next_nonce,
            "0x" + bytes(signed.hash).hex(),
            bytes(signed.raw_transaction),
            str(item_id),
        )
    )
    assert anvil.receipt("0x" + bytes(signed.hash).hex()) is None

    restarted = Writer(db, anvil, base)
    report = restarted.processor.step()
    assert item_id in report.rebroadcast
    restarted.processor.run_until_final()
    final = outbox.item(db, "probe", "crash")
    assert final is not None
    assert final.tx_hash == "0x" + bytes(signed.hash).hex(), (final, report)  # the stored bytes
    assert probe.call("count") == 1


def test_a_reorg_sends_the_same_transaction_again(
    db: Database, anvil: ChainClient, probe_and_base: tuple[BoundContract, NonceManager]
) -> None:
    probe, base = probe_and_base
    writer = Writer(db, anvil, base, confirmations=5)
    item_id = _enqueue(db, probe, "reorg", 7)
    writer.processor.step()
    writer.processor.step()
    confirmed = outbox.item(db, "probe", "reorg")
    assert confirmed is not None
    assert confirmed.state is OutboxState.CONFIRMED
    anvil.rpc("anvil_reorg", 1, [])
    assert probe.call("count") == 0
    report = writer.processor.step()
    assert item_id in report.reorged
    assert item_id in report.rebroadcast
    anvil.rpc("anvil_mine", 5)
    writer.processor.run_until_final()
    final = outbox.item(db, "probe", "reorg")
    assert final is not None
    assert final.tx_hash == confirmed.tx_hash
    assert probe.call("count") == 1


def test_a_dropped_transaction_is_rebroadcast(
    db: Database, anvil: ChainClient, probe_and_base: tuple[BoundContract, NonceManager]
) -> None:
    probe, base = probe_and_base
    writer = Writer(db, anvil, base)
    anvil.rpc("evm_setAutomine", False)
    try:
        item_id = _enqueue(db, probe, "drop", 3)
        writer.processor.step()
        submitted = outbox.item(db, "probe", "drop")
        assert submitted is not None
        assert submitted.tx_hash is not None
        anvil.rpc("anvil_dropTransaction", submitted.tx_hash)
        assert writer.processor.step().rebroadcast == [item_id]
    finally:
        anvil.rpc("evm_setAutomine", True)
    anvil.rpc("evm_mine")
    writer.processor.run_until_final()
    assert probe.call("count") == 1


def test_already_done_and_failed_reverts(
    db: Database, anvil: ChainClient, probe_and_base: tuple[BoundContract, NonceManager]
) -> None:
    probe, base = probe_and_base
    writer = Writer(db, anvil, base)
    done_id = _enqueue(db, probe, "done", 5_000_000, done=("ChainProbeValueTooLarge",))
    failed_id = _enqueue(db, probe, "failed", 5_000_000)
    report = writer.processor.step()
    assert report.already_done == [done_id]
    assert report.failed == [failed_id]
    done = outbox.item(db, "probe", "done")
    failed = outbox.item(db, "probe", "failed")
    assert done is not None
    assert done.already_done
    assert failed is not None
    assert failed.state is OutboxState.FAILED
    assert failed.error == "ChainProbeValueTooLarge"
    assert [i.id for i in writer.finals] == [done_id]
    assert outbox.lag(db).failed_items == 1


def test_a_foreign_transaction_on_the_nonce_requeues_the_item(
    db: Database, anvil: ChainClient, probe_and_base: tuple[BoundContract, NonceManager]
) -> None:
    probe, base = probe_and_base
    writer = Writer(db, anvil, base)
    anvil.rpc("evm_setAutomine", False)
    try:
        item_id = _enqueue(db, probe, "foreign", 4)
        writer.processor.step()
        submitted = outbox.item(db, "probe", "foreign")
        assert submitted is not None
        assert submitted.tx_hash is not None
        anvil.rpc("anvil_dropTransaction", submitted.tx_hash)
        # Someone else (an operator by hand) uses the same account and nonce.
        stranger = NonceManager(anvil, base.account)
        stranger.send(probe.address, probe.encode("record", 100), gas=200_000)
        anvil.rpc("evm_mine")
        assert writer.processor.step().requeued == [item_id]
    finally:
        anvil.rpc("evm_setAutomine", True)
    writer.processor.run_until_final()
    assert probe.call("total") == 104


def test_chain_unavailable_pauses_without_losing_work(
    db: Database,
    probe_and_base: tuple[BoundContract, NonceManager],
    anvil: ChainClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe, base = probe_and_base
    writer = Writer(db, anvil, base)
    _enqueue(db, probe, "later", 1)
    original = anvil.url
    anvil.w3.provider.endpoint_uri = "http://127.0.0.1:9"  # type: ignore[attr-defined]
    try:
        with caplog.at_level(logging.INFO, logger="ledger.chain.outbox"):
            report = writer.processor.step()
            for _ in range(3):
                assert writer.processor.step().chain_unavailable
    finally:
        anvil.w3.provider.endpoint_uri = original  # type: ignore[attr-defined]
    assert report.chain_unavailable
    # One line when the outage starts, however many passes it lasts.
    paused = [r for r in caplog.records if r.getMessage().startswith("outbox paused")]
    assert len(paused) == 1
    queued = outbox.item(db, "probe", "later")
    assert queued is not None
    assert queued.state is OutboxState.QUEUED
    with caplog.at_level(logging.INFO, logger="ledger.chain.outbox"):
        assert not writer.processor.step().chain_unavailable
    resumed = [r for r in caplog.records if r.getMessage().startswith("outbox resumed")]
    assert len(resumed) == 1
    writer.processor.run_until_final()
    assert probe.call("count") == 1
