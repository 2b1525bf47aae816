"""What 证照标识 allocation costs issuance, on SQLite and PostgreSQL, against a same-run baseline.

For each engine (SQLite in a temporary file; PostgreSQL in a throw-away durable
cluster on 127.0.0.1, ``tests/helpers/postgres.py``) it issues ``--credentials``
degree certificates in calls of ``--batch`` through ``CredentialIssuer.issue_many``
(signing in process, status list entries on as in the service), rounds
interleaved:

- **baseline**: the requests name no agency, so no identifier is allocated;
- **with 证照标识**: the same requests for an agency (two agencies alternating),
  so every call also allocates (in the transaction that reserves the status list
  slots), builds the member, and binds each identifier in the store transaction.

It prints the median of ``--rounds`` rounds per case (credentials/s and ms per
call) and the difference, plus ``allocate`` alone (identifiers/s in calls of
``--batch``). A benchmark, not a test.

    .venv/bin/python scripts/bench_zhengzhao_allocation.py [--credentials 2000] [--batch 50]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from credentials.credential import IssueRequest
from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.issuance import CredentialIssuer, IssuerConfig
from credentials.templates import TEMPLATES, get_template
from credentials.zhengzhao import serials
from credentials.zhengzhao.profile import Agency, NationalMetadata
from ledger.crypto import sm4
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.database import Database
from ledger.store.postgres import PostgresDatabase
from ledger.store.sqlite import SqliteDatabase

TEMPLATE = "bench-zhengzhao-degree"
STATUS_BASE = "https://zj.example.gov.cn/tongban"
"""Status lists on, as in the service: slots and identifiers share one transaction."""
NATIONAL = NationalMetadata("11100000000013338W011", "学位证书", "教育部", "B")
AGENCIES = (Agency("11430000006122244L", "甲"), Agency("11330105002500287C", "乙"))
CLAIMS = {
    "holderName": "张三",
    "gender": "male",
    "dateOfBirth": "2000-01-02",
    "degreeLevel": "bachelor",
    "degreeName": "工学学士",
    "fieldOfStudy": "计算机科学与技术",
    "awardingInstitution": "浙江大学",
    "conferralDate": "2022-06-30",
    "certificateNumber": "1033512022000123",
    "studyMode": "full-time",
}


def _issuer(db: Database) -> CredentialIssuer:
    config = IssuerConfig(31337, 1, "0x" + "11" * 20, jurisdiction="330000")
    signer = LocalSigner(f"{issuer_did(31337, 1)}#key-1", Sm2PrivateKey.generate())
    return CredentialIssuer(
        db, config, signer, data_key=sm4.generate_key(), status_base=lambda: STATUS_BASE
    )


def _calls(count: int, batch: int, agencies: bool) -> list[list[IssueRequest]]:
    holders = [Holder.generate().did for _ in range(8)]
    requests = [
        IssueRequest(
            TEMPLATE,
            holders[i % len(holders)],
            CLAIMS,
            agency=AGENCIES[i % 2] if agencies else None,
        )
        for i in range(count)
    ]
    return [requests[i : i + batch] for i in range(0, count, batch)]


def _timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _issue_all(issuer: CredentialIssuer, calls: list[list[IssueRequest]]) -> None:
    for requests in calls:
        issuer.issue_many(requests)


def _allocate_all(db: Database, calls: int, per_call: int) -> None:
    pairs = [(NATIONAL.type_code, a.code) for a in AGENCIES]
    for _ in range(calls):
        serials.allocate_many(db, dict.fromkeys(pairs, per_call))


def _engine(db: Database, args: argparse.Namespace) -> dict[str, list[float]]:
    issuer = _issuer(db)
    times: dict[str, list[float]] = {"baseline": [], "with 证照标识": [], "allocate alone": []}
    calls = max(1, args.credentials // args.batch)
    # Warm-up, not timed: the first status list, the first counters, caches.
    for agencies in (False, True):
        _issue_all(issuer, _calls(args.batch, args.batch, agencies))
    for _ in range(args.rounds):
        for case, agencies in (("baseline", False), ("with 证照标识", True)):
            work = _calls(args.credentials, args.batch, agencies)
            times[case].append(_timed(functools.partial(_issue_all, issuer, work)))
        allocate = functools.partial(_allocate_all, db, calls, max(1, args.batch // 2))
        times["allocate alone"].append(_timed(allocate))
    return times


def _report(engine: str, times: dict[str, list[float]], args: argparse.Namespace) -> None:
    calls = max(1, args.credentials // args.batch)
    base = statistics.median(times["baseline"])
    print(
        f"{engine}: {args.credentials} credentials in calls of {args.batch}, {args.rounds} rounds"
    )
    for case, values in times.items():
        median = statistics.median(values)
        rate, per_call = args.credentials / median, 1000 * median / calls
        line = f"  {case:<16} {rate:8.0f} /s  {per_call:7.2f} ms/call"
        if case == "with 证照标识":
            line += f"  ({100 * (median - base) / base:+.1f} % against the baseline)"
        print(line)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on both engines (``--sqlite-only`` skips PostgreSQL)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    if args.credentials < 1 or not 1 <= args.batch <= args.credentials or args.rounds < 1:
        print("--credentials, --batch and --rounds must be positive, batch <= credentials")
        return 2
    template = get_template("degree-certificate")
    TEMPLATES[TEMPLATE] = dataclasses.replace(template, name=TEMPLATE, national=NATIONAL)
    with tempfile.TemporaryDirectory() as directory:
        sqlite = SqliteDatabase(Path(directory) / "store.sqlite")
        try:
            _report("sqlite", _engine(sqlite, args), args)
        finally:
            sqlite.close()
    if args.sqlite_only:
        return 0
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.helpers.postgres import start_cluster

    cluster = start_cluster(durable=True)
    try:
        name = cluster.create_database()
        postgres = PostgresDatabase(cluster.url(name))
        try:
            _report("postgresql", _engine(postgres, args), args)
        finally:
            postgres.close()
        cluster.drop_database(name)
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
