"""What the auditor's console reads: the access-log search and the anomaly report.

The rules live below them (``ledger.audit.search``: filters, keyset pages,
counts; ``ledger.audit.anomalies``: spikes, unusual purposes, new verifiers);
this module turns a console's question into theirs:

- an issuing **agency** is an event's ``actorOrg`` written ``uscc:…``
  (``credentials.zhengzhao.agencies.event_org``, docs/agencies.md), so the
  agency filter is an organisation filter on that value;
- the anomaly report's days are UTC+8 days; it reads the counts of the
  window before its first day too, since each day is judged against them.

Both are accesses to the log and are recorded as ``audit.read`` events by the
route before it answers (``api.province.access``), as reading one event is.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from api.errors import ApiError, FieldRule, ProblemCode
from credentials.zhengzhao.agencies import AgencyInputError, event_org
from ledger.audit.anomalies import (
    DEFAULT_RULES,
    AnomalyRules,
    DayCount,
    NewVerifier,
    Spike,
    UnusualPurpose,
    Verifier,
    new_verifiers,
    spikes,
    unusual_purposes,
)
from ledger.audit.search import (
    DAY_MS,
    UTC8_OFFSET_MS,
    AuditSearch,
    BadCursorError,
    EventFilter,
    EventPage,
)
from ledger.store.database import Database

__all__ = [
    "ACCESS_ACTIONS",
    "MAX_REPORT_DAYS",
    "AnomalyReport",
    "AuditQueryError",
    "anomaly_report",
    "audit_search",
    "search_events",
    "utc8_day",
]

ACCESS_ACTIONS = ("credential.verify", "presentation.verify", "zhengzhao.lookup")
"""The actions the anomaly views count: a verifier's accesses to someone's credential."""

MAX_REPORT_DAYS = 92
"""Most days one anomaly report covers (a quarter)."""

_searches: weakref.WeakKeyDictionary[Database, AuditSearch] = weakref.WeakKeyDictionary()


class AuditQueryError(ApiError):
    """A search or report question that cannot be asked (names the parameter, never a value)."""

    code = ProblemCode.VALIDATION_FAILED

    def __init__(self, parameter: str, message: str) -> None:
        """``parameter``: the query parameter at fault."""
        super().__init__(f"{parameter}: {message}", fields=[FieldRule(parameter, message)])


def audit_search(db: Database) -> AuditSearch:
    """The search over ``db``'s log (its facets migrated once per store object)."""
    found = _searches.get(db)
    if found is None:
        found = _searches[db] = AuditSearch(db)
    return found


def search_events(
    db: Database,
    where: EventFilter,
    *,
    agency: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> EventPage:
    """One page of events matching ``where`` and, if given, issued for ``agency`` (its code)."""
    if (
        where.since_ms is not None
        and where.until_ms is not None
        and where.since_ms >= where.until_ms
    ):
        raise AuditQueryError("until", "must be later than since")
    if agency is not None:
        try:
            org = event_org(agency)
        except AgencyInputError:
            raise AuditQueryError("agency", "must be an agency code (统一社会信用代码)") from None
        if where.actor_org is not None and where.actor_org != org:
            raise AuditQueryError("agency", "names another organisation than organisation does")
        where = EventFilter(
            where.since_ms,
            where.until_ms,
            where.actor,
            org,
            where.action,
            where.purpose,
            where.outcome,
        )
    try:
        return audit_search(db).search(where, limit=limit, cursor=cursor)
    except BadCursorError:
        raise AuditQueryError("cursor", "is not one a previous page returned") from None


def utc8_day(time_ms: int) -> date:
    """The UTC+8 calendar day of an instant (ms since the epoch)."""
    return date.fromordinal(date(1970, 1, 1).toordinal() + (time_ms + UTC8_OFFSET_MS) // DAY_MS)


def _day_start_ms(day: date) -> int:
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return int(midnight.timestamp() * 1000) - UTC8_OFFSET_MS


@dataclass(frozen=True)
class AnomalyReport:
    """The anomaly views of the UTC+8 days ``first`` to ``last``."""

    first: date
    last: date
    rules: AnomalyRules
    days: list[DayCount]
    """Accesses per verifier per purpose per day, in the report's days only."""
    spikes: list[Spike]
    unusual_purposes: list[UnusualPurpose]
    new_verifiers: list[NewVerifier]


def anomaly_report(
    db: Database,
    first: date,
    last: date,
    rules: AnomalyRules = DEFAULT_RULES,
) -> AnomalyReport:
    """The per-day counts and the flags of each day from ``first`` to ``last`` (UTC+8)."""
    if first > last:
        raise AuditQueryError("from", "must not be after to")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise AuditQueryError("to", f"a report covers at most {MAX_REPORT_DAYS} days")
    since = _day_start_ms(first - timedelta(days=rules.window))
    until = _day_start_ms(last + timedelta(days=1))
    grouped = audit_search(db).counts(
        since,
        until,
        bucket_ms=DAY_MS,
        offset_ms=UTC8_OFFSET_MS,
        group_by=("actor", "actor_org", "purpose"),
        actions=ACCESS_ACTIONS,
    )
    epoch = date(1970, 1, 1).toordinal()
    counts = [
        DayCount(
            date.fromordinal(epoch + g.bucket), Verifier(g.key[0], g.key[1]), g.key[2], g.count
        )
        for g in grouped
    ]
    shown = [c for c in counts if first <= c.day <= last]
    return AnomalyReport(
        first,
        last,
        rules,
        shown,
        spikes(counts, first, last, rules),
        unusual_purposes(counts, first, last, rules),
        new_verifiers(counts, first, last, rules),
    )
