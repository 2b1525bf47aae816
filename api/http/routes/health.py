"""``/healthz``, ``/readyz`` and ``/metrics``: for the orchestrator and Prometheus, no token.

None of them carries personal data. ``/readyz`` reports each check and answers
503 unless all pass: the store answers; the chain answers (when configured);
the writer lease is held by some process and not expired; the oldest
unfinished outbox item is younger than ``ApiLimits.outbox_max_age_seconds``.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import Field

from api.http.context import ProvinceContext
from api.http.deps import ContextDep
from api.http.metrics import CONTENT_TYPE, Sample
from api.http.schemas.common import ApiModel
from ledger.audit.anchoring import CheckpointState
from ledger.chain import outbox
from ledger.chain.errors import ChainError

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


class Health(ApiModel):
    """The process is alive."""

    status: str = "ok"


class Check(ApiModel):
    """One readiness check."""

    ok: bool
    detail: str = Field(default="", description="Why not, in a few words (no personal data).")


class StoreCheck(Check):
    """The store answered a read."""


class ChainCheck(Check):
    """The chain node answered (or no chain is configured)."""

    configured: bool
    block_number: int | None = None


class LeaseCheck(Check):
    """Some writer holds the writer lease and it has not expired."""

    holder: str | None = None
    expires_in_ms: int | None = None


class OutboxCheck(Check):
    """Anchoring keeps up."""

    open_items: int | None = None
    failed_items: int | None = None
    oldest_age_seconds: float | None = None


class Checks(ApiModel):
    """All readiness checks."""

    store: StoreCheck
    chain: ChainCheck
    writer_lease: LeaseCheck
    outbox: OutboxCheck


class Readiness(ApiModel):
    """Whether this process should get traffic, and why not."""

    ready: bool
    checks: Checks


# Readiness must report a failing dependency, not fail itself: every probe
# below catches whatever the dependency raises and names only its type.


def _store_and_lease(context: ProvinceContext) -> tuple[StoreCheck, LeaseCheck]:
    try:
        lease = context.leases.current(context.writer_lease)
    except Exception as exc:  # noqa: BLE001 - see above
        failed = f"store error: {type(exc).__name__}"
        return StoreCheck(ok=False, detail=failed), LeaseCheck(ok=False, detail=failed)
    if lease is None:
        return StoreCheck(ok=True), LeaseCheck(ok=False, detail="no writer has taken the lease")
    remaining = lease.expires_at_ms - context.clock()
    check = LeaseCheck(
        ok=remaining > 0,
        detail="" if remaining > 0 else "the writer lease expired",
        holder=lease.holder,
        expires_in_ms=remaining,
    )
    return StoreCheck(ok=True), check


def _chain(context: ProvinceContext) -> ChainCheck:
    if context.chain is None:
        return ChainCheck(ok=True, configured=False)
    try:
        return ChainCheck(ok=True, configured=True, block_number=context.chain.block_number())
    except ChainError as exc:
        return ChainCheck(ok=False, configured=True, detail=f"chain error: {type(exc).__name__}")


def _outbox(context: ProvinceContext) -> OutboxCheck:
    try:
        lag = outbox.lag(context.db, context.clock())
    except Exception as exc:  # noqa: BLE001 - see above
        return OutboxCheck(ok=False, detail=f"store error: {type(exc).__name__}")
    limit_ms = context.limits.outbox_max_age_seconds * 1000
    ok = lag.oldest_open_age_ms <= limit_ms
    return OutboxCheck(
        ok=ok,
        detail="" if ok else "the oldest outbox item is older than the limit",
        open_items=lag.open_items,
        failed_items=lag.failed_items,
        oldest_age_seconds=lag.oldest_open_age_ms / 1000,
    )


def readiness(context: ProvinceContext) -> Readiness:
    """Run every readiness check."""
    store, lease = _store_and_lease(context)
    checks = Checks(store=store, chain=_chain(context), writer_lease=lease, outbox=_outbox(context))
    ready = all(c.ok for c in (checks.store, checks.chain, checks.writer_lease, checks.outbox))
    return Readiness(ready=ready, checks=checks)


def _signing_key_samples(context: ProvinceContext) -> list[Sample]:
    if context.keyring is None or context.index is None:
        return []
    active = context.keyring.active_key_id()
    samples = [
        Sample(
            "tongban_signing_key_active",
            "1 while a signing key of the keystore is registered and valid on chain, else 0 "
            "(issuing refuses).",
            0 if active is None else 1,
        )
    ]
    if active is None:
        return samples
    with context.index.view() as view:
        record = view.key(context.issuer_id, active)
    if record is None:
        return samples
    now = context.clock() / 1000
    samples.append(
        Sample(
            "tongban_signing_key_age_seconds",
            "Time since the active signing key became valid (rotate before the policy's age).",
            max(0.0, now - record.valid_from),
        )
    )
    ends = [t for t in (record.retired_at, record.compromised_from) if t is not None]
    if ends:
        samples.append(
            Sample(
                "tongban_signing_key_expires_in_seconds",
                "Time until the active signing key's retirement takes effect (only when one "
                "is scheduled).",
                min(ends) - now,
            )
        )
    return samples


def _index_samples(context: ProvinceContext) -> list[Sample]:
    if context.index is None:
        return []
    return [
        Sample(
            "tongban_chain_index_height",
            "The last block whose events are all in the chain index.",
            context.index.height,
        )
    ]


def store_samples(context: ProvinceContext) -> list[Sample]:
    """Metrics read from the store (the same whichever worker answers)."""
    samples: list[Sample] = []
    try:
        samples.append(
            Sample(
                "tongban_audit_events_total",
                "Events in the province's audit log.",
                context.audit_log.size(),
                "counter",
            )
        )
        lag = outbox.lag(context.db, context.clock())
        samples += [
            Sample("tongban_outbox_open_items", "Outbox items not final yet.", lag.open_items),
            Sample("tongban_outbox_failed_items", "Outbox items that failed.", lag.failed_items),
            Sample(
                "tongban_outbox_oldest_age_seconds",
                "Age of the oldest outbox item not final yet.",
                lag.oldest_open_age_ms / 1000,
            ),
        ]
        if context.anchorer is not None:
            anchored = context.anchorer.checkpoints(
                state=CheckpointState.ANCHORED, limit=1, newest_first=True
            )
            samples.append(
                Sample(
                    "tongban_audit_anchored_tree_size",
                    "Tree size of the newest anchored checkpoint.",
                    anchored[0].tree_size if anchored else 0,
                )
            )
        samples += _index_samples(context)
        samples += _signing_key_samples(context)
    except Exception as exc:  # noqa: BLE001 - metrics must still show the processes' own series
        log.warning("store metrics unavailable", extra={"error": type(exc).__name__})
    return samples


@router.get("/healthz", response_model=Health, summary="The process is alive")
def healthz() -> Health:
    """Always ok while the process serves requests."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Ready for traffic (503 with the failing checks otherwise)",
    responses={503: {"model": Readiness, "description": "Not ready; see the checks."}},
)
def readyz(context: ContextDep) -> JSONResponse:
    """Store, chain, writer lease and outbox lag."""
    result = readiness(context)
    return JSONResponse(result.model_dump(mode="json"), status_code=200 if result.ready else 503)


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    summary="Prometheus metrics (text format 0.0.4), summed over the service's processes",
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Exposition text."}},
)
def metrics(context: ContextDep) -> PlainTextResponse:
    """Gauges read from the store, and the counters and histograms of every process."""
    body = context.metrics.render(store_samples(context))
    return PlainTextResponse(body, media_type=CONTENT_TYPE)
