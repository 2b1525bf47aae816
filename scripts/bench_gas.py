"""Gas of every state-changing consortium function, and gas per credential by batch size.

Starts its own anvil (shanghai), deploys the consortium (3 governors, M = 2, two
issuers), then prints Markdown tables:

1. gas of each state-changing function (receipt ``gasUsed``, 21,000 base included);
2. gas per credential when one root anchors a batch of 1, 100, 1,000 and 10,000
   credentials, beside the same-run baseline of one transaction per credential
   digest (each digest anchored as its own root), and the ratio between them;
3. gas per digest of bulk status changes (arrays of 1,000) beside one transaction
   per digest.

Targets (docs/benchmarks.md): <= 60,000 gas per anchored root, <= 60 gas per
credential at batch >= 1,000, <= 26,000 gas per digest in bulk revocation.
This is a benchmark, not a test.

    .venv/bin/python scripts/bench_gas.py [--baseline-sample 1000]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy_with_receipt
from ledger.chain.contracts.calls import TxOutcome
from ledger.chain.contracts.consortium import ConsortiumAddresses, bind_consortium
from ledger.chain.contracts.credential_anchor import MAX_BATCH
from ledger.chain.node.accounts import create_account
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import anvil_binary, start_anvil
from ledger.chain.node.transactions import NonceManager

CHAIN_ID = 31337
FUNDING_WEI = 10**24
ROOT_TARGET = 60_000
PER_CREDENTIAL_TARGET = 60
REVOKE_TARGET = 26_000
BATCH_SIZES = (1, 100, 1_000, 10_000)
ZJ, GD = 1, 2

Row = tuple[str, int, str]


def rand32() -> bytes:
    """A random 32-byte root or digest (random bytes cost what real SM3 digests cost)."""
    return os.urandom(32)


def point() -> bytes:
    """A well-formed compressed SM2 point encoding."""
    return b"\x02\x0f" + os.urandom(31)


class Bench:
    """A fresh consortium on a private anvil, and the accounts acting on it."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client
        self.deployer = self.sender()
        self.governors = [self.sender() for _ in range(3)]
        self.rows: list[Row] = []
        registry_artifact = load_artifact("IssuerRegistry")
        governors = [g.address for g in self.governors]
        registry, receipt = deploy_with_receipt(self.deployer, registry_artifact, governors, 2)
        self.row("deploy IssuerRegistry (3 governors, M = 2)", int(receipt["gasUsed"], 16))
        addresses = {}
        for name in ("CredentialAnchor", "AuditAnchor"):
            contract, receipt = deploy_with_receipt(
                self.deployer, load_artifact(name), registry.address
            )
            addresses[name] = contract.address
            self.row(f"deploy {name}", int(receipt["gasUsed"], 16))
        self.consortium = bind_consortium(
            client,
            ConsortiumAddresses(
                registry.address, addresses["CredentialAnchor"], addresses["AuditAnchor"]
            ),
        )
        self.registry = self.consortium.registry
        self.credential = self.consortium.credential_anchor
        self.audit = self.consortium.audit_anchor

    def sender(self) -> NonceManager:
        """A new funded account."""
        account = create_account()
        self.client.set_balance(account.address, FUNDING_WEI)
        return NonceManager(self.client, account)

    def row(self, what: str, gas: int, note: str = "") -> None:
        """Record one measured figure."""
        self.rows.append((what, gas, note))

    def measure(self, what: str, action: Callable[[], TxOutcome], note: str = "") -> TxOutcome:
        """Run ``action`` and record its gas."""
        outcome = action()
        self.row(what, outcome.gas_used, note)
        return outcome


