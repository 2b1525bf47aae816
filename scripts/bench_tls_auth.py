"""Benchmark what TLS client certificates add to a request and to a connection (issue #15).

    .venv/bin/python scripts/bench_tls_auth.py

Figures, each beside a baseline measured in the same run:
- per request, plain HTTP: ``client_certificate`` on a scope without
  extensions (what every plain request now pays) against calling a function
  that does nothing with the same argument (the floor of any added call);
- per request, TLS with a client certificate: ``client_certificate`` on a
  scope carrying the fingerprint, against the same floor;
- per connection: ``connection_extensions`` (DER to PEM, SPKI SHA-256) on a
  real TLS connection with a client certificate, against the in-memory TLS 1.3
  handshake that connection needed.
"""

from __future__ import annotations

import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.http.auth import CLIENT_CERTIFICATE, client_certificate
from api.runtime.tls import connection_extensions
from tests.helpers.tls import Authority, client_context

ROUNDS = 5


def _nothing(scope: dict[str, Any]) -> None:
    return None


def _per_call_ns(function: Callable[[dict[str, Any]], object], scope: dict[str, Any]) -> float:
    calls = 200_000
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(calls):
            function(scope)
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def _handshake(server: ssl.SSLContext, client_side: ssl.SSLContext) -> ssl.SSLObject:
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_side.wrap_bio(client_in, client_out, server_hostname="localhost")
    served = server.wrap_bio(server_in, server_out, server_side=True)
    for _ in range(10):
        for end in (client, served):
            try:
                end.do_handshake()
            except ssl.SSLWantReadError:
                continue
        server_in.write(client_out.read())
        client_in.write(server_out.read())
    return served


def main() -> None:
    """Print the figures."""
    plain = {"type": "http", "headers": []}
    with_cert = {**plain, "extensions": {CLIENT_CERTIFICATE: {"spki_sha256": bytes(32)}}}
    floor = _per_call_ns(_nothing, plain)
    plain_ns = _per_call_ns(client_certificate, plain)
    tls_ns = _per_call_ns(client_certificate, with_cert)
    print(f"per request, baseline (a call that does nothing): {floor:7.1f} ns")
    print(
        f"per request, plain HTTP  client_certificate:      {plain_ns:7.1f} ns "
        f"(+{plain_ns - floor:.1f} ns over the baseline)"
    )
    print(
        f"per request, TLS + cert  client_certificate:      {tls_ns:7.1f} ns "
        f"(+{tls_ns - floor:.1f} ns over the baseline)"
    )

    with tempfile.TemporaryDirectory() as directory:
        ca = Authority(Path(directory))
        server_cert = ca.issue("server", "localhost", server=True)
        machine = ca.issue("machine", "machine", server=False)
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.minimum_version = ssl.TLSVersion.TLSv1_2
        server.load_cert_chain(server_cert.cert, server_cert.key)
        server.load_verify_locations(cafile=ca.cert)
        server.verify_mode = ssl.CERT_OPTIONAL
        client = client_context(ca.cert, machine)
        handshakes, extensions = [], []
        for _ in range(50):
            start = time.perf_counter_ns()
            served = _handshake(server, client)
            handshakes.append(time.perf_counter_ns() - start)
            start = time.perf_counter_ns()
            connection_extensions(served)
            extensions.append(time.perf_counter_ns() - start)
    handshake_us = sorted(handshakes)[len(handshakes) // 2] / 1000
    extensions_us = sorted(extensions)[len(extensions) // 2] / 1000
    print(
        f"per connection, baseline (TLS 1.3 handshake, mutual, in memory): {handshake_us:8.1f} us"
    )
    print(
        f"per connection, connection_extensions (PEM + SPKI SHA-256):      {extensions_us:8.1f} us "
        f"({100 * extensions_us / handshake_us:.1f}% of the handshake)"
    )


if __name__ == "__main__":
    main()
