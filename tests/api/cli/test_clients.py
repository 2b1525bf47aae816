"""`tongban clients` as a real process: the first operator is created from the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from api.province.clients import ClientRegistry
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.processes import TONGBAN, tongban_env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(), timeout=60
    )


def test_create_list_and_revoke_a_client(tmp_path: Path) -> None:
    data = str(tmp_path)
    created = _run(
        "clients",
        "create",
        "--name",
        "ops desk",
        "--org",
        "330000",
        "--role",
        "operator",
        "--role",
        "auditor",
        "--id",
        "ops-1",
        "--json",
        "--data-dir",
        data,
    )
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    assert issued["clientId"] == "ops-1"
    assert issued["roles"] == ["auditor", "operator"]
    token = issued["token"]
    assert token.startswith("tb_")
    store = b"".join(p.read_bytes() for p in tmp_path.glob("store.sqlite*"))
    assert token.encode() not in store
    db = SqliteDatabase(tmp_path / "store.sqlite")
    try:
        found = ClientRegistry(db).find_by_token(token)
        assert found is not None
        assert found.client_id == "ops-1"
    finally:
        db.close()

    listed = _run("clients", "list", "--json", "--data-dir", data)
    assert listed.returncode == 0, listed.stderr
    assert token not in listed.stdout
    assert json.loads(listed.stdout)["clients"][0]["active"] is True

    refused = _run("clients", "revoke", "ops-1", "--data-dir", data)
    assert refused.returncode == 2
    assert "last active operator" in refused.stderr
    verifier = _run(
        "clients",
        "create",
        "--name",
        "gd verifier",
        "--org",
        "440000",
        "--role",
        "verifier",
        "--id",
        "gd-verifier",
        "--data-dir",
        data,
    )
    assert verifier.returncode == 0, verifier.stderr
    assert "cannot be shown again" in verifier.stdout
    revoked = _run("clients", "revoke", "gd-verifier", "--json", "--data-dir", data)
    assert revoked.returncode == 0, revoked.stderr
    described = json.loads(revoked.stdout)
    assert (described["clientId"], described["active"]) == ("gd-verifier", False)
    assert described["revokedAt"] >= described["createdAt"]
    again = _run("clients", "revoke", "gd-verifier", "--data-dir", data)
    assert again.stdout.strip() == "revoked gd-verifier"
    listed = json.loads(_run("clients", "list", "--json", "--data-dir", data).stdout)
    states = {c["clientId"]: c["active"] for c in listed["clients"]}
    assert states == {"ops-1": True, "gd-verifier": False}


def test_a_bad_client_is_one_error_line(tmp_path: Path) -> None:
    result = _run(
        "clients",
        "create",
        "--name",
        "x",
        "--org",
        "Zhang San 110101199003071234",
        "--role",
        "verifier",
        "--data-dir",
        str(tmp_path),
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error:")
    assert "110101199003071234" not in result.stderr