def governance(bench: Bench) -> tuple[NonceManager, NonceManager, NonceManager, NonceManager]:
    """Measure every governance path; returns (ZJ admin, ZJ writer, GD admin, GD writer)."""
    registry, (g0, g1, g2) = bench.registry, bench.governors
    zj_admin, zj_writer, gd_admin, gd_writer = (bench.sender() for _ in range(4))

    first = registry.propose_admit_issuer(g0, ZJ, 330000, "浙江省", zj_admin.address)
    bench.row("propose (AdmitIssuer; counts as 1st approval)", first.tx.gas_used)
    admitted = registry.approve(g1, first.proposal_id)
    bench.row("approve, executing AdmitIssuer", admitted.tx.gas_used)
    second = registry.propose_admit_issuer(g0, GD, 440000, "广东省", gd_admin.address)
    registry.approve(g1, second.proposal_id)

    pending = registry.propose_suspend_issuer(g0, GD)
    bench.row("propose (SuspendIssuer)", pending.tx.gas_used)
    bench.row(
        "approve, executing SuspendIssuer", registry.approve(g1, pending.proposal_id).tx.gas_used
    )
    pending = registry.propose_reinstate_issuer(g0, GD)
    bench.row(
        "approve, executing ReinstateIssuer", registry.approve(g1, pending.proposal_id).tx.gas_used
    )
    spare = bench.sender()
    pending = registry.propose_replace_admin(g0, GD, spare.address)
    bench.row(
        "approve, executing ReplaceIssuerAdmin",
        registry.approve(g1, pending.proposal_id).tx.gas_used,
    )
    pending = registry.propose_replace_admin(g0, GD, gd_admin.address)
    registry.approve(g1, pending.proposal_id)

    extra = bench.sender()
    pending = registry.propose_add_governor(g0, extra.address)
    bench.row("propose (AddGovernor)", pending.tx.gas_used)
    bench.row(
        "approve, executing AddGovernor", registry.approve(g1, pending.proposal_id).tx.gas_used
    )
    pending = registry.propose_set_threshold(g0, 3)
    bench.row(
        "approve, executing SetThreshold", registry.approve(g1, pending.proposal_id).tx.gas_used
    )
    pending = registry.propose_set_threshold(g0, 2)
    waiting = registry.approve(g1, pending.proposal_id)
    bench.row("approve, not yet executing (2 of 3)", waiting.tx.gas_used)
    registry.approve(g2, pending.proposal_id)
    pending = registry.propose_remove_governor(g0, extra.address)
    bench.row(
        "approve, executing RemoveGovernor", registry.approve(g1, pending.proposal_id).tx.gas_used
    )

    bench.measure("addWriter", lambda: registry.add_writer(zj_admin, ZJ, zj_writer.address))
    registry.add_writer(gd_admin, GD, gd_writer.address)
    temporary = bench.sender()
    registry.add_writer(zj_admin, ZJ, temporary.address)
    bench.measure("retireWriter", lambda: registry.retire_writer(zj_admin, ZJ, temporary.address))
    bench.measure("addKey", lambda: registry.add_key(zj_admin, ZJ, "key-1", point()))
    registry.add_key(zj_admin, ZJ, "key-2", point())
    bench.measure("retireKey", lambda: registry.retire_key(zj_admin, ZJ, "key-2"))
    bench.measure(
        "markKeyCompromised",
        lambda: registry.mark_key_compromised(zj_admin, ZJ, "key-2", int(time.time()) - 3600),
    )
    return zj_admin, zj_writer, gd_admin, gd_writer


def audit(bench: Bench, writer: NonceManager) -> None:
    """Measure checkpoints and an epoch reset."""
    registry, (g0, g1, _) = bench.registry, bench.governors
    bench.measure(
        "appendCheckpoint (first of a log)",
        lambda: bench.audit.append_checkpoint(writer, ZJ, 10, rand32()),
    )
    bench.measure(
        "appendCheckpoint (later)",
        lambda: bench.audit.append_checkpoint(writer, ZJ, 20, rand32()),
    )
    pending = registry.propose_reset_audit_epoch(g0, bench.audit.address, ZJ)
    bench.row(
        "approve, executing ResetAuditEpoch (calls AuditAnchor.resetEpoch)",
        registry.approve(g1, pending.proposal_id).tx.gas_used,
    )


def single_anchor_gas(bench: Bench, writer: NonceManager, count: int) -> list[int]:
    """Gas of ``count`` transactions that each anchor one credential digest as its own root."""
    contract = bench.credential.contract
    gas_limit = writer.estimate_gas(
        contract.address, contract.encode("anchor", ZJ, rand32(), 1, rand32())
    )
    hashes = [
        writer.send(
            contract.address,
            contract.encode("anchor", ZJ, rand32(), 1, rand32()),
            gas=gas_limit,
        ).tx_hash
        for _ in range(count)
    ]
    return [int(r["gasUsed"], 16) for r in writer.wait_all(hashes, timeout=600)]


def anchoring(bench: Bench, writer: NonceManager, baseline_sample: int) -> list[list[str]]:
    """Gas per credential by batch size, beside one transaction per digest."""
    table = []
    for n in BATCH_SIZES:
        batch = bench.credential.anchor(writer, ZJ, rand32(), n, rand32())
        if n == 1:
            bench.row("anchor (one root)", batch.gas_used, f"target <= {ROOT_TARGET:,}")
        measured = min(n, baseline_sample)
        singles = single_anchor_gas(bench, writer, measured)
        baseline = statistics.fmean(singles)
        per_credential = batch.gas_used / n
        note = "" if measured == n else f" (mean of {measured:,} measured)"
        table.append(
            [
                f"{n:,}",
                f"{batch.gas_used:,}",
                f"{per_credential:,.1f}",
                f"{baseline * n:,.0f}{note}",
                f"{baseline:,.0f}",
                f"{baseline / per_credential:,.0f}x",
            ]
        )
    return table


