"""The audit console's export: download the log, and verify an export file with findings in words.

``POST /console/audit/export`` streams the API's export (``stream_export``,
the same bytes as ``GET /audit/export``) after its ``audit.read`` event
(resource ``record:audit_export``) is durable. ``POST /console/audit/export/verify``
takes an export file (multipart, capped at ``EXPORT_CHECK_CAP``) and runs
``ledger.audit.export_check.verify_export`` against the chain this province
reads (its ``AuditAnchor`` and ``IssuerRegistry``), as ``tongban audit verify``
does, the province's own log answering consistency proofs. Checking a file the
auditor holds reads nothing of the log's events, so it records no access.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from api.http.context import ProvinceContext
from api.http.deps import context_of
from api.http.export_stream import stream_export
from api.http.problems import Problem
from api.http.uploads import FormParts, read_form
from api.portal.console.audit_pages import audit_page, record_read
from api.portal.console.forms import FormError, declaration, read_fields
from api.portal.console.gate import AUDITOR, ConsoleStaffDep, language, render_console, require_role
from api.portal.pages import PortalRoute
from api.portal.staff import check_form_csrf
from ledger.audit.chain_view import ContractChainView
from ledger.audit.events import Outcome
from ledger.audit.export_check import verify_export
from ledger.audit.export_format import ExportReport
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.errors import ChainError

__all__ = ["EXPORT_CHECK_CAP", "router"]

router = APIRouter(route_class=PortalRoute)

EXPORT_CHECK_CAP = 64 * 1024 * 1024
"""Largest export file the page checks (held in memory while checked)."""

_FINDING_WORDS = {
    "altered": "finding_altered",
    "receipt": "finding_receipt",
    "missing": "finding_missing",
    "order": "finding_missing",
    "misplaced": "finding_missing",
    "truncated": "finding_missing",
    "root": "finding_root",
    "checkpoint": "finding_root",
    "consistency": "finding_root",
    "format": "finding_format",
}


def _chain_view(context: ProvinceContext) -> ContractChainView | None:
    if context.registry is None or context.addresses is None:
        return None
    anchor = AuditAnchor(context.registry.client, context.addresses.audit_anchor)
    return ContractChainView(anchor, context.registry)


@router.post("/console/audit/export", include_in_schema=False)
async def audit_export_download(request: Request, staff: ConsoleStaffDep) -> Response:
    """The whole log as the API's export, a download; an ``audit.read`` access."""
    require_role(request, staff, AUDITOR)
    try:
        fields = await read_fields(request, staff)
        declared = declaration(fields.get("purpose"), fields.get("legal_basis"))
    except FormError as bad:
        lang = language(request)
        return audit_page(request, staff, lang, 422, error="error_input", error_fields=[bad.field])
    context = context_of(request)
    if context.anchorer is None:
        return audit_page(request, staff, language(request), 503, error="error_unavailable")
    anchorer = context.anchorer
    await run_in_threadpool(
        record_read, request, staff, declared, "record:audit_export", Outcome.SUCCESS
    )
    return StreamingResponse(
        stream_export(context.audit_log, anchorer, request.is_disconnected),
        media_type="application/jsonl",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{context.issuer_id}.jsonl"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _findings(report: ExportReport) -> list[dict[str, Any]]:
    return [
        {
            "key": _FINDING_WORDS.get(f.kind, "finding_other"),
            "kind": f.kind,
            "index": f.index,
            "tree_size": f.tree_size,
            "message": f.message,
        }
        for f in report.findings
    ]


@router.post("/console/audit/export/verify", include_in_schema=False)
async def audit_export_verify(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """An uploaded export checked against its receipts and the chain; findings in words."""
    require_role(request, staff, AUDITOR)
    caps = {"csrf_token": 256, "lang": 16, "export": EXPORT_CHECK_CAP}
    try:
        parts = await read_form(request, FormParts(caps, EXPORT_CHECK_CAP + 64 * 1024))
    except Problem as refused:
        key = "error_input" if refused.status == 413 else "error_form"
        return audit_page(request, staff, language(request), refused.status, error=key)
    check_form_csrf(staff, bytes(parts["csrf_token"].data).decode("utf-8", "replace") or None)
    lang = language(request, bytes(parts["lang"].data).decode("utf-8", "replace"))
    context = context_of(request)
    view = _chain_view(context)
    if view is None:
        return audit_page(request, staff, lang, 503, error="error_unavailable")
    data = bytes(parts["export"].data)
    del parts
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    log = context.audit_log

    def check() -> ExportReport:
        return verify_export(
            text.splitlines(), view, prover=lambda a, b: log.consistency_proof(a, b)
        )

    try:
        report = await run_in_threadpool(check)
    except ChainError:
        return audit_page(request, staff, lang, 503, error="error_unavailable")
    return render_console(
        request,
        "console/export_check.html",
        staff,
        lang,
        valid=report.valid,
        events=report.events,
        checkpoints=report.checkpoints_checked,
        beyond=report.beyond is not None and report.beyond.proven_by is None,
        findings=_findings(report),
    )
