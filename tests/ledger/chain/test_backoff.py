"""Waiting out an unreachable chain: backoff delays, one log line per state change, resumption."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import pytest

from ledger.chain.errors import ChainError, ChainUnavailableError
from ledger.chain.index import ChainIndex, SyncReport
from ledger.chain.node.backoff import Backoff, ChainOutage
from ledger.store.database import Database

UNREACHABLE = "chain unreachable; retrying with backoff"
BACK = "chain reachable again"
DOWN = ChainUnavailableError("chain node at http://127.0.0.1:9 is unreachable")
REGISTRY = "0x" + "11" * 20
ANCHOR = "0x" + "22" * 20


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ledger.chain.node.backoff"]


def test_backoff_doubles_from_a_quarter_second_up_to_ten_seconds_and_resets() -> None:
    backoff = Backoff()
    delays = [backoff.next_delay() for _ in range(9)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    backoff.reset()
    assert backoff.next_delay() == 0.25


def test_an_outage_logs_once_when_it_starts_and_once_when_it_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    outage = ChainOutage("writer", clock=clock)
    for _ in range(50):
        outage.failed(DOWN)
    assert outage.down
    assert _messages(caplog) == [UNREACHABLE]
    clock.now += 120
    outage.succeeded()
    outage.succeeded()
    assert not outage.down
    assert _messages(caplog) == [
        "chain unreachable; retrying with backoff",
        "chain reachable again",
    ]
    back = next(r for r in caplog.records if r.getMessage() == BACK)
    assert back.__dict__["attempts"] == 50
    assert back.__dict__["down_seconds"] == 120.0
    outage.failed(DOWN)  # a new outage is reported again, from the first delay
    assert _messages(caplog)[-1] == UNREACHABLE
    assert outage.wait() == 0.25


def test_reachable_waits_out_the_backoff_then_probes_the_node() -> None:
    clock = Clock()
    answers: list[Exception | None] = [DOWN, DOWN, None]
    probes = []

    def probe() -> None:
        probes.append(clock.now)
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    outage = ChainOutage("writer", probe, clock=clock)
    assert outage.reachable()  # up: no probe
    assert probes == []
    outage.failed(DOWN)  # the caller found it down: wait 0.25 s
    assert not outage.reachable()
    clock.now += 0.25
    assert not outage.reachable()  # probed, still down: wait 0.5 s
    clock.now += 0.4
    assert not outage.reachable()  # not due: no probe
    clock.now += 0.1
    assert not outage.reachable()  # probed, still down: wait 1 s
    clock.now += 1.0
    assert outage.reachable()  # probed, back
    assert probes == [100.25, 100.75, 101.75]
    assert not outage.down


def test_a_probe_that_fails_otherwise_counts_as_still_down() -> None:
    clock = Clock()

    def probe() -> None:
        raise ChainError("eth_blockNumber failed: internal error")

    outage = ChainOutage("writer", probe, clock=clock)
    outage.failed(DOWN)
    clock.now += 1
    assert not outage.reachable()
    assert outage.down


def test_the_index_follower_backs_off_while_the_node_is_down_and_resumes(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    index = ChainIndex(db, 1337, REGISTRY, ANCHOR)
    stop = threading.Event()
    attempts: list[float] = []
    synced: list[SyncReport] = []

    def sync() -> SyncReport:
        attempts.append(time.monotonic())
        if len(attempts) <= 3:
            raise DOWN
        return SyncReport(0, 1, 1)

    def on_sync(report: SyncReport) -> None:
        synced.append(report)
        stop.set()

    monkeypatch.setattr(index, "sync", sync)
    follower = threading.Thread(target=index.follow, args=(stop,), kwargs={"on_sync": [on_sync]})
    follower.start()
    follower.join(timeout=10)
    assert not follower.is_alive()
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert len(gaps) == 3
    for gap, delay in zip(gaps, (0.25, 0.5, 1.0), strict=True):
        assert delay - 0.05 <= gap < delay + 0.5
    assert len(synced) == 1
    assert _messages(caplog) == [
        "chain unreachable; retrying with backoff",
        "chain reachable again",
    ]
    assert "chain index sync failed" not in [r.getMessage() for r in caplog.records]
