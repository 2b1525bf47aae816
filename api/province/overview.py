"""The province at a glance, for the operator's console (``GET /operator/overview``).

``province_overview`` gathers what an operator otherwise reads from
``/metrics``, ``/readyz``, ``GET /issuer``, ``GET /clients`` and the logs:
chain head, index height and lag; outbox items by state; open credential
batches and the anchoring latency of the last final ones; signing keys with
validity and compromise marks, writers, and who holds the writer lease; API
clients by role; agencies and templates; governance proposals awaiting this
province's governor; the process counters of refusals and failures; hourly
series of the last 48 hours for charts.

Every figure comes from the place that already owns it, so the console and
the other views never disagree: the issuer's keys and writers from
``IssuerAdmin.overview`` (registry and chain index), the outbox lag from
``ledger.chain.outbox.lag``, audit counts from ``ledger.audit.search``,
clients from the client registry, agencies from their registry, proposals
from ``api.province.governance``. The counters (rate-limit refusals,
denials, writer failures, 5xx answers) are the Prometheus series ``/metrics``
renders, summed over the service's processes: the caller passes what it
read there (``counters``), this module does not count a second time. The
hourly series come from the store (the audit facets and the credentials'
issue times), never from process-local metrics, which are per worker.

A part the process does not have (no chain configured, a worker without the
issuer's parts) leaves its section ``None``; a chain that does not answer
leaves ``chain.error`` naming the error's type only, and sections read
from the registry that it could not answer are named in ``unavailable``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from api.province.audit_views import ACCESS_ACTIONS, audit_search
from api.province.clients import ClientRegistry, Role
from api.province.governance import MAX_LISTED, ProposalState, list_proposals
from api.province.issuer_admin import IssuerAdmin, KeyView
from credentials.templates import TEMPLATES
from credentials.zhengzhao.agencies import list_agencies
from ledger.audit.search import HOUR_MS
from ledger.chain import outbox
from ledger.chain.contracts.registry import IssuerRegistry, WriterRecord
from ledger.chain.errors import ChainError
from ledger.chain.index import ChainIndex
from ledger.store.database import Database
from ledger.store.lease import Leases

__all__ = [
    "LATENCY_BATCHES",
    "SERIES_HOURS",
    "AnchoringLatency",
    "BatchSummary",
    "ChainSummary",
    "ClientCounts",
    "HourCount",
    "OverviewParts",
    "ProvinceOverview",
    "percentile",
    "province_overview",
]

SERIES_HOURS = 48
"""Hours the charts' series cover, the current hour included."""

LATENCY_BATCHES = 50
"""Final credential batches the anchoring latency is measured over (the newest)."""


@dataclass(frozen=True)
class OverviewParts:
    """The province parts the overview reads; ``None`` where this process has none."""

    db: Database
    issuer_id: int
    leases: Leases
    writer_lease: str
    clients: ClientRegistry
    chain_head: Callable[[], int] | None = None
    """The chain's latest block number (``ChainClient.block_number``)."""
    index: ChainIndex | None = None
    admin: IssuerAdmin | None = None
    """The issuer's administration (keys, writers): None in a process without its parts."""
    registry: IssuerRegistry | None = None
    governor_account: str | None = None
    issues: bool = True
    """The store holds an issuer's credentials (its tables): batches and issuance series."""


@dataclass(frozen=True)
class ChainSummary:
    """The chain's head as the node says, the index's height, and how far the index lags."""

    head: int | None
    index_height: int | None
    lag: int | None
    error: str | None = None


@dataclass(frozen=True)
class AnchoringLatency:
    """Seconds from sealing a credential batch to the block that anchored it."""

    batches: int
    p50_seconds: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class BatchSummary:
    """Credentials not anchored yet: pending (unsealed) ones, open (sealed) batches."""

    pending_credentials: int
    open_batches: int
    oldest_open_age_seconds: float | None
    latency: AnchoringLatency


@dataclass(frozen=True)
class ClientCounts:
    """API clients holding one role: active and revoked."""

    active: int = 0
    revoked: int = 0


@dataclass(frozen=True)
class HourCount:
    """Events in one UTC hour (``hour_ms``: its start), for one series key."""

    hour_ms: int
    key: str
    count: int


