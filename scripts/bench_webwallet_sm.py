"""Time the browser wallet's SM2/SM3 module under node against ledger/crypto, in the same run.

    python scripts/bench_webwallet_sm.py [--rounds N]

The module is the committed bundle ``api/webwallet/static/sm.js`` (what browsers load); node's
V8 stands in for the browser's. The baseline is ledger/crypto on the same machine in the same
run (OpenSSL's SM2, and its SM3), so the figures compare like with like on a shared machine.
Prints microseconds per operation; nothing is asserted (docs/browser-crypto.md quotes a run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from api.webwallet import SM_MODULE
from ledger.crypto import sm2
from ledger.crypto.sm3 import sm3

# Reads the bundle from a data: URL (it imports nothing), warms up, then times each operation.
NODE_BENCH = """
import { readFileSync } from "node:fs";
const [bundle, rounds] = JSON.parse(readFileSync(0, "utf8"));
const sm = await import("data:text/javascript;base64," + readFileSync(bundle).toString("base64"));
const message = new Uint8Array(200).map((_, i) => i);
const kib = new Uint8Array(1024);
const key = sm.generateKey();
const pub = sm.publicKeyOf(key);
const sig = sm.sign(key, message);
const ops = {
  "generate key + public key": () => sm.publicKeyOf(sm.generateKey()),
  "sign (200 B)": () => sm.sign(key, message),
  "verify (200 B)": () => { if (!sm.verify(pub, message, sig)) throw new Error("verify"); },
  "SM3 (1 KiB)": () => sm.sm3(kib),
};
const out = {};
for (const [name, op] of Object.entries(ops)) {
  for (let i = 0; i < 20; i++) op();
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) op();
  out[name] = Number(process.hrtime.bigint() - start) / 1000 / rounds;
}
process.stdout.write(JSON.stringify(out));
"""


def _python_figures(rounds: int) -> dict[str, float]:
    """Microseconds per operation for ledger/crypto, same operations as the node side."""
    message = bytes(range(200))
    kib = bytes(1024)
    key = sm2.generate_private_key()
    signature = key.sign(message)
    ops: dict[str, Callable[[], object]] = {
        "generate key + public key": sm2.generate_private_key,
        "sign (200 B)": lambda: key.sign(message),
        "verify (200 B)": lambda: key.public_key.verify(message, signature),
        "SM3 (1 KiB)": lambda: sm3(kib),
    }
    figures = {}
    for name, op in ops.items():
        for _ in range(20):
            op()
        start = time.perf_counter_ns()
        for _ in range(rounds):
            op()
        figures[name] = (time.perf_counter_ns() - start) / 1000 / rounds
    return figures


def _node_figures(rounds: int) -> dict[str, float]:
    """Microseconds per operation for the bundle under node."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("error: node is missing (npm's node runs the bundle here)")
    completed = subprocess.run(
        [node, "--input-type=module", "-e", NODE_BENCH],
        input=json.dumps([str(SM_MODULE), rounds]),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"error: node failed: {completed.stderr.strip()}")
    figures: dict[str, float] = json.loads(completed.stdout)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run both sides and print a table."""
    parser = argparse.ArgumentParser(description="Time the browser SM2/SM3 module.")
    parser.add_argument("--rounds", type=int, default=300, help="timed calls per operation")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    js = _node_figures(args.rounds)
    py = _python_figures(args.rounds)
    size = SM_MODULE.stat().st_size
    print(f"api/webwallet/static/sm.js: {size} bytes; {args.rounds} rounds per operation")
    print(f"{'operation':28} {'sm.js (node)':>14} {'ledger (OpenSSL)':>17} {'ratio':>7}")
    for name in js:
        print(f"{name:28} {js[name]:11.0f} µs {py[name]:14.0f} µs {js[name] / py[name]:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
