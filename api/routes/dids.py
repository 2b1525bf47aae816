"""``/dids``: DID documents of issuers (from the chain index) and of holders (did:key)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/dids", tags=["dids"])
