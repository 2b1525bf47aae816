"""The writer lease: one writer runs the duties; another takes over when it stops or dies."""

from __future__ import annotations

import logging
import threading

import pytest

from api.http.metrics import WriterMetrics
from api.runtime.writer import Duty, WriterLoop, count_anchors
from credentials.issuance.records import BATCH_KIND, STATUS_KIND
from ledger.audit.anchoring import OUTBOX_KIND as CHECKPOINT_KIND
from ledger.chain import outbox
from ledger.chain.errors import ChainUnavailableError
from ledger.chain.node.backoff import ChainOutage
from ledger.chain.outbox import StepReport
from ledger.store.database import Database
from ledger.store.lease import Leases


@pytest.fixture
def db(any_db: Database) -> Database:
    """The writer's store, on each engine in turn (SQLite, PostgreSQL)."""
    return any_db


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_only_the_lease_holder_runs_duties_and_a_failing_duty_does_not_stop_others(
    db: Database,
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


def test_a_stopped_writer_hands_over_at_once(db: Database) -> None:
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


class NodeDownError(Exception):
    pass


def _writer_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "api.runtime.writer" and hasattr(r, "duty")]


def test_a_failing_duty_is_logged_once_with_what_to_diagnose_then_on_change_and_recovery(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.runtime.writer")
    errors: list[Exception] = [NodeDownError("node at http://10.0.0.7:8545 is unreachable")] * 5
    errors += [NodeDownError("still unreachable"), ValueError("bad block"), ValueError("again")]

    def flaky() -> None:
        if errors:
            raise errors.pop(0)

    metrics = WriterMetrics()
    loop = WriterLoop(Leases(db), "writer-a", [Duty("chain-index", 0, flaky)], metrics=metrics)
    for _ in range(5):
        assert loop.run_once()
    [first] = _writer_records(caplog)  # five failures in a row: one line
    assert first.levelno == logging.WARNING
    assert first.getMessage() == "writer duty failed"
    fields = first.__dict__
    assert fields["duty"] == "chain-index"
    assert fields["error"] == "NodeDownError"
    assert fields["detail"] == "node at http://10.0.0.7:8545 is unreachable"
    assert fields["failures"] == 1
    assert fields["where"][-1].endswith(":flaky")
    assert first.exc_info is None

    loop.repeat_log_seconds = 0  # a minute later: said again, with the count
    caplog.clear()
    loop.run_once()
    [again] = _writer_records(caplog)
    assert again.getMessage() == "writer duty still failing"
    assert again.__dict__["failures"] == 6

    loop.repeat_log_seconds = 3600
    caplog.clear()
    loop.run_once()  # another error class: said at once
    loop.run_once()  # the same again: not repeated
    [changed] = _writer_records(caplog)
    assert changed.getMessage() == "writer duty failed"
    assert changed.__dict__["error"] == "ValueError"
    assert changed.__dict__["failures"] == 7

    caplog.clear()
    loop.run_once()
    [recovered] = _writer_records(caplog)
    assert recovered.levelno == logging.INFO
    assert recovered.getMessage() == "writer duty recovered"
    assert recovered.__dict__["failures"] == 8
    assert loop.status().duties == {"chain-index": (9, None)}

    assert metrics.duty_runs.value("chain-index") == 9
    assert metrics.duty_failures.value("chain-index", "NodeDownError") == 6
    assert metrics.duty_failures.value("chain-index", "ValueError") == 2
    assert metrics.duty_seconds.count("chain-index") == 9


def test_anchors_are_counted_as_the_outbox_makes_them_final(db: Database) -> None:
    outbox.prepare(db)
    to = "0x" + "11" * 20
    with db.write() as tx:
        batch = outbox.enqueue(tx, BATCH_KIND, "1:aa", to, b"")
        checkpoint = outbox.enqueue(tx, CHECKPOINT_KIND, "1:5", to, b"")
        status = outbox.enqueue(tx, STATUS_KIND, "s1", to, b"")
        second = outbox.enqueue(tx, BATCH_KIND, "1:bb", to, b"")
    metrics = WriterMetrics()
    assert metrics.anchored.value(BATCH_KIND) == 0
    text = metrics.render()
    assert 'tongban_anchored_total{kind="audit_checkpoint"} 0.0' in text  # shown before any
    count_anchors(db, StepReport(final=[batch, checkpoint, status]), metrics)
    count_anchors(db, StepReport(confirmed=[second], already_done=[second]), metrics)
    assert metrics.anchored.value(BATCH_KIND) == 2
    assert metrics.anchored.value(CHECKPOINT_KIND) == 1
    assert metrics.anchored.value(STATUS_KIND) == 0


class Seconds:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_an_unreachable_chain_pauses_the_duties_with_backoff_until_it_answers(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    seconds = Seconds()
    up = False
    probes: list[float] = []
    ran: list[str] = []

    def probe() -> None:
        probes.append(seconds.now)
        if not up:
            raise ChainUnavailableError("chain node at http://127.0.0.1:9 is unreachable")

    def index() -> None:
        ran.append("index")
        probe()

    duties = [Duty("chain-index", 0, index), Duty("checkpoints", 0, lambda: ran.append("cp"))]
    chain = ChainOutage("writer", probe, clock=seconds)
    loop = WriterLoop(Leases(db), "writer-a", duties, chain=chain)
    assert loop.run_once()
    assert ran == ["index"]  # the node is down: the other duties wait too
    for _ in range(20):
        assert loop.run_once()  # the lease is kept; nothing runs inside the backoff
    assert ran == ["index"]
    seconds.now += 0.25
    loop.run_once()  # one probe, still down: the next wait doubles
    seconds.now += 0.25
    loop.run_once()
    assert len(probes) == 2
    up = True
    seconds.now += 0.25
    assert loop.run_once()
    assert ran == ["index", "index", "cp"]
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("chain unreachable; retrying with backoff") == 1
    assert messages.count("chain reachable again") == 1
    assert messages.count("writer duty failed") == 1
    assert loop.status().duties == {"chain-index": (2, None), "checkpoints": (1, None)}


def test_an_idle_duty_backs_off_to_its_cap_and_returns_when_there_is_work(
    db: Database,
) -> None:
    work: list[int] = []
    duty = Duty("batches", 0.25, lambda: list(work), max_interval=1.0)
    steady = Duty("keys", 1.0, lambda: None)
    loop = WriterLoop(Leases(db), "writer-a", [duty, steady], clock=Clock())
    waits = []
    for _ in range(4):
        duty.last_run = steady.last_run = 0.0  # due at once: the test does not sleep
        loop.run_once()
        waits.append(duty.wait)
    assert waits == [0.5, 1.0, 1.0, 1.0]
    assert steady.wait == 1.0  # no max_interval: never backs off
    work.append(1)
    duty.last_run = 0.0
    loop.run_once()
    assert duty.wait == 0.25


def test_a_woken_duty_runs_in_the_same_pass_at_its_short_interval(db: Database) -> None:
    ran: list[str] = []
    outbox_duty = Duty("outbox", 0.2, lambda: ran.append("outbox"), max_interval=1.0)
    outbox_duty.wait = 1.0

    def seal() -> list[int]:
        ran.append("seal")
        outbox_duty.wake()
        return [1]

    loop = WriterLoop(Leases(db), "writer-a", [Duty("seal", 0.25, seal), outbox_duty])
    outbox_duty.last_run = 1e12  # just ran, backed off: not due by the clock
    loop.run_once()
    assert ran == ["seal", "outbox"]


def test_a_failing_duty_stays_at_its_short_interval(db: Database) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    duty = Duty("broken", 0.25, broken, max_interval=1.0)
    duty.wait = 1.0
    WriterLoop(Leases(db), "writer-a", [duty]).run_once()
    assert duty.wait == 0.25
