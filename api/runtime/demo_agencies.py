"""The demo's issuing agencies: one fictitious agency per template in each demo province.

Names are fictitious (``演示省…``) and so are the codes: registering authority
``11`` (机关), the province's division code, ``TB`` and a number, and a right
GB 32100 check character, e.g. ``11330000TB0000001D`` (the list, per
province, is in tests/vectors/zhengzhao/demo-agencies.json, which a test keeps
equal to this module). Every template is issued by exactly one demo agency, so
the demo issuer client, allowed all of them, may leave the agency out of a
request: the README journey issues without naming one.

A template the table below does not name (a template added later) goes to the
general agency ``演示省人民政府办公厅``. Seeding runs at every demo start and is
idempotent: missing agencies are added, the general agency's templates follow
the catalogue, and the demo issuer client gains any demo agency it lacks
(never losing one an operator gave it).
"""

from __future__ import annotations

from dataclasses import dataclass

from api.province.clients import ClientRegistry
from credentials.templates import TEMPLATES
from credentials.zhengzhao.agencies import add_agency, get_agency, set_templates
from credentials.zhengzhao.check_characters import uscc_check_character
from ledger.store.database import Database

__all__ = [
    "DEMO_AGENCIES",
    "GENERAL",
    "DemoAgency",
    "allow_demo_agencies",
    "demo_agency_code",
    "ensure_demo_agencies",
]


@dataclass(frozen=True)
class DemoAgency:
    """A demo agency: its number in the province, its name, the templates it issues."""

    number: int
    name: str
    templates: tuple[str, ...]


GENERAL = DemoAgency(9, "演示省人民政府办公厅", ())
"""Issues every template no other demo agency issues."""

DEMO_AGENCIES = (
    DemoAgency(1, "演示省教育厅", ("degree-certificate",)),
    DemoAgency(2, "演示省市场监督管理局", ("business-licence",)),
    DemoAgency(3, "演示省卫生健康委员会", ("birth-medical-certificate",)),
    DemoAgency(4, "演示省民政厅", ("marriage-certificate",)),
    DemoAgency(5, "演示省公安厅", ("resident-certificate",)),
)
"""The demo agencies of each demo province, besides the general one."""


def demo_agency_code(division_code: int, number: int) -> str:
    """The fictitious 统一社会信用代码 of demo agency ``number`` of province ``division_code``."""
    first17 = f"11{division_code:06d}TB{number:07d}"
    return first17 + uscc_check_character(first17)


def _plan() -> list[tuple[DemoAgency, tuple[str, ...]]]:
    plan = [(a, tuple(t for t in a.templates if t in TEMPLATES)) for a in DEMO_AGENCIES]
    covered = {t for _, templates in plan for t in templates}
    rest = tuple(sorted(t for t in TEMPLATES if t not in covered))
    return [(a, templates) for a, templates in [*plan, (GENERAL, rest)] if templates]


def ensure_demo_agencies(db: Database, division_code: int) -> list[str]:
    """Register the demo agencies of province ``division_code`` in ``db``; returns their codes."""
    codes = []
    for agency, templates in _plan():
        code = demo_agency_code(division_code, agency.number)
        found = get_agency(db, code)
        if found is None:
            add_agency(db, code, agency.name, templates)
        elif found.templates != frozenset(templates):
            set_templates(db, code, templates)
        codes.append(code)
    return codes


def allow_demo_agencies(registry: ClientRegistry, client_id: str, codes: list[str]) -> None:
    """Give the demo client ``client_id`` every code of ``codes`` it lacks (if it names any)."""
    client = registry.get(client_id)
    if client is None or client.agencies is None or set(codes) <= client.agencies:
        return
    registry.set_agencies(client_id, sorted(client.agencies | set(codes)))
