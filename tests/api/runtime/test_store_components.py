"""A restore knows every store component the service migrates.

A snapshot holds every table of the store; a component the restore does not
know makes it refuse the whole backup (``the snapshot holds component …,
unknown here``). The source is the list of what is migrated: every
``migrate(db, "<component>", …)`` call in the service's packages.
"""

from __future__ import annotations

import re
from pathlib import Path

from api.runtime.components import STORE_COMPONENTS

REPO = Path(__file__).resolve().parents[3]
MIGRATE_CALL = re.compile(r'\bmigrate\(\s*[\w.]+,\s*"([a-z_]+)"')


def _migrated_components() -> set[str]:
    found: set[str] = set()
    for package in ("api", "credentials", "ledger"):
        for source in (REPO / package).rglob("*.py"):
            found.update(MIGRATE_CALL.findall(source.read_text(encoding="utf-8")))
    return found


def test_every_component_the_service_migrates_is_known_to_a_restore() -> None:
    migrated = _migrated_components()
    assert len(migrated) >= 10, migrated  # the scan found the calls
    assert migrated - set(STORE_COMPONENTS) == set()


def test_the_scan_sees_a_component_added_by_a_new_module() -> None:
    source = 'def open_(self):\n    migrate(self.db, "new_component", MIGRATIONS)\n'
    assert MIGRATE_CALL.findall(source) == ["new_component"]