def statuses(bench: Bench, writer: NonceManager) -> list[list[str]]:
    """Gas per digest of bulk status changes, beside one transaction per digest."""
    anchor = bench.credential
    single: dict[str, int] = {}
    digest = rand32()
    single["suspend"] = bench.measure(
        "suspend (one digest)", lambda: anchor.suspend(writer, ZJ, digest, 1)
    ).gas_used
    single["reinstate"] = bench.measure(
        "reinstate (one digest)", lambda: anchor.reinstate(writer, ZJ, digest, 0)
    ).gas_used
    single["revoke"] = bench.measure(
        "revoke (one digest, from None)", lambda: anchor.revoke(writer, ZJ, rand32(), 4)
    ).gas_used
    table = []
    digests = [rand32() for _ in range(MAX_BATCH)]
    for name, call in (
        ("suspendBatch", anchor.suspend_batch),
        ("reinstateBatch", anchor.reinstate_batch),
    ):
        outcome = call(writer, ZJ, digests, 2)
        per = outcome.gas_used / len(digests)
        bench.row(f"{name} ({len(digests):,} digests)", outcome.gas_used, f"{per:,.0f} per digest")
        base = single[name.removesuffix("Batch")]
        table.append(
            [name, f"{len(digests):,}", f"{per:,.0f}", f"{base:,}", f"{base / per:.2f}x", ""]
        )
    for size in (100, MAX_BATCH):
        fresh = [rand32() for _ in range(size)]
        outcome = anchor.revoke_batch(writer, ZJ, fresh, 4)
        per = outcome.gas_used / size
        bench.row(
            f"revokeBatch ({size:,} digests)",
            outcome.gas_used,
            f"{per:,.0f} per digest; target <= {REVOKE_TARGET:,}",
        )
        base = single["revoke"]
        verdict = "meets" if per <= REVOKE_TARGET else "MISSES"
        table.append(
            [
                "revokeBatch",
                f"{size:,}",
                f"{per:,.0f}",
                f"{base:,}",
                f"{base / per:.2f}x",
                f"{verdict} <= {REVOKE_TARGET:,}",
            ]
        )
    return table


def markdown(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=1_000,
        help="most one-digest-per-transaction anchors sent per batch size (default 1000)",
    )
    args = parser.parse_args(argv)
    anvil_binary()  # fail early with the install hint
    node = start_anvil(CHAIN_ID)
    started = time.perf_counter()
    try:
        client = ChainClient(node.url, CHAIN_ID)
        version = str(client.rpc("web3_clientVersion"))
        bench = Bench(client)
        _, zj_writer, _, _ = governance(bench)
        audit(bench, zj_writer)
        anchor_rows = anchoring(bench, zj_writer, args.baseline_sample)
        status_rows = statuses(bench, zj_writer)
    finally:
        node.stop()
    root_gas = next(g for what, g, _ in bench.rows if what == "anchor (one root)")
    per_credential_1000 = float(anchor_rows[2][2].replace(",", ""))
    revoke_1000 = float(status_rows[-1][2].replace(",", ""))

    print(f"# Gas ({version}, evm shanghai, solc 0.8.28 optimizer 200 runs; {platform.machine()})")
    print()
    print("## Every state-changing function")
    print()
    print(
        markdown(
            ["function", "gas", "note"],
            [[what, f"{gas:,}", note] for what, gas, note in bench.rows],
        )
    )
    print()
    print("## Anchoring: one root per batch vs one transaction per credential digest")
    print()
    print(
        markdown(
            [
                "credentials in batch",
                "gas (one root)",
                "gas per credential",
                "baseline gas (1 tx per digest)",
                "baseline per credential",
                "saving",
            ],
            anchor_rows,
        )
    )
    print()
    print("## Status changes: arrays vs one transaction per digest")
    print()
    print(
        markdown(
            ["function", "digests", "gas per digest", "one tx per digest", "saving", "target"],
            status_rows,
        )
    )
    print()
    checks = [
        (f"anchored root {root_gas:,} gas <= {ROOT_TARGET:,}", root_gas <= ROOT_TARGET),
        (
            f"{per_credential_1000:,.1f} gas per credential at batch 1,000"
            f" <= {PER_CREDENTIAL_TARGET}",
            per_credential_1000 <= PER_CREDENTIAL_TARGET,
        ),
        (
            f"bulk revocation {revoke_1000:,.0f} gas per digest <= {REVOKE_TARGET:,}",
            revoke_1000 <= REVOKE_TARGET,
        ),
    ]
    for text, ok in checks:
        print(f"- {'meets' if ok else 'MISSES'}: {text}")
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
