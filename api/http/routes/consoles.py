"""The consoles' data (docs/consoles.md): search the log, anomaly views, the province at a glance.

- ``GET /audit/events``: the access log filtered, newest first, in keyset
  pages (auditor). A read of the log: its ``audit.read`` event (resource
  ``record:audit_search``) is recorded under the caller's declared purpose
  before the page is answered, as reading one event is.
- ``GET /audit/anomalies``: accesses per verifier per purpose per day (UTC+8),
  spikes, unusual purposes, new verifiers (auditor; ``audit.read`` on
  ``record:audit_anomalies``).
- ``GET /operator/overview``: the province at a glance (operator). It names
  no person and records no access event. (Not under ``/operations``, whose
  ``/operations/{operation_id}`` takes any segment.)

The rules are below: ``api.province.audit_views``, ``api.province.overview``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from prometheus_client.parser import text_string_to_metric_families
from pydantic import AwareDatetime, BeforeValidator

from api.http.auth import Principal
from api.http.context import ProvinceContext
from api.http.deps import (
    AuditorDep,
    ContextDep,
    DeclarationDep,
    OperatorDep,
    RequestIdDep,
)
from api.http.problems import problem_responses
from api.http.routes.health import store_samples
from api.http.schemas.consoles import AnomaliesOut, EventPageOut, OverviewOut
from api.province.access import Declaration, access_event, record_access
from api.province.audit_views import ACCESS_ACTIONS, anomaly_report, search_events, utc8_day
from api.province.issuer_admin import IssuerAdmin
from api.province.overview import OverviewParts, ProvinceOverview, province_overview
from ledger.audit.anomalies import DEFAULT_RULES
from ledger.audit.events import Outcome, format_time
from ledger.audit.search import MAX_PAGE, EventFilter

audit_router = APIRouter(prefix="/audit", tags=["audit"])
operator_router = APIRouter(prefix="/operator", tags=["operator"])

_READ_PROBLEMS = problem_responses(401, 403, 422, 429, 503)

_ACTOR = r"^[a-z0-9][a-z0-9_.:\-]{0,127}$"
_CODE = r"^[a-z][a-z0-9_.\-]{0,63}$"

COUNTED = (
    "tongban_rate_limited_total",
    "tongban_api_denied_total",
    "tongban_writer_duty_failures_total",
)
"""The ``/metrics`` counters the overview shows as they are (refusals and failures)."""


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _record_read(
    context: ProvinceContext, principal: Principal, declared: Declaration, resource: str, rid: str
) -> None:
    event = access_event(declared, rid, "audit.read", resource, outcome=Outcome.SUCCESS)
    record_access(context.audit_log, principal.caller, [event])


@audit_router.get(
    "/events",
    response_model=EventPageOut,
    summary="Search the access log, newest first, in pages (logged as audit.read)",
    responses=_READ_PROBLEMS,
)
def search(
    principal: AuditorDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
    since: Annotated[
        AwareDatetime | None, Query(description="Events at or after this time (with offset).")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Events before this time (with offset).")
    ] = None,
    actor: Annotated[str | None, Query(pattern=_ACTOR, description="Client id.")] = None,
    organisation: Annotated[
        str | None, Query(pattern=_ACTOR, description="The event's actorOrg.")
    ] = None,
    agency: Annotated[
        str | None,
        Query(
            min_length=18,
            max_length=18,
            description="Issuing agency code: events recorded for that agency (docs/agencies.md).",
        ),
    ] = None,
    action: Annotated[str | None, Query(pattern=_CODE)] = None,
    purpose: Annotated[str | None, Query(pattern=_CODE)] = None,
    outcome: Annotated[Outcome | None, Query()] = None,
    cursor: Annotated[
        str | None,
        Query(pattern=r"^[0-9]{1,16}$", description="`nextCursor` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> JSONResponse:
    """Filter by time, actor, organisation, agency, action, purpose, outcome; pseudonyms only."""
    where = EventFilter(
        _ms(since),
        _ms(until),
        actor,
        organisation,
        action,
        purpose,
        None if outcome is None else outcome.value,
    )
    page = search_events(context.db, where, agency=agency, limit=limit, cursor=cursor)
    _record_read(context, principal, declared, "record:audit_search", request_id)
    body = {
        "events": [{"index": f.index, "event": f.event} for f in page.events],
        "nextCursor": page.next_cursor,
    }
    return JSONResponse(body)


def _today(context: ProvinceContext) -> date:
    return utc8_day(context.clock())


def _iso_day(value: object) -> object:
    """Only ``YYYY-MM-DD`` (pydantic would also read ``0`` as a Unix time: 1970-01-01)."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


