"""``/credentials/verify``, ``/presentations/verify``, ``/challenges`` (verifier systems)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["verification"])
