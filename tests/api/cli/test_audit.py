"""`tongban audit verify` as a real process, against a log anchored on the test chain."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.province.clients import Role
from ledger.audit.pseudonyms import PseudonymKeys
from ledger.crypto.signer import LocalSigner
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.audit import VERIFIER, AnchoredAuditLog, access
from tests.helpers.contracts import ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.server import Province, running_province


@pytest.fixture
def province(
    world: World, db: SqliteDatabase, signer: LocalSigner, pseudonyms: PseudonymKeys
) -> Iterator[AnchoredAuditLog]:
    p = AnchoredAuditLog(world, db, signer, pseudonyms)
    p.append_and_anchor(30)
    yield p
    p.log.close()


def _tongban(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(), timeout=60
    )
    assert "Traceback" not in result.stderr
    return result


def _verify(
    world: World, path: Path, *extra: str, contracts: bool = True
) -> subprocess.CompletedProcess[str]:
    args = ["audit", "verify", str(path), "--data-dir", str(path.parent)]
    args += ["--chain", world.client.url, "--chain-id", str(world.client.chain_id)]
    if contracts:
        args += ["--audit-anchor", world.audit.address, "--registry", world.registry.address]
    return _tongban(*args, *extra)


def test_a_good_export_verifies_and_a_tampered_one_names_the_event(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(province.export())
    good = _verify(province.world, path, "--json")
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["valid"] is True
    assert report["proven"] is True
    assert report["events"] == 30
    assert report["checkpointsChecked"] == 1

    province.sql("DELETE FROM audit_events WHERE seq = ?", 12)
    path.write_text(province.export())
    bad = _verify(province.world, path, "--json")
    assert bad.returncode == 1, bad.stderr
    report = json.loads(bad.stdout)
    assert report["valid"] is False
    assert report["findings"][0]["kind"] == "missing"
    assert report["findings"][0]["index"] == 12


def test_one_altered_event_is_one_line_and_no_prefix_is_doubled(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    victim = province.results[7]
    body = victim.event.canonical_bytes().replace(b"success", b"denied")
    province.sql("UPDATE audit_events SET body = ? WHERE seq = ?", body, 7)
    lines = [json.loads(line) for line in province.export().splitlines()]
    for line in lines:
        if line["type"] == "checkpoint":  # a signed note whose root line was changed
            origin, size, _, *rest = line["note"].split("\n")
            forged = base64.b64encode(bytes(32)).decode()
            line["note"] = "\n".join([origin, size, forged, *rest])
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))

    result = _verify(province.world, path)
    assert result.returncode == 1, result.stderr
    printed = result.stdout.splitlines()
    assert "INVALID" in printed[0]
    assert printed[1:] == [
        f"  altered: event 7 ({victim.event.event_id}): "
        "the event differs from the one the log signed a receipt for",
        "  checkpoint: tree size 30: the signed note does not verify: "
        "checkpoint signature does not verify",
    ]
    assert "checkpoint: checkpoint" not in result.stdout
    as_json = _verify(province.world, path, "--json")
    assert as_json.returncode == 1, as_json.stderr
    findings = json.loads(as_json.stdout)["findings"]
    assert [(f["kind"], f["index"], f["eventId"], f["treeSize"]) for f in findings] == [
        ("altered", 7, victim.event.event_id, None),
        ("checkpoint", None, None, 30),
    ]


def test_a_missing_export_file_is_one_error_line(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    result = _verify(province.world, tmp_path / "absent.jsonl", "--json")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: export file")


def test_config_file_contract_addresses_are_used(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    world = province.world
    path = tmp_path / "export.jsonl"
    path.write_text(province.export())
    config = tmp_path / "auditor.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "auditor"}"\n'
        f'chain = "{world.client.url}"\nchain_id = {world.client.chain_id}\n'
        f'audit_anchor = "{world.audit.address}"\nregistry = "{world.registry.address}"\n'
    )
    # No deployment record anywhere: the configuration's addresses are enough.
    result = _tongban("audit", "verify", str(path), "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["valid"] is True

    # Only the AuditAnchor: the registry is the one that contract trusts.
    config.write_text(
        f'chain = "{world.client.url}"\nchain_id = {world.client.chain_id}\n'
        f'audit_anchor = "{world.audit.address}"\n'
    )
    result = _tongban("audit", "verify", str(path), "--config", str(config), "--json")
    assert result.returncode == 0, result.stderr

    # A registry the AuditAnchor does not trust is refused.
    other = world.credential.address  # a contract, but not the anchor's registry
    result = _tongban("audit", "verify", str(path), "--config", str(config), "--registry", other)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: the AuditAnchor does not trust that IssuerRegistry"


def test_without_addresses_the_error_says_where_to_give_them(
    province: AnchoredAuditLog, tmp_path: Path
) -> None:
    path = tmp_path / "export.jsonl"
    path.write_text(province.export())
    result = _verify(province.world, path, contracts=False)
    assert result.returncode == 2
    assert "--audit-anchor" in result.stderr
    assert "audit_anchor in the configuration" in result.stderr


def _append_and_anchor(province: Province, start: int, count: int) -> None:
    province.log.append_many(VERIFIER, [access(start + i) for i in range(count)])
    province.anchor()


def test_an_export_verifies_after_the_live_log_anchors_more_events(
    world: World, tmp_path: Path
) -> None:
    with running_province(tmp_path / "zj", world) as province:
        url = f"http://127.0.0.1:{province.server.port}"
        auditor = ["--url", url, "--token", province.tokens[Role.AUDITOR]]
        _append_and_anchor(province, 0, 30)
        path = tmp_path / "export.jsonl"
        exported = _tongban("audit", "export", "--out", str(path), *auditor)
        assert exported.returncode == 0, exported.stderr
        _append_and_anchor(province, 30, 10)  # the export's audit.read is event 30
        first, second = world.audit.checkpoints(ZJ)
        assert (first.tree_size, second.tree_size) == (30, 41)

        # Without the province: valid up to its own size, never "truncated".
        alone = _verify(world, path)
        assert alone.returncode == 0, alone.stdout + alone.stderr
        assert "INVALID" not in alone.stdout
        assert "truncated" not in alone.stdout
        assert "valid up to size 31" in alone.stdout
        assert "not proven beyond size 31: the chain anchors checkpoint #1 of 41" in alone.stdout
        report = json.loads(_verify(world, path, "--json").stdout)
        assert (report["valid"], report["proven"], report["treeSize"]) == (True, False, 31)
        assert report["beyond"]["provenBy"] is None

        # With the province: the consistency proof from 31 to 41 is fetched and checked.
        asked = _verify(world, path, "--json", *auditor)
        assert asked.returncode == 0, asked.stderr
        report = json.loads(asked.stdout)
        assert (report["valid"], report["proven"]) == (True, True)
        assert report["beyond"] == {
            "index": 1,
            "treeSize": 41,
            "blockNumber": second.block_number,
            "provenBy": "province",
        }
        text = _verify(world, path, *auditor).stdout
        assert "consistent with checkpoint #1 of 41 events" in text

        # As of the block that anchored the first checkpoint, nothing lies beyond it.
        then = _verify(world, path, "--json", "--as-of", str(first.block_number))
        assert then.returncode == 0, then.stderr
        report = json.loads(then.stdout)
        assert (report["proven"], report["asOfBlock"], report["beyond"]) == (
            True,
            first.block_number,
            None,
        )
