"""``/credentials``: issue, read, anchoring state and anchor proof, status (issuer systems)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["credentials"])