@dataclass(frozen=True)
class ProvinceOverview:
    """Everything ``province_overview`` gathers (see the module docstring)."""

    time_ms: int
    chain: ChainSummary
    outbox_by_state: dict[str, int]
    outbox_oldest_open_age_seconds: float
    batches: BatchSummary | None
    keys: list[KeyView] | None
    writers: list[WriterRecord] | None
    lease_holder: str | None
    lease_expires_in_ms: int | None
    clients: dict[str, ClientCounts]
    agencies_active: int
    agencies_retired: int
    templates: int
    proposals_awaiting: list[int] | None
    counters: dict[str, float]
    unavailable: list[str] = field(default_factory=list)
    """Sections the chain could not answer for: ``section: ErrorType``."""
    issued_per_hour: list[HourCount] = field(default_factory=list)
    verified_per_hour: list[HourCount] = field(default_factory=list)
    audit_per_purpose_per_hour: list[HourCount] = field(default_factory=list)


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (None when empty): ``fraction`` in (0, 1]."""
    if not values:
        return None
    ordered = sorted(values)
    # round() first: 0.95 * 20 is 19.000000000000004 in binary, whose ceiling is 20.
    rank = math.ceil(round(fraction * len(ordered), 9))
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def _chain(parts: OverviewParts) -> ChainSummary:
    height = None if parts.index is None else parts.index.height
    if parts.chain_head is None:
        return ChainSummary(None, height, None)
    try:
        head = parts.chain_head()
    except Exception as exc:  # noqa: BLE001 - the overview reports a failing node, by type
        return ChainSummary(None, height, None, type(exc).__name__)
    return ChainSummary(head, height, None if height is None else max(0, head - height))


def _outbox(db: Database) -> dict[str, int]:
    found = {state.value: 0 for state in outbox.OutboxState}
    with db.read() as tx:
        for state, count in tx.fetchall("SELECT state, COUNT(*) FROM outbox GROUP BY state"):
            found[str(state)] = int(count)
    return found


def _batches(db: Database, now_ms: int) -> BatchSummary:
    # cred_issued and cred_batches are the issuer's tables (credentials.issuance.store):
    # read here, never written.
    with db.read() as tx:
        pending = tx.fetchone("SELECT COUNT(*) FROM cred_issued WHERE batch_id IS NULL")
        sealed = tx.fetchone(
            "SELECT COUNT(*), MIN(sealed_at_ms) FROM cred_batches WHERE state = 'sealed'"
        )
        anchored = tx.fetchall(
            "SELECT sealed_at_ms, block_time FROM cred_batches "
            "WHERE state = 'anchored' AND block_time IS NOT NULL ORDER BY id DESC LIMIT ?",
            (LATENCY_BATCHES,),
        )
    latencies = [max(0.0, int(block) - int(sealed_ms) / 1000) for sealed_ms, block in anchored]
    open_count = 0 if sealed is None else int(sealed[0])
    oldest = None if sealed is None or sealed[1] is None else (now_ms - int(sealed[1])) / 1000
    return BatchSummary(
        pending_credentials=0 if pending is None else int(pending[0]),
        open_batches=open_count,
        oldest_open_age_seconds=oldest,
        latency=AnchoringLatency(
            len(latencies), percentile(latencies, 0.5), percentile(latencies, 0.95)
        ),
    )


def _clients(registry: ClientRegistry) -> dict[str, ClientCounts]:
    counts: dict[str, list[int]] = {role.value: [0, 0] for role in Role}
    for client in registry.list():
        for role in client.roles:
            counts[role.value][0 if client.active else 1] += 1
    return {role: ClientCounts(active, revoked) for role, (active, revoked) in counts.items()}


def _issued_per_hour(db: Database, since_ms: int, until_ms: int) -> list[HourCount]:
    with db.read() as tx:
        rows = tx.fetchall(
            "SELECT issued_at_ms / ? AS hour, COUNT(*) FROM cred_issued "
            "WHERE issued_at_ms >= ? AND issued_at_ms < ? GROUP BY hour ORDER BY hour",
            (HOUR_MS, since_ms, until_ms),
        )
    return [HourCount(int(hour) * HOUR_MS, "issued", int(count)) for hour, count in rows]


def _proposals_awaiting(parts: OverviewParts, unavailable: list[str]) -> list[int] | None:
    if parts.registry is None or parts.governor_account is None:
        return None
    try:
        views = list_proposals(parts.registry, MAX_LISTED, parts.governor_account)
    except ChainError as exc:
        unavailable.append(f"proposals: {type(exc).__name__}")
        return None
    return [
        v.proposal.proposal_id
        for v in views
        if v.state is ProposalState.OPEN and v.approved_by_governor is False
    ]


def province_overview(
    parts: OverviewParts, now_ms: int, counters: Mapping[str, float] | None = None
) -> ProvinceOverview:
    """The province at ``now_ms``; ``counters`` are the ``/metrics`` series to show as read."""
    db = parts.db
    lag = outbox.lag(db, now_ms)
    lease = parts.leases.current(parts.writer_lease)
    unavailable: list[str] = []
    issuer = None
    if parts.admin is not None:
        try:
            issuer = parts.admin.overview()
        except ChainError as exc:
            unavailable.append(f"issuer: {type(exc).__name__}")
    agencies = list_agencies(db)
    until = (now_ms // HOUR_MS + 1) * HOUR_MS
    since = until - SERIES_HOURS * HOUR_MS
    search = audit_search(db)
    verified: dict[int, int] = defaultdict(int)
    for group in search.counts(since, until, bucket_ms=HOUR_MS, actions=ACCESS_ACTIONS):
        verified[group.bucket] += group.count
    purposes = search.counts(since, until, bucket_ms=HOUR_MS, group_by=("purpose",))
    return ProvinceOverview(
        time_ms=now_ms,
        chain=_chain(parts),
        outbox_by_state=_outbox(db),
        outbox_oldest_open_age_seconds=lag.oldest_open_age_ms / 1000,
        batches=_batches(db, now_ms) if parts.issues else None,
        keys=None if issuer is None else issuer.keys,
        writers=None if issuer is None else issuer.writers,
        lease_holder=None if lease is None else lease.holder,
        lease_expires_in_ms=None if lease is None else lease.expires_at_ms - now_ms,
        clients=_clients(parts.clients),
        agencies_active=sum(1 for a in agencies if a.active),
        agencies_retired=sum(1 for a in agencies if not a.active),
        templates=len(TEMPLATES),
        proposals_awaiting=_proposals_awaiting(parts, unavailable),
        counters=dict(counters or {}),
        unavailable=unavailable,
        issued_per_hour=_issued_per_hour(db, since, until) if parts.issues else [],
        verified_per_hour=[
            HourCount(hour * HOUR_MS, "verified", count) for hour, count in sorted(verified.items())
        ],
        audit_per_purpose_per_hour=[
            HourCount(g.bucket * HOUR_MS, g.key[0], g.count) for g in purposes
        ],
    )