IsoDay = Annotated[date | None, BeforeValidator(_iso_day)]


@audit_router.get(
    "/anomalies",
    response_model=AnomaliesOut,
    summary="Accesses per verifier per purpose per day, spikes, unusual purposes (audit.read)",
    responses=_READ_PROBLEMS,
)
def anomalies(
    principal: AuditorDep,
    declared: DeclarationDep,
    context: ContextDep,
    request_id: RequestIdDep,
    from_day: Annotated[
        IsoDay,
        Query(alias="from", description="First day (UTC+8); default 27 days before `to`."),
    ] = None,
    to_day: Annotated[
        IsoDay, Query(alias="to", description="Last day (UTC+8), inclusive; default today.")
    ] = None,
) -> AnomaliesOut:
    """Each day is judged against the 28 days before it (docs/consoles.md)."""
    last = to_day or _today(context)
    first = from_day or last - timedelta(days=DEFAULT_RULES.window - 1)
    report = anomaly_report(context.db, first, last)
    _record_read(context, principal, declared, "record:audit_anomalies", request_id)
    rules = report.rules
    return AnomaliesOut.model_validate(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "rules": {
                "windowDays": rules.window,
                "spikeFactor": rules.factor,
                "spikeMinCount": rules.min_count,
                "spikeMinHistoryDays": rules.min_history,
                "unusualShare": rules.share,
                "actions": list(ACCESS_ACTIONS),
            },
            "days": [
                {
                    "day": c.day.isoformat(),
                    "actor": c.verifier.actor,
                    "actorOrg": c.verifier.org,
                    "purpose": c.purpose,
                    "count": c.count,
                }
                for c in report.days
            ],
            "spikes": [
                {
                    "day": s.day.isoformat(),
                    "actor": s.verifier.actor,
                    "actorOrg": s.verifier.org,
                    "count": s.count,
                    "trailingMedian": s.trailing_median,
                    "historyDays": s.history_days,
                }
                for s in report.spikes
            ],
            "unusualPurposes": [
                {
                    "day": u.day.isoformat(),
                    "actor": u.verifier.actor,
                    "actorOrg": u.verifier.org,
                    "purpose": u.purpose,
                    "count": u.count,
                    "trailingCount": u.trailing_count,
                    "trailingTotal": u.trailing_total,
                    "neverBefore": u.never_before,
                }
                for u in report.unusual_purposes
            ],
            "newVerifiers": [
                {
                    "day": n.day.isoformat(),
                    "actor": n.verifier.actor,
                    "actorOrg": n.verifier.org,
                    "count": n.count,
                }
                for n in report.new_verifiers
            ],
        }
    )


