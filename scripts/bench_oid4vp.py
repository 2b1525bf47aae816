"""What asking the citizen to present (docs/oid4vp.md) adds to a presentation, in process.

    .venv/bin/python scripts/bench_oid4vp.py [--repeat 200]

Each against a baseline measured in the same run, on a SQLite store in a
temporary directory (durable writes, as served):

- asking: a challenge issued and the request stored (two write transactions),
  beside a challenge issued alone (``POST /challenges``: the baseline);
- answering: the request read, used up and its outcome kept (one read, two
  writes), beside a challenge consumed alone (the baseline; the verification
  itself costs the same either way and is left out);
- the QR code of the ``openid4vp://`` link as SVG (segno), beside the SVG of a
  TB1-sized text (the printed certificate's QR: the baseline).

Medians of ``--repeat`` runs. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import segno

from api.province.access import Declaration
from api.province.presentation_requests import (
    AskedRequest,
    Outcome,
    PresentationRequests,
    session_digest,
)
from ledger.audit.events import Caller
from ledger.store.challenges import Challenges
from ledger.store.sqlite import SqliteDatabase

TTL_MS = 5 * 60 * 1000
DOMAIN = "did:tongban:31337:1"
OUTCOME = Outcome(
    "VALID",
    tuple((n, f"check{n}", "VALID", "ok") for n in range(8)),
    (("registeredCapital", "100万元人民币"), ("legalRepresentative", "李四")),
    DOMAIN,
)


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _asked(challenges: Challenges, now: int) -> AskedRequest:
    challenge = challenges.issue("presentation", now, TTL_MS, DOMAIN)
    return AskedRequest(
        request_id=secrets.token_urlsafe(18),
        session_digest=session_digest("session"),
        caller=Caller("staff:bench", "330000"),
        declaration=Declaration("audit.review", "prc.pipl.art13"),
        claims=("registeredCapital", "legalRepresentative"),
        nonce=challenge.value,
        domain=DOMAIN,
        state=secrets.token_urlsafe(18),
        expires_at_ms=challenge.expires_at_ms,
        answered_at_ms=None,
        result=None,
    )


def main() -> None:
    """Run the three comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = SqliteDatabase(Path(tmp) / "store.sqlite")
        try:
            challenges, requests = Challenges(db), PresentationRequests(db)
            now = int(time.time() * 1000)

            for _ in range(20):  # warm the store's pages and statements for both
                requests.add(_asked(challenges, now))
            issued: list[str] = []
            asked: list[AskedRequest] = []
            plain = _median_ms(
                lambda: issued.append(challenges.issue("presentation", now, TTL_MS, DOMAIN).value),
                args.repeat,
            )

            def ask() -> None:
                request = _asked(challenges, now)
                requests.add(request)
                asked.append(request)

            with_request = _median_ms(ask, args.repeat)
            print(
                f"asking: a challenge (baseline) {plain:.2f} ms, "
                f"challenge + request stored {with_request:.2f} ms (x{with_request / plain:.1f})"
            )

            consumed = iter(issued)
            answered = iter(asked)
            consume = _median_ms(
                lambda: challenges.consume(next(consumed), "presentation", now + 1, DOMAIN),
                args.repeat,
            )

            def answer() -> None:
                request = next(answered)
                found = requests.open_request(request.request_id, request.state)
                requests.claim(found, now + 1)
                requests.keep_result(request.request_id, OUTCOME)

            answering = _median_ms(answer, args.repeat)
            print(
                f"answering: a challenge used up (baseline) {consume:.2f} ms, "
                f"request read, used up, outcome kept {answering:.2f} ms "
                f"(x{answering / consume:.1f})"
            )
        finally:
            db.close()

    link = (
        "openid4vp://?client_id=redirect_uri%3Ahttps%3A%2F%2Fverify.example.gov.cn%2Foid4vp"
        "%2Fresponses%2F" + "A" * 24 + "&request_uri=https%3A%2F%2Fverify.example.gov.cn%2F"
        "oid4vp%2Frequests%2F" + "A" * 24
    )
    tb1 = "TB1:" + "6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSHM" * 8

    def svg(text: str) -> int:
        out = io.BytesIO()
        segno.make(text, error="m").save(out, kind="svg", scale=4, border=2)
        return len(out.getvalue())

    baseline = _median_ms(lambda: svg(tb1), args.repeat)
    qr = _median_ms(lambda: svg(link), args.repeat)
    print(
        f"QR SVG: a TB1 text (baseline) {baseline:.2f} ms ({svg(tb1)} bytes), "
        f"the openid4vp link ({len(link)} chars) {qr:.2f} ms ({svg(link)} bytes, "
        f"x{qr / baseline:.1f})"
    )


if __name__ == "__main__":
    main()
