"""The operator console: ``/console/operator``, the province at a glance, and its actions.

The page reads ``api.province.overview.province_overview`` (as
``GET /operator/overview``) and the client registry. Its actions are
CSRF-checked POST forms that call the province functions the API routes call,
with the same administrative events, so each is the same audited call:

- create an API client (``ClientRegistry.create``, ``api.client_create``; the
  token is shown once, in the POST's own answer) and revoke one
  (``ClientRegistry.revoke``, ``api.client_revoke``);
- rotate the signing key (``IssuerAdmin.rotate_key`` under ``audited``,
  ``issuer.key.rotate``);
- approve a proposal awaiting this service's governor
  (``Governance.approve`` under ``audited``, ``governance.approve``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from api.errors import ApiError
from api.http.context import ProvinceContext
from api.http.deps import context_of, request_id_for
from api.http.routes.consoles import counters_of
from api.http.routes.health import store_samples
from api.portal.console.forms import FormError, clean, read_fields
from api.portal.console.gate import (
    OPERATOR,
    ConsoleStaffDep,
    language,
    render_console,
    require_role,
)
from api.portal.console.overview_view import overview_values
from api.portal.pages import PortalRoute
from api.portal.staff import staff_caller
from api.province.audited import ACCESS_CONTROL_PURPOSE, audited, record_administrative
from api.province.clients import Role
from api.province.governance import Governance
from api.province.issuer_admin import IssuerAdmin
from api.province.overview import OverviewParts, province_overview

__all__ = ["router"]

router = APIRouter(route_class=PortalRoute)

_KEY_RESOURCE = "record:issuer_key"
_PROPOSAL_RESOURCE = "record:governance_proposal"
_CLIENT_RESOURCE = "record:api_client"
_ROLES = tuple(r.value for r in Role)


def _admin(context: ProvinceContext) -> IssuerAdmin | None:
    if (
        context.registry is None
        or context.index is None
        or context.keys is None
        or context.keyring is None
        or context.issuer is None
    ):
        return None
    return IssuerAdmin(
        context.db,
        context.registry,
        context.index,
        context.keys,
        context.keyring,
        context.issuer,
        operator_account=context.operator_account,
    )


def _overview(context: ProvinceContext) -> dict[str, Any]:
    chain = context.chain
    parts = OverviewParts(
        db=context.db,
        issuer_id=context.issuer_id,
        leases=context.leases,
        writer_lease=context.writer_lease,
        clients=context.clients,
        chain_head=None if chain is None else chain.block_number,
        index=context.index,
        admin=_admin(context),
        registry=context.registry,
        governor_account=context.governor_account,
        issues=context.issuer is not None,
    )
    counters = counters_of(context.metrics.render(store_samples(context)))
    view = province_overview(parts, context.clock(), counters)
    return {"view": view, "clients": context.clients.list()}


async def _operator_page(
    request: Request, staff: Any, lang: str, status: int = 200, **values: Any
) -> HTMLResponse:
    context = context_of(request)
    read = await run_in_threadpool(_overview, context)
    shown: dict[str, Any] = {"notice": None, "token": None, "error": None, "error_fields": []}
    shown.update(values)
    return render_console(
        request,
        "console/operator.html",
        staff,
        lang,
        status,
        roles=_ROLES,
        governs=context.governor_account is not None,
        **overview_values(read["view"], lang),
        clients=read["clients"],
        **shown,
    )


@router.get("/console/operator", include_in_schema=False)
async def operator_console(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """The province at a glance, charts and the action forms."""
    require_role(request, staff, OPERATOR)
    return await _operator_page(request, staff, language(request))


async def _fields(request: Request, staff: Any) -> dict[str, str] | None:
    try:
        return await read_fields(request, staff)
    except FormError:
        return None


@router.post("/console/operator/clients", include_in_schema=False)
async def create_client_page(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """Create an API client; its token is shown in this answer only."""
    require_role(request, staff, OPERATOR)
    fields = await _fields(request, staff)
    if fields is None:
        return await _operator_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    form = await request.form()
    roles = [r for r in form.getlist("roles") if isinstance(r, str) and r in _ROLES]
    name = fields.get("name", "").strip()
    organisation = fields.get("organisation", "").strip()
    try:
        client_id = clean(fields, "client_id")
    except FormError as bad:
        return await _operator_page(
            request, staff, lang, 422, error="error_input", error_fields=[bad.field]
        )
    missing = [
        f for f, v in (("name", name), ("organisation", organisation), ("roles", roles)) if not v
    ]
    if missing:
        return await _operator_page(
            request, staff, lang, 422, error="error_input", error_fields=missing
        )
    context = context_of(request)

    def create() -> str:
        issued = context.clients.create(
            name, organisation, [Role(r) for r in roles], client_id=client_id
        )
        record_administrative(
            context.audit_log,
            staff_caller(staff),
            "api.client_create",
            _CLIENT_RESOURCE,
            request_id_for(request),
            purpose=ACCESS_CONTROL_PURPOSE,
        )
        return issued.token

    try:
        token = await run_in_threadpool(create)
    except ApiError as refused:
        names = [f.field for f in refused.fields] or ["form"]
        return await _operator_page(
            request, staff, lang, refused.status, error="error_input", error_fields=names
        )
    return await _operator_page(request, staff, lang, notice="client_created", token=token)


@router.post("/console/operator/clients/{client_id}/revoke", include_in_schema=False)
async def revoke_client_page(
    request: Request,
    staff: ConsoleStaffDep,
    client_id: Annotated[str, Path(max_length=128)],
) -> HTMLResponse:
    """Revoke an API client at once."""
    require_role(request, staff, OPERATOR)
    fields = await _fields(request, staff)
    if fields is None:
        return await _operator_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    context = context_of(request)

    def revoke() -> None:
        context.clients.revoke(client_id)
        record_administrative(
            context.audit_log,
            staff_caller(staff),
            "api.client_revoke",
            _CLIENT_RESOURCE,
            request_id_for(request),
            purpose=ACCESS_CONTROL_PURPOSE,
        )

    try:
        await run_in_threadpool(revoke)
    except ApiError as refused:
        return await _operator_page(
            request, staff, lang, refused.status, error="error_input", error_fields=["client"]
        )
    return await _operator_page(request, staff, lang, notice="client_revoked")


@router.post("/console/operator/keys", include_in_schema=False)
async def rotate_key_page(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """Rotate the signing key: a new key, registered on chain through the outbox."""
    require_role(request, staff, OPERATOR)
    fields = await _fields(request, staff)
    if fields is None:
        return await _operator_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    try:
        wanted = clean(fields, "key_id")
    except FormError as bad:
        return await _operator_page(
            request, staff, lang, 422, error="error_input", error_fields=[bad.field]
        )
    context = context_of(request)
    admin = _admin(context)
    if admin is None:
        return await _operator_page(request, staff, lang, 503, error="error_unavailable")

    def rotate() -> str:
        caller = staff_caller(staff)
        rid = request_id_for(request)
        with audited(context.audit_log, caller, "issuer.key.rotate", _KEY_RESOURCE, rid):
            key_id = wanted if wanted is not None else admin.next_key_id()
            admin.rotate_key(key_id)
        return key_id

    try:
        key_id = await run_in_threadpool(rotate)
    except ApiError as refused:
        return await _operator_page(
            request, staff, lang, refused.status, error="error_input", error_fields=["key_id"]
        )
    return await _operator_page(request, staff, lang, notice="key_rotated", notice_detail=key_id)


@router.post("/console/operator/proposals/{proposal_id}/approve", include_in_schema=False)
async def approve_proposal_page(
    request: Request,
    staff: ConsoleStaffDep,
    proposal_id: Annotated[int, Path(ge=0, le=2**63 - 1)],
) -> HTMLResponse:
    """Approve a proposal awaiting this service's governor (as the governance route)."""
    require_role(request, staff, OPERATOR)
    fields = await _fields(request, staff)
    if fields is None:
        return await _operator_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    context = context_of(request)
    if context.registry is None or context.governor_account is None:
        return await _operator_page(request, staff, lang, 503, error="error_unavailable")
    governance = Governance(context.db, context.registry, context.governor_account)

    def approve() -> None:
        caller = staff_caller(staff)
        rid = request_id_for(request)
        with audited(context.audit_log, caller, "governance.approve", _PROPOSAL_RESOURCE, rid):
            governance.approve(proposal_id)

    try:
        await run_in_threadpool(approve)
    except ApiError as refused:
        return await _operator_page(
            request, staff, lang, refused.status, error="error_input", error_fields=["proposal"]
        )
    return await _operator_page(request, staff, lang, notice="proposal_approved")
