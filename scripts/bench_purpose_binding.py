"""What the purpose binding adds to check (6), against the holder's signature check.

Measures, in one run on the same presentation: the holder proof check
(``credentials.verify.offline.holder_proof``: JCS + SM3 + SM2 verify) of an
unbound and of a purpose-bound presentation, and ``purpose_binding`` alone.
Prints microseconds per call (median of rounds); no pass/fail threshold.

    .venv/bin/python scripts/bench_purpose_binding.py [--rounds 5] [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from credentials.holder import Holder
from credentials.verify.offline import holder_proof
from credentials.verify.outcome import Passed
from credentials.verify.purpose_binding import purpose_binding

PURPOSE = "cross-province.enrolment"


def _per_call_us(work: Callable[[], object], calls: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            work()
        times.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(times)


def _presentation(holder: Holder, purpose: str | None) -> dict[str, Any]:
    credential = {"id": "urn:uuid:0", "credentialSubject": {"id": holder.did}}
    return holder.present(
        [(credential, [])], challenge="c" * 32, domain="did:tongban:1:2", purpose=purpose
    )


def main() -> None:
    """Print the three figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    options = parser.parse_args()
    holder = Holder.generate()
    unbound = _presentation(holder, None)
    bound = _presentation(holder, PURPOSE)
    # Figures of a check that fails early would mean nothing.
    if not all(isinstance(holder_proof(p), Passed) for p in (unbound, bound)):
        raise SystemExit("the holder proofs do not verify: nothing to measure")
    base = _per_call_us(lambda: holder_proof(unbound), options.calls, options.rounds)
    with_terms = _per_call_us(lambda: holder_proof(bound), options.calls, options.rounds)
    binding = _per_call_us(
        lambda: purpose_binding(bound, PURPOSE), options.calls * 100, options.rounds
    )
    print(f"holder proof, unbound presentation (baseline): {base:9.1f} us")
    print(f"holder proof, purpose-bound presentation:      {with_terms:9.1f} us")
    print(f"purpose_binding alone:                         {binding:9.2f} us")
    print(f"binding as a share of the baseline:            {binding / base * 100:9.3f} %")


if __name__ == "__main__":
    main()
