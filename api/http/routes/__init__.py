"""Every router of the province API, aggregated in one place (``api_router``).

A new resource adds its module here and nowhere else; ``api.http.app`` includes
``api_router`` once.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.http.routes import (
    agencies,
    audit,
    citizen,
    clients,
    consoles,
    credentials,
    dids,
    docs,
    documents,
    governance,
    health,
    issuer_admin,
    oid4vci,
    operations,
    paper,
    purposes,
    status_lists,
    templates,
    verification,
    verification_batch,
    zhengzhao,
)

__all__ = ["api_router"]

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(docs.router)
api_router.include_router(audit.router)
api_router.include_router(consoles.audit_router)
api_router.include_router(consoles.operator_router)
api_router.include_router(citizen.router)
api_router.include_router(clients.router)
api_router.include_router(agencies.router)
# Verification first: its fixed paths (/credentials/verify) precede /credentials/{digest}.
api_router.include_router(verification.router)
api_router.include_router(verification_batch.router)
api_router.include_router(documents.router)
api_router.include_router(credentials.router)
api_router.include_router(paper.router)
api_router.include_router(oid4vci.issuer_router)
api_router.include_router(oid4vci.wallet_router)
api_router.include_router(dids.router)
api_router.include_router(templates.router)
api_router.include_router(purposes.router)
api_router.include_router(governance.router)
api_router.include_router(issuer_admin.router)
api_router.include_router(operations.router)
api_router.include_router(status_lists.router)
api_router.include_router(zhengzhao.router)
