"""Giving each credential its Bitstring Status List entries before it is signed.

The entries are inside the signed credential, so their list slots are reserved
(``credentials.issuance.status_slots.reserve``, in their own transaction) before
building; the issuer binds each slot to its credential's digest in the
transaction that stores the credentials. A slot reserved by an issuance that
then fails or crashes stays unbound: its bits stay 0 forever, which is harmless
(docs/status-list.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from credentials.issuance import status_slots
from credentials.issuance.status_slots import Slot
from credentials.status_list import list_url, status_entries
from credentials.submitted import CredentialRequest
from ledger.store.database import Database

__all__ = ["allocate", "with_entries", "with_slots"]


def with_entries(
    request: CredentialRequest, entries: Sequence[Mapping[str, Any]]
) -> CredentialRequest:
    """``request`` whose credential will carry ``entries`` in ``credentialStatus``.

    A submitted credential's own ``credentialStatus`` is kept, before the issuer's.
    """
    return dataclasses.replace(request, credential_status=tuple(dict(e) for e in entries))


def allocate(
    db: Database, requests: Sequence[CredentialRequest], public_base: str
) -> tuple[list[CredentialRequest], list[Slot]]:
    """Reserve one slot per request and put its entries (both purposes) into the request."""
    slots = status_slots.reserve(db, len(requests))
    return with_slots(requests, slots, public_base), slots


def with_slots(
    requests: Sequence[CredentialRequest], slots: Sequence[Slot], public_base: str
) -> list[CredentialRequest]:
    """Each request with the entries (both purposes) of its reserved slot."""

    def entries_of(slot: Slot) -> list[dict[str, Any]]:
        def url(purpose: str) -> str:
            return list_url(public_base, slot.list_number, purpose)

        return status_entries(url, slot.index)

    return [
        with_entries(request, entries_of(slot))
        for request, slot in zip(requests, slots, strict=True)
    ]
