"""Fencing: a writer that lost its lease (paused past it, then resumed) commits and sends nothing.

The writer lease's fencing token is checked inside the store transaction that
commits a duty's effect (the outbox recording a signed transaction before it
is broadcast, every outbox state change, batch sealing, checkpoints), so the
transaction of a stale writer fails and rolls back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from api.province.operations import WRITER_LEASE
from api.runtime.writer import Duty, WriterLoop
from ledger.chain import outbox
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor, OutboxState
from ledger.clock import now_ms
from ledger.store.database import Database
from ledger.store.lease import LeaseFence, LeaseLostError, Leases

TTL_MS = 1_000


class Clock:
    """Real time plus a shift: the fence judges expiry by the store's (real) clock."""

    def __init__(self) -> None:
        self.shift = 0

    def __call__(self) -> int:
        return now_ms() + self.shift


def _taken_over(any_db: Database) -> tuple[LeaseFence, LeaseFence]:
    """Writer A's fence on a lease B then took over (A's expired), and B's fence."""
    leases = Leases(any_db)
    stale, live = LeaseFence(any_db, WRITER_LEASE), LeaseFence(any_db, WRITER_LEASE)
    stale.lease = leases.acquire(WRITER_LEASE, "writer-a", TTL_MS, now_ms() - 10 * TTL_MS)
    live.lease = leases.acquire(WRITER_LEASE, "writer-b", TTL_MS)
    assert live.lease is not None
    return stale, live


def test_a_stale_tokens_write_is_refused_and_rolled_back(any_db: Database) -> None:
    stale, live = _taken_over(any_db)
    outbox.prepare(any_db)

    def stale_write() -> None:
        with any_db.write() as tx:
            outbox.enqueue(tx, "test", "stale", "0x" + "11" * 20, b"\x01")
            stale(tx)

    with pytest.raises(LeaseLostError, match="no longer held"):
        stale_write()
    with any_db.write() as tx:
        live(tx)
        outbox.enqueue(tx, "test", "live", "0x" + "11" * 20, b"\x01")
    with any_db.read() as tx:
        keys = [str(r[0]) for r in tx.fetchall("SELECT item_key FROM outbox")]
    assert keys == ["live"]


def test_a_fence_without_a_lease_or_after_expiry_refuses(any_db: Database) -> None:
    fence = LeaseFence(any_db, WRITER_LEASE)
    with pytest.raises(LeaseLostError, match="not held"), any_db.write() as tx:
        fence(tx)
    # Ours by token, but expired by the store's clock and not renewed: refused too.
    fence.lease = Leases(any_db).acquire(WRITER_LEASE, "writer-a", 1, now_ms() - 1_000)
    with pytest.raises(LeaseLostError), any_db.read() as tx:
        fence(tx, lock=False)


def test_a_stale_writers_outbox_neither_records_nor_broadcasts(
    any_db: Database, anvil: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    stale, _live = _taken_over(any_db)
    base = new_sender()
    sender = NonceManager(anvil, base.account, OutboxJournal(any_db, base.address, fence=stale))
    processor = OutboxProcessor(any_db, sender)
    with any_db.write() as tx:
        item_id = outbox.enqueue(tx, "test", "one", base.address, b"")
    before = anvil.nonce(base.address, "pending")
    with pytest.raises(LeaseLostError):
        processor.step()
    # Even past the step's own check, recording the signed transaction is refused
    # before its broadcast.
    with pytest.raises(LeaseLostError):
        sender.send(base.address, b"", label=str(item_id))
    assert anvil.nonce(base.address, "pending") == before
    row = outbox.item_by_id(any_db, item_id)
    assert row is not None
    assert (row.state, row.tx_hash) == (OutboxState.QUEUED, None)


def test_a_resumed_writer_logs_the_lost_lease_and_its_duty_commits_nothing(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    leases = Leases(any_db)
    outbox.prepare(any_db)
    fence_a = LeaseFence(any_db, WRITER_LEASE)
    clock_a = Clock()
    written: list[str] = []

    def duty_a() -> None:
        with any_db.write() as tx:
            fence_a(tx)
            outbox.enqueue(tx, "test", f"a-{len(written)}", "0x" + "11" * 20, b"\x01")
        written.append("a")

    writer_a = WriterLoop(
        leases, "writer-a", [Duty("work", 0, duty_a)], ttl_ms=TTL_MS, clock=clock_a, fence=fence_a
    )
    assert writer_a.run_once()
    assert written == ["a"]
    # A is paused: its lease runs out and B takes over, by the store's clock.
    taken: list[str] = []
    writer_b = WriterLoop(
        leases,
        "writer-b",
        [],
        ttl_ms=TTL_MS,
        fence=LeaseFence(any_db, WRITER_LEASE),
        on_acquire=lambda: taken.append("b"),
    )
    with any_db.write() as tx:
        tx.execute("UPDATE leases SET expires_at_ms = 0 WHERE name = ?", (WRITER_LEASE,))
    assert writer_b.run_once()
    assert taken == ["b"]
    # A resumes believing its lease is fresh (its own clock did not move): the fenced
    # write inside its duty is refused, and it steps down.
    with caplog.at_level(logging.WARNING, logger="api.runtime.writer"):
        assert not writer_a.run_once()
    assert written == ["a"]
    assert writer_a.lease is None
    assert fence_a.lease is None
    assert any("writer lease lost" in r.getMessage() for r in caplog.records)
    with any_db.read() as tx:
        keys = [str(r[0]) for r in tx.fetchall("SELECT item_key FROM outbox")]
    assert keys == ["a-0"]
    current = leases.current(WRITER_LEASE)
    assert current is not None
    assert current.holder == "writer-b"


def test_the_writer_judges_its_lease_by_the_stores_clock(any_db: Database) -> None:
    leases = Leases(any_db)
    loop = WriterLoop(leases, "writer-a", [], ttl_ms=60_000)
    assert loop.run_once()
    assert loop.lease is not None
    stored = leases.current(WRITER_LEASE)
    assert stored is not None
    # Taken by the store's clock: expires one ttl after the store's now, give or take the test.
    assert 0 < stored.expires_at_ms - leases.now_ms() <= 60_000


def test_a_writer_that_cannot_prepare_after_taking_the_lease_gives_it_back(
    any_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    leases = Leases(any_db)
    attempts: list[int] = []

    def resync() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("node down")

    ran: list[str] = []
    fence = LeaseFence(any_db, WRITER_LEASE)
    loop = WriterLoop(
        leases,
        "writer-a",
        [Duty("work", 0, lambda: ran.append("a"))],
        fence=fence,
        on_acquire=resync,
    )
    with caplog.at_level(logging.WARNING, logger="api.runtime.writer"):
        assert not loop.run_once()
    assert ran == []
    assert fence.lease is None
    released = leases.current(WRITER_LEASE)
    assert released is not None
    assert released.expires_at_ms == 0  # given back: a standby need not wait out the lease
    assert any("could not prepare" in r.getMessage() for r in caplog.records)
    assert loop.run_once()
    assert ran == ["a"]
    assert fence.lease is not None
