"""NonceManager: many transactions in flight, restarts, dropped transactions, reorgs."""

from __future__ import annotations

from collections.abc import Callable

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, deploy
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import InMemoryTxJournal, NonceManager


def _probe(sender: NonceManager) -> BoundContract:
    return deploy(sender, load_artifact("ChainProbe"), sender.address)


def test_hundred_transactions_in_flight_are_all_mined(
    new_sender: Callable[[], NonceManager],
) -> None:
    sender = new_sender()
    probe = _probe(sender)
    first_nonce = sender.next_nonce
    sent = [sender.send(probe.address, probe.encode("record", i), gas=120_000) for i in range(100)]
    assert [s.nonce for s in sent] == list(range(first_nonce, first_nonce + 100))
    receipts = sender.wait_all([s.tx_hash for s in sent])
    assert all(int(r["status"], 16) == 1 for r in receipts)
    assert probe.call("count") == 100
    assert probe.call("total") == sum(range(100))


def test_concurrent_senders_on_one_manager_never_share_a_nonce(
    new_sender: Callable[[], NonceManager],
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sender = new_sender()
    probe = _probe(sender)
    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = list(
            pool.map(
                lambda i: sender.send(probe.address, probe.encode("record", i), gas=120_000),
                range(40),
            )
        )
    assert len({s.nonce for s in sent}) == 40
    sender.wait_all([s.tx_hash for s in sent])
    assert probe.call("count") == 40


def test_a_restarted_manager_derives_its_nonce_from_the_chain(
    anvil: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    sender = new_sender()
    probe = _probe(sender)
    sent = [sender.send(probe.address, probe.encode("record", 1), gas=120_000) for _ in range(5)]
    sender.wait_all([s.tx_hash for s in sent])
    restarted = NonceManager(anvil, sender.account)
    assert restarted.next_nonce == sender.next_nonce == anvil.nonce(sender.address, "latest")
    probe.transact(restarted, "record", 2)
    assert probe.call("count") == 6


def test_a_foreign_transaction_on_our_nonce_is_detected_and_skipped(
    anvil: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    sender = new_sender()
    probe = _probe(sender)
    # Another process sends from the same account behind this manager's back.
    other = NonceManager(anvil, sender.account)
    probe.transact(other, "record", 7)
    receipt = probe.transact(sender, "record", 8)
    assert int(receipt["status"], 16) == 1
    assert probe.call("count") == 2


def test_reorg_drops_transactions_and_reconcile_rebroadcasts_them(
    anvil: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    base = new_sender()
    journal = InMemoryTxJournal()
    sender = NonceManager(anvil, base.account, journal, finality_depth=20)
    probe = _probe(sender)
    sent = [
        sender.send(probe.address, probe.encode("record", i + 1), gas=120_000) for i in range(5)
    ]
    sender.wait_all([s.tx_hash for s in sent])
    assert sender.reconcile().rebroadcast == []
    assert probe.call("count") == 5

    anvil.rpc("anvil_reorg", 3, [])  # replace the last three blocks with empty ones
    assert probe.call("count") == 2
    dropped = [s.tx_hash for s in sent if anvil.receipt(s.tx_hash) is None]
    assert len(dropped) == 3

    report = sender.reconcile()
    assert sorted(report.rebroadcast) == sorted(dropped)
    sender.wait_all(dropped)
    assert probe.call("count") == 5
    assert probe.call("total") == 15
    # The rebroadcast transactions are the stored bytes: same hashes, same nonces.
    assert {e.tx_hash for e in journal.entries()} >= set(dropped)


def test_reconcile_forgets_final_transactions(
    anvil: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    base = new_sender()
    sender = NonceManager(anvil, base.account, finality_depth=3)
    probe = _probe(sender)
    receipt = probe.transact(sender, "record", 1)
    assert receipt["transactionHash"] in sender.reconcile().pending
    anvil.rpc("anvil_mine", 3)
    assert receipt["transactionHash"] in sender.reconcile().final
    assert sender.journal.entries() == []
