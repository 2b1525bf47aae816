"""kill -9 the service again and again while ``tongban issue --batch`` runs: every line once.

Province A is ``tongban serve`` with the demo consortium on its embedded
ganache; province B (Guangdong, the demo's second province) is a second
``tongban serve`` on A's chain, as a province's service runs on a chain it
does not own. B issues a file of ``LINES`` requests, each for its own holder,
sent by ``tongban issue --batch FILE --resume --out DIR`` in a loop that runs
the command again whenever it gives up. Meanwhile the test kills B's whole
service (supervisor and HTTP workers, at once) with SIGKILL
``TB_E2E_KILLS`` times (default 3; ``make soak`` kills 50 times), each
time a random number of credentials after it came back and a random moment
later, so kills land before, inside and after the store transaction of a
request whose answer is then lost, and starts it again on the same data
directory. (The chain stays up: killing it is the crash test's business,
``test_crash_restart.py``.)

Afterwards the store holds exactly one credential per line (0 lost, 0
duplicated), exactly the ones the command wrote, each with exactly one
``credential.issue`` access event, and the last run answered every line.
"""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from api.client.remote import RemoteApi
from credentials.holder import Holder
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, Served, kill_service, serve, tongban_env

KILLS = int(os.environ.get("TB_E2E_KILLS", "3"))
"""How many times the service is killed (``make soak`` sets 50). Not a ``TONGBAN_*``
name: the service refuses settings it does not know."""

BATCH_SIZE = 2
LINES = max(120, 20 * KILLS)
"""Lines of the input file: enough that the kills happen while it is being issued."""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(max(300, 120 + 40 * KILLS))]

PERSONAL = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}
_REFUSED = re.compile(r"\(4[0-9][0-9] ")


def _store_rows(store: Path, sql: str) -> list[tuple[Any, ...]]:
    # Read-only, beside the live service (WAL): a reader never blocks its writers.
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=10)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def _issued_count(store: Path) -> int:
    try:
        return int(_store_rows(store, "SELECT COUNT(*) FROM cred_issued")[0][0])
    except sqlite3.OperationalError:
        return 0  # not migrated yet


class Issuing:
    """``tongban issue --batch`` run again and again (a resume) until it succeeds."""

    def __init__(self, batch: Path, out: Path, token: str) -> None:
        self.batch, self.out, self.token = batch, out, token
        self.url = ""
        self.runs = 0
        self.last_stdout = ""
        self.failures: list[str] = []
        self.done = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self, url: str) -> None:
        """Start running the command against ``url`` (``self.url`` follows restarts)."""
        self.url = url
        self._thread.start()

    def stop(self) -> None:
        """Run the command no more (a run in progress finishes)."""
        self._stopped.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self.runs += 1
            url = self.url
            command = [TONGBAN, "issue", "--batch", str(self.batch), "--resume"]
            command += ["--batch-size", str(BATCH_SIZE), "--out", str(self.out), "--json"]
            env = tongban_env(TONGBAN_API_URL=url, TONGBAN_API_TOKEN=self.token)
            run = subprocess.run(
                [*command, "--retries", "2"], capture_output=True, text=True, env=env, timeout=300
            )
            if run.returncode == 0:
                self.last_stdout = run.stdout
                self.done.set()
                return
            # Gave up on a service that is down or restarting; anything refused is a failure.
            last = run.stderr.strip().splitlines()[-1:] or ["(no message)"]
            if _REFUSED.search(last[0]) or run.returncode != 2:
                self.failures.append(last[0])
            # The service is being started again (on another port): wait for it a while.
            deadline = time.monotonic() + 5
            while self.url == url and time.monotonic() < deadline:
                time.sleep(0.05)

    def join(self, timeout: float) -> None:
        """Wait for the loop to end."""
        self._thread.join(timeout)


def _wait_for_progress(store: Path, since: int, rows: int, issuing: Issuing) -> None:
    deadline = time.monotonic() + 120
    while _issued_count(store) < since + rows and not issuing.done.is_set():
        assert time.monotonic() < deadline, "the client made no progress"
        assert not issuing.failures, issuing.failures
        time.sleep(0.005)


