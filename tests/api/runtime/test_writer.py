"""The writer lease: one writer runs the duties; another takes over when it stops or dies."""

from __future__ import annotations

import threading

from api.runtime.writer import Duty, WriterLoop
from ledger.store.lease import Leases
from ledger.store.sqlite import SqliteDatabase


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_only_the_lease_holder_runs_duties_and_a_failing_duty_does_not_stop_others(
    db: SqliteDatabase,
) -> None:
    clock = Clock()
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("chain down")

    first = WriterLoop(
        Leases(db),
        "writer-a",
        [Duty("broken", 0, broken), Duty("outbox", 0, lambda: ran.append("a"))],
        clock=clock,
    )
    second = WriterLoop(
        Leases(db), "writer-b", [Duty("outbox", 0, lambda: ran.append("b"))], clock=clock
    )
    assert first.run_once()
    assert not second.run_once()
    assert ran == ["a"]
    assert first.status().duties == {"broken": (1, "RuntimeError"), "outbox": (1, None)}

    clock.now += 20_000  # writer-a died without releasing: its lease expires
    assert second.run_once()
    assert ran == ["a", "b"]
    assert second.lease is not None
    assert second.lease.token == 2
    assert not first.run_once()  # the old writer notices it lost the lease


def test_a_stopped_writer_hands_over_at_once(db: SqliteDatabase) -> None:
    stop = threading.Event()
    first = WriterLoop(Leases(db), "writer-a", [], tick=0.01)
    thread = threading.Thread(target=first.run, args=(stop,))
    thread.start()
    second = WriterLoop(Leases(db), "writer-b", [])
    while first.lease is None:
        stop.wait(0.01)
    assert not second.run_once()
    stop.set()
    thread.join()
    assert second.run_once()
