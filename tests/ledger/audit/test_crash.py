"""kill -9 the writer at random moments, twenty times: nothing acknowledged is lost.

On each engine: on PostgreSQL the killed writer's connection drops mid-transaction,
and the server rolls it back and frees the write lock.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ledger.audit.anchoring import CheckpointAnchorer, CheckpointState
from ledger.audit.chain_view import ContractChainView
from ledger.audit.export import verify_export, write_export
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.contracts import ZJ, World
from tests.helpers.stores import StoreTarget

ROUNDS = 20


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.writer_harness"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if env.get("TB_MODE") == "drain" else subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )


def _collect(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    lines.extend(process.stdout)


@pytest.mark.slow
def test_kill_9_during_appends_and_anchoring_loses_nothing(
    world: World, store_target: StoreTarget
) -> None:
    signing_key = Sm2PrivateKey.generate()
    signer = LocalSigner("crash-key", signing_key)
    world.registry.add_key(world.zj_admin, ZJ, signer.key_id, signer.public_key.compressed())
    pseudonym_key = os.urandom(32)
    env = {
        **os.environ,
        "TB_DB": store_target.argument,
        "TB_RPC": world.client.url,
        "TB_CHAIN_ID": str(world.client.chain_id),
        "TB_LOG_ID": str(ZJ),
        "TB_KEY_ID": signer.key_id,
        "TB_SIGNER_KEY": signing_key.to_bytes().hex(),
        "TB_PSEUDONYM_KEY": pseudonym_key.hex(),
        "TB_WRITER_KEY": bytes(world.accounts.zj_writer.key).hex(),
        "TB_AUDIT_ANCHOR": world.audit.address,
    }
    acknowledged: dict[int, str] = {}
    rng = random.Random(20261127)
    started = time.monotonic()
    for _ in range(ROUNDS):
        process = _start(env)
        assert process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=_collect, args=(process, lines))
        reader.start()
        time.sleep(rng.uniform(1.0, 2.5))  # imports take about a second; then work
        process.kill()
        process.wait()
        reader.join()
        for line in lines:
            if line.startswith("ACK ") and line.endswith("\n"):
                _, position, event_id = line.split()
                assert acknowledged.setdefault(int(position), event_id) == event_id
    drain = _start({**env, "TB_MODE": "drain"})
    out, errors = drain.communicate(timeout=90)
    assert drain.returncode == 0, errors[-2000:]
    assert "DRAINED" in out
    assert time.monotonic() - started < 180
    assert len(acknowledged) > 100

    db = store_target.open()
    audit_log = AuditLog(db, ZJ, signer, PseudonymKeys({1: pseudonym_key}, 1))
    try:
        for index, event_id in acknowledged.items():
            stored = audit_log.event(index)
            assert stored is not None, f"acknowledged event {index} lost"
            assert stored.event.event_id == event_id
        on_chain = world.audit.checkpoints(ZJ)
        sizes = [c.tree_size for c in on_chain]
        assert sizes == sorted(set(sizes)), "a checkpoint was anchored twice"
        assert len(on_chain) >= 2
        for checkpoint in on_chain:
            assert audit_log.root(checkpoint.tree_size) == (checkpoint.tree_size, checkpoint.root)
        anchorer = CheckpointAnchorer(audit_log, world.client.chain_id, world.audit)
        # Faster appends make more than checkpoints()'s default page of 1,000.
        rows = anchorer.checkpoints(state=CheckpointState.ANCHORED, limit=len(sizes) + 1)
        anchored = [c.tree_size for c in rows]
        assert anchored == sizes
        export = io.StringIO()
        write_export(audit_log, anchorer, export)
        report = verify_export(
            export.getvalue().splitlines(), ContractChainView(world.audit, world.registry)
        )
        assert report.valid, report.findings[:3]
        assert report.events == audit_log.size() >= len(acknowledged)
    finally:
        audit_log.close()
        db.close()
