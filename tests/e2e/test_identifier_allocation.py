"""证照标识 allocation under concurrency and kill -9, on SQLite and on PostgreSQL (issue #16).

Two issuing processes (``tests/e2e/identifier_worker.py``) share one store and
issue ``TB_ZZ_CERTIFICATES`` certificates (default 2,000; ``make soak`` 10,000)
in keyed batches of 50 for two agencies, so both allocate from the same two
counters at once. Meanwhile the test kills a worker with SIGKILL
``TB_ZZ_KILLS`` times (default 3), alternating workers, each time a random
number of batches after it came back and a random moment later, and starts it
again: it retries its first unacknowledged batch under the same idempotency key.

Afterwards: every credential acknowledged to a client holds a distinct
identifier with a valid check character; every acknowledged one is stored, bound
to its identifier, and carries it in its signed document; the store holds
exactly one credential per request; the only gaps in the counters are
allocations lost at a kill (at most one batch per kill), never an acknowledged
identifier; and every key asked again answers the identifiers it answered first.

The second test does the same through the real service: province B of the
demo (``tongban serve``: a supervisor and two HTTP worker processes on one
SQLite store, on province A's chain) answers two issuing systems that send keyed
batches of 50 degree certificates (``TB_ZZ_HTTP_CERTIFICATES``, default 1,000;
the service resolves the demo's agency) and retry each until it is answered,
while the test kills B's whole service with SIGKILL ``TB_ZZ_KILLS`` times and
starts it again. The demo seeds B's clients and agencies into B's SQLite store,
so this one runs on SQLite only; PostgreSQL is covered by the first test's
issuing processes, which run the same allocation, signing and store transaction.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from api.client.remote import RemoteApi, RemoteApiError, RemoteReply
from credentials.holder import Holder
from credentials.issuance import Replay
from credentials.templates import TEMPLATES
from credentials.zhengzhao.identifier import parse_zhengzhao_id
from ledger.crypto import sm4
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.e2e import identifier_worker as worker_module
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import Served, kill_service, process_gone, serve
from tests.helpers.stores import StoreTarget

CERTIFICATES = int(os.environ.get("TB_ZZ_CERTIFICATES", "2000"))
"""Certificates issued in all (``make soak`` sets 10,000)."""
KILLS = int(os.environ.get("TB_ZZ_KILLS", "3"))
BATCH = 50
WORKERS = 2
BATCHES = max(1, CERTIFICATES // (WORKERS * BATCH))
"""Batches per worker."""
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(max(300, CERTIFICATES // 10))]


class Worker:
    """One issuing process, started again after each kill."""

    def __init__(self, number: int, config: Path, logs: Path) -> None:
        self.number, self.config, self.logs = number, config, logs
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start (again): it resumes after its last acknowledged batch."""
        log = (self.logs / f"worker-{self.number}-{self.starts}.log").open("wb")
        self.starts += 1
        command = [sys.executable, "-m", "tests.e2e.identifier_worker", str(self.config)]
        self.process = subprocess.Popen(
            [*command, str(self.number)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL, and wait until it is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        assert process_gone(self.process.pid)

    def wait(self, timeout: float) -> int:
        """Wait for it to end; its exit status."""
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Kill it if it still runs (the test failed)."""
        if self.process is not None and self.process.poll() is None:
            self.kill()


def _acks(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    raw = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in raw[: raw.rfind("\n") + 1].splitlines()]


def _wait_for_batches(path: Path, count: int, worker: Worker) -> None:
    deadline = time.monotonic() + 120
    while len(_acks(path)) < count:
        assert worker.process is not None
        if worker.process.poll() is not None:
            return  # finished (or failed: the exit status is checked at the end)
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.005)


def _hold(directory: Path, worker: Worker) -> None:
    (directory / f"hold-{worker.number}").touch()
    held = directory / f"held-{worker.number}"
    deadline = time.monotonic() + 60
    while not held.exists():
        assert worker.process is not None
        assert worker.process.poll() is None, "the worker ended before it held"
        assert time.monotonic() < deadline, "the worker never held after a commit"
        time.sleep(0.005)
    held.unlink()


def test_identifiers_stay_distinct_and_acknowledged_ones_stored_across_kills(
    store_target: StoreTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("TB_E2E_SEED", str(random.randrange(2**32))))
    chance = random.Random(seed)
    key_hex, data_key_hex = Sm2PrivateKey.generate().to_bytes().hex(), sm4.generate_key().hex()
    acks = [tmp_path / f"acks-{n}.jsonl" for n in range(WORKERS)]
    config = {
        "store": store_target.argument,
        "key": key_hex,
        "dataKey": data_key_hex,
        "holders": [Holder.generate().did for _ in range(8)],
        "claims": DEGREE_CLAIMS,
        "batchSize": BATCH,
        "batches": BATCHES,
        "acks": [str(path) for path in acks],
    }
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    # Migrate once up front, so the workers' first moments are not all schema work.
    worker_module.issuer(store_target.argument, key_hex, data_key_hex).db.close()
    workers = [Worker(n, config_path, tmp_path) for n in range(WORKERS)]
    kills = 0
    try:
        for w in workers:
            w.start()
        while kills < KILLS:
            victim = workers[kills % WORKERS]
            path = acks[victim.number]
            _wait_for_batches(path, len(_acks(path)) + chance.randint(1, 3), victim)
            assert victim.process is not None
            if victim.process.poll() is not None:
                break  # it finished before this kill: too few batches for the kills asked
            if kills == 0:
                # The first kill lands after a store commit, before its acknowledgement.
                _hold(tmp_path, victim)
            else:
                time.sleep(chance.uniform(0, 0.05))
            victim.kill()
            kills += 1
            victim.start()
        statuses = [w.wait(timeout=CERTIFICATES // 10) for w in workers]
    finally:
        for w in workers:
            w.stop()
    logs = {p.name: p.read_text(errors="replace")[-2000:] for p in tmp_path.glob("worker-*.log")}
    report = f"seed {seed}: {kills} kills, {time.monotonic() - started:.0f} s"
    assert statuses == [0] * WORKERS, (report, logs)
    assert kills == KILLS, f"the workers finished before the last kill; {report}"

    lines = [line for path in acks for line in _acks(path)]
    acked = [c for line in lines for c in line["credentials"]]
    replays = sum(1 for line in lines if line["replay"] == Replay.REPLAYED.value)
    assert KILLS == 0 or replays >= 1, f"the batch stored before a kill was not replayed; {report}"
    # Each worker acknowledged each of its batches exactly once, in order.
    for path in acks:
        assert [line["batch"] for line in _acks(path)] == list(range(BATCHES)), report
    assert len(acked) == WORKERS * BATCHES * BATCH, report

    identifiers = [c["identifier"] for c in acked]
    assert [i for i, n in Counter(identifiers).items() if n > 1] == [], report
    parsed = [parse_zhengzhao_id(i) for i in identifiers]  # the check character included
    assert {p.version_text for p in parsed} == {"001"}
    assert len({c["digest"] for c in acked}) == len(acked), report

    template = worker_module.national_template()
    monkeypatch.setitem(TEMPLATES, template.name, template)
    issuer = worker_module.issuer(store_target.argument, key_hex, data_key_hex)
    try:
        with issuer.db.read() as tx:
            bound = {
                str(i): bytes(d).hex()
                for i, d in tx.fetchall("SELECT identifier, digest FROM cred_zhengzhao")
            }
            count = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
            stored = -1 if count is None else int(count[0])
            last = {
                str(a): int(n)
                for a, n in tx.fetchall("SELECT agency_code, last_counter FROM zhengzhao_serials")
            }
        # Exactly one credential per request, each bound to the identifier it was told.
        assert stored == len(acked) == len(bound), report
        assert {c["identifier"]: c["digest"] for c in acked} == bound, report
        for credential in acked[:: max(1, len(acked) // 200)]:
            document = issuer.credential(bytes.fromhex(credential["digest"]), require_anchor=False)
            assert document["zhengzhao"]["identifier"] == credential["identifier"]
        # Gaps: only what a killed worker had allocated and not stored (a batch per kill).
        counters: dict[str, list[int]] = defaultdict(list)
        for p in parsed:
            counters[p.issuing_agency_code].append(int(p.serial_number[4:]))
        lost = sum(last[agency] - len(values) for agency, values in counters.items())
        for agency, values in counters.items():
            assert max(values) <= last[agency], report
        assert 0 <= lost <= KILLS * BATCH, (report, lost)
        # Asked again, every key answers the identifiers it answered first.
        config_loaded = json.loads(config_path.read_text(encoding="utf-8"))
        for path in acks:
            for line in _acks(path):
                number = acks.index(path)
                requests, idem = worker_module.batch_requests(config_loaded, number, line["batch"])
                again = issuer.issue_once(requests, idem)
                assert again.replay is Replay.REPLAYED
                assert [c.document["zhengzhao"]["identifier"] for c in again.credentials] == [
                    c["identifier"] for c in line["credentials"]
                ], report
    finally:
        issuer.db.close()
    print(
        f"\n{store_target.engine}: {len(acked)} certificates, {report}, {replays} batches "
        f"answered by replay after a kill, {lost} serials lost at kills"
    )


# -- the same over HTTP: the real service, its two HTTP worker processes, kill -9 ----------

HTTP_CERTIFICATES = int(os.environ.get("TB_ZZ_HTTP_CERTIFICATES", "1000"))
"""Certificates issued over HTTP (``make soak`` keeps the default: the service restarts
dominate the time)."""
ISSUING = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}


class BatchClient:
    """One issuing system: keyed batches over HTTP, each retried until it is answered."""

    def __init__(self, number: int, batches: int, holders: list[str], token: str) -> None:
        self.number, self.batches, self.holders, self.token = number, batches, holders, token
        self.url = ""
        self.answers: dict[int, list[dict[str, Any]]] = {}
        self.retries = 0
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def body(self, batch: int) -> dict[str, Any]:
        """Batch ``batch``'s body: the same on every try (the agency is left to the service)."""
        requests = []
        for i in range(BATCH):
            claims = dict(DEGREE_CLAIMS, certificateNumber=f"{self.number}{batch:05d}{i:03d}")
            holder = self.holders[i % len(self.holders)]
            requests.append({"template": "degree-certificate", "holder": holder, "claims": claims})
        return {"requests": requests}

    def send(self, batch: int) -> RemoteReply:
        """POST batch ``batch`` once under its key."""
        headers = {**ISSUING, "Idempotency-Key": f"c{self.number}-b{batch}"}
        api = RemoteApi(self.url, self.token, timeout=60)
        return api.request("POST", "/credentials/issue/batch", self.body(batch), headers=headers)

    def _run(self) -> None:
        deadline = time.monotonic() + 300
        for batch in range(self.batches):
            while time.monotonic() < deadline:
                try:
                    reply = self.send(batch)
                except RemoteApiError as exc:
                    if exc.status not in (0, 502, 503):
                        self.failures.append(f"batch {batch}: {exc.status} {exc.code}")
                        return
                    self.retries += 1
                    time.sleep(0.1)  # the service is down or starting again
                    continue
                self.answers[batch] = reply.body["results"]
                break


def _sqlite_rows(store: Path, sql: str) -> list[tuple[Any, ...]]:
    # Read-only beside the live service (WAL): a reader never blocks its writers.
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # not migrated yet
    finally:
        connection.close()


def test_identifiers_over_http_stay_distinct_across_service_kills(tmp_path: Path) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("TB_E2E_SEED", str(random.randrange(2**32))))
    chance = random.Random(seed)
    chain = serve(tmp_path / "a.log", "--data-dir", str(tmp_path / "a"), TONGBAN_DEMO="1")
    config = tmp_path / "a" / "demo" / "440000" / "tongban.toml"
    store = config.parent / "store.sqlite"
    province = ("--config", str(config), "--chain", chain.description["rpcUrl"])
    token = json.loads(Path(chain.description["demoTokens"]["440000"]).read_text())["issuer"]
    holders = [Holder.generate().did for _ in range(8)]
    per_client = max(1, HTTP_CERTIFICATES // (WORKERS * BATCH))
    clients = [BatchClient(n, per_client, holders, token) for n in range(WORKERS)]
    served: Served | None = None
    kills = 0
    try:
        served = serve(tmp_path / "b-0.log", *province)
        for client in clients:
            client.url = served.url
            client.thread.start()
        while kills < KILLS and any(c.thread.is_alive() for c in clients):
            answered = sum(len(c.answers) for c in clients)
            target = answered + chance.randint(1, 2)
            deadline = time.monotonic() + 120
            while sum(len(c.answers) for c in clients) < target:
                if not any(c.thread.is_alive() for c in clients):
                    break
                assert time.monotonic() < deadline, "the clients made no progress"
                time.sleep(0.005)
            if not any(c.thread.is_alive() for c in clients):
                break
            time.sleep(chance.uniform(0, 0.2))
            kill_service(served)
            kills += 1
            served = None
            served = serve(tmp_path / f"b-{kills}.log", *province)
            for client in clients:
                client.url = served.url
        for client in clients:
            client.thread.join(timeout=300)
        # Asked again after everything, each key answers what it answered first.
        replayed = {
            (c.number, batch): [r["credential"]["zhengzhao"]["identifier"] for r in results]
            for c in clients
            for batch, results in ((b, c.send(b).body["results"]) for b in range(per_client))
        }
        bound = {
            str(i): bytes(d).hex() for i, d in _sqlite_rows(store, "SELECT * FROM cred_zhengzhao")
        }
        stored = _sqlite_rows(store, "SELECT COUNT(*) FROM cred_issued")[0][0]
    finally:
        if served is not None:
            assert served.stop() == 0, served.log.read_text()[-3000:]
        assert chain.stop() == 0, chain.log.read_text()[-3000:]
    retries = sum(c.retries for c in clients)
    report = f"seed {seed}: {kills} kills, {retries} retries, {time.monotonic() - started:.0f} s"
    assert [f for c in clients for f in c.failures] == [], report
    assert kills == KILLS, f"the clients finished before the last kill; {report}"
    assert all(len(c.answers) == per_client for c in clients), report

    acked = [
        {"digest": r["digest"], "identifier": r["credential"]["zhengzhao"]["identifier"]}
        for c in clients
        for batch in range(per_client)
        for r in c.answers[batch]
    ]
    identifiers = [a["identifier"] for a in acked]
    assert len(acked) == WORKERS * per_client * BATCH
    assert [i for i, n in Counter(identifiers).items() if n > 1] == [], report
    assert {parse_zhengzhao_id(i).version_text for i in identifiers} == {"001"}
    assert {a["identifier"]: a["digest"] for a in acked} == bound, report
    assert stored == len(acked), report
    for c in clients:
        for batch in range(per_client):
            first = [r["credential"]["zhengzhao"]["identifier"] for r in c.answers[batch]]
            assert replayed[(c.number, batch)] == first, report
    print(f"\nhttp: {len(acked)} certificates, {report}")
