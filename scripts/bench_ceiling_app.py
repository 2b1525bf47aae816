"""The ceiling app of ``scripts/bench_http.py``: only the unavoidable work of a verification.

    .venv/bin/python -m uvicorn bench_ceiling_app:app --app-dir scripts --workers 2 \\
        --http httptools --loop uvloop --host 127.0.0.1 --port N --no-access-log

The same stack as ``tongban serve`` (FastAPI, uvicorn with httptools and uvloop,
worker processes on one loopback socket) with none of Tongban's work: no
authentication, no strict I-JSON reader, no checklist, no access event. It
answers the same two routes with the same bodies:

- ``POST /credentials/verify``: parse the JSON body, decode the issuer proof's
  ``proofValue`` and run one ``sm2.verify`` (``ledger.crypto``);
- ``POST /presentations/verify``: parse the body and run two ``sm2.verify``: the
  issuer's over the (only) credential and the holder's over the presentation.

Each verification is the real one of the benchmark's credentials: same key, same
64-byte ``hashData`` (``SM3(JCS(proof configuration)) || SM3(JCS(document))``),
same signature. The bench computes key and ``hashData`` once per proof (that is
JCS and SM3 work Tongban does per request and the ceiling does not) and hands
them over in a JSON file named by ``BENCH_CEILING_TABLE``:
``{"<proofValue>": ["<compressed key hex>", "<hashData hex>"], ...}``.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from credentials.cryptosuite import decode_proof_value, hash_data
from ledger.crypto import sm2

TABLE_ENV = "BENCH_CEILING_TABLE"
"""The environment variable naming the table of keys and signed data."""

Entry = tuple[sm2.Sm2PublicKey, bytes]


def load_table(path: str) -> dict[str, Entry]:
    """The table: ``proofValue`` to (key, ``hashData``); one key object per distinct key.

    One object per key, as Tongban caches its keys, so that OpenSSL's key handle
    (cached on the object) is built once per key in both apps.
    """
    raw: dict[str, list[str]] = json.loads(Path(path).read_text("utf-8"))
    keys: dict[str, sm2.Sm2PublicKey] = {}
    table: dict[str, Entry] = {}
    for proof_value, (key_hex, data_hex) in raw.items():
        key = keys.get(key_hex)
        if key is None:
            key = keys[key_hex] = sm2.Sm2PublicKey.from_bytes(bytes.fromhex(key_hex))
        table[proof_value] = (key, bytes.fromhex(data_hex))
    return table


TABLE: dict[str, Entry] = load_table(os.environ[TABLE_ENV]) if TABLE_ENV in os.environ else {}

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def _first_proof(document: Any) -> Any:
    """The document's proof, or the first of a proof array (the issuer's, as in Tongban)."""
    proof = document["proof"]
    return proof[0] if isinstance(proof, list) else proof


def _verified(proof: Any) -> bool:
    """One SM2 verification of ``proof`` with the key and data the table gives for it."""
    value = proof["proofValue"]
    entry = TABLE.get(value)
    if entry is None:
        return False
    key, data = entry
    return sm2.is_valid(key, data, decode_proof_value(value))


def _answer(ok: bool) -> JSONResponse:
    return JSONResponse({"verified": ok, "verdict": "VALID" if ok else "INVALID"})


@app.post("/credentials/verify")
async def verify_credential(request: Request) -> JSONResponse:
    """Parse ``{"verifiableCredential": ...}`` and verify the issuer's signature."""
    body = json.loads(await request.body())
    return _answer(_verified(_first_proof(body["verifiableCredential"])))


@app.post("/presentations/verify")
async def verify_presentation(request: Request) -> JSONResponse:
    """Parse ``{"verifiablePresentation": ...}``; verify the issuer's and the holder's proofs."""
    presentation = json.loads(await request.body())["verifiablePresentation"]
    credentials = presentation["verifiableCredential"]
    credential = credentials[0] if isinstance(credentials, list) else credentials
    issuer_ok = _verified(_first_proof(credential))
    holder_ok = _verified(presentation["proof"])
    return _answer(issuer_ok and holder_ok)


def start_ceiling(table: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start this app with uvicorn on a free loopback port; returns the process and the port.

    Ready when a request to it is answered. ``--limit-max-requests`` and the like
    stay at uvicorn's defaults, as in Tongban's workers.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, TABLE_ENV: str(table)}
    here = Path(__file__).resolve().parent
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "bench_ceiling_app:app"),
            *("--app-dir", str(here), "--workers", str(workers)),
            *("--http", "httptools", "--loop", "uvloop"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--no-access-log", "--log-level", "warning", "--timeout-keep-alive", "30"),
        ],
        env=env,
        cwd=here.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the ceiling app did not start")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/absent")
            connection.getresponse().read()
            connection.close()
            time.sleep(1.0)  # one worker answers; give the others their second
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the ceiling app did not answer within 60 s")


# -- the bench's side: what the ceiling verifies, and how Tongban compares -----------------------


def _issuer_entry(parsed: Any, keys: Mapping[str, sm2.Sm2PublicKey]) -> dict[str, list[str]]:
    proof = parsed.issuer_proof
    data = hash_data(parsed.secured, proof, document_hash=parsed.digest)
    return {proof["proofValue"]: [keys[proof["verificationMethod"]].compressed().hex(), data.hex()]}


