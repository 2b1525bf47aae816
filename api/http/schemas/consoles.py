"""Response models of the consoles' data routes (docs/consoles.md): search, anomalies, overview."""

from __future__ import annotations

from pydantic import Field

from api.http.schemas.common import ApiModel, EventOut

__all__ = [
    "AnomaliesOut",
    "BatchesOut",
    "ChainOut",
    "ClientCountsOut",
    "DayCountOut",
    "EventPageOut",
    "FoundEventOut",
    "HourCountOut",
    "KeyOut",
    "NewVerifierOut",
    "OverviewOut",
    "RulesOut",
    "SpikeOut",
    "UnusualPurposeOut",
    "WriterOut",
]


class FoundEventOut(ApiModel):
    """One event of a page: its index in the log (read its receipt at /audit/events/{index})."""

    index: int
    event: EventOut | None = Field(
        description="Null when the stored event is unreadable (the store was altered): "
        "check it at /audit/events/{index}."
    )


class EventPageOut(ApiModel):
    """One page of a search, newest first."""

    events: list[FoundEventOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )


class DayCountOut(ApiModel):
    """A verifier's accesses for one purpose on one day (UTC+8)."""

    day: str
    actor: str
    actor_org: str
    purpose: str
    count: int


class SpikeOut(ApiModel):
    """A day on which a verifier's accesses spiked (docs/consoles.md, the spike rule)."""

    day: str
    actor: str
    actor_org: str
    count: int
    trailing_median: float
    history_days: int


class UnusualPurposeOut(ApiModel):
    """A purpose the verifier used on ``day`` and rarely or never before."""

    day: str
    actor: str
    actor_org: str
    purpose: str
    count: int
    trailing_count: int
    trailing_total: int
    never_before: bool


class NewVerifierOut(ApiModel):
    """A verifier with accesses on ``day`` and none in the window before."""

    day: str
    actor: str
    actor_org: str
    count: int


class RulesOut(ApiModel):
    """The rules' parameters the report applied."""

    window_days: int
    spike_factor: float
    spike_min_count: int
    spike_min_history_days: int
    unusual_share: float
    actions: list[str] = Field(description="The actions counted as accesses.")


class AnomaliesOut(ApiModel):
    """The anomaly views of the days ``from`` to ``to`` (UTC+8, inclusive)."""

    from_day: str = Field(alias="from")
    to_day: str = Field(alias="to")
    rules: RulesOut
    days: list[DayCountOut]
    spikes: list[SpikeOut]
    unusual_purposes: list[UnusualPurposeOut]
    new_verifiers: list[NewVerifierOut]


class ChainOut(ApiModel):
    """Chain head, index height and lag (blocks); ``error`` names a failing node's error type."""

    head: int | None
    index_height: int | None
    lag: int | None
    error: str | None


class KeyOut(ApiModel):
    """A signing key of the issuer with its validity (chain time, seconds) and marks."""

    key_id: str
    valid_from: int
    retired_at: int | None
    compromised_from: int | None
    held: bool
    valid_now: bool
    active: bool


class WriterOut(ApiModel):
    """A writer appointment of the issuer on chain."""

    account: str
    added_at: int
    retired_at: int | None


class ClientCountsOut(ApiModel):
    """API clients holding one role."""

    active: int
    revoked: int


class HourCountOut(ApiModel):
    """Events in one UTC hour for one series."""

    hour: str = Field(description="The hour's start, UTC.")
    key: str
    count: int


class BatchesOut(ApiModel):
    """Credentials on their way to the chain, and how long anchoring took."""

    pending_credentials: int = Field(description="Issued, not in a sealed batch yet.")
    open_batches: int = Field(description="Sealed batches not anchored yet.")
    oldest_open_age_seconds: float | None
    latency_batches: int = Field(description="Final batches the latency is measured over.")
    latency_p50_seconds: float | None = Field(
        description="Sealing to anchoring block, median (nearest rank)."
    )
    latency_p95_seconds: float | None


class OverviewOut(ApiModel):
    """The province at a glance (docs/consoles.md)."""

    time: str
    chain: ChainOut
    outbox_by_state: dict[str, int]
    outbox_oldest_open_age_seconds: float
    batches: BatchesOut | None = Field(
        description="Credential batches; null in a province that issues nothing."
    )
    keys: list[KeyOut] | None
    writers: list[WriterOut] | None
    writer_lease_holder: str | None
    writer_lease_expires_in_ms: int | None
    clients_by_role: dict[str, ClientCountsOut]
    agencies_active: int
    agencies_retired: int
    templates: int
    proposals_awaiting_governor: list[int] | None = Field(
        description="Open proposals this province's governor has not approved; null when the "
        "service acts for no governor."
    )
    counters: dict[str, float] = Field(
        description="Counters of /metrics, summed over the service's processes: "
        "`name{label=value}` to value."
    )
    unavailable: list[str]
    issued_per_hour: list[HourCountOut]
    verified_per_hour: list[HourCountOut]
    audit_events_per_purpose_per_hour: list[HourCountOut]
