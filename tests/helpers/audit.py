"""Audit-log test data: the log id, a verifier caller, an access event, an anchored log."""

from __future__ import annotations

import io

from ledger.audit.anchoring import CheckpointAnchorer, CheckpointPolicy
from ledger.audit.chain_view import ContractChainView
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.export import ExportReport, verify_export, write_export
from ledger.audit.log import AppendResult, AuditLog
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.chain.node.transactions import NonceManager
from ledger.chain.outbox import OutboxJournal, OutboxProcessor
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.contracts import ZJ, World

LOG_ID = 330000
VERIFIER = Caller("verifier-app", "440000")


def access(
    n: int = 0, *, subject: str | None = "did:key:zHolder", key: str | None = None
) -> EventInput:
    """An ordinary verification event."""
    return EventInput(
        action="credential.verify",
        resource="credential:" + f"{n:064x}",
        purpose="cross-province.enrolment",
        legal_basis="prc.pipl.art13",
        outcome=Outcome.SUCCESS,
        request_id=f"req-{n}",
        subject_id=subject,
        idempotency_key=key,
    )


class AnchoredAuditLog:
    """A province's log anchored on the test chain, with helpers to export and verify."""

    def __init__(
        self, world: World, db: Database, signer: LocalSigner, keys: PseudonymKeys
    ) -> None:
        self.world = world
        self.db = db
        self.signer = signer
        world.registry.add_key(world.zj_admin, ZJ, signer.key_id, signer.public_key.compressed())
        self.log = AuditLog(db, ZJ, signer, keys)
        self.anchorer = CheckpointAnchorer(
            self.log, world.client.chain_id, world.audit, CheckpointPolicy()
        )
        writer = world.accounts.zj_writer
        self.processor = OutboxProcessor(
            db, NonceManager(world.client, writer, OutboxJournal(db, writer.address))
        )
        self.anchorer.register(self.processor)
        self.view = ContractChainView(world.audit, world.registry)
        self.results: list[AppendResult] = []

    def append_and_anchor(self, count: int) -> None:
        start = len(self.results)
        self.results += self.log.append_many(VERIFIER, [access(start + i) for i in range(count)])
        self.anchorer.maybe_checkpoint(force=True)
        self.processor.run_until_final()

    def export(self, size: int | None = None) -> str:
        """The export of the log's first ``size`` events (default: all) as text."""
        out = io.StringIO()
        write_export(self.log, self.anchorer, out, size=size)
        return out.getvalue()

    def verify(
        self, text: str | None = None, *, block: int | None = None, ask_province: bool = False
    ) -> ExportReport:
        """Verify ``text`` (default: a fresh export); the province can be asked for proofs."""
        lines = (self.export() if text is None else text).splitlines()
        prover = self.log.consistency_proof if ask_province else None
        return verify_export(lines, self.view, block=block, prover=prover)

    def sql(self, statement: str, *params: object) -> None:
        with self.db.write() as tx:
            tx.execute(statement, params)
