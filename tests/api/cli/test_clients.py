"""`tongban clients` as a real process: the first operator is created from the command line.

On the SQLite file of the data directory, and on the PostgreSQL store TONGBAN_DATABASE_URL names.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

from api.province.clients import ClientRegistry, Role
from ledger.store.open import open_database
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


def test_the_commands_use_the_postgresql_store_the_database_url_names(
    tmp_path: Path, postgres_database: str
) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TONGBAN, "clients", *args, "--data-dir", str(tmp_path)],
            capture_output=True,
            text=True,
            env=tongban_env(TONGBAN_DATABASE_URL=postgres_database),
            timeout=60,
        )

    created = run("create", "--name", "ops", "--org", "330000", "--role", "operator", "--json")
    assert created.returncode == 0, created.stderr
    token = json.loads(created.stdout)["token"]
    db = open_database(postgres_database)
    try:
        found = ClientRegistry(db).find_by_token(token)
        assert found is not None
        assert found.roles == frozenset({Role.OPERATOR})
    finally:
        db.close()
    second = run("create", "--name", "gd", "--org", "440000", "--role", "verifier", "--id", "gd")
    assert second.returncode == 0, second.stderr
    assert run("revoke", "gd").returncode == 0
    listed = json.loads(run("list", "--json").stdout)
    assert {c["clientId"]: c["active"] for c in listed["clients"]}["gd"] is False
    assert not list(tmp_path.glob("store.sqlite*"))


def test_a_database_that_does_not_answer_is_one_line_naming_it_without_the_password(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # nothing listens on it once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://tongban:s3cret-pw@127.0.0.1:{port}/tongban_prod"
    result = subprocess.run(
        [TONGBAN, "clients", "list", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=tongban_env(TONGBAN_DATABASE_URL=url),
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"error: cannot reach the store at 127.0.0.1:{port}/tongban_prod"], lines
    assert "s3cret-pw" not in result.stdout + result.stderr


def test_a_database_url_that_is_not_postgresql_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [TONGBAN, "clients", "list", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=tongban_env(TONGBAN_DATABASE_URL="mysql://root:s3cret-pw@db.example/tongban"),
        timeout=60,
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "TONGBAN_DATABASE_URL" in lines[0]
    assert "postgresql://" in lines[0]
    assert "s3cret-pw" not in result.stderr
    assert not list(tmp_path.glob("store.sqlite*"))
