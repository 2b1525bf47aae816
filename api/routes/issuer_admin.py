"""``/issuer``: the province's own issuer: keys (rotate, retire, compromise) and writers."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/issuer", tags=["issuer"])