def test_each_line_is_issued_exactly_once_across_kills(tmp_path: Path) -> None:
    started = time.monotonic()
    seed = int(os.environ.get("TB_E2E_SEED", str(random.randrange(2**32))))
    chance = random.Random(seed)
    holders = [Holder.generate().did for _ in range(LINES)]
    batch = tmp_path / "requests.jsonl"
    lines = [
        json.dumps({"template": "degree-certificate", "holder": h, "claims": DEGREE_CLAIMS})
        for h in holders
    ]
    batch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chain = serve(tmp_path / "a.log", "--data-dir", str(tmp_path / "a"), TONGBAN_DEMO="1")
    config = tmp_path / "a" / "demo" / "440000" / "tongban.toml"
    store = config.parent / "store.sqlite"
    province = ("--config", str(config), "--chain", chain.description["rpcUrl"])
    tokens = json.loads(Path(chain.description["demoTokens"]["440000"]).read_text())
    issuing = Issuing(batch, tmp_path / "issued", tokens["issuer"])
    served: Served | None = None
    kills = unanswered = 0
    try:
        served = serve(tmp_path / "b-0.log", *province)
        issuing.start(served.url)
        while kills < KILLS and not issuing.done.is_set():
            # A random number of credentials after the service came back, then a random
            # moment: before, inside or after a request's store transaction.
            _wait_for_progress(store, _issued_count(store), chance.randint(1, 6), issuing)
            if issuing.done.is_set():
                break
            time.sleep(chance.uniform(0, 0.03))
            kill_service(served)
            kills += 1
            # Stored but never answered: what the idempotency keys must recover.
            unanswered += _issued_count(store) - len(list(issuing.out.glob("*.json")))
            served = None
            served = serve(tmp_path / f"b-{kills}.log", *province)
            issuing.url = served.url
        assert issuing.done.wait(timeout=180), f"never finished; {issuing.failures}"
        issuing.join(timeout=10)
        stored = [bytes(r[0]).hex() for r in _store_rows(store, "SELECT digest FROM cred_issued")]
        # Which line each stored credential is for: its holder, read back from the issuer.
        reader = RemoteApi(served.url, tokens["issuer"])
        per_line = Counter(
            reader.get(f"/credentials/{digest}", headers=PERSONAL)["credential"][
                "credentialSubject"
            ]["id"]
            for digest in stored
        )
    finally:
        issuing.stop()
        if served is not None:
            assert served.stop() == 0, served.log.read_text()[-3000:]
        assert chain.stop() == 0, chain.log.read_text()[-3000:]
    report = (
        f"seed {seed}: {kills} kills, {unanswered} credentials stored unanswered at a kill, "
        f"{issuing.runs} runs, {LINES} lines, {time.monotonic() - started:.0f} s"
    )
    assert kills == KILLS, f"the file was issued before the last kill; {report}"
    assert issuing.failures == [], issuing.failures
    lost = sum(1 for holder in holders if per_line[holder] == 0)
    duplicated = sum(count - 1 for count in per_line.values() if count > 1)
    assert (lost, duplicated) == (0, 0), report
    assert set(per_line) == set(holders), report
    written = {path.stem for path in (tmp_path / "issued").glob("*.json")}
    assert written == set(stored), report
    answered = [json.loads(line)["digest"] for line in issuing.last_stdout.splitlines()]
    assert sorted(answered) == sorted(stored), report
    # Every credential has exactly one credential.issue event, however its answers went.
    keys = _store_rows(
        store,
        "SELECT idempotency_key FROM audit_events WHERE idempotency_key LIKE 'credential.issue:%'",
    )
    assert Counter(str(k[0]).removeprefix("credential.issue:") for k in keys) == Counter(stored)
    print(f"{report}: {len(stored)} stored, {lost} lost, {duplicated} duplicated")
