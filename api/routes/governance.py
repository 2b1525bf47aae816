"""``/governance``: consortium proposals and approvals (governors)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/governance", tags=["governance"])
