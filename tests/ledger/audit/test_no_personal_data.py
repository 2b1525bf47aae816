"""No personal data in the store, the logs or on chain, not even as a plain SM3 digest."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest

from api.runtime.logs import JsonFormatter
from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy
from ledger.audit.events import Caller
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm3 import sm3
from ledger.store.database import Database
from ledger.store.snapshot import dump
from tests.helpers.audit import access
from tests.helpers.contracts import ZJ, World
from tests.helpers.stores import StoreTarget

ID_NUMBERS = ["110101199003071234", "44030119851224567X", "330106200001011111"]
NAMES = ["张三", "李四", "Wang Xiaoming"]


def _needles() -> dict[str, bytes]:
    needles: dict[str, bytes] = {}
    for secret in ID_NUMBERS + NAMES:
        raw = secret.encode("utf-8")
        digest = sm3(raw)
        needles[secret] = raw
        needles[f"sm3({secret})"] = digest
        needles[f"sm3hex({secret})"] = digest.hex().encode()
        needles[f"SM3HEX({secret})"] = digest.hex().upper().encode()
    return needles


def _chain_bytes(world: World) -> bytes:
    client = world.client
    chunks = []
    for number in range(client.block_number() + 1):
        block = client.rpc("eth_getBlockByNumber", hex(number), True)
        for tx in block["transactions"]:
            chunks.append(bytes.fromhex(tx["input"][2:]))
    for entry in client.rpc("eth_getLogs", {"fromBlock": "0x0", "toBlock": "latest"}):
        chunks.append(bytes.fromhex(entry["data"][2:]))
        chunks.extend(bytes.fromhex(t[2:]) for t in entry["topics"])
    return b"".join(chunks)


def _row_bytes(db: Database) -> bytes:
    """Every value of every table, as stored (text as UTF-8, binary as is)."""
    chunks: list[bytes] = []

    def sink(item: Any) -> None:
        if isinstance(item, list):
            for value in item:
                chunks.append(value if isinstance(value, bytes) else str(value).encode())

    dump(db, sink)
    return b"\x00".join(chunks)


def test_personal_data_never_leaves_the_request(
    world: World,
    tmp_path: Path,
    store_target: StoreTarget,
    signer: LocalSigner,
    pseudonyms: PseudonymKeys,
) -> None:
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    db = store_target.open()
    rows = b""
    try:
        world.registry.add_key(world.zj_admin, ZJ, signer.key_id, signer.public_key.compressed())
        audit_log = AuditLog(db, ZJ, signer, pseudonyms)
        anchorer = CheckpointAnchorer(
            audit_log, world.client.chain_id, world.audit, CheckpointPolicy()
        )
        writer = world.accounts.zj_writer
        sender = NonceManager(world.client, writer, OutboxJournal(db, writer.address))
        processor = OutboxProcessor(db, sender)
        anchorer.register(processor)
        subjects = ID_NUMBERS + NAMES + [f"{n}/{i}" for n, i in zip(NAMES, ID_NUMBERS, strict=True)]
        for round_number in range(3):
            audit_log.append_many(
                Caller("verifier-app", "440000"),
                [access(round_number * 100 + i, subject=s) for i, s in enumerate(subjects)],
            )
            anchorer.maybe_checkpoint(force=True)
            processor.run_until_final()
        # The citizen-facing lookup still finds them, by pseudonym.
        assert len(audit_log.events_about(ID_NUMBERS[0])) == 3
        audit_log.close()
        rows = _row_bytes(db)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        db.close()

    # SQLite: the file's raw pages too (free pages, the WAL), not only the live rows.
    files = b"".join(
        p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("store.sqlite")
    )
    stored = rows + files
    assert len(rows) > 10_000
    logs = captured.getvalue().encode()
    on_chain = _chain_bytes(world)
    assert len(on_chain) > 1_000
    for label, needle in _needles().items():
        for place, haystack in (("store", stored), ("logs", logs), ("chain", on_chain)):
            if needle in haystack:
                pytest.fail(f"{label} found in the {place}")
