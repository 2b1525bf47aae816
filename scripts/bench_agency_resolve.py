"""Benchmark choosing the issuing agency of an issuance (#16), against baselines of the same run.

    .venv/bin/python scripts/bench_agency_resolve.py [--agencies 1000]

On a fresh SQLite store with ``--agencies`` registered agencies (the first
issues degree certificates, the others business licences), it times
``api.province.issuing_agency.issuing_agency``: an agency named in the
request; left out, for a client that names 5 agencies; left out, for a client
of every agency of the province (those migrated from before agencies). Beside
them, in the same run: an empty read transaction (``SELECT 1``: the least any
store lookup costs) and one SM2 signature (what every issuance pays at least
once), so the share of an issuance the agency adds can be read off.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from api.province.clients import ClientRegistry, Role
from api.province.issuing_agency import issuing_agency
from credentials.zhengzhao.agencies import add_agency
from credentials.zhengzhao.check_characters import uscc_check_character
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.sqlite import SqliteDatabase

DEGREE = "degree-certificate"


def _per_call_us(fn: Callable[[], object], calls: int) -> float:
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    """Print the figures (microseconds per call)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agencies", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        db = SqliteDatabase(Path(directory) / "store.sqlite")
        try:
            registry = ClientRegistry(db)
            codes = []
            for n in range(args.agencies):
                first17 = f"11330000TB{n:07d}"
                code = first17 + uscc_check_character(first17)
                codes.append(code)
                add_agency(db, code, f"机构{n}", [DEGREE] if n == 0 else ["business-licence"])
            five = registry.create("a", "330000", [Role.ISSUER], client_id="a", agencies=codes[:5])
            every = registry.create("b", "330000", [Role.ISSUER], client_id="b", agencies=None)

            def empty_read() -> None:
                with db.read() as tx:
                    tx.fetchone("SELECT 1")

            key = Sm2PrivateKey.generate()
            rows = [
                ("baseline: empty read transaction", _per_call_us(empty_read, args.calls)),
                (
                    "baseline: one SM2 signature",
                    _per_call_us(lambda: key.sign(b"x" * 200), max(args.calls // 5, 1)),
                ),
                (
                    "agency named",
                    _per_call_us(
                        lambda: issuing_agency(db, five.client, DEGREE, codes[0], field="/a"),
                        args.calls,
                    ),
                ),
                (
                    "left out, client of 5 agencies",
                    _per_call_us(
                        lambda: issuing_agency(db, five.client, DEGREE, None, field="/a"),
                        args.calls,
                    ),
                ),
                (
                    f"left out, client of every agency ({args.agencies})",
                    _per_call_us(
                        lambda: issuing_agency(db, every.client, DEGREE, None, field="/a"),
                        args.calls,
                    ),
                ),
            ]
        finally:
            db.close()
    for label, micros in rows:
        print(f"{label:<48} {micros:10.1f} us")


if __name__ == "__main__":
    main()
