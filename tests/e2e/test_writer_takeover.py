"""Several hosts per province (issue #15): API hosts, writers, takeover and fencing.

One province on one anvil and one PostgreSQL database. ``tongban serve``
(role ``all``) first deploys and provisions it and is stopped; then each
host is a ``tongban serve --role api|writer`` of its own, with its own data
directory (the province's keys copied in, as an operator would), joined by
the contract addresses, with a writer lease of ``LEASE_S`` seconds.

- Fencing: writer A holds the lease, writer B waits. A is paused (SIGSTOP)
  past its lease; B takes over and anchors; A is resumed (SIGCONT) while
  there is work, logs that it lost the lease, and every transaction the
  province's account sent after the split is one outbox row's, once.
- Failover: two API hosts and two writers under issuance and verification
  load; the active writer and one API host are killed (SIGKILL) mid-load;
  the clients go on against the other host, the standby writer takes over,
  and at the end every acknowledged credential is stored once and anchored
  once, every answered verification has its access event, and the exported
  audit log verifies against the chain.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.client.remote import RemoteApi, RemoteApiError
from credentials.holder import Holder
from credentials.issuance.records import BATCH_KIND
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import NodeProcess, start_anvil
from tests.helpers.agencies import TEST_AGENCY, TEST_AGENCY_NAME
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, Served, T, e2e_env, kill_service, serve, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CHAIN_ID = 31337
LEASE_S = 2
ISSUING = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}
VERIFYING = {"X-Purpose": "cross-province.enrolment", "X-Legal-Basis": "prc.pipl.art13"}


def _wait(what: str, check: Callable[[], T | None], timeout: float = 60.0) -> T:
    return wait_for(what, check, timeout=timeout, interval=0.1)


def _cli(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [TONGBAN, *args],
        capture_output=True,
        text=True,
        env=e2e_env(**settings),
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (args, result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


@dataclass
class Province:
    """A provisioned province split into hosts: where everything is and what runs."""

    root: Path
    node: NodeProcess
    database: str
    contracts: dict[str, str]
    account: str
    split_block: int
    """The chain head when the split roles started: later transactions are theirs."""
    token: str
    hosts: list[Served] = field(default_factory=list)

    def settings(self, **extra: str) -> dict[str, str]:
        """The settings every host of the province shares."""
        return {
            "TONGBAN_CHAIN": self.node.url,
            "TONGBAN_CHAIN_ID": str(CHAIN_ID),
            "TONGBAN_DATABASE_URL": self.database,
            "TONGBAN_REGISTRY": self.contracts["IssuerRegistry"],
            "TONGBAN_CREDENTIAL_ANCHOR": self.contracts["CredentialAnchor"],
            "TONGBAN_AUDIT_ANCHOR": self.contracts["AuditAnchor"],
            "TONGBAN_WRITER_LEASE_SECONDS": str(LEASE_S),
            "TONGBAN_WORKERS": "1",
            **extra,
        }

    def start(self, name: str, role: str) -> Served:
        """Start a host ``name`` in ``role`` on a data directory of its own."""
        data = self.root / name
        if not data.exists():
            shutil.copytree(self.root / "first" / "keys", data / "keys")
        host = serve(
            self.root / f"{name}.log",
            "--role",
            role,
            "--data-dir",
            str(data),
            **self.settings(),
        )
        self.hosts.append(host)
        return host

    def rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` read directly from the province's database."""
        with psycopg.connect(self.database) as connection:
            return connection.execute(sql, params or None).fetchall()

    def lease_holder(self) -> str | None:
        """Who holds the writer lease now (by the database's clock), if anyone."""
        rows = self.rows(
            "SELECT holder FROM leases WHERE name = 'writer' AND expires_at_ms > "
            "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
        )
        return str(rows[0][0]) if rows else None

    def account_transactions(self) -> list[str]:
        """Hashes of the transactions the province's account sent after the split."""
        client = ChainClient(self.node.url, CHAIN_ID)
        hashes = []
        for number in range(self.split_block + 1, client.block_number() + 1):
            block = client.rpc("eth_getBlockByNumber", hex(number), True)
            hashes += [
                str(tx["hash"]) for tx in block["transactions"] if tx["from"] == self.account
            ]
        return hashes

    def outbox_transactions(self) -> list[str]:
        """The transaction hash of every outbox item that became final by a transaction."""
        rows = self.rows(
            "SELECT tx_hash FROM outbox WHERE state = 'final' AND block_number IS NOT NULL"
        )
        return [str(r[0]) for r in rows]


