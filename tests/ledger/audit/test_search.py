"""Searching the access log (ledger.audit.search): filters, keyset pages, counts, indexes.

Every test with ``db`` runs on SQLite and on PostgreSQL (tests/ledger/audit/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.audit.search import (
    DAY_MS,
    HOUR_MS,
    UTC8_OFFSET_MS,
    AuditSearch,
    BadCursorError,
    EventFilter,
)
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.audit import LOG_ID
from tests.helpers.stores import StoreTarget

T0 = 1_764_000_000_000  # 2025-11-24T16:00:00Z, which is midnight in UTC+8
HOLDER = "did:key:zSearchHolder"

A = Caller("verifier-a", "440000")
B = Caller("verifier-b", "320000")


class Clock:
    """A settable clock for the log (ms)."""

    def __init__(self) -> None:
        """Start at T0."""
        self.now = T0

    def __call__(self) -> int:
        """The time now."""
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed_log(
    db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys, clock: Clock
) -> Iterator[AuditLog]:
    log = AuditLog(db, LOG_ID, signer, pseudonyms, clock=clock)
    yield log
    log.close()


def event(
    n: int,
    *,
    action: str = "credential.verify",
    purpose: str = "cross-province.enrolment",
    outcome: Outcome = Outcome.SUCCESS,
) -> EventInput:
    return EventInput(
        action=action,
        resource="credential:" + f"{n:064x}",
        purpose=purpose,
        legal_basis="prc.pipl.art13",
        outcome=outcome,
        request_id=f"req-{n}",
        subject_id=HOLDER,
    )


def append_at(log: AuditLog, clock: Clock, time_ms: int, caller: Caller, item: EventInput) -> int:
    clock.now = time_ms
    return log.append(caller, item).index


def test_a_filtered_search_returns_only_matching_events_newest_first(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    append_at(timed_log, clock, T0, A, event(0))
    append_at(timed_log, clock, T0 + 1, B, event(1))
    append_at(timed_log, clock, T0 + 2, A, event(2, purpose="tax.review"))
    append_at(timed_log, clock, T0 + 3, A, event(3, outcome=Outcome.DENIED))
    append_at(timed_log, clock, T0 + 4, A, event(4, action="zhengzhao.lookup"))
    search = AuditSearch(db)

    def indexes(where: EventFilter) -> list[int]:
        return [found.index for found in search.search(where).events]

    assert indexes(EventFilter()) == [4, 3, 2, 1, 0]
    assert indexes(EventFilter(actor="verifier-a")) == [4, 3, 2, 0]
    assert indexes(EventFilter(actor_org="320000")) == [1]
    assert indexes(EventFilter(purpose="tax.review")) == [2]
    assert indexes(EventFilter(outcome="denied")) == [3]
    assert indexes(EventFilter(action="zhengzhao.lookup")) == [4]
    assert indexes(EventFilter(since_ms=T0 + 1, until_ms=T0 + 3)) == [2, 1]
    assert indexes(EventFilter(actor="verifier-a", purpose="cross-province.enrolment")) == [
        4,
        3,
        0,
    ]
    assert indexes(EventFilter(actor="nobody")) == []


def test_found_events_carry_pseudonyms_never_the_subject_identifier(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    append_at(timed_log, clock, T0, A, event(0))
    [found] = AuditSearch(db).search(EventFilter()).events
    assert found.event is not None
    assert found.event["subject"]["pseudonym"] == timed_log.pseudonyms.subject(HOLDER).pseudonym
    assert HOLDER not in repr(found.event)
    assert found.event == timed_log.event(0).event.to_json()  # type: ignore[union-attr]


def test_keyset_pages_cover_every_match_once_even_while_events_are_appended(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    for n in range(7):
        append_at(timed_log, clock, T0 + n, A if n % 2 == 0 else B, event(n))
    search = AuditSearch(db)
    where = EventFilter(actor="verifier-a")  # indexes 0, 2, 4, 6
    first = search.search(where, limit=3)
    assert [f.index for f in first.events] == [6, 4, 2]
    assert first.next_cursor is not None
    # A newer matching event does not shift the next page.
    append_at(timed_log, clock, T0 + 100, A, event(100))
    second = search.search(where, limit=3, cursor=first.next_cursor)
    assert [f.index for f in second.events] == [0]
    assert second.next_cursor is None


def test_a_page_that_ends_exactly_at_the_last_match_has_no_next_cursor(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    for n in range(4):
        append_at(timed_log, clock, T0 + n, A, event(n))
    page = AuditSearch(db).search(EventFilter(), limit=4)
    assert len(page.events) == 4
    assert page.next_cursor is None


@pytest.mark.parametrize("cursor", ["", "-1", "abc", "1" * 17, "9" * 16, "\uff11\uff12"])
def test_a_cursor_the_search_did_not_hand_out_is_refused(db: Database, cursor: str) -> None:
    with pytest.raises(BadCursorError):
        AuditSearch(db).search(EventFilter(), cursor=cursor)


@pytest.mark.parametrize("limit", [0, 201])
def test_a_page_size_outside_the_bounds_is_refused(db: Database, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        AuditSearch(db).search(EventFilter(), limit=limit)


def test_facets_catch_up_with_events_appended_before_the_search_existed(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    for n in range(3):
        append_at(timed_log, clock, T0 + n, A, event(n))
    search = AuditSearch(db)
    assert search.refresh() == 3
    assert search.refresh() == 0
    append_at(timed_log, clock, T0 + 10, B, event(10))
    assert [f.index for f in search.search(EventFilter(actor_org="320000")).events] == [3]


def test_counts_group_by_utc8_day_and_fields(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    # T0 is 00:00 in UTC+8: T0 - 1 ms is the evening before.
    append_at(timed_log, clock, T0 - 1, A, event(0))
    append_at(timed_log, clock, T0, A, event(1))
    append_at(timed_log, clock, T0 + DAY_MS - 1, A, event(2, purpose="tax.review"))
    append_at(timed_log, clock, T0 + DAY_MS, B, event(3))
    append_at(timed_log, clock, T0 + 5, A, event(4, action="audit.read"))
    counts = AuditSearch(db).counts(
        T0 - DAY_MS,
        T0 + 2 * DAY_MS,
        bucket_ms=DAY_MS,
        offset_ms=UTC8_OFFSET_MS,
        group_by=("actor", "purpose"),
        actions=("credential.verify",),
    )
    day = (T0 + UTC8_OFFSET_MS) // DAY_MS
    assert [(c.bucket - day, c.key, c.count) for c in counts] == [
        (-1, ("verifier-a", "cross-province.enrolment"), 1),
        (0, ("verifier-a", "cross-province.enrolment"), 1),
        (0, ("verifier-a", "tax.review"), 1),
        (1, ("verifier-b", "cross-province.enrolment"), 1),
    ]


def test_counts_per_hour_without_grouping(db: Database, timed_log: AuditLog, clock: Clock) -> None:
    append_at(timed_log, clock, T0, A, event(0))
    append_at(timed_log, clock, T0 + HOUR_MS - 1, A, event(1))
    append_at(timed_log, clock, T0 + HOUR_MS, A, event(2))
    counts = AuditSearch(db).counts(T0, T0 + 2 * HOUR_MS, bucket_ms=HOUR_MS)
    assert [(c.bucket * HOUR_MS - T0, c.key, c.count) for c in counts] == [
        (0, (), 2),
        (HOUR_MS, (), 1),
    ]


def test_counts_refuse_an_unknown_grouping(db: Database) -> None:
    with pytest.raises(ValueError, match="group"):
        AuditSearch(db).counts(0, 1, bucket_ms=HOUR_MS, group_by=("body",))


# -- query plans (SQLite): every filter walks an index, none scans the log --------------


@pytest.mark.parametrize(
    ("where", "index"),
    [
        (EventFilter(actor="verifier-a"), "audit_facets_actor"),
        (EventFilter(actor_org="440000"), "audit_facets_org"),
        (EventFilter(action="credential.verify"), "audit_facets_action"),
        (EventFilter(purpose="tax.review"), "audit_facets_purpose"),
        (EventFilter(outcome="denied"), "audit_facets_outcome"),
    ],
)
def test_each_filter_of_the_search_uses_its_index_on_sqlite(
    tmp_path: Path, signer: LocalSigner, pseudonyms: PseudonymKeys, where: EventFilter, index: str
) -> None:
    store = SqliteDatabase(tmp_path / "plan.sqlite")
    log = AuditLog(store, LOG_ID, signer, pseudonyms)
    try:
        AuditSearch(store)
        conditions, params = where.where()
        sql = (
            "EXPLAIN QUERY PLAN SELECT f.seq, e.body FROM audit_facets f "
            "JOIN audit_events e ON e.seq = f.seq WHERE "
            + " AND ".join([*conditions, "f.seq < ?"])
            + " ORDER BY f.seq DESC LIMIT ?"
        )
        with store.read() as tx:
            plan = " | ".join(str(row[-1]) for row in tx.fetchall(sql, [*params, 10**9, 51]))
        assert f"USING COVERING INDEX {index}" in plan or f"USING INDEX {index}" in plan, plan
        assert "SCAN f" not in plan, plan
        assert "SCAN audit_facets" not in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # the index order is the page order
    finally:
        log.close()
        store.close()


def test_a_time_range_uses_the_time_index_on_sqlite(
    tmp_path: Path, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> None:
    store = SqliteDatabase(tmp_path / "plan.sqlite")
    log = AuditLog(store, LOG_ID, signer, pseudonyms)
    try:
        AuditSearch(store)
        with store.read() as tx:
            plan = " | ".join(
                str(row[-1])
                for row in tx.fetchall(
                    "EXPLAIN QUERY PLAN SELECT (f.time_ms + ?) / ? AS bucket, COUNT(*) "
                    "FROM audit_facets f WHERE f.time_ms >= ? AND f.time_ms < ? GROUP BY bucket",
                    (0, HOUR_MS, T0, T0 + HOUR_MS),
                )
            )
        assert "audit_facets_time" in plan, plan
    finally:
        log.close()
        store.close()


def test_an_event_altered_into_garbage_is_listed_unreadable_and_the_rest_stays_searchable(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    for n in range(3):
        append_at(timed_log, clock, T0 + n, A, event(n))
    with db.write() as tx:
        tx.execute("UPDATE audit_events SET body = ? WHERE seq = ?", (b"\xffnot json", 1))
    search = AuditSearch(db)
    page = search.search(EventFilter())
    assert [(f.index, f.event is None) for f in page.events] == [(2, False), (1, True), (0, False)]
    assert [
        f.index for f in search.search(EventFilter(actor="verifier-a", purpose=None)).events
    ] == [
        2,
        1,
        0,
    ]
    assert [
        f.index for f in search.search(EventFilter(purpose="cross-province.enrolment")).events
    ] == [
        2,
        0,
    ]


def test_an_event_altered_after_indexing_keeps_its_facets_and_shows_its_altered_body(
    db: Database, timed_log: AuditLog, clock: Clock
) -> None:
    append_at(timed_log, clock, T0, A, event(0))
    search = AuditSearch(db)
    search.refresh()
    with db.read() as tx:
        row = tx.fetchone("SELECT body FROM audit_events WHERE seq = 0")
    assert row is not None
    altered = bytes(row[0]).replace(b"cross-province.enrolment", b"tax.review")
    with db.write() as tx:
        tx.execute("UPDATE audit_events SET body = ? WHERE seq = 0", (altered,))
    [found] = search.search(EventFilter(purpose="cross-province.enrolment")).events
    assert found.event is not None
    assert found.event["purpose"] == "tax.review"  # what the store holds now; its receipt fails


def test_two_workers_catching_up_at_once_index_every_event_once(
    db: Database, timed_log: AuditLog, store_target: StoreTarget
) -> None:
    timed_log.append_many(A, [event(n) for n in range(4500)])  # three refresh chunks
    other = store_target.open()
    try:
        searches = [AuditSearch(db), AuditSearch(other)]
        with ThreadPoolExecutor(2) as pool:
            added = list(pool.map(lambda s: s.refresh(), searches))
        assert sum(added) == 4500  # each chunk read under the write lock: none twice
        with db.read() as tx:
            row = tx.fetchone("SELECT COUNT(*), COUNT(DISTINCT seq), MAX(seq) FROM audit_facets")
        assert row is not None
        assert tuple(int(v) for v in row) == (4500, 4500, 4499)
        assert [f.index for f in searches[1].search(EventFilter(), limit=2).events] == [4499, 4498]
    finally:
        other.close()
