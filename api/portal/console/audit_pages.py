"""The audit console: ``/console/`` and ``/console/audit`` (search, one event, anomalies).

Every read of the log here is an access like the API's (docs/consoles.md): the
auditor states a purpose and legal basis, and the ``audit.read`` event
(resources ``record:audit_search``, ``record:audit_event``,
``record:audit_anomalies``) is durable before the page is answered. The
search and the anomaly views are POST forms (CSRF-checked; the answer is the
POST's own page), so no filter ever lands in a URL or a referrer; an event's
page is a GET whose query holds only the declared purpose's codes.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.errors import ApiError
from api.http.deps import context_of, request_id_for
from api.portal.console.anomaly_view import anomaly_values
from api.portal.console.evidence import checkpoint_timeline, event_evidence
from api.portal.console.forms import (
    FormError,
    clean,
    declaration,
    local_time_ms,
    read_fields,
    report_day,
)
from api.portal.console.gate import (
    AUDITOR,
    OPERATOR,
    ConsoleStaffDep,
    language,
    render_console,
    require_role,
)
from api.portal.console.node import COOKIE, encode_node, node_from_cookie, node_from_fields
from api.portal.console.words import PROOF_KEYS, outcome_words, words
from api.portal.pages import PortalRoute
from api.portal.staff import staff_caller
from api.province.access import Declaration, access_event, record_access
from api.province.audit_views import anomaly_report, search_events, utc8_day
from credentials.purposes import PURPOSES
from ledger.audit.anomalies import DEFAULT_RULES
from ledger.audit.events import Outcome
from ledger.audit.search import EventFilter

__all__ = ["PAGE_SIZE", "audit_page", "proof_values", "purpose_words", "record_read", "router"]

router = APIRouter(route_class=PortalRoute)

PAGE_SIZE = 50
"""Events per page of the console's search."""
_MAX_INDEX = 2**53 - 1
_OUTCOMES = tuple(o.value for o in Outcome)
_FILTERS = ("since", "until", "actor", "organisation", "agency", "action", "event_purpose")


def record_read(
    request: Request, staff: Any, declared: Declaration, resource: str, outcome: Outcome
) -> None:
    """Record the auditor's read of the log (``audit.read`` on ``resource``) before answering."""
    event = access_event(declared, request_id_for(request), "audit.read", resource, outcome=outcome)
    record_access(context_of(request).audit_log, staff_caller(staff), [event])


def _purpose_options(lang: str) -> list[tuple[str, str]]:
    """Every purpose of the catalogue (用证事由), for the search's purpose filter."""
    return [(p.code, p.en if lang == "en" else p.zh) for p in PURPOSES.values()]


def purpose_words(code: str | None, lang: str) -> str:
    """A purpose code in words (the code itself when the catalogue lacks it)."""
    found = PURPOSES.get(code or "")
    if found is None:
        return code or ""
    return found.en if lang == "en" else found.zh


def proof_values(request: Request, lang: str) -> dict[str, Any]:
    """What a page running the in-browser check needs: the auditor's node, the words."""
    catalogue = words(lang)
    return {
        "node": node_from_cookie(request),
        "proof_words": json.dumps(
            {key: catalogue[key] for key in PROOF_KEYS}, ensure_ascii=False, sort_keys=True
        ),
    }


def audit_page(
    request: Request,
    staff: Any,
    lang: str,
    status: int = 200,
    **values: Any,
) -> HTMLResponse:
    """The audit console with ``values`` (a search's results, a report, an error) filled in."""
    context = context_of(request)
    today = utc8_day(context.clock())
    defaults: dict[str, Any] = {
        "filters": {},
        "results": None,
        "declared": None,
        "error": None,
        "error_fields": [],
        "next_cursor": None,
        "report": None,
        "from_day": (today - timedelta(days=DEFAULT_RULES.window - 1)).isoformat(),
        "to_day": today.isoformat(),
        "notice": None,
        "log_id": context.audit_log.log_id,
        **proof_values(request, lang),
    }
    defaults.update(values)
    return render_console(
        request,
        "console/audit.html",
        staff,
        lang,
        status,
        outcomes=[(o, outcome_words(o, lang)) for o in _OUTCOMES],
        purpose_options=_purpose_options(lang),
        timeline=checkpoint_timeline(context.anchorer, context.audit_log),
        **defaults,
    )


@router.get("/console/", include_in_schema=False)
def console_home(request: Request, staff: ConsoleStaffDep) -> Response:
    """To the console the staff member's role allows (auditor first); none: the 403 page."""
    if AUDITOR in staff.roles:
        return RedirectResponse("/console/audit", status_code=303)
    if OPERATOR in staff.roles:
        return RedirectResponse("/console/operator", status_code=303)
    require_role(request, staff, AUDITOR)
    raise AssertionError("require_role refuses a staff member without the role")


