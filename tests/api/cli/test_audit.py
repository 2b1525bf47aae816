"""`tongban audit verify` as a real process, against a log anchored on the test chain."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.audit import AnchoredAuditLog
from tests.helpers.contracts import World
from tests.helpers.processes import TONGBAN, tongban_env


@pytest.fixture
def province(
    world: World, db: SqliteDatabase, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[AnchoredAuditLog]:
    p = AnchoredAuditLog(world, db, signer, pseudonyms)
    p.append_and_anchor(30)
    yield p
    p.log.close()


def _verify(province: AnchoredAuditLog, path: Path) -> subprocess.CompletedProcess[str]:
    world = province.world
    args = [TONGBAN, "audit", "verify", str(path), "--json", "--data-dir", str(path.parent)]
    args += ["--chain", world.client.url, "--chain-id", str(world.client.chain_id)]
    args += ["--audit-anchor", world.audit.address, "--registry", world.registry.address]
    return subprocess.run(args, capture_output=True, text=True, env=tongban_env(), timeout=60)


def test_a_good_export_verifies_and_a_tampered_one_names_the_event(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(province.export())
    good = _verify(province, path)
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["valid"] is True
    assert report["events"] == 30
    assert report["checkpointsChecked"] == 1

    province.sql("DELETE FROM audit_events WHERE seq = ?", 12)
    path.write_text(province.export())
    bad = _verify(province, path)
    assert bad.returncode == 1, bad.stderr
    report = json.loads(bad.stdout)
    assert report["valid"] is False
    assert report["findings"][0]["kind"] == "missing"
    assert report["findings"][0]["index"] == 12


def test_a_missing_export_file_is_one_error_line(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    result = _verify(province, tmp_path / "absent.jsonl")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: export file")
