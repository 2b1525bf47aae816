"""An export is a snapshot: it stays valid while the live log grows and anchors more."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator, Sequence

import pytest

from ledger.audit.export import EXPORT_FORMAT, verify_export, write_export
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.database import Database
from tests.helpers.audit import AnchoredAuditLog
from tests.helpers.contracts import ZJ, World


@pytest.fixture
def province(
    world: World, db: Database, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[AnchoredAuditLog]:
    p = AnchoredAuditLog(world, db, signer, pseudonyms)
    p.append_and_anchor(40)
    p.append_and_anchor(25)
    yield p
    p.log.close()


def _lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_the_header_states_the_snapshot_size_and_root(province: AnchoredAuditLog) -> None:
    header = _lines(province.export())[0]
    assert header["format"] == EXPORT_FORMAT == "tongban-audit-export/v2"
    assert (header["treeSize"], header["root"]) == (65, province.log.root(65)[1].hex())


def test_an_export_stays_valid_after_the_log_anchors_more_events(
    province: AnchoredAuditLog,
) -> None:
    export = province.export()
    province.append_and_anchor(10)  # the live log anchors checkpoint #2 of 75 events

    report = province.verify(export)
    assert report.valid, report.findings
    assert (report.tree_size, report.checkpoints_checked) == (65, 2)
    assert report.beyond is not None
    assert (report.beyond.checkpoint.index, report.beyond.checkpoint.tree_size) == (2, 75)
    assert report.beyond.proven_by is None
    assert not report.proven
    note = report.unproven_note()
    assert note is not None
    assert note.startswith("not proven beyond size 65: the chain anchors checkpoint #2 of 75")

    asked = province.verify(export, ask_province=True)
    assert asked.valid, asked.findings
    assert asked.proven
    assert asked.beyond is not None
    assert asked.beyond.proven_by == "province"


def test_a_province_proof_that_does_not_verify_is_a_finding(
    province: AnchoredAuditLog,
) -> None:
    export = province.export()
    province.append_and_anchor(10)

    def forged(size1: int, size2: int) -> Sequence[bytes]:
        proof = province.log.consistency_proof(size1, size2)
        return [bytes(32), *proof[1:]]

    report = verify_export(export.splitlines(), province.view, prover=forged)
    assert not report.valid
    [only] = report.findings
    assert (only.kind, only.tree_size) == ("consistency", 75)
    assert "not a prefix of checkpoint #2" in only.message


def test_checkpoints_signed_during_the_export_come_with_a_consistency_proof(
    province: AnchoredAuditLog,
) -> None:
    class GrowsWhileExporting(io.StringIO):
        """Once the first event is written, the log grows and anchors (another thread)."""

        grown = False

        def write(self, text: str) -> int:
            if not self.grown and text.startswith('{"type": "event"'):
                self.grown = True
                writer = threading.Thread(target=province.append_and_anchor, args=(10,))
                writer.start()
                writer.join()
            return super().write(text)

    out = GrowsWhileExporting()
    assert write_export(province.log, province.anchorer, out) == 65
    assert out.grown
    lines = _lines(out.getvalue())
    [extension] = [line for line in lines if line["type"] == "consistency"]
    assert extension["treeSize"] == 75
    assert [line["treeSize"] for line in lines if line["type"] == "checkpoint"] == [40, 65]

    report = province.verify(out.getvalue())
    assert report.valid, report.findings
    assert report.beyond is not None
    assert (report.beyond.checkpoint.tree_size, report.beyond.proven_by) == (75, "export")


def test_an_older_snapshot_carries_its_proof_and_a_forged_one_is_named(
    province: AnchoredAuditLog,
) -> None:
    export = province.export(size=40)
    report = province.verify(export)
    assert report.valid, report.findings
    assert (report.events, report.tree_size, report.checkpoints_checked) == (40, 40, 1)
    assert report.beyond is not None
    assert (report.beyond.checkpoint.tree_size, report.beyond.proven_by) == (65, "export")

    lines = _lines(export)
    for line in lines:
        if line["type"] == "consistency":
            line["proof"] = [bytes(32).hex()]
    report = verify_export([json.dumps(line) for line in lines], province.view)
    assert not report.valid
    [only] = report.findings
    assert (only.kind, only.tree_size) == ("consistency", 65)
    assert report.beyond is not None
    assert report.beyond.proven_by is None


def test_as_of_a_block_checks_the_chain_as_it_was(province: AnchoredAuditLog) -> None:
    export = province.export(size=40)
    first, second = province.world.audit.checkpoints(ZJ)
    province.append_and_anchor(10)

    then = province.verify(export, block=first.block_number)
    assert then.valid, then.findings
    assert then.proven
    assert then.beyond is None
    assert (then.as_of_block, then.checkpoints_checked) == (first.block_number, 1)

    later = province.verify(export, block=second.block_number)
    assert later.beyond is not None
    assert (later.beyond.checkpoint.tree_size, later.beyond.proven_by) == (65, "export")

    now = province.verify(export)
    assert now.valid
    assert now.beyond is not None
    assert (now.beyond.checkpoint.tree_size, now.beyond.proven_by) == (75, None)

    before = province.verify(province.export(), block=first.block_number - 1)
    assert before.valid
    assert (before.checkpoints_checked, before.beyond) == (0, None)


def test_a_v1_export_is_still_read(province: AnchoredAuditLog) -> None:
    lines = _lines(province.export())
    header = lines[0]
    header["format"] = "tongban-audit-export/v1"
    del header["root"]
    report = verify_export([json.dumps(line) for line in lines], province.view)
    assert report.valid, report.findings
    assert report.checkpoints_checked == 2


def test_an_empty_log_exports_and_verifies(province: AnchoredAuditLog) -> None:
    report = province.verify(province.export(size=0))
    assert report.valid, report.findings
    assert (report.events, report.tree_size, report.beyond) == (0, 0, None)
