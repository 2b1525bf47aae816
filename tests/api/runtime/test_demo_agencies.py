"""The demo's issuing agencies: fictitious, valid codes, one agency per template, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

from api.province.clients import ClientRegistry, Role
from api.runtime.demo import DEMO_PROVINCES, ensure_demo_clients
from api.runtime.demo_agencies import (
    DEMO_AGENCIES,
    GENERAL,
    allow_demo_agencies,
    demo_agency_code,
    ensure_demo_agencies,
)
from api.runtime.settings import Settings
from api.runtime.store import open_store
from credentials.templates import TEMPLATES
from credentials.zhengzhao.agencies import list_agencies, retire_agency
from credentials.zhengzhao.check_characters import validate_uscc
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "zhengzhao" / "demo-agencies.json"


def test_the_vector_file_lists_the_demo_agencies_of_each_province() -> None:
    listed = json.loads(VECTORS.read_text(encoding="utf-8"))["provinces"]
    for province in DEMO_PROVINCES:
        expected = [
            {
                "code": demo_agency_code(province.division_code, a.number),
                "name": a.name,
                "templates": list(a.templates),
            }
            for a in (*DEMO_AGENCIES, GENERAL)
        ]
        assert listed[str(province.division_code)] == expected
        for entry in expected:
            assert validate_uscc(entry["code"]) == entry["code"]
            assert entry["code"][2:8] == str(province.division_code)


def test_every_template_is_issued_by_exactly_one_demo_agency(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "store.sqlite")
    try:
        codes = ensure_demo_agencies(db, 330000)
        agencies = list_agencies(db)
        assert sorted(codes) == [a.code for a in agencies]
        for template in TEMPLATES:
            assert sum(template in a.templates for a in agencies) == 1, template
    finally:
        db.close()


def test_seeding_twice_changes_nothing(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "store.sqlite")
    try:
        first = ensure_demo_agencies(db, 440000)
        before = list_agencies(db)
        assert ensure_demo_agencies(db, 440000) == first
        assert list_agencies(db) == before
    finally:
        db.close()


def _registry(db: Database) -> ClientRegistry:
    return ClientRegistry(db, clock=lambda: 1_000)


def test_a_narrowed_demo_issuer_gains_missing_demo_agencies_and_keeps_its_own(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "store.sqlite")
    try:
        codes = ensure_demo_agencies(db, 330000)
        registry = _registry(db)
        registry.create("demo issuer", "330000", [Role.ISSUER], client_id="demo-issuer")
        allow_demo_agencies(registry, "demo-issuer", codes)
        client = registry.get("demo-issuer")
        assert client is not None
        assert client.agencies == frozenset(codes)
        registry.set_agencies("demo-issuer", None)
        allow_demo_agencies(registry, "demo-issuer", codes)
        again = registry.get("demo-issuer")
        assert again is not None
        assert again.agencies is None  # every agency of the province: nothing to add
    finally:
        db.close()


def test_demo_clients_may_issue_for_every_demo_agency(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, demo=True)
    ensure_demo_clients(settings)
    db = open_store(settings)
    try:
        issuer = ClientRegistry(db).get("demo-issuer")
        assert issuer is not None
        assert issuer.agencies == frozenset(a.code for a in list_agencies(db))
        # A restart after an operator retired one keeps the client as it is.
        retire_agency(db, demo_agency_code(330000, 1))
    finally:
        db.close()
    ensure_demo_clients(settings)
    db = open_store(settings)
    try:
        assert [a.active for a in list_agencies(db)].count(False) == 1
    finally:
        db.close()