@router.get("/console/audit", include_in_schema=False)
def audit_console(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """The audit console: search form, anomaly form, export, verify an export, checkpoints."""
    require_role(request, staff, AUDITOR)
    return audit_page(request, staff, language(request))


def _event_filter(fields: dict[str, str]) -> tuple[EventFilter, str | None]:
    since, until = local_time_ms(fields, "since"), local_time_ms(fields, "until")
    where = EventFilter(
        since,
        until,
        clean(fields, "actor"),
        clean(fields, "organisation"),
        clean(fields, "action"),
        clean(fields, "event_purpose"),
        clean(fields, "outcome"),
    )
    return where, clean(fields, "agency")


def _row(index: int, event: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    if event is None:
        return {"index": index, "event": None}
    subject = event.get("subject")
    return {
        "index": index,
        "event": event,
        "time": event.get("time"),
        "purpose_words": purpose_words(event.get("purpose"), lang),
        "outcome_words": outcome_words(event.get("outcome"), lang),
        "pseudonym": subject.get("pseudonym") if isinstance(subject, dict) else None,
    }


@router.post("/console/audit/search", include_in_schema=False)
async def audit_search_page(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """One page of the search, newest first; the search is an ``audit.read`` access."""
    require_role(request, staff, AUDITOR)
    try:
        fields = await read_fields(request, staff)
    except FormError:
        return audit_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    kept = {name: fields.get(name, "") for name in (*_FILTERS, "outcome")}
    try:
        where, agency = _event_filter(fields)
        declared = declaration(fields.get("purpose"), fields.get("legal_basis"))
        cursor = clean(fields, "cursor")
    except FormError as bad:
        return audit_page(
            request, staff, lang, 422, error="error_input", error_fields=[bad.field], filters=kept
        )
    context = context_of(request)
    try:
        page = await run_in_threadpool(
            search_events, context.db, where, agency=agency, limit=PAGE_SIZE, cursor=cursor
        )
    except ApiError as refused:
        names = [f.field for f in refused.fields] if refused.fields else ["form"]
        return audit_page(
            request, staff, lang, 422, error="error_input", error_fields=names, filters=kept
        )
    await run_in_threadpool(
        record_read, request, staff, declared, "record:audit_search", Outcome.SUCCESS
    )
    return audit_page(
        request,
        staff,
        lang,
        filters=kept,
        declared=declared,
        results=[_row(f.index, f.event, lang) for f in page.events],
        next_cursor=page.next_cursor,
    )


@router.get("/console/audit/events/{index}", include_in_schema=False)
def audit_event_page(
    request: Request,
    staff: ConsoleStaffDep,
    index: Annotated[int, Path(ge=0, le=_MAX_INDEX)],
    purpose: Annotated[str | None, Query(max_length=64)] = None,
    legal_basis: Annotated[str | None, Query(max_length=128)] = None,
) -> HTMLResponse:
    """One event, its receipt and inclusion proof; asks for the purpose first when not given."""
    require_role(request, staff, AUDITOR)
    lang = language(request)
    if purpose is None:
        return render_console(
            request, "console/event.html", staff, lang, index=index, evidence=None, error=None
        )
    try:
        declared = declaration(purpose, legal_basis)
    except FormError:
        return render_console(
            request,
            "console/event.html",
            staff,
            lang,
            422,
            index=index,
            evidence=None,
            error="error_input",
        )
    context = context_of(request)
    evidence = event_evidence(context.audit_log, context.anchorer, index)
    outcome = Outcome.NOT_FOUND if evidence is None else Outcome.SUCCESS
    record_read(request, staff, declared, "record:audit_event", outcome)
    if evidence is None:
        return render_console(
            request,
            "console/event.html",
            staff,
            lang,
            404,
            index=index,
            evidence=None,
            error="not_found",
        )
    return render_console(
        request,
        "console/event.html",
        staff,
        lang,
        index=index,
        evidence=evidence,
        error=None,
        **proof_values(request, lang),
        purpose_words=purpose_words(evidence.event.get("purpose"), lang),
        outcome_words=outcome_words(evidence.event.get("outcome"), lang),
    )


@router.post("/console/audit/node", include_in_schema=False)
async def audit_node_page(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """Keep (or, with ``clear``, forget) the auditor's chain node in this browser's cookie.

    Records nothing: the setting names nobody and reads no log (docs/consoles.md).
    """
    require_role(request, staff, AUDITOR)
    try:
        fields = await read_fields(request, staff)
    except FormError:
        return audit_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    secure = request.url.scheme == "https"
    if fields.get("clear"):
        cleared = audit_page(request, staff, lang, notice="node_cleared", node=None)
        cleared.delete_cookie(COOKIE, path="/console", secure=secure, httponly=True)
        return cleared
    try:
        node = node_from_fields(fields)
    except FormError as bad:
        return audit_page(request, staff, lang, 422, error="error_input", error_fields=[bad.field])
    saved = audit_page(request, staff, lang, notice="node_saved", node=node)
    saved.set_cookie(
        COOKIE,
        encode_node(node),
        max_age=31536000,
        path="/console",
        samesite="strict",
        httponly=True,
        secure=secure,
    )
    return saved


@router.post("/console/audit/anomalies", include_in_schema=False)
async def audit_anomalies_page(request: Request, staff: ConsoleStaffDep) -> HTMLResponse:
    """The anomaly views of the chosen days as charts and tables (an ``audit.read`` access)."""
    require_role(request, staff, AUDITOR)
    try:
        fields = await read_fields(request, staff)
    except FormError:
        return audit_page(request, staff, language(request), 400, error="error_form")
    lang = language(request, fields.get("lang"))
    context = context_of(request)
    try:
        last = report_day(fields, "to_day") or utc8_day(context.clock())
        first = report_day(fields, "from_day") or last - timedelta(days=DEFAULT_RULES.window - 1)
        declared = declaration(fields.get("purpose"), fields.get("legal_basis"))
    except FormError as bad:
        return audit_page(request, staff, lang, 422, error="error_input", error_fields=[bad.field])
    try:
        report = await run_in_threadpool(anomaly_report, context.db, first, last)
    except ApiError as refused:
        names = [f.field for f in refused.fields] if refused.fields else ["form"]
        return audit_page(request, staff, lang, 422, error="error_input", error_fields=names)
    await run_in_threadpool(
        record_read, request, staff, declared, "record:audit_anomalies", Outcome.SUCCESS
    )
    return audit_page(
        request,
        staff,
        lang,
        declared=declared,
        report=anomaly_values(report, lang, purpose_words),
        from_day=first.isoformat(),
        to_day=last.isoformat(),
    )
