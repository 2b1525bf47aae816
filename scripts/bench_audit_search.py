"""Benchmark the consoles' reads of the access log: search pages and anomaly counts.

    .venv/bin/python scripts/bench_audit_search.py            # 200,000 events (a minute or two)
    .venv/bin/python scripts/bench_audit_search.py --quick    # 20,000 events, a smoke test

On a SQLite log of N events (50 verifiers, 10 purposes, one purpose rare), every
figure is printed beside a baseline measured in the same run:

- filling the search's facets for the whole log (the first search after an
  upgrade) against appending those events in the first place;
- a page of 50 events for a rare purpose through the facets' index, against
  the same page found without them (newest events first, decoding each
  event's JSON until 50 match: what a search over ``audit_events`` alone does);
- the 20th page of a common purpose (keyset cursor) against its first page;
- the 92-day anomaly report (grouped by the store) against counting the same
  events in Python from every event's JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.province.audit_views import ACCESS_ACTIONS, anomaly_report, audit_search, utc8_day
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.audit.search import DAY_MS, UTC8_OFFSET_MS, EventFilter
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.sqlite import SqliteDatabase

PURPOSES = [f"purpose.p{n}" for n in range(9)]
RARE = "tax.review"
DAYS = 92


def _timed(action: Callable[[], object], rounds: int = 5) -> float:
    """Median seconds of ``rounds`` runs."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fill(log: AuditLog, count: int, start_ms: int) -> float:
    """Append ``count`` events spread over ``DAYS`` days; returns the seconds it took."""
    step = DAYS * DAY_MS // count
    began = time.perf_counter()
    for first in range(0, count, 1000):
        n_events = min(1000, count - first)
        log.clock = lambda first=first: start_ms + first * step  # type: ignore[misc]
        by_actor: dict[int, list[EventInput]] = {}
        for n in range(first, first + n_events):
            purpose = RARE if n % 997 == 0 else PURPOSES[n % len(PURPOSES)]
            by_actor.setdefault(n % 50, []).append(
                EventInput(
                    action="credential.verify",
                    resource="credential:" + f"{n:064x}",
                    purpose=purpose,
                    legal_basis="prc.pipl.art13",
                    outcome=Outcome.SUCCESS,
                    request_id=f"req-{n % 1000}",
                    subject_id=f"did:key:zHolder{n % 5000}",
                )
            )
        for actor, events in by_actor.items():
            log.append_many(Caller(f"verifier-{actor}", "440000"), events)
    return time.perf_counter() - began


def _scan_page(db: SqliteDatabase, purpose: str, limit: int) -> list[int]:
    found: list[int] = []
    with db.read() as tx:
        for seq, body in tx.iterate("SELECT seq, body FROM audit_events ORDER BY seq DESC"):
            if json.loads(bytes(body))["purpose"] == purpose:
                found.append(int(seq))
                if len(found) == limit:
                    break
    return found


def _python_counts(db: SqliteDatabase, since: int, until: int) -> Counter[tuple[object, ...]]:
    counts: Counter[tuple[object, ...]] = Counter()
    with db.read() as tx:
        for time_ms, body in tx.iterate(
            "SELECT time_ms, body FROM audit_events WHERE time_ms >= ? AND time_ms < ?",
            (since, until),
        ):
            event = json.loads(bytes(body))
            if event["action"] in ACCESS_ACTIONS:
                day = (int(time_ms) + UTC8_OFFSET_MS) // DAY_MS
                counts[(day, event["actor"], event["actorOrg"], event["purpose"])] += 1
    return counts


def main() -> None:
    """Run the benchmark and print each figure beside its baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events instead of 200,000")
    args = parser.parse_args()
    count = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory() as tmp:
        db = SqliteDatabase(Path(tmp) / "bench.sqlite")
        signer = LocalSigner("bench", Sm2PrivateKey.generate())
        log = AuditLog(db, 330000, signer, PseudonymKeys.generate())
        today = date(2026, 12, 7)
        first_day = today - timedelta(days=DAYS - 1)
        start_ms = (first_day.toordinal() - date(1970, 1, 1).toordinal()) * DAY_MS
        start_ms -= UTC8_OFFSET_MS
        appended = _fill(log, count, start_ms)
        log.close()
        print(f"log: {count:,} events, {DAYS} days, SQLite")
        search = audit_search(db)
        began = time.perf_counter()
        search.refresh()
        refreshed = time.perf_counter() - began
        print(
            f"facets for the whole log: {refreshed:.2f} s ({count / refreshed:,.0f} events/s); "
            f"baseline, appending them: {appended:.2f} s ({count / appended:,.0f} events/s)"
        )

        rare = EventFilter(purpose=RARE)
        indexed = _timed(lambda: search.search(rare, limit=50))
        scanned = _timed(lambda: _scan_page(db, RARE, 50), rounds=3)
        if [f.index for f in search.search(rare, limit=50).events] != _scan_page(db, RARE, 50):
            raise SystemExit("the indexed page and the scanned page differ")
        print(
            f"page of 50 for a rare purpose: {indexed * 1000:.2f} ms with the facets; "
            f"baseline without them (decode JSON newest first): {scanned * 1000:.1f} ms "
            f"({scanned / indexed:,.0f}x)"
        )

        common = EventFilter(purpose=PURPOSES[0])
        cursor = None
        for _ in range(19):
            cursor = search.search(common, limit=50, cursor=cursor).next_cursor
        deep = _timed(lambda: search.search(common, limit=50, cursor=cursor))
        first_page = _timed(lambda: search.search(common, limit=50))
        print(
            f"20th page of a common purpose: {deep * 1000:.2f} ms; "
            f"baseline, its first page: {first_page * 1000:.2f} ms"
        )

        last = utc8_day(start_ms + (DAYS - 1) * DAY_MS)
        first = last - timedelta(days=DAYS - 1)
        report = _timed(lambda: anomaly_report(db, first, last), rounds=3)
        since, until = start_ms - 28 * DAY_MS, start_ms + DAYS * DAY_MS
        python = _timed(lambda: _python_counts(db, since, until), rounds=3)
        print(
            f"anomaly report over {DAYS} days: {report * 1000:.0f} ms (store-grouped counts and "
            f"the rules); baseline, counting the same events from their JSON in Python: "
            f"{python * 1000:.0f} ms"
        )
        db.close()


if __name__ == "__main__":
    main()
