"""Benchmark ledger.crypto: SM2 per backend, SM3 and SM4-GCM throughput, in one process.

Prints SM2 sign/s and verify/s for the OpenSSL and pure-Python reference backends and their
ratio (the baseline measured in the same run), SM3 MB/s at 1 KiB and 1 MiB, and SM4-GCM MB/s.
Each figure is the median of several timed rounds. This is a benchmark, not a test.

    .venv/bin/python scripts/bench_crypto.py [--seconds 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Callable

from ledger.crypto import sm2, sm4
from ledger.crypto._backend import Sm2Backend
from ledger.crypto._reference import insecure_reference_signing_backend
from ledger.crypto.sm3 import sm3

SIGN_TARGET = 1500
VERIFY_TARGET = 2000
MESSAGE = bytes(range(64))  # the size of proofConfigHash || documentHash


def rate(operation: Callable[[], object], seconds: float, rounds: int) -> float:
    """Median calls per second of ``operation`` over ``rounds`` rounds of about ``seconds``."""
    results: list[float] = []
    for _ in range(rounds):
        calls = 0
        batch = 1
        start = time.perf_counter()
        deadline = start + seconds
        while True:
            for _ in range(batch):
                operation()
            calls += batch
            now = time.perf_counter()
            if now >= deadline:
                break
            batch = min(batch * 2, 256)
        results.append(calls / (now - start))
    return statistics.median(results)


def threaded_rate(operation: Callable[[], object], threads: int, seconds: float) -> float:
    """Calls per second of ``operation`` run by ``threads`` threads of this one process."""
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)
    deadline = 0.0

    def worker(index: int) -> None:
        barrier.wait()
        while time.perf_counter() < deadline:
            for _ in range(16):
                operation()
            counts[index] += 16

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start = time.perf_counter()
    deadline = start + seconds
    barrier.wait()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - start)


def bench_sm2(backend: Sm2Backend, seconds: float, rounds: int) -> tuple[float, float]:
    """Return (sign/s, verify/s) for one backend."""
    key = sm2.generate_private_key()
    public = key.public_key
    signature = sm2.sign(key, MESSAGE, backend=backend)
    sign_rate = rate(lambda: sm2.sign(key, MESSAGE, backend=backend), seconds, rounds)
    verify_rate = rate(
        lambda: sm2.verify(public, MESSAGE, signature, backend=backend), seconds, rounds
    )
    return sign_rate, verify_rate


def megabytes_per_second(
    operation: Callable[[bytes], object], size: int, seconds: float, rounds: int
) -> float:
    """Throughput of ``operation`` on ``size``-byte inputs, in MB/s (10^6 bytes)."""
    data = os.urandom(size)
    return rate(lambda: operation(data), seconds, rounds) * size / 1e6


def main() -> int:
    """Run every benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one timed round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per figure (median kept)")
    args = parser.parse_args()

    openssl = sm2.default_backend()
    reference = insecure_reference_signing_backend()
    version = getattr(openssl, "version", "?")
    print(f"ledger.crypto benchmark, {time.strftime('%Y-%m-%d')}")
    print(
        f"python {platform.python_version()}, {version}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    print(
        f"one process, median of {args.rounds} rounds of {args.seconds:.1f} s, 64-byte messages\n"
    )

    figures: dict[str, tuple[float, float]] = {}
    print(f"{'SM2 backend':<12} {'sign/s':>10} {'verify/s':>10}")
    for backend in (openssl, reference):
        figures[backend.name] = bench_sm2(backend, args.seconds, args.rounds)
        sign_rate, verify_rate = figures[backend.name]
        print(f"{backend.name:<12} {sign_rate:>10,.0f} {verify_rate:>10,.0f}")
    (o_sign, o_verify), (r_sign, r_verify) = figures["openssl"], figures["reference"]
    print(
        f"{'ratio':<12} {o_sign / r_sign:>9.1f}x {o_verify / r_verify:>9.1f}x"
        "  (openssl / reference)"
    )
    sm2_key, message = sm2.generate_private_key(), MESSAGE
    signature = sm2_key.sign(message)
    digest = sm2.signing_digest(sm2_key.public_key, message)
    e_sign = rate(lambda: openssl.sign_digest(sm2_key, digest), args.seconds, args.rounds)
    e_verify = rate(
        lambda: openssl.verify_digest(sm2_key.public_key, digest, signature),
        args.seconds,
        args.rounds,
    )
    print(f"{'openssl':<12} {e_sign:>10,.0f} {e_verify:>10,.0f}  (backend on e only: API overhead)")
    threads = os.cpu_count() or 1
    t_sign = threaded_rate(lambda: sm2_key.sign(message), threads, args.seconds * args.rounds)
    t_verify = threaded_rate(
        lambda: sm2_key.public_key.verify(message, signature), threads, args.seconds * args.rounds
    )
    print(f"{'openssl':<12} {t_sign:>10,.0f} {t_verify:>10,.0f}  ({threads} threads, one process)")
    print(
        f"targets: sign >= {SIGN_TARGET:,}/s {'met' if o_sign >= SIGN_TARGET else 'MISSED'}, "
        f"verify >= {VERIFY_TARGET:,}/s {'met' if o_verify >= VERIFY_TARGET else 'MISSED'}\n"
    )

    key = sm4.generate_key()
    rows = [
        ("SM3 1 KiB", megabytes_per_second(sm3, 1024, args.seconds, args.rounds)),
        ("SM3 1 MiB", megabytes_per_second(sm3, 1 << 20, args.seconds, args.rounds)),
        (
            "SM4-GCM seal 1 KiB",
            megabytes_per_second(lambda d: sm4.seal(key, d), 1024, args.seconds, args.rounds),
        ),
        (
            "SM4-GCM seal 1 MiB",
            megabytes_per_second(lambda d: sm4.seal(key, d), 1 << 20, args.seconds, args.rounds),
        ),
    ]
    for label, value in rows:
        print(f"{label:<20} {value:>8,.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
