"""What a citizen signs to read their access history, apart from the province's side.

A wallet needs only this (no chain, no store), so it lives in a module of its
own; ``ledger.audit.citizen`` answers the request.
"""

from __future__ import annotations

from ledger.audit.events import canonical_json
from ledger.crypto.signer import SignedPayload

__all__ = ["CITIZEN_DOMAIN", "request_payload"]

CITIZEN_DOMAIN = "tongban/citizen-view/v1"
"""The signing domain of a citizen's access-history request."""


def request_payload(log_id: int, holder: str, challenge: str) -> SignedPayload:
    """What the holder signs to ask for their access history."""
    message = canonical_json({"challenge": challenge, "holder": holder, "logId": log_id})
    return SignedPayload(CITIZEN_DOMAIN, message)
