"""Wallet command latency: with the passphrase (scrypt every time) and with the wallet agent.

    .venv/bin/python scripts/bench_wallet.py [--runs 7] [--credentials 10]

In one run: a throwaway wallet in a temporary directory, created by ``tongban
wallet create`` with the production scrypt parameters (n = 2^17), holding
``--credentials`` anchored degree certificates (issued locally by the test
issuer key, as the tests do). Each measured command is a real process of the
installed ``.venv/bin/tongban``, run ``--runs`` times; the figure is the
median wall time:

- ``wallet did``, ``wallet list`` and ``wallet present`` (one credential, two
  claims disclosed: the heaviest command that needs no province), first with
  ``TONGBAN_WALLET_PASSPHRASE`` and no agent, then after ``wallet unlock`` with
  no passphrase at all;
- ``wallet unlock`` itself (it pays the one scrypt run);
- the baseline: ``python -c pass``, the interpreter's own start.

The agent's socket goes under a temporary ``XDG_RUNTIME_DIR``; the agent is
locked (and its directory removed) at the end whatever happens. Prints a table
and a final JSON line with every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.client.wallet import Wallet  # noqa: E402
from credentials.anchor_proof import AnchorProof  # noqa: E402
from credentials.credential import (  # noqa: E402
    IssueRequest,
    credential_digest,
    issue_credential,
    with_anchor_proof,
)
from credentials.did import issuer_verification_method  # noqa: E402
from ledger.crypto.signer import LocalSigner  # noqa: E402
from ledger.merkle.hasher import SM3_TREE  # noqa: E402
from ledger.merkle.tree import MemoryTree  # noqa: E402
from tests.helpers.contracts import ZJ  # noqa: E402
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY  # noqa: E402

TONGBAN = str(Path(sys.executable).with_name("tongban"))
PASSPHRASE = "a throwaway benchmark passphrase"  # noqa: S105 (a throwaway wallet)
CHAIN_ID = 31337
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def anchored_credentials(holder: str, count: int) -> list[dict[str, Any]]:
    """``count`` degree certificates for ``holder``, anchored in one batch of their own."""
    signer = LocalSigner(issuer_verification_method(CHAIN_ID, ZJ, "key-1"), ZJ_KEY)
    issued = [
        issue_credential(
            IssueRequest(
                "degree-certificate",
                holder,
                {**DEGREE_CLAIMS, "certificateNumber": f"10335120220{i:05d}"},
            ),
            signer,
            chain_id=CHAIN_ID,
            issuer_id=ZJ,
            now_ms=1_780_000_000_000 + i,
        ).document
        for i in range(count)
    ]
    tree = MemoryTree(SM3_TREE)
    for credential in issued:
        tree.append_data(credential_digest(credential))
    anchored = []
    for index, credential in enumerate(issued):
        proof = AnchorProof(
            chain_id=CHAIN_ID,
            contract=CONTRACT,
            issuer_id=ZJ,
            root=tree.root(),
            leaf_index=index,
            tree_size=tree.size,
            audit_path=tuple(tree.inclusion_proof(index)),
            block_number=42,
        )
        anchored.append(with_anchor_proof(credential, proof.to_json()))
    return anchored


def run(command: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command``; stop the benchmark with its stderr if it fails."""
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed: {result.stderr.strip()}")
    return result


def median_seconds(command: Sequence[str], env: dict[str, str], runs: int) -> float:
    """The median wall time of ``runs`` runs of ``command`` (each checked)."""
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        run(command, env)
        durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def agent_running(pid: int) -> bool:
    """Whether ``pid`` is still a wallet agent (and not a process that reused its pid)."""
    try:
        return b"api.client.agent" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without any ``TONGBAN_*`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(extra)
    return env


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per command (median)")
    parser.add_argument("--credentials", type=int, default=10, help="credentials in the wallet")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")

    # Short, so that the agent's socket path fits in a Unix socket address.
    scratch = Path(tempfile.mkdtemp(prefix="tb-bench-", dir="/tmp"))
    runtime = scratch / "run"
    runtime.mkdir(mode=0o700)
    wallet = scratch / "wallet"
    env = clean_environment(XDG_RUNTIME_DIR=str(runtime), TONGBAN_WALLET=str(wallet))
    with_passphrase = {**env, "TONGBAN_WALLET_PASSPHRASE": PASSPHRASE}
    agent_pid: int | None = None
    try:
        holder = json.loads(run([TONGBAN, "wallet", "create", "--json"], with_passphrase).stdout)
        opened = Wallet.open(wallet, PASSPHRASE)
        credentials = anchored_credentials(holder["holder"], args.credentials)
        for credential in credentials:
            opened.receive(credential)
        digest = credential_digest(credentials[0]).hex()
        commands = {
            "wallet did": [TONGBAN, "wallet", "did"],
            "wallet list": [TONGBAN, "wallet", "list"],
            "wallet present": [
                TONGBAN,
                "wallet",
                "present",
                digest,
                "--claims",
                "degreeLevel,awardingInstitution",
                "--challenge",
                "bench-challenge",
                "--domain",
                "did:tongban:31337:2",
            ],
        }
        baseline = median_seconds([sys.executable, "-c", "pass"], env, args.runs)
        passphrase = {
            name: median_seconds(command, with_passphrase, args.runs)
            for name, command in commands.items()
        }
        started = time.perf_counter()
        unlocked = json.loads(
            run([TONGBAN, "wallet", "unlock", "--for", "30m", "--json"], with_passphrase).stdout
        )
        unlock_seconds = time.perf_counter() - started
        agent_pid = int(unlocked["agentPid"])
        agent = {
            name: median_seconds(command, env, args.runs) for name, command in commands.items()
        }
    finally:
        subprocess.run([TONGBAN, "wallet", "lock"], env=env, capture_output=True, timeout=60)
        if agent_pid is not None and agent_running(agent_pid):  # lock could not reach it
            with contextlib.suppress(ProcessLookupError):
                os.kill(agent_pid, signal.SIGTERM)
        shutil.rmtree(scratch, ignore_errors=True)

    print(
        f"{args.credentials} credentials in the wallet, median of {args.runs} runs, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"baseline: python -c pass            {baseline:6.3f} s")
    print(f"wallet unlock (scrypt once, agent)  {unlock_seconds:6.3f} s (one run)")
    print()
    print(
        f"{'command':<16} {'passphrase':>11} {'agent':>8} {'speed-up':>9} {'agent - baseline':>17}"
    )
    for name in commands:
        print(
            f"{name:<16} {passphrase[name]:>9.3f} s {agent[name]:>6.3f} s "
            f"{passphrase[name] / agent[name]:>8.1f}x {agent[name] - baseline:>15.3f} s"
        )
    print(
        json.dumps(
            {
                "runs": args.runs,
                "credentials": args.credentials,
                "baselineSeconds": round(baseline, 4),
                "unlockSeconds": round(unlock_seconds, 4),
                "passphraseSeconds": {k: round(v, 4) for k, v in passphrase.items()},
                "agentSeconds": {k: round(v, 4) for k, v in agent.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
