"""Issuance end to end beside OpenAttestation's ``wrapDocuments``, in the same run (issue #14).

Run through ``scripts/bench_issuance.py --openattestation`` (or this file directly,
same options). Starts its own anvil and consortium (``bench_issuance.setup_chain``),
installs ``@govtechsg/open-attestation`` (the version pinned in
``scripts/openattestation/package-lock.json``) on first use with
``npm ci --prefix scripts/openattestation`` (node_modules is git-ignored; the test
suite never installs it), then runs ``--rounds`` rounds, each of:

1. **Tongban**: ``--credentials`` degree certificates issued end to end (build, SM2
   sign in a ``SigningPool``, store sealed, batch, anchor through the outbox, wait
   for finality, anchor proofs available) into a fresh store. CPU is this process
   plus its signing workers (``/proc``, user + system); anvil's CPU is shown apart.
2. **OpenAttestation**: ``scripts/openattestation/wrap.mjs`` builds the same number of
   v2 documents carrying the same claims (template made from a Tongban credential
   of this run) and wraps them in one ``wrapDocuments`` call (one Merkle batch);
   CPU is the Node process's ``process.cpuUsage()`` for the wrap. Then this script
   sends **one transaction** carrying the ``merkleRoot`` to the same anvil and waits
   for it to be mined ("one anchor per batch"; a plain transaction with the root as
   calldata, not a DocumentStore contract call). Its wall time is added to the wrap's;
   its CPU (this process's and anvil's) is not counted on either side.

Also in the same run: SM2 signing cost (``ledger.crypto.sm2.sign`` in a loop, process
CPU per call), subtracted from Tongban's CPU per credential to give its CPU per
credential outside the SM2 signature.

OpenAttestation signs nothing (no issuer signature per document: trust is the root
on chain plus DNS-TXT identity), keeps no store, no status entries and no
encryption, so the ratio compares unequal work; read it with that in mind.

    .venv/bin/python scripts/bench_issuance.py --openattestation [--credentials 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from bench_issuance import (  # noqa: E402
    CHAIN_ID,
    ZJ,
    Chain,
    issue_end_to_end,
    issuing_province,
    requests,
    sender,
    setup_chain,
)

from credentials.did import issuer_did  # noqa: E402
from credentials.holder import Holder  # noqa: E402
from credentials.signing import SigningPool  # noqa: E402
from ledger.chain.node.client import ChainClient  # noqa: E402
from ledger.chain.node.processes import start_anvil  # noqa: E402
from ledger.crypto import sm2  # noqa: E402
from ledger.crypto.sm2 import Sm2PrivateKey  # noqa: E402

NODE_DIR = ROOT / "openattestation"
WRAP_SCRIPT = NODE_DIR / "wrap.mjs"
PACKAGE_JSON = NODE_DIR / "node_modules" / "@govtechsg" / "open-attestation" / "package.json"
TICKS = os.sysconf("SC_CLK_TCK")


def ensure_installed() -> str:
    """Install the pinned npm package into scripts/openattestation/node_modules once."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise SystemExit("--openattestation needs node and npm on PATH")
    if not PACKAGE_JSON.exists():
        print(f"# installing {NODE_DIR.relative_to(ROOT.parent)} (npm ci, first use)")
        subprocess.run(
            ["npm", "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    version: str = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["version"]
    return version


def oa_template(credential: dict[str, Any], document_store: str) -> dict[str, Any]:
    """An OpenAttestation v2 document with the claims and parties of a Tongban credential."""
    subject = dict(credential.get("credentialSubject", {}))
    holder = subject.pop("id", "")
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id", "") if isinstance(issuer, dict) else str(issuer or "")
    return {
        "$template": {
            "name": "degree-certificate",
            "type": "EMBEDDED_RENDERER",
            "url": "https://renderer.zj.example",
        },
        "issuers": [
            {
                "id": issuer_id,
                "name": "浙江省教育厅",
                "documentStore": document_store,
                "identityProof": {"type": "DNS-TXT", "location": "zj.example"},
            }
        ],
        "recipient": {"id": holder, "name": subject.get("holderName", "")},
        "issuanceDate": credential.get("validFrom", credential.get("issuanceDate", "")),
        **subject,
    }


def run_wrap(count: int, template: dict[str, Any]) -> dict[str, Any]:
    """Run wrap.mjs for ``count`` documents; its JSON result."""
    done = subprocess.run(
        ["node", str(WRAP_SCRIPT), str(count)],
        input=json.dumps(template, ensure_ascii=False),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (from /proc; threads included)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
        except FileNotFoundError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def children() -> list[int]:
    """This process's child pids (signing workers, anvil, ...)."""
    pids: list[int] = []
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        text = (task / "children").read_text(encoding="ascii")
        pids += [int(p) for p in text.split()]
    return pids


def sm2_sign_cpu_ms(message: bytes, seconds: float = 1.0) -> float:
    """Process CPU per ``sm2.sign`` (OpenSSL), one thread, this message size."""
    key = Sm2PrivateKey.generate()
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        sm2.sign(key, message)
        count += 1
    return (time.process_time() - cpu) * 1000 / count


@dataclass
class Round:
    tongban_s: float
    tongban_cpu_s: float
    anvil_cpu_s: float
    oa: dict[str, Any]
    anchor_s: float


def compare(args: argparse.Namespace) -> int:
    """The interleaved rounds and their table; see the module docstring."""
    version = ensure_installed()
    python = sys.version.split()[0]
    print(
        f"# bench_issuance --openattestation: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {python}, @govtechsg/open-attestation {version}"
    )
    node = start_anvil(CHAIN_ID)
    workdir = Path(tempfile.mkdtemp(prefix="bench-oa-"))
    try:
        chain = setup_chain(ChainClient(node.url, CHAIN_ID))
        holders = [Holder.generate() for _ in range(200)]
        key_id = f"{issuer_did(CHAIN_ID, ZJ)}#key-1"
        rounds, sign_cpu_ms, tongban_bytes = run_rounds(
            args, chain, holders, key_id, workdir, node.pid
        )
    finally:
        node.stop()
    report(args, rounds, sign_cpu_ms, tongban_bytes)
    return 0


def run_rounds(
    args: argparse.Namespace,
    chain: Chain,
    holders: list[Holder],
    key_id: str,
    workdir: Path,
    anvil_pid: int,
) -> tuple[list[Round], float, int]:
    """Warm up, measure SM2 signing, then the interleaved rounds."""
    anchor_account = sender(chain.client)
    rounds: list[Round] = []
    with SigningPool(key_id, chain.zj_key, workers=args.workers, chunk=100) as pool:
        warm = issuing_province(chain, workdir / "warm.sqlite", args.batch, pool)
        _, sample, _ = issue_end_to_end(warm, requests(holders, 400), 400)
        credential = warm.issuer.credential(sample[0].digest)
        document = json.dumps(credential, ensure_ascii=False).encode()
        template = oa_template(credential, chain.consortium.credential_anchor.address)
        sign_cpu_ms = sm2_sign_cpu_ms(document)
        for number in range(args.rounds):
            province = issuing_province(chain, workdir / f"zj-{number}.sqlite", args.batch, pool)
            work = requests(holders, args.credentials)
            ours = [os.getpid()] + [p for p in children() if p != anvil_pid]
            cpu, anvil = cpu_of(ours), cpu_of([anvil_pid])
            elapsed, _, _ = issue_end_to_end(province, work, args.batch // 2)
            tongban_cpu, anvil_cpu = cpu_of(ours) - cpu, cpu_of([anvil_pid]) - anvil
            province.db.close()
            oa = run_wrap(args.credentials, template)
            start = time.perf_counter()
            anchor_account.transact(anchor_account.address, bytes.fromhex(oa["merkle_root"][2:]))
            anchor_s = time.perf_counter() - start
            rounds.append(Round(elapsed, tongban_cpu, anvil_cpu, oa, anchor_s))
            print_round(args, number + 1, rounds[-1])
    return rounds, sign_cpu_ms, len(document)


def print_round(args: argparse.Namespace, number: int, r: Round) -> None:
    n = args.credentials
    oa_s = r.oa["wrap_wall_s"] + r.anchor_s
    print(
        f"round {number}: Tongban {n / r.tongban_s:,.0f}/s, "
        f"{r.tongban_cpu_s * 1000 / n:.3f} ms CPU each (anvil {r.anvil_cpu_s * 1000 / n:.3f}); "
        f"OpenAttestation {n / oa_s:,.0f}/s (wrap {r.oa['wrap_wall_s']:.3f} s + anchor "
        f"{r.anchor_s * 1000:.0f} ms), {r.oa['cpu_ms_per_document']:.3f} ms CPU each; "
        f"ratio {(n / r.tongban_s) / (n / oa_s):.2f}"
    )


def report(
    args: argparse.Namespace, rounds: list[Round], sign_cpu_ms: float, tongban_bytes: int
) -> None:
    """The summary table (median and range over rounds)."""
    n = args.credentials
    ours = [n / r.tongban_s for r in rounds]
    theirs = [n / (r.oa["wrap_wall_s"] + r.anchor_s) for r in rounds]
    wrap_only = [n / r.oa["wrap_wall_s"] for r in rounds]
    our_cpu = [r.tongban_cpu_s * 1000 / n for r in rounds]
    their_cpu = [float(r.oa["cpu_ms_per_document"]) for r in rounds]
    outside = [c - sign_cpu_ms for c in our_cpu]
    ratio = [a / b for a, b in zip(ours, theirs, strict=True)]
    cpu_ratio = [a / b for a, b in zip(our_cpu, their_cpu, strict=True)]

    def span(values: list[float], fmt: str = ",.0f") -> str:
        low, mid, high = min(values), statistics.median(values), max(values)
        return f"{mid:{fmt}} ({low:{fmt}}-{high:{fmt}})"

    oa = rounds[0].oa
    print()
    print(
        f"{len(rounds)} rounds of {n:,} credentials, batch {args.batch:,}, "
        f"{args.workers} signing workers; median (min-max)"
    )
    print("| what | measured |")
    print("|---|---|")
    for what, value in (
        ("Tongban issuance end to end (signed, stored, anchored, final)", span(ours) + " /s"),
        ("Tongban CPU per credential (process + signing workers)", span(our_cpu, ".3f") + " ms"),
        ("same-run SM2 sign, CPU per call (OpenSSL)", f"{sign_cpu_ms:.3f} ms"),
        ("Tongban CPU per credential outside the SM2 signature", span(outside, ".3f") + " ms"),
        (
            "Tongban anvil CPU per credential (not counted above)",
            span([r.anvil_cpu_s * 1000 / n for r in rounds], ".3f") + " ms",
        ),
        (f"OpenAttestation {oa['version']} wrapDocuments + one anchor tx", span(theirs) + " /s"),
        ("OpenAttestation wrapDocuments alone", span(wrap_only) + " /s"),
        (
            "OpenAttestation one anchor transaction (mined)",
            span([r.anchor_s * 1000 for r in rounds], ".0f") + " ms",
        ),
        (
            "OpenAttestation CPU per document (Node process.cpuUsage, wrap)",
            span(their_cpu, ".3f") + " ms",
        ),
        ("ratio Tongban / OpenAttestation, credentials/s", span(ratio, ".2f")),
        ("ratio Tongban / OpenAttestation, CPU per credential", span(cpu_ratio, ".2f")),
        (
            "document bytes: Tongban credential / OA raw / OA wrapped",
            (
                f"{tongban_bytes:,} / {oa['raw_bytes_per_document']:,} / "
                f"{oa['wrapped_bytes_per_document']:,}"
            ),
        ),
    ):
        print(f"| {what} | {value} |")
    print(
        "\nOpenAttestation signs nothing per document, stores nothing, writes no status "
        "entry and encrypts nothing; its anchor here is one plain transaction carrying "
        "the root (CPU not counted on either side)."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds")
    return compare(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
