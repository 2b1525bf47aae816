"""What the OpenID4VP routes' guards cost (docs/oid4vp.md), in process, each beside a baseline.

    .venv/bin/python scripts/bench_wallet_guard.py [--repeat 2000]

- the per-address rate limit (``wallet_limiter``'s bucket, ``WALLET_RATE``): one
  ``take`` for an address already held, and one for a new address while 10,000
  are held (the least recently used goes), beside an empty Python call (the
  baseline: what any per-request step costs at least);
- the writer's ``presentation-requests-purge`` duty on a SQLite store in a
  temporary directory holding 1,000 live requests (the usual run: nothing to
  delete), beside an empty write transaction on the same store (the baseline).

Medians of ``--repeat`` runs (the purge: a tenth of them). A benchmark, not a
test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.http.ratelimit import RateLimiter
from api.portal.ask import WALLET_RATE
from api.province.access import Declaration
from api.province.presentation_requests import AskedRequest, purge_expired, requests_of
from ledger.audit.events import Caller
from ledger.store.sqlite import SqliteDatabase

NOW = 1_800_000_000_000


def _median_us(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def _request(number: int) -> AskedRequest:
    return AskedRequest(
        request_id=f"r-{number}",
        session_digest="d" * 64,
        caller=Caller("staff:window-three", "330000"),
        declaration=Declaration("audit.review", "prc.pipl.art13"),
        claims=("registeredCapital",),
        nonce=f"n-{number}",
        domain="did:tongban:31337:1",
        state=f"s-{number}",
        expires_at_ms=NOW + 300_000,
        answered_at_ms=None,
        result=None,
    )


def main() -> None:
    """Print each figure beside its same-run baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    repeat = parser.parse_args().repeat

    limiter = RateLimiter(WALLET_RATE)
    for number in range(10_000):
        limiter.take(f"10.0.{number // 256}.{number % 256}")
    fresh = iter(range(10**9))
    baseline = _median_us(lambda: None, repeat)
    held = _median_us(lambda: limiter.take("10.0.0.1"), repeat)
    new = _median_us(lambda: limiter.take(f"192.168.{next(fresh)}"), repeat)
    print(f"rate limit: empty call {baseline:.2f} us | take, address held {held:.2f} us")
    print(f"            empty call {baseline:.2f} us | new address, 10k held {new:.2f} us")

    with tempfile.TemporaryDirectory() as folder:
        db = SqliteDatabase(Path(folder) / "store.sqlite")
        store = requests_of(db)
        for number in range(1000):
            store.add(_request(number))

        def empty_write() -> None:
            with db.write():
                pass

        runs = max(10, repeat // 10)
        write = _median_us(empty_write, runs)
        purge = _median_us(lambda: purge_expired(db, NOW), runs)
        db.close()
    print(f"purge duty: empty write transaction {write:.0f} us | purge, 1,000 live {purge:.0f} us")


if __name__ == "__main__":
    main()