def counters_of(exposition: str) -> dict[str, float]:
    """The ``COUNTED`` series of a ``/metrics`` exposition, ``name{label=value,...}`` to value."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name in COUNTED:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                found[f"{sample.name}{{{labels}}}"] = float(sample.value)
            elif sample.name == "tongban_http_requests_total" and sample.labels.get(
                "status", ""
            ).startswith("5"):
                key = "tongban_http_requests_total{status=5xx}"
                found[key] = found.get(key, 0.0) + float(sample.value)
    return found


def _parts(context: ProvinceContext) -> OverviewParts:
    admin = None
    if (
        context.registry is not None
        and context.index is not None
        and context.keys is not None
        and context.keyring is not None
        and context.issuer is not None
    ):
        admin = IssuerAdmin(
            context.db,
            context.registry,
            context.index,
            context.keys,
            context.keyring,
            context.issuer,
            operator_account=context.operator_account,
        )
    chain = context.chain
    return OverviewParts(
        db=context.db,
        issuer_id=context.issuer_id,
        leases=context.leases,
        writer_lease=context.writer_lease,
        clients=context.clients,
        chain_head=None if chain is None else chain.block_number,
        index=context.index,
        admin=admin,
        registry=context.registry,
        governor_account=context.governor_account,
        issues=context.issuer is not None,
    )


def _hour(hour_ms: int) -> str:
    return datetime.fromtimestamp(hour_ms / 1000, UTC).strftime("%Y-%m-%dT%H:00:00Z")


def overview_out(view: ProvinceOverview) -> OverviewOut:
    """The API form of ``province_overview``'s answer."""
    batches = view.batches
    return OverviewOut.model_validate(
        {
            "time": format_time(view.time_ms),
            "chain": {
                "head": view.chain.head,
                "indexHeight": view.chain.index_height,
                "lag": view.chain.lag,
                "error": view.chain.error,
            },
            "outboxByState": view.outbox_by_state,
            "outboxOldestOpenAgeSeconds": view.outbox_oldest_open_age_seconds,
            "batches": None
            if batches is None
            else {
                "pendingCredentials": batches.pending_credentials,
                "openBatches": batches.open_batches,
                "oldestOpenAgeSeconds": batches.oldest_open_age_seconds,
                "latencyBatches": batches.latency.batches,
                "latencyP50Seconds": batches.latency.p50_seconds,
                "latencyP95Seconds": batches.latency.p95_seconds,
            },
            "keys": None
            if view.keys is None
            else [
                {
                    "keyId": k.record.key_id,
                    "validFrom": k.record.valid_from,
                    "retiredAt": k.record.retired_at,
                    "compromisedFrom": k.record.compromised_from,
                    "held": k.held,
                    "validNow": k.valid_now,
                    "active": k.active,
                }
                for k in view.keys
            ],
            "writers": None
            if view.writers is None
            else [
                {"account": w.account, "addedAt": w.added_at, "retiredAt": w.retired_at}
                for w in view.writers
            ],
            "writerLeaseHolder": view.lease_holder,
            "writerLeaseExpiresInMs": view.lease_expires_in_ms,
            "clientsByRole": {
                role: {"active": c.active, "revoked": c.revoked} for role, c in view.clients.items()
            },
            "agenciesActive": view.agencies_active,
            "agenciesRetired": view.agencies_retired,
            "templates": view.templates,
            "proposalsAwaitingGovernor": view.proposals_awaiting,
            "counters": view.counters,
            "unavailable": view.unavailable,
            "issuedPerHour": [
                {"hour": _hour(h.hour_ms), "key": h.key, "count": h.count}
                for h in view.issued_per_hour
            ],
            "verifiedPerHour": [
                {"hour": _hour(h.hour_ms), "key": h.key, "count": h.count}
                for h in view.verified_per_hour
            ],
            "auditEventsPerPurposePerHour": [
                {"hour": _hour(h.hour_ms), "key": h.key, "count": h.count}
                for h in view.audit_per_purpose_per_hour
            ],
        }
    )


@operator_router.get(
    "/overview",
    response_model=OverviewOut,
    summary="The province at a glance: chain, outbox, batches, keys, clients, series",
    responses=problem_responses(401, 403, 429, 503),
)
def overview(principal: OperatorDep, context: ContextDep) -> OverviewOut:
    """Read from the store, the chain index, the registry and the counters /metrics shows."""
    counters = counters_of(context.metrics.render(store_samples(context)))
    return overview_out(province_overview(_parts(context), context.clock(), counters))
