"""A province writer process for the crash tests: appends, checkpoints and anchors until killed.

Run as ``python -m tests.helpers.writer_harness`` with its configuration in
``TB_*`` environment variables (``TB_DB``: a SQLite path or a PostgreSQL URL).
Prints ``ACK <index> <event id>`` only after an append is durable (its receipt
returned), so every printed line is an acknowledged event the log must never
lose. With ``TB_MODE=drain`` it anchors what is left, waits until the outbox is
empty and exits.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from eth_account import Account

from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.node.client import ChainClient
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.open import open_database


def main() -> None:
    env = os.environ
    where = env["TB_DB"]  # a SQLite path or a postgresql:// URL
    db = open_database(where if "://" in where else Path(where))
    client = ChainClient(env["TB_RPC"], int(env["TB_CHAIN_ID"]))
    log_id = int(env["TB_LOG_ID"])
    signer = LocalSigner(
        env["TB_KEY_ID"], Sm2PrivateKey.from_bytes(bytes.fromhex(env["TB_SIGNER_KEY"]))
    )
    keys = PseudonymKeys({1: bytes.fromhex(env["TB_PSEUDONYM_KEY"])}, 1)
    writer = Account.from_key(bytes.fromhex(env["TB_WRITER_KEY"]))
    audit_log = AuditLog(db, log_id, signer, keys)
    sender = NonceManager(client, writer, OutboxJournal(db, writer.address))
    processor = OutboxProcessor(db, sender)
    anchorer = CheckpointAnchorer(
        audit_log,
        client.chain_id,
        AuditAnchor(client, env["TB_AUDIT_ANCHOR"]),
        CheckpointPolicy(every_seconds=0.25, every_events=120),
    )
    anchorer.register(processor)
    if env.get("TB_MODE") == "drain":
        anchorer.maybe_checkpoint(force=True)
        processor.run_until_final(timeout=60)
        print("DRAINED", flush=True)
        audit_log.close()
        return
    caller = Caller("crash-test", "330000")
    counter = 0
    while True:
        batch = []
        for _ in range(random.randint(1, 40)):
            counter += 1
            batch.append(
                EventInput(
                    action="credential.verify",
                    resource="credential:" + os.urandom(32).hex(),
                    purpose="crash-test",
                    legal_basis="test",
                    outcome=Outcome.SUCCESS,
                    request_id=f"r{os.getpid()}-{counter}",
                    subject_id=f"did:key:z{counter % 7}",
                )
            )
        for result in audit_log.append_many(caller, batch):
            sys.stdout.write(f"ACK {result.index} {result.event.event_id}\n")
        sys.stdout.flush()
        anchorer.maybe_checkpoint()
        processor.step()


if __name__ == "__main__":
    main()
