"""Batch verification in process: 1,000 anchored credentials, the per-credential path
against the batch path, interleaved (#14).

Starts its own anvil, deploys the consortium and builds Zhejiang as the tests do
(``tests.helpers.provinces.build_province``: the service's own ``open_province``,
its real verifier, status list fetcher and audit log; no HTTP server is started).
Zhejiang issues and anchors ``--credentials`` degree certificates, then each
round verifies all of them twice, with everything else equal:

- **per-credential** (the path before #14's batch evaluation):
  ``credentials.verify.batch.verify_item`` for each credential, each in its own
  index view;
- **batch**: ``credentials.verify.batch.verify_chunk`` over the whole list, one
  index view and one ``ChainState`` for all of them (``Verifier.evaluate_credentials``),
  on one thread;
- **batch xN**: the same on ``--threads`` threads (default: one per core, as the
  route does), still in one index view.

Both then record one ``credential.verify`` access event per credential in one
group commit (``api.province.access.record_access``), as the route does before
answering. Reported per path and round: credentials/s (wall clock) and CPU per
credential (this process's CPU time, which includes the audit log's commit
thread). This is a benchmark, not a test.

With ``--probe``, it then serves the province over HTTP (uvicorn in this process, as
the tests do) and, each round, sends a 1,000-credential ``POST
/credentials/verify/batch`` while probing ``POST /credentials/verify`` on the same
worker until the batch answers (``tests.helpers.batch_probe``): the probe p99 during
the batch against #14's target of 50 ms, beside the p99 of the same probes just
before it.

    .venv/bin/python scripts/bench_verify_batch.py [--credentials 1000] [--rounds 3]
        [--threads N] [--probe]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.http.routes import verification_batch
from api.province.access import record_access
from credentials.holder import Holder
from credentials.verify import CREDENTIAL_VERIFY, VerificationRequest, Verifier
from credentials.verify.batch import (
    Outcome,
    default_threads,
    read_batch_options,
    verify_chunk,
    verify_item,
)
from credentials.verify.vcapi import Malformed, VerifyOptions
from ledger.audit.events import Caller
from ledger.chain.contracts.consortium import bind_consortium, deploy_consortium
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import start_anvil
from ledger.chain.node.transactions import NonceManager
from tests.helpers.batch_probe import describe, p99, probe_during_batch
from tests.helpers.contracts import (
    GD,
    GD_CODE,
    SM2_G,
    ZJ,
    ZJ_CODE,
    Accounts,
    World,
    fund,
    random_point,
)
from tests.helpers.credentials import degree_request
from tests.helpers.provinces import ServedProvince, build_province

CHAIN_ID = 31337
CALLER = Caller("gd-verifier-app", "440000")

Path_ = Callable[[Verifier, list[Any], VerifyOptions, int], list[Outcome]]


def make_world(client: ChainClient) -> World:
    """The test consortium (``tests/conftest.py``'s): issuers Zhejiang and Guangdong."""
    accounts = Accounts(
        deployer=fund(client),
        governors=tuple(fund(client) for _ in range(3)),
        outsider=fund(client),
        zj_admin=fund(client),
        zj_writer=fund(client),
        gd_admin=fund(client),
        gd_writer=fund(client),
    )
    deployer = NonceManager(client, accounts.deployer)
    addresses = deploy_consortium(deployer, [g.address for g in accounts.governors], 2)
    registry = bind_consortium(client, addresses).registry
    g0, g1 = (NonceManager(client, g) for g in accounts.governors[:2])
    for issuer_id, code, name, admin, writer, key in (
        (ZJ, ZJ_CODE, "浙江省", accounts.zj_admin, accounts.zj_writer, SM2_G),
        (GD, GD_CODE, "广东省", accounts.gd_admin, accounts.gd_writer, random_point()),
    ):
        proposed = registry.propose_admit_issuer(g0, issuer_id, code, name, admin.address)
        registry.approve(g1, proposed.proposal_id)
        admin_sender = NonceManager(client, admin)
        registry.add_writer(admin_sender, issuer_id, writer.address)
        registry.add_key(admin_sender, issuer_id, "key-1", key)
    return World(client, accounts, addresses)


def anchored(province: ServedProvince, count: int) -> list[dict[str, Any]]:
    """``count`` degree certificates of 100 holders, issued and anchored."""
    holders = [Holder.generate() for _ in range(100)]
    issued = province.parts.issuer.issue_many(
        [degree_request(holders[i % len(holders)]) for i in range(count)]
    )
    province.anchor_all()
    return [province.parts.issuer.credential(c.digest) for c in issued]


def per_credential(
    verifier: Verifier, documents: list[Any], options: VerifyOptions, now: int
) -> list[Outcome]:
    """The per-credential path: each credential in its own index view."""
    return [verify_item(verifier, (i, d), options, now) for i, d in enumerate(documents)]


def batch(
    verifier: Verifier, documents: list[Any], options: VerifyOptions, now: int
) -> list[Outcome]:
    """The batch path: every credential in one index view, values of a parsed body."""
    return verify_chunk(verifier, list(enumerate(documents)), options, now, parsed=True)


def threaded(threads: int) -> Path_:
    """The batch path on ``threads`` threads, still in one index view."""

    def path(
        verifier: Verifier, documents: list[Any], options: VerifyOptions, now: int
    ) -> list[Outcome]:
        items = list(enumerate(documents))
        return verify_chunk(verifier, items, options, now, parsed=True, threads=threads)

    return path


def run(province: ServedProvince, path: Path_, documents: list[Any], n: int) -> dict[str, float]:
    """Verify ``documents`` by ``path`` and record their access events; rate and CPU."""
    verifier = province.parts.verifier
    options = read_batch_options({})
    if isinstance(options, Malformed):
        raise AssertionError("empty options are well formed")
    request = VerificationRequest(CALLER, "cross-province.enrolment", "prc.pipl.art13", f"b{n}")
    cpu, wall = time.process_time(), time.perf_counter()
    outcomes = path(verifier, documents, options, verifier.clock())
    events = [
        verifier.access_event(o.result, request, CREDENTIAL_VERIFY)
        for o in outcomes
        if not isinstance(o, Malformed)
    ]
    record_access(province.parts.audit_log, CALLER, events, verdict=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if not all(not isinstance(o, Malformed) and o.result.valid for o in outcomes):
        raise AssertionError("a benchmark credential did not verify")
    heights = {o.result.index_height for o in outcomes if not isinstance(o, Malformed)}
    return {
        "per_s": len(documents) / wall,
        "cpu_ms": cpu / len(documents) * 1000,
        "seconds": wall,
        "heights": float(len(heights)),
    }


def probe_rounds(
    province: ServedProvince, documents: list[Any], rounds: int, threads: int
) -> dict[str, list[float]]:
    """Serve ``province`` and probe the single route during a batch, ``rounds`` times.

    Each round sends the batch twice, the route verifying it on one thread then on
    ``threads`` (``verification_batch.VERIFY_THREADS``).
    """
    province.server.start()
    during: dict[str, list[float]] = {}
    try:
        for n in range(1, rounds + 1):
            for count in (1, threads):
                verification_batch.VERIFY_THREADS = count
                run = probe_during_batch(province, documents, 1000)
                if run.batch_reply.status != 200 or not run.inside:
                    status = run.batch_reply.status
                    raise AssertionError(f"probe round {n}: {status}, no probe inside")
                during.setdefault(f"x{count}", []).append(p99(run.inside) * 1000)
                print(f"probe round {n} x{count}: {describe(run)} (target p99 <= 50 ms)")
    finally:
        verification_batch.VERIFY_THREADS = default_threads()
    return {name: sorted(values) for name, values in during.items()}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the interleaved rounds; print a table and a final JSON line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--credentials", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=default_threads(), help="threads of the batch xN path"
    )
    parser.add_argument(
        "--probe", action="store_true", help="probe the single route during a batch"
    )
    args = parser.parse_args(argv)
    python = sys.version.split()[0]
    print(f"# bench_verify_batch: {platform.machine()}, {os.cpu_count()} CPUs, Python {python}")
    node = start_anvil(CHAIN_ID)
    province = None
    try:
        world = make_world(ChainClient(node.url, CHAIN_ID))
        province = build_province(world, Path(tempfile.mkdtemp(prefix="bench-verify-batch-")))
        documents = anchored(province, args.credentials)
        run(province, batch, documents[:50], 0)  # warm: imports, caches, the audit log
        run(province, per_credential, documents[:50], 0)
        run(province, threaded(args.threads), documents[:50], 0)
        paths = [
            ("per-credential", per_credential),
            ("batch", batch),
            (f"batch x{args.threads}", threaded(args.threads)),
        ]
        rounds: list[dict[str, Any]] = []
        for n in range(1, args.rounds + 1):
            for name, path in paths:
                measured = run(province, path, documents, n)
                rounds.append({"round": n, "path": name, **measured})
                print(
                    f"round {n} {name:>14}: {len(documents)} in {measured['seconds']:.2f} s = "
                    f"{measured['per_s']:,.0f} credentials/s, CPU {measured['cpu_ms']:.2f} ms "
                    f"per credential"
                )
        summary = {
            name: {
                "per_s": sorted(r["per_s"] for r in rounds if r["path"] == name),
                "cpu_ms": sorted(r["cpu_ms"] for r in rounds if r["path"] == name),
            }
            for name, _ in paths
        }
        one, many = paths[1][0], paths[2][0]
        ratios = sorted(
            b["per_s"] / a["per_s"]
            for a, b in zip(
                (r for r in rounds if r["path"] == one),
                (r for r in rounds if r["path"] == many),
                strict=True,
            )
        )
        print(f"{many} / {one}, credentials/s per round: " + ", ".join(f"{r:.2f}" for r in ratios))
        probes = probe_rounds(province, documents, args.rounds, args.threads) if args.probe else {}
        out = {
            "credentials": len(documents),
            "rounds": rounds,
            "summary": summary,
            "threadedRatios": ratios,
        }
        print(json.dumps(out | ({"probe_p99_ms": probes} if args.probe else {})))
    finally:
        if province is not None:
            if args.probe:
                province.server.stop()
            province.parts.close()
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