@pytest.fixture
def province(tmp_path: Path, postgres_database: str) -> Iterator[Province]:
    """A province deployed and provisioned by ``serve --role all``, then stopped."""
    node = start_anvil(CHAIN_ID)
    try:
        first = serve(
            tmp_path / "first.log",
            "--data-dir",
            str(tmp_path / "first"),
            TONGBAN_CHAIN=node.url,
            TONGBAN_CHAIN_ID=str(CHAIN_ID),
            TONGBAN_DATABASE_URL=postgres_database,
            TONGBAN_WORKERS="1",
        )
        contracts = {name: c["address"] for name, c in first.description["contracts"].items()}
        account = str(first.description["operatorAccount"])
        assert first.stop() == 0, first.log.read_text()[-3000:]
        # The issuing client issues for one agency, which may issue degree certificates.
        _cli(
            "agencies", "add", TEST_AGENCY, "--name", TEST_AGENCY_NAME,
            "--template", "degree-certificate", "--data-dir", str(tmp_path / "first"),
            TONGBAN_DATABASE_URL=postgres_database,
        )  # fmt: skip
        created = _cli(
            "clients", "create", "--name", "load", "--org", "330000", "--role", "issuer",
            "--role", "verifier", "--role", "auditor", "--agencies", TEST_AGENCY,
            "--data-dir", str(tmp_path / "first"), "--json",
            TONGBAN_DATABASE_URL=postgres_database,
        )  # fmt: skip
        token = str(json.loads(created.stdout)["token"])
        split = ChainClient(node.url, CHAIN_ID).block_number()
        found = Province(tmp_path, node, postgres_database, contracts, account, split, token)
        try:
            yield found
        finally:
            for host in found.hosts:
                if host.process.poll() is None:
                    with suppress(ProcessLookupError):
                        os.kill(host.process.pid, signal.SIGCONT)
                    host.stop()
    finally:
        node.stop()


def _issue(api: RemoteApi, key: str, holder: str | None = None) -> str:
    """Issue one credential; a retry passes the same ``holder``, so the same body."""
    body: dict[str, Any] = {
        "template": "degree-certificate",
        "holder": holder or Holder.generate().did,
        "claims": DEGREE_CLAIMS,
    }
    answer = api.post("/credentials/issue", body, headers={**ISSUING, "Idempotency-Key": key})
    return str(answer["digest"])


def _anchored(api: RemoteApi, digest: str) -> Callable[[], bool | None]:
    def check() -> bool | None:
        return True if api.get(f"/credentials/{digest}/anchoring")["state"] == "anchored" else None

    return check


def _writer_log(host: Served) -> list[dict[str, Any]]:
    lines = []
    for line in host.log.read_text().splitlines():
        with suppress(json.JSONDecodeError):
            lines.append(json.loads(line))
    return lines


def test_a_writer_paused_past_its_lease_sends_nothing_after_it_resumes(
    province: Province,
) -> None:
    writer_a = province.start("writer-a", "writer")
    holder_a = writer_a.description["holder"]
    assert _wait("A takes the lease", lambda: province.lease_holder() == holder_a or None)
    writer_b = province.start("writer-b", "writer")
    api = province.start("api-1", "api")
    client = RemoteApi(api.url, province.token)
    ready = client.get("/readyz")
    assert ready["checks"]["writerLease"]["holder"] == holder_a, ready

    first = _issue(client, "fence-1")
    _wait("A anchors the first credential", _anchored(client, first))

    os.kill(writer_a.process.pid, signal.SIGSTOP)
    paused = time.monotonic()
    holder_b = writer_b.description["holder"]
    _wait("B takes over", lambda: province.lease_holder() == holder_b or None)
    takeover = time.monotonic() - paused
    second = _issue(client, "fence-2")
    _wait("B anchors the second credential", _anchored(client, second))

    # A resumes while there is work (a third credential waits for its batch).
    third = _issue(client, "fence-3")
    os.kill(writer_a.process.pid, signal.SIGCONT)
    _wait("B anchors the third credential", _anchored(client, third))
    lost = _wait(
        "A logs that it lost the lease",
        lambda: (
            [r for r in _writer_log(writer_a) if "writer lease lost" in r.get("message", "")]
            or None
        ),
    )
    time.sleep(LEASE_S)  # A's next ticks: it must stay a standby
    assert writer_a.process.poll() is None
    assert province.lease_holder() == holder_b

    sent = province.account_transactions()
    outbox = province.outbox_transactions()
    # Every transaction of the account after the split is one final outbox item's, once:
    # nothing sent by a stale writer outside (or twice for) an item.
    assert len(sent) == len(set(sent))
    assert set(sent) <= set(outbox), set(sent) - set(outbox)
    batches = province.rows("SELECT COUNT(*) FROM outbox WHERE kind = %s", BATCH_KIND)[0][0]
    assert batches >= 2
    print(f"takeover after SIGSTOP: {takeover:.1f} s (lease {LEASE_S} s); A logged {lost[0]}")


