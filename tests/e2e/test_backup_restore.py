"""Back up a province while it issues, lose it, restore it elsewhere, reconcile with the chain.

The demo's first province (Zhejiang, ``tongban serve`` with the embedded
ganache) owns the chain and stays up throughout, as the consortium's chain
outlives any one province. The province under test is the demo's second
(Guangdong), a ``tongban serve`` on that chain. It issues; ``tongban backup``
runs while it keeps issuing; it issues more and anchors them (credentials and
audit checkpoints); it stops and its data directory is destroyed. A restore
with the wrong key is refused in one line and writes nothing; the right key
restores it into a new directory; ``tongban reconcile`` reports exactly the
batches and audit events made after the snapshot; started again, it holds
every credential acknowledged before the backup and sends no transaction (the
outbox does not anchor anything again).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from api.client.remote import RemoteApi, RemoteApiError
from credentials.holder import Holder
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.node.client import ChainClient
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, Served, serve, tongban_env

pytestmark = pytest.mark.slow

PERSONAL = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}
ANCHOR_SELECTOR = "0x8a4c0490"  # CredentialAnchor.anchor(uint32,bytes32,uint64,bytes32)
ISSUER_ID = 2  # the demo's second province; its audit log id is its issuer id


def _issue(api: RemoteApi, holder: str) -> str:
    body = {"template": "degree-certificate", "holder": holder, "claims": DEGREE_CLAIMS}
    return str(api.post("/credentials/issue", body, headers=PERSONAL)["digest"])


def _anchored(api: RemoteApi, digests: list[str], timeout: float = 90) -> dict[str, str]:
    """Wait until every digest is anchored; digest -> root."""
    roots: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(roots) < len(digests):
        assert time.monotonic() < deadline, f"{len(digests) - len(roots)} never anchored"
        for digest in digests:
            if digest not in roots:
                state = api.get(f"/credentials/{digest}/anchoring")
                if state["state"] == "anchored":
                    roots[digest] = str(state["root"])
        time.sleep(0.3)
    return roots


def _tongban(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(), timeout=180
    )


def test_a_province_restored_from_a_backup_reconciles_with_the_chain(tmp_path: Path) -> None:
    chain = serve(tmp_path / "a.log", "--data-dir", str(tmp_path / "a"), TONGBAN_DEMO="1")
    try:
        _scenario(tmp_path, chain)
    finally:
        assert chain.stop() == 0, chain.log.read_text()[-3000:]


def _scenario(tmp_path: Path, chain: Served) -> None:
    rpc = chain.description["rpcUrl"]
    config = tmp_path / "a" / "demo" / "440000" / "tongban.toml"
    home = config.parent
    tokens = json.loads((home / "tokens.json").read_text())
    configured = ("--config", str(config))
    province = (*configured, "--chain", rpc)
    client = ChainClient(rpc, int(chain.description["chainId"]))
    audit_anchor = AuditAnchor(client, chain.description["contracts"]["AuditAnchor"]["address"])
    key = tmp_path / "secrets" / "backup.key"
    key.parent.mkdir()
    assert _tongban("backup", "--generate-key", "--key-file", str(key)).returncode == 0

    first = serve(tmp_path / "b-1.log", *province)
    try:
        api = RemoteApi(first.url, tokens["issuer"])
        holder = Holder.generate().did
        before = [_issue(api, holder) for _ in range(6)]
        roots = _anchored(api, before)

        # Back up while a client keeps issuing.
        during: list[str] = []
        stop = threading.Event()

        def keep_issuing() -> None:
            while not stop.is_set():
                try:
                    during.append(_issue(api, holder))
                except RemoteApiError:
                    return

        issuing = threading.Thread(target=keep_issuing)
        issuing.start()
        while len(during) < 3:
            time.sleep(0.05)
        archive = tmp_path / "backups" / "guangdong.tbk"
        archive.parent.mkdir()
        made = _tongban(
            "backup", *configured, "--key-file", str(key), "--out", str(archive), "--json"
        )
        stop.set()
        issuing.join(timeout=30)
        assert made.returncode == 0, made.stderr
        snapshot = json.loads(made.stdout)
        assert snapshot["credentials"] >= len(before) + 3

        after = [_issue(api, holder) for _ in range(5)]
        roots |= _anchored(api, during + after)
        # Wait for an audit checkpoint past the snapshot to be anchored too.
        deadline = time.monotonic() + 60
        while (audit_anchor.last_tree_size(ISSUER_ID) or 0) <= snapshot["auditEvents"]:
            assert time.monotonic() < deadline, "no checkpoint anchored after the snapshot"
            time.sleep(0.3)
        operator = first.description["operatorAccount"]
    finally:
        assert first.stop() == 0, first.log.read_text()[-3000:]
    sent_before = client.nonce(operator, "latest")
    stopped_at = client.block_number()
    anchored_size = audit_anchor.last_tree_size(ISSUER_ID)
    # The operator's configuration is kept apart (configuration management), the data is lost.
    kept_config = tmp_path / "guangdong.toml"
    shutil.copy(config, kept_config)
    configured = ("--config", str(kept_config))
    province = (*configured, "--chain", rpc)
    shutil.rmtree(home)

    # The wrong key: one line, exit status 2, nothing written.
    wrong = tmp_path / "secrets" / "wrong.key"
    assert _tongban("backup", "--generate-key", "--key-file", str(wrong)).returncode == 0
    target = tmp_path / "guangdong-restored"
    refused = _tongban(
        "restore", *configured, "--from", str(archive), "--key-file", str(wrong),
        "--data-dir", str(target),
    )  # fmt: skip
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "the backup key does not open" in refused.stderr
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    restored = _tongban(
        "restore", *configured, "--from", str(archive), "--key-file", str(key),
        "--data-dir", str(target), "--json",
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout)["credentials"] == snapshot["credentials"]

    checked = _tongban("reconcile", *province, "--data-dir", str(target), "--json")
    assert checked.returncode == 1, checked.stderr  # something was lost: exit status 1
    report: dict[str, Any] = json.loads(checked.stdout)
    _check_report(report, roots, before, after, snapshot["auditEvents"], anchored_size)

    second = serve(tmp_path / "b-2.log", *province, "--data-dir", str(target))
    try:
        reader = RemoteApi(second.url, tokens["issuer"])
        # Every credential acknowledged before the backup is there, anchored at its root.
        assert _anchored(reader, before, timeout=60) == {d: roots[d] for d in before}
        # Batches anchored after the snapshot become anchored without a transaction.
        recognised = set(report["credentialBatches"]["anchoredAfterSnapshot"])
        resealed = set(report["credentialBatches"]["resealedFromSnapshot"])
        # The snapshot's credentials all get anchored: in their own re-formed batch, or
        # (pending in a batch that also held lost ones) in a new batch under a new root.
        present = [d for d in during if _known(reader, d)]
        assert set(present) >= {d for d in during if roots[d] in recognised | resealed}
        anchored_again = _anchored(reader, present, timeout=60)
        time.sleep(3)  # a few writer turns: checkpoints and the outbox get their chance
        sent = _sent_since(client, operator, first_block=stopped_at + 1)
        # Nothing on chain before is anchored again: every transaction since anchors a new root.
        assert all(selector == ANCHOR_SELECTOR for selector, _ in sent), sent
        assert not {root for _, root in sent} & set(roots.values())
        assert {root for _, root in sent} == set(anchored_again.values()) - set(roots.values())
        assert client.nonce(operator, "latest") == sent_before + len(sent)
    finally:
        assert second.stop() == 0, second.log.read_text()[-3000:]


def _known(api: RemoteApi, digest: str) -> bool:
    try:
        api.get(f"/credentials/{digest}/anchoring")
    except RemoteApiError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def _sent_since(client: ChainClient, sender: str, first_block: int) -> list[tuple[str, str]]:
    """(selector, first argument after the issuer id) of each transaction ``sender`` sent."""
    sent = []
    for number in range(first_block, client.block_number() + 1):
        block = client.rpc("eth_getBlockByNumber", hex(number), True)
        for tx in block["transactions"]:
            if tx["from"].lower() == sender.lower():
                data = str(tx["input"])
                sent.append((data[:10], data[74:138]))
    return sent


def _check_report(
    report: dict[str, Any],
    roots: dict[str, str],
    before: list[str],
    after: list[str],
    snapshot_events: int,
    anchored_size: int,
) -> None:
    batches = report["credentialBatches"]
    lost = {b["root"]: b["size"] for b in batches["lost"]}
    sizes = Counter(roots.values())
    # Every batch of credentials issued after the backup is reported, with its exact size...
    assert {roots[d] for d in after} <= set(lost)
    assert lost == {root: sizes[root] for root in lost}
    # ...and nothing acknowledged before it is.
    assert not {roots[d] for d in before} & set(lost)
    # Every root on chain is either in the restored store or reported lost.
    in_store = batches["inStore"]
    assert in_store + len(lost) == len(sizes)
    assert batches["lostCredentials"] == sum(lost.values())
    audit = report["auditLog"]
    assert audit["restoredEvents"] == snapshot_events
    assert audit["checkpointsVerified"] >= 1
    assert audit["checkpointsDiffering"] == []
    assert audit["lostEvents"] == {
        "from": snapshot_events,
        "to": anchored_size,
        "count": anchored_size - snapshot_events,
    }
    assert report["complete"] is False