def ceiling_table(
    credentials: Sequence[Mapping[str, Any]],
    presentations: Sequence[Mapping[str, Any]],
    keys: Mapping[str, sm2.Sm2PublicKey],
) -> dict[str, list[str]]:
    """The table (see the module's docstring), with key and data as Tongban computes them.

    ``keys`` are the issuers' verification methods by id; ``presentations`` are
    request bodies (``{"verifiablePresentation": ...}``).
    """
    # Imported here: the app itself (in uvicorn's workers) needs none of this.
    from credentials.did import parse_holder_verification_method
    from credentials.verify.parse import parse_credential, parse_presentation

    table: dict[str, list[str]] = {}
    for credential in credentials:
        table.update(_issuer_entry(parse_credential(credential), keys))
    for body in presentations:
        presentation = body["verifiablePresentation"]
        for parsed in parse_presentation(presentation).credentials:
            table.update(_issuer_entry(parsed, keys))
        proof = presentation["proof"]
        _, key = parse_holder_verification_method(proof["verificationMethod"])
        unsecured = {k: v for k, v in presentation.items() if k != "proof"}
        table[proof["proofValue"]] = [key.compressed().hex(), hash_data(unsecured, proof).hex()]
    return table


_FIGURES = ("itemsPerSecond", "p50Ms", "p99Ms", "serviceCpuMsPerItem")


def ratios(tongban: Mapping[str, Any], ceiling: Mapping[str, Any]) -> dict[str, float]:
    """Tongban's figures over the ceiling's, for phases in the bench's JSON form."""
    return {key: tongban[key] / ceiling[key] if ceiling[key] else float("inf") for key in _FIGURES}


def median(values: Sequence[float]) -> float:
    """The median (mean of the middle two for an even count)."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _cell(key: str, value: float) -> str:
    return f"{value:>10.2f}" if key == "serviceCpuMsPerItem" else f"{value:>10,.1f}"


def _row(label: str, ceiling: Mapping[str, float], tongban: Mapping[str, float]) -> str:
    got = ratios(tongban, ceiling)
    return (
        f"{label:<7}"
        + "".join(_cell(k, ceiling[k]) for k in _FIGURES)
        + "".join(_cell(k, tongban[k]) for k in _FIGURES)
        + "".join(f"{got[k]:>7.2f}" for k in _FIGURES)
    )


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")


def ceiling_summary(
    kind: str, rounds: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], in_flight: int
) -> dict[str, Any]:
    """Print the rounds (ceiling, Tongban, ratios), their medians and #14's targets.

    ``rounds`` are (ceiling, Tongban) phases in the bench's JSON form. ``kind`` is
    "credential verify" or "presentation verify". Returns the same as JSON.
    """
    print(f"\n{kind} vs the ceiling, {in_flight} in flight (ratios: Tongban / ceiling)")
    names = "".join(f"{n:>10}" for n in ("items/s", "p50 ms", "p99 ms", "CPU ms"))
    print(f"{'':<7}{'ceiling':^40}{'Tongban':^40}{'Tongban / ceiling':^28}")
    print(f"{'round':<7}{names}{names}" + "".join(f"{n:>7}" for n in ("rate", "p50", "p99", "CPU")))
    for number, (ceiling, tongban) in enumerate(rounds, 1):
        print(_row(str(number), ceiling, tongban))
    figures = {
        who: {k: median([r[i][k] for r in rounds]) for k in _FIGURES}
        for i, who in enumerate(("ceiling", "tongban"))
    }
    medians = {k: median([ratios(t, c)[k] for c, t in rounds]) for k in _FIGURES}
    print(
        f"{'median':<7}"
        + "".join(_cell(k, figures[w][k]) for w in ("ceiling", "tongban") for k in _FIGURES)
        + "".join(f"{medians[k]:>7.2f}" for k in _FIGURES)
        + "   (ratios: median of the rounds' ratios)"
    )
    rate, cpu = medians["itemsPerSecond"], medians["serviceCpuMsPerItem"]
    if kind == "credential verify":
        ceiling_p99, tongban_p99 = figures["ceiling"]["p99Ms"], figures["tongban"]["p99Ms"]
        targets: dict[str, Any] = {
            "throughputRatioAtLeast": 0.8,
            "throughputMet": rate >= 0.8,
            "serviceCpuRatioAtMost": 1.5,
            "serviceCpuMet": cpu <= 1.5,
            "p99MsAtMost": 50,
            # The latency target holds only where the ceiling itself meets it.
            "p99Met": None if ceiling_p99 > 50 else tongban_p99 <= 50,
        }
        print(
            f"targets (#14): throughput >= 0.8 x ceiling: {_verdict(targets['throughputMet'])} "
            f"({rate:.2f}); service CPU <= 1.5 x ceiling: {_verdict(targets['serviceCpuMet'])} "
            f"({cpu:.2f}); p99 <= 50 ms when the ceiling's is: {_verdict(targets['p99Met'])} "
            f"(median p99: Tongban {tongban_p99:.1f} ms, ceiling {ceiling_p99:.1f} ms)"
        )
    else:
        targets = {"throughputRatioAtLeast": 0.6, "throughputMet": rate >= 0.6}
        print(
            f"target (#14): throughput >= 0.6 x ceiling: {_verdict(targets['throughputMet'])} "
            f"({rate:.2f})"
        )
    return {
        "inFlight": in_flight,
        "rounds": [{"ceiling": c, "tongban": t, "ratios": ratios(t, c)} for c, t in rounds],
        "medianFigures": figures,
        "medianRatios": medians,
        "targets": targets,
    }
