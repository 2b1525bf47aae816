"""Which store the service opens (``api.runtime.store``): PostgreSQL when a URL is set, else SQLite.

In process, without ``tongban serve`` (tests/e2e/test_postgres_service.py runs
the real processes): the settings' choice, ``open_province`` on PostgreSQL
with the writer's duties (issue, anchor, verify), and the demo's two provinces
(the first on the URL, the second on its own SQLite file).
"""

from __future__ import annotations

import shlex
from pathlib import Path

import psycopg
import pytest

from api.province.clients import Role
from api.runtime.demo import ensure_demo_clients, second_province_command
from api.runtime.settings import Settings, SettingsError, load_settings
from api.runtime.store import open_store, store_description, store_location
from credentials.credential import IssueRequest
from credentials.holder import Holder
from credentials.verify import VerificationRequest
from ledger.audit.events import Caller
from ledger.store.postgres import PostgresDatabase
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.contracts import ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.provinces import served_province

SECRET_URL = "postgresql://tongban:s3cret-pw@db.example:5433/tongban_zj"


def test_without_a_url_the_store_is_the_sqlite_file_in_the_data_directory(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    assert store_location(settings) == tmp_path / "store.sqlite"
    assert store_description(settings) == f"SQLite {tmp_path / 'store.sqlite'}"
    db = open_store(settings)
    try:
        assert isinstance(db, SqliteDatabase)
    finally:
        db.close()
    assert (tmp_path / "store.sqlite").exists()


def test_with_a_url_the_store_is_postgresql_and_described_without_the_password(
    tmp_path: Path, postgres_database: str
) -> None:
    described = Settings(data_dir=tmp_path, database_url=SECRET_URL)
    assert store_description(described) == "PostgreSQL db.example:5433/tongban_zj"
    assert "s3cret-pw" not in repr(described)
    settings = Settings(data_dir=tmp_path, database_url=postgres_database)
    assert store_location(settings) == postgres_database
    db = open_store(settings)
    try:
        assert isinstance(db, PostgresDatabase)
    finally:
        db.close()
    assert not list(tmp_path.glob("store.sqlite*"))


@pytest.mark.parametrize(
    "url", ["mysql://root:s3cret-pw@db/x", "sqlite:///tmp/s3cret-pw.db", "s3cret-pw"]
)
def test_a_database_url_that_is_not_postgresql_is_refused_without_echoing_it(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", url)
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "TONGBAN_DATABASE_URL" in str(refused.value)
    assert "postgresql://" in str(refused.value)
    assert "s3cret-pw" not in str(refused.value)


def test_open_province_on_postgresql_issues_anchors_and_verifies(
    world: World, tmp_path: Path, postgres_database: str
) -> None:
    holder = Holder.generate()
    with served_province(world, tmp_path, ZJ, database_url=postgres_database) as zhejiang:
        assert isinstance(zhejiang.parts.db, PostgresDatabase)
        signer = zhejiang.parts.keyring.credential_signer()
        request = IssueRequest("degree-certificate", holder.did, dict(DEGREE_CLAIMS))
        issued = zhejiang.parts.issuer.issue(request, signer=signer)
        zhejiang.anchor_all()
        credential = zhejiang.parts.issuer.credential(issued.digest)
        zhejiang.sync()
        result = zhejiang.parts.verifier.verify_credential(
            credential,
            VerificationRequest(Caller("verifier-app", "330000"), "enrolment", "prc.pipl", "r-1"),
        )
        assert result.valid, result.first_failure()
        assert zhejiang.parts.audit_log.size() == 1
    with psycopg.connect(postgres_database) as connection:
        rows = connection.execute("SELECT count(*) FROM cred_batches").fetchone()
    assert rows is not None
    assert rows[0] == 1
    assert not list(tmp_path.rglob("store.sqlite*"))


def test_the_demo_keeps_its_second_province_on_sqlite_when_the_first_is_on_postgresql(
    tmp_path: Path, postgres_database: str
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_database, demo=True)
    written = ensure_demo_clients(settings)
    assert sorted(written) == [330000, 440000]
    with psycopg.connect(postgres_database) as connection:
        rows = connection.execute("SELECT client_id FROM api_clients ORDER BY client_id").fetchall()
    assert sorted(r[0] for r in rows) == sorted(f"demo-{role.value}" for role in Role)
    assert not (tmp_path / "store.sqlite").exists()
    assert (tmp_path / "demo" / "440000" / "store.sqlite").exists()
    # An exported TONGBAN_DATABASE_URL must not put the second province in the same database.
    command = shlex.split(second_province_command(settings, "http://127.0.0.1:8545"))
    assert command[:3] == ["env", "-u", "TONGBAN_DATABASE_URL"]
    assert command[4:6] == ["serve", "--config"]
    on_sqlite = second_province_command(Settings(data_dir=tmp_path), "http://127.0.0.1:8545")
    assert not on_sqlite.startswith("env ")