@dataclass
class Load:
    """Clients issuing (each request with its own Idempotency-Key) and verifying, failing over."""

    urls: list[str]
    token: str
    requests: int
    acknowledged: dict[str, str] = field(default_factory=dict)
    """Idempotency key to the digest its (first) answer named."""
    verified: int = 0
    failovers: int = 0
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _call(self, call: Callable[[RemoteApi], T]) -> T:
        deadline = time.monotonic() + 60
        while True:
            for url in list(self.urls):
                try:
                    return call(RemoteApi(url, self.token, timeout=10))
                except RemoteApiError as exc:
                    if 0 < exc.status < 500:
                        raise
                    # Down or cut off: the same request on the next host, which is tried
                    # first from now on.
                    self.failovers += 1
                    self.urls.remove(url)
                    self.urls.append(url)
            if time.monotonic() > deadline:
                raise AssertionError("no API host answered for 60 s")
            time.sleep(0.1)

    def run(self) -> None:
        """Issue ``requests`` credentials, verifying one already issued after each."""
        try:
            for number in range(self.requests):
                key, holder = f"load-{number}", Holder.generate().did

                # A retry on another host is the same request: same key, same body.
                def issue(api: RemoteApi, key: str = key, holder: str = holder) -> str:
                    return _issue(api, key, holder)

                self.acknowledged[key] = self._call(issue)
                earlier = list(self.acknowledged.values())[number // 2]

                def read(api: RemoteApi, digest: str = earlier) -> dict[str, Any]:
                    answer: dict[str, Any] = api.get(f"/credentials/{digest}", headers=ISSUING)
                    return answer

                credential = self._call(read)["credential"]

                def verify(api: RemoteApi, credential: Any = credential) -> Any:
                    body = {"verifiableCredential": credential}
                    return api.post("/credentials/verify", body, headers=VERIFYING)

                self._call(verify)
                self.verified += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test (with its message)
            self.errors.append(repr(exc))
        finally:
            self.stop.set()


def test_issuance_verification_and_the_audit_log_survive_a_killed_writer_and_api_host(
    province: Province, tmp_path: Path
) -> None:
    writer_a = province.start("writer-a", "writer")
    holder_a = writer_a.description["holder"]
    _wait("A takes the lease", lambda: province.lease_holder() == holder_a or None)
    writer_b = province.start("writer-b", "writer")
    api_1 = province.start("api-1", "api")
    api_2 = province.start("api-2", "api")
    load = Load([api_1.url, api_2.url], province.token, requests=40)
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    _wait("a quarter of the load", lambda: len(load.acknowledged) >= 10 or None)
    kill_service(writer_a)
    kill_service(api_1)
    killed_at = time.monotonic()
    holder_b = writer_b.description["holder"]
    _wait("B takes over", lambda: province.lease_holder() == holder_b or None)
    takeover = time.monotonic() - killed_at
    assert load.stop.wait(120), "the load did not finish"
    thread.join(10)
    assert load.errors == []
    assert len(load.acknowledged) == load.requests

    survivor = RemoteApi(api_2.url, province.token)
    for digest in load.acknowledged.values():
        _wait(f"{digest} anchored", _anchored(survivor, digest))
    stored = [bytes(r[0]).hex() for r in province.rows("SELECT digest FROM cred_issued")]
    # Once each: as many credentials as requests, exactly the acknowledged ones.
    assert sorted(stored) == sorted(load.acknowledged.values())
    issue_events = province.rows(
        "SELECT idempotency_key FROM audit_events WHERE idempotency_key LIKE 'credential.issue:%'"
    )
    assert Counter(str(k[0]).removeprefix("credential.issue:") for k in issue_events) == Counter(
        stored
    )
    # Anchored once: each batch by one final outbox item, and every transaction of the
    # account after the split is one final outbox item's.
    unanchored = province.rows("SELECT COUNT(*) FROM cred_issued WHERE batch_id IS NULL")
    assert unanchored[0][0] == 0
    sent = province.account_transactions()
    assert len(sent) == len(set(sent))
    assert set(sent) <= set(province.outbox_transactions())
    # Every answered verification has its access event (a cut-off one may have one more).
    verify_events = province.rows(
        "SELECT COUNT(*) FROM audit_events WHERE encode(body, 'escape') LIKE '%credential.verify%'"
    )[0][0]
    assert verify_events >= load.verified == load.requests

    events = province.rows("SELECT COUNT(*) FROM audit_events")[0][0]
    _wait(
        "a checkpoint over the whole log",
        lambda: (
            province.rows(
                "SELECT 1 FROM audit_checkpoints WHERE tree_size >= %s AND state = 'anchored'",
                events,
            )
            or None
        ),
    )
    export = tmp_path / "export.jsonl"
    _cli("audit", "export", "--out", str(export), "--url", api_2.url, "--token", province.token)
    checked = _cli(
        "audit", "verify", str(export), "--chain", province.node.url,
        "--chain-id", str(CHAIN_ID),
        "--audit-anchor", province.contracts["AuditAnchor"],
        "--registry", province.contracts["IssuerRegistry"],
        "--data-dir", str(tmp_path / "auditor"),
    )  # fmt: skip
    assert "valid" in checked.stdout
    assert "invalid" not in checked.stdout.lower()
    print(
        f"takeover after kill -9: {takeover:.1f} s (lease {LEASE_S} s); "
        f"{load.requests} issued, {load.verified} verified, {load.failovers} failovers"
    )
