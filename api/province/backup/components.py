"""Every component's migrations, in the order a province first applies them.

A restore migrates an empty store to exactly a snapshot's versions with these
steps; a component whose tables reference another's comes after it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from api.province import clients, credential_offers, presentation_requests
from credentials.issuance import status_slots
from credentials.issuance import store as credential_store
from credentials.zhengzhao import agencies, serials
from ledger.audit import anchoring, search, tables
from ledger.chain import outbox
from ledger.chain.index import schema as index_schema
from ledger.store import challenges, lease
from ledger.store.migrations import Migration

__all__ = ["MIGRATIONS"]

MIGRATIONS: Mapping[str, Sequence[Migration]] = {
    "leases": lease.MIGRATIONS,
    "outbox": outbox.MIGRATIONS,
    "audit": tables.MIGRATIONS,
    "audit_checkpoints": anchoring.MIGRATIONS,
    "audit_search": search.MIGRATIONS,
    "chain_index": index_schema.MIGRATIONS,
    "challenges": challenges.MIGRATIONS,
    "credentials": credential_store.MIGRATIONS,
    "status_list": status_slots.MIGRATIONS,
    "zhengzhao_agencies": agencies.MIGRATIONS,
    "zhengzhao_serials": serials.MIGRATIONS,
    "api_clients": clients.MIGRATIONS,
    "presentation_requests": presentation_requests.MIGRATIONS,
    "credential_offers": credential_offers.MIGRATIONS,
}
"""Component name (as in ``schema_versions``) -> its migrations.

Staff sign-in's tables (``api.http.signin``, above this layer) are added by
``api.runtime.components.STORE_COMPONENTS``, which restores use."""
