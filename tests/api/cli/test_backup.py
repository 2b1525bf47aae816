"""``tongban backup`` and ``tongban restore`` on a stopped province's data directory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from api.province.backup.components import MIGRATIONS
from ledger.store.migrations import migrate
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.processes import TONGBAN, tongban_env

KEYSTORE = b'{"algorithm": "sm2", "version": 1}\n'


def _tongban(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(), timeout=60
    )


@pytest.fixture
def province(tmp_path: Path) -> Path:
    """A data directory with every component's tables, a few rows and key files."""
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "signing.json").write_bytes(KEYSTORE)
    (data / "keys" / "signing.json").chmod(0o600)
    (data / "deployment.json").write_text('{"chain_id": 1}')
    (data / "logs").mkdir()
    (data / "logs" / "ganache.log").write_text("not backed up")
    db = SqliteDatabase(data / "store.sqlite")
    for component, steps in MIGRATIONS.items():
        migrate(db, component, steps)
    with db.write() as tx:
        tx.executemany(
            "INSERT INTO cred_batches (root, tree_size, sealed_at_ms, state) VALUES (?, ?, ?, ?)",
            [(bytes([i]) * 32, i + 1, 1000 + i, "anchored") for i in range(3)],
        )
    db.close()
    return data


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A new backup key outside the data directory."""
    path = tmp_path / "secrets" / "backup.key"
    path.parent.mkdir()
    result = _tongban("backup", "--generate-key", "--key-file", str(path))
    assert result.returncode == 0, result.stderr
    return path


def _batches(store: Path) -> list[tuple[object, ...]]:
    db = SqliteDatabase(store)
    with db.read() as tx:
        rows = tx.fetchall("SELECT id, root, tree_size, state FROM cred_batches ORDER BY id")
    db.close()
    return rows


def test_generate_key_writes_a_private_key_file_once(key_file: Path) -> None:
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(bytes.fromhex(key_file.read_text().strip())) == 16
    again = _tongban("backup", "--generate-key", "--key-file", str(key_file))
    assert again.returncode == 2
    assert "never overwritten" in again.stderr


def test_backup_then_restore_brings_back_the_store_and_key_files(
    tmp_path: Path, province: Path, key_file: Path
) -> None:
    archive = tmp_path / "province.tbk"
    made = _tongban(
        "backup", "--data-dir", str(province), "--key-file", str(key_file),
        "--out", str(archive), "--json",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["rows"]["cred_batches"] == 3
    assert summary["files"] == ["deployment.json", "keys/signing.json"]
    assert archive.stat().st_mode & 0o777 == 0o600
    assert KEYSTORE not in archive.read_bytes()

    target = tmp_path / "restored"
    back = _tongban(
        "restore", "--from", str(archive), "--key-file", str(key_file),
        "--data-dir", str(target), "--json",
    )  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["rows"] == summary["rows"]
    assert _batches(target / "store.sqlite") == _batches(province / "store.sqlite")
    assert (target / "keys" / "signing.json").read_bytes() == KEYSTORE
    assert (target / "keys" / "signing.json").stat().st_mode & 0o777 == 0o600
    assert not (target / "logs").exists()


def test_restore_with_the_wrong_key_is_refused_in_one_line_and_writes_nothing(
    tmp_path: Path, province: Path, key_file: Path
) -> None:
    archive = tmp_path / "province.tbk"
    made = _tongban(
        "backup", "--data-dir", str(province), "--key-file", str(key_file), "--out", str(archive)
    )
    assert made.returncode == 0, made.stderr
    wrong = tmp_path / "wrong.key"
    assert _tongban("backup", "--generate-key", "--key-file", str(wrong)).returncode == 0
    before = sorted(p.name for p in tmp_path.iterdir())
    target = tmp_path / "restored"
    refused = _tongban(
        "restore", "--from", str(archive), "--key-file", str(wrong), "--data-dir", str(target)
    )
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: the backup key does not open {archive}: it was written with another key"
    ]
    assert "Traceback" not in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_restore_refuses_a_data_directory_that_is_not_empty(
    tmp_path: Path, province: Path, key_file: Path
) -> None:
    archive = tmp_path / "province.tbk"
    made = _tongban(
        "backup", "--data-dir", str(province), "--key-file", str(key_file), "--out", str(archive)
    )
    assert made.returncode == 0, made.stderr
    refused = _tongban(
        "restore", "--from", str(archive), "--key-file", str(key_file), "--data-dir", str(province)
    )
    assert refused.returncode == 2
    assert "is not empty" in refused.stderr
    assert _batches(province / "store.sqlite")


def test_a_backup_key_or_file_inside_the_data_directory_is_refused(
    tmp_path: Path, province: Path, key_file: Path
) -> None:
    inside = province / "backup.key"
    generated = _tongban(
        "backup", "--generate-key", "--data-dir", str(province), "--key-file", str(inside)
    )
    assert generated.returncode == 2
    assert "must not be inside the data directory" in generated.stderr
    assert not inside.exists()
    archive = province / "province.tbk"
    made = _tongban(
        "backup", "--data-dir", str(province), "--key-file", str(key_file), "--out", str(archive)
    )
    assert made.returncode == 2
    assert not archive.exists()


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path, key_file: Path) -> None:
    bogus = tmp_path / "bogus.tbk"
    bogus.write_bytes(b"PK\x03\x04 something else")
    refused = _tongban(
        "restore", "--from", str(bogus), "--key-file", str(key_file),
        "--data-dir", str(tmp_path / "restored"),
    )  # fmt: skip
    assert refused.returncode == 2
    assert "is not a Tongban backup" in refused.stderr
    assert not (tmp_path / "restored").exists()


def test_the_key_file_may_come_from_tongban_backup_key_file(
    tmp_path: Path, province: Path, key_file: Path
) -> None:
    archive = tmp_path / "province.tbk"
    env = tongban_env(TONGBAN_BACKUP_KEY_FILE=str(key_file))
    made = subprocess.run(
        [TONGBAN, "backup", "--data-dir", str(province), "--out", str(archive), "--json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    target = tmp_path / "restored"
    back = _tongban(
        "restore", "--from", str(archive), "--key-file", str(key_file),
        "--data-dir", str(target), "--json",
    )  # fmt: skip
    assert back.returncode == 0, back.stderr
    assert _batches(target / "store.sqlite") == _batches(province / "store.sqlite")
