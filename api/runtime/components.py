"""Every store component of a province service, for restores: the province's and sign-in's.

``api.province.backup.components.MIGRATIONS`` lists the components below the
HTTP layer; staff sign-in keeps its sessions in the same store
(``api.http.signin.store``), which that layer may not import. A snapshot holds
every table of the store, so a restore must know them all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from api.http.signin import store as signin_store
from api.province.backup.components import MIGRATIONS
from ledger.store.migrations import Migration

__all__ = ["STORE_COMPONENTS"]

STORE_COMPONENTS: Mapping[str, Sequence[Migration]] = {
    **MIGRATIONS,
    "signin": signin_store.MIGRATIONS,
}
"""Component name (as in ``schema_versions``) -> its migrations, in the order they apply."""
