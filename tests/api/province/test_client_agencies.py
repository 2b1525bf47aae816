"""API clients and the agencies they may issue for (#16), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from api.province.clients import (
    ALL_AGENCIES,
    MIGRATIONS,
    ClientRegistry,
    InvalidClientError,
    Role,
    UnknownClientError,
    hash_token,
)
from credentials.zhengzhao.agencies import add_agency, retire_agency
from ledger.store.database import Database
from ledger.store.migrations import migrate

EDUCATION = "11330000TB0000001D"
MARKET = "11330000TB0000002G"


@pytest.fixture
def db(any_db: Database) -> Database:
    """A store with two registered agencies (tests/conftest.py ``any_db``: both engines)."""
    add_agency(any_db, EDUCATION, "演示省教育厅", ["degree-certificate"])
    add_agency(any_db, MARKET, "演示省市场监督管理局", ["business-licence"])
    return any_db


def test_a_client_created_without_agencies_may_issue_for_none(db: Database) -> None:
    registry = ClientRegistry(db)
    client = registry.create("issuing system", "330000", [Role.ISSUER], client_id="sys").client
    assert client.agencies == frozenset()
    stored = registry.get("sys")
    assert stored is not None
    assert stored.agencies == frozenset()
    assert not stored.may_issue_for(EDUCATION)


def test_named_agencies_are_stored_and_read_back(db: Database) -> None:
    registry = ClientRegistry(db)
    registry.create("sys", "330000", [Role.ISSUER], client_id="sys", agencies=[EDUCATION])
    stored = registry.get("sys")
    assert stored is not None
    assert stored.agencies == frozenset({EDUCATION})
    assert stored.may_issue_for(EDUCATION)
    assert not stored.may_issue_for(MARKET)
    assert [c.agencies for c in registry.list()] == [frozenset({EDUCATION})]


def test_set_agencies_narrows_widens_and_opens_to_every_agency(db: Database) -> None:
    registry = ClientRegistry(db)
    registry.create("sys", "330000", [Role.ISSUER], client_id="sys", agencies=[EDUCATION])
    assert registry.set_agencies("sys", [EDUCATION, MARKET]).agencies == frozenset(
        {EDUCATION, MARKET}
    )
    assert registry.set_agencies("sys", []).agencies == frozenset()
    opened = registry.set_agencies("sys", ALL_AGENCIES)
    assert opened.agencies is None
    stored = registry.get("sys")
    assert stored is not None
    assert stored.agencies is None
    assert stored.may_issue_for(MARKET)


@pytest.mark.parametrize(
    "agencies",
    [["11330000TB0000003K"], [EDUCATION[:17] + "0"], ["not-a-code"]],
    ids=["unregistered", "wrong-check-character", "malformed"],
)
def test_agencies_must_be_registered_and_well_formed(db: Database, agencies: list[str]) -> None:
    registry = ClientRegistry(db)
    with pytest.raises(InvalidClientError) as caught:
        registry.create("sys", "330000", [Role.ISSUER], client_id="sys", agencies=agencies)
    assert caught.value.field == "agencies"
    assert agencies[0] not in str(caught.value)
    assert registry.get("sys") is None


def test_a_retired_agency_cannot_be_given_to_a_client(db: Database) -> None:
    registry = ClientRegistry(db)
    registry.create("sys", "330000", [Role.ISSUER], client_id="sys")
    retire_agency(db, MARKET)
    with pytest.raises(InvalidClientError):
        registry.set_agencies("sys", [MARKET])
    stored = registry.get("sys")
    assert stored is not None
    assert stored.agencies == frozenset()


def test_set_agencies_of_an_unknown_client_is_refused(db: Database) -> None:
    with pytest.raises(UnknownClientError):
        ClientRegistry(db).set_agencies("nobody", [EDUCATION])


def test_revoking_keeps_the_agencies(db: Database) -> None:
    registry = ClientRegistry(db)
    registry.create("a", "330000", [Role.OPERATOR], client_id="ops")
    registry.create("sys", "330000", [Role.ISSUER], client_id="sys", agencies=[MARKET])
    assert registry.revoke("sys").agencies == frozenset({MARKET})


def test_clients_that_existed_before_agencies_may_issue_for_every_agency(
    any_db: Database,
) -> None:
    # A store at the clients' schema version 2, with an issuer client in it.
    migrate(any_db, "api_clients", MIGRATIONS[:2])
    with any_db.write() as tx:
        tx.execute(
            "INSERT INTO api_clients (client_id, name, organisation, roles, token_hash, "
            "created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
            ("old-issuer", "issuing system", "330000", "issuer", hash_token("tb_x"), 1),
        )
    registry = ClientRegistry(any_db)  # migrates to version 3
    old = registry.get("old-issuer")
    assert old is not None
    assert old.agencies is ALL_AGENCIES
    assert old.may_issue_for(EDUCATION)
    new = registry.create("new", "330000", [Role.ISSUER], client_id="new-issuer").client
    assert new.agencies == frozenset()
