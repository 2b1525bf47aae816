"""The consoles' data routes through the real app (docs/consoles.md).

``GET /audit/events`` and ``GET /audit/anomalies`` run on both store engines;
``GET /operator/overview`` runs against a province on the test chain.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest

from api.errors import ProblemCode
from api.http.metrics import Metrics
from api.http.routes.consoles import counters_of
from api.http.schemas.consoles import AnomaliesOut, EventPageOut, OverviewOut
from api.province.audit_views import utc8_day
from api.province.clients import Role
from credentials.holder import Holder
from credentials.templates import TEMPLATES
from credentials.zhengzhao.agencies import event_org
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.search import DAY_MS, UTC8_OFFSET_MS
from tests.helpers.agencies import TEST_AGENCY
from tests.helpers.contracts import GD, World
from tests.helpers.provinces import PERSONAL, served_province
from tests.helpers.routes import issue, problem, verify_at
from tests.helpers.server import Province, event_body, running_province
from tests.helpers.stores import StoreTarget

HOLDER = "did:key:zConsoeHoderKey"  # base58: no l
REVIEW = {"X-Purpose": "audit.review", "X-Legal-Basis": "prc.pipl.art13"}


@pytest.fixture
def engine_province(tmp_path: Path, store_target: StoreTarget) -> Iterator[Province]:
    """A served province without a chain, once per store engine."""
    with running_province(tmp_path, store=store_target) as served:
        yield served


def _append(province: Province, n: int, role: Role = Role.VERIFIER, **overrides: object) -> None:
    reply = province.request("POST", "/audit/events", role, json_body=event_body(n, **overrides))
    assert reply.status == 201, reply.text


def _search(province: Province, **query: object) -> dict[str, object]:
    reply = province.request(
        "GET", "/audit/events?" + urlencode(query), Role.AUDITOR, headers=REVIEW
    )
    assert reply.status == 200, reply.text
    document: dict[str, object] = reply.json()
    assert EventPageOut.model_validate(document).model_dump(mode="json") == document
    return document


def _indexes(page: dict[str, object]) -> list[int]:
    events = page["events"]
    assert isinstance(events, list)
    return [int(found["index"]) for found in events]


def test_a_search_filters_pages_newest_first_and_records_its_own_read(
    engine_province: Province,
) -> None:
    province = engine_province
    for n in range(5):
        _append(province, n, subjectId=HOLDER)
    _append(province, 5, purpose="tax.review")
    _append(province, 6, outcome="denied")
    first = _search(province, purpose="cross-province.enrolment", limit=3)
    assert _indexes(first) == [6, 4, 3]
    assert HOLDER not in str(first)  # pseudonyms only
    second = _search(
        province, purpose="cross-province.enrolment", limit=3, cursor=first["nextCursor"]
    )
    assert _indexes(second) == [2, 1, 0]
    assert second["nextCursor"] is None
    assert _indexes(_search(province, outcome="denied")) == [6]
    assert _indexes(_search(province, purpose="tax.review", actor="verifier-app")) == [5]
    assert _indexes(_search(province, organisation="999999")) == []
    # Each search was itself an access to the log, under the auditor's declared purpose.
    reads = [e for e in province.events() if e.action == "audit.read"]
    assert len(reads) == 5
    assert {(e.actor, e.purpose, e.resource) for e in reads} == {
        ("auditor-app", "audit.review", "record:audit_search")
    }


def test_a_search_by_time_range_takes_offsets_and_keeps_the_until_bound_out(
    engine_province: Province,
) -> None:
    province = engine_province
    log = province.log
    real = log.clock
    base = 1_780_000_000_000
    try:
        for n in range(3):
            log.clock = lambda n=n: base + n * 1000  # type: ignore[misc]
            _append(province, n)
    finally:
        log.clock = real
    since = datetime.fromtimestamp((base + 1000) / 1000, timezone(timedelta(hours=8)))
    until = datetime.fromtimestamp((base + 2000) / 1000, UTC)
    page = _search(province, since=since.isoformat(), until=until.isoformat())
    assert _indexes(page) == [1]


def test_a_search_by_agency_finds_the_events_recorded_for_that_agency(
    engine_province: Province,
) -> None:
    province = engine_province
    for_agency = Caller("issuer-app", event_org(TEST_AGENCY))
    issue_event = EventInput(
        action="credential.issue",
        resource="credential:" + "cd" * 32,
        purpose="issuance",
        legal_basis="prc.pipl.art13",
        outcome=Outcome.SUCCESS,
        request_id="req-agency",
    )
    province.log.append(for_agency, issue_event)
    _append(province, 1, role=Role.ISSUER)
    page = _search(province, agency=TEST_AGENCY)
    assert _indexes(page) == [0]
    events = page["events"]
    assert isinstance(events, list)
    assert events[0]["event"]["actorOrg"] == event_org(TEST_AGENCY)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"since": "2026-12-01T00:00:00"}, "since"),  # no offset: which day would it be?
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "9" * 16}, "cursor"),
        ({"since": "2026-12-02T00:00:00Z", "until": "2026-12-01T00:00:00Z"}, "until"),
        ({"agency": "11330000TB0000001X"}, "agency"),
        ({"agency": "91330000MA27XXXX0X", "organisation": "440000"}, "agency"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"outcome": "maybe"}, "outcome"),
        ({"purpose": "Tax Review"}, "purpose"),
    ],
)
def test_a_bad_search_parameter_gets_a_validation_problem_naming_it(
    province: Province, query: dict[str, str], parameter: str
) -> None:
    reply = province.request(
        "GET", "/audit/events?" + urlencode(query), Role.AUDITOR, headers=REVIEW
    )
    body = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert parameter in reply.text, body
    for value in query.values():
        if len(value) > 4:
            assert value not in str(body.get("detail", "")), body


def test_a_search_without_a_declared_purpose_is_refused_and_reads_nothing(
    province: Province,
) -> None:
    _append(province, 0)
    reply = province.request("GET", "/audit/events", Role.AUDITOR)
    assert reply.status == 422, reply.text
    assert [e.action for e in province.events()] == ["credential.verify"]


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/audit/events", REVIEW),
        ("/audit/anomalies", REVIEW),
        ("/operator/overview", {}),
    ],
)
def test_a_verifier_is_refused_the_console_routes_and_the_refusal_is_audited(
    province: Province, path: str, headers: dict[str, str]
) -> None:
    reply = province.request("GET", path, Role.VERIFIER, headers=headers)
    problem(reply, 403, ProblemCode.FORBIDDEN)
    [denied] = [e for e in province.events()]
    assert (denied.action, denied.actor, denied.outcome) == ("api.denied", "verifier-app", "denied")


def _at_day(day: date, hour: int = 12) -> int:
    """An instant on ``day`` (UTC+8) at ``hour`` o'clock there."""
    start = (day.toordinal() - date(1970, 1, 1).toordinal()) * DAY_MS - UTC8_OFFSET_MS
    return start + hour * 3_600_000


def test_the_anomaly_report_shows_days_spikes_unusual_purposes_and_new_verifiers(
    engine_province: Province,
) -> None:
    province = engine_province
    log = province.log
    real = log.clock
    today = utc8_day(real())
    regular = Caller("clinic-app", "440100")
    newcomer = Caller("newcomer-app", "440200")

    def verify(caller: Caller, when: int, purpose: str, count: int) -> None:
        log.clock = lambda: when
        log.append_many(
            caller,
            [
                EventInput(
                    action="credential.verify",
                    resource="credential:" + f"{n:064x}",
                    purpose=purpose,
                    legal_basis="prc.pipl.art13",
                    outcome=Outcome.SUCCESS,
                    request_id=f"req-{n}",
                )
                for n in range(count)
            ],
        )

    try:
        for back in range(1, 29):
            verify(regular, _at_day(today - timedelta(days=back)), "medical.treatment", 2)
        # Today: a spike (12 > 3 x 2), one access for a purpose never used before,
        # a verifier never seen, and an access at 00:00 UTC+8 (16:00 UTC the day before).
        verify(regular, _at_day(today, 0), "medical.treatment", 11)
        verify(regular, _at_day(today, 1), "tax.review", 1)
        verify(newcomer, _at_day(today, 2), "medical.treatment", 1)
    finally:
        log.clock = real
    reply = province.request(
        "GET",
        f"/audit/anomalies?from={today.isoformat()}&to={today.isoformat()}",
        Role.AUDITOR,
        headers=REVIEW,
    )
    assert reply.status == 200, reply.text
    document = reply.json()
    assert AnomaliesOut.model_validate(document).model_dump(mode="json", by_alias=True) == document
    day = today.isoformat()
    assert sorted((d["actor"], d["purpose"], d["count"]) for d in document["days"]) == [
        ("clinic-app", "medical.treatment", 11),
        ("clinic-app", "tax.review", 1),
        ("newcomer-app", "medical.treatment", 1),
    ]
    assert [
        (s["day"], s["actor"], s["count"], s["trailingMedian"]) for s in document["spikes"]
    ] == [(day, "clinic-app", 12, 2.0)]
    assert [(u["actor"], u["purpose"], u["neverBefore"]) for u in document["unusualPurposes"]] == [
        ("clinic-app", "tax.review", True)
    ]
    assert [(n["actor"], n["actorOrg"]) for n in document["newVerifiers"]] == [
        ("newcomer-app", "440200")
    ]
    [read] = [e for e in province.events() if e.action == "audit.read"]
    assert (read.actor, read.resource) == ("auditor-app", "record:audit_anomalies")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("from=2026-12-02&to=2026-12-01", "from"),
        ("from=2026-01-01&to=2026-12-01", "to"),
        # Not a day: pydantic alone would read these as Unix times (1970-01-01).
        ("to=0", "to"),
        ("from=1764547200", "from"),
    ],
)
def test_an_anomaly_report_over_a_bad_span_is_refused(
    province: Province, query: str, parameter: str
) -> None:
    reply = province.request("GET", f"/audit/anomalies?{query}", Role.AUDITOR, headers=REVIEW)
    problem(reply, 422, ProblemCode.VALIDATION_FAILED)
    assert parameter in reply.text


def test_the_overview_shows_the_province_from_its_own_sources(
    world: World, tmp_path: Path, store_target: StoreTarget
) -> None:
    url = None if store_target.engine == "sqlite" else str(store_target.where)
    with served_province(world, tmp_path, database_url=url) as province:
        context = province.context
        # This service acts for governor 0; governor 1 proposes, governor 0 has not approved.
        context.governor_account = world.accounts.governors[0].address
        proposal = world.registry.propose_suspend_issuer(world.governors[1], GD).proposal_id
        assert context.leases.acquire(
            context.writer_lease, "writer-host-1", 60_000, context.clock()
        )
        context.clients.create("old", "330000", [Role.VERIFIER], client_id="old-verifier")
        context.clients.revoke("old-verifier")
        answer = issue(province, Holder.generate().did)
        verify_at(province, answer["credential"])
        before = province.request("GET", "/operator/overview", Role.OPERATOR).json()
        assert before["batches"]["pendingCredentials"] == 1
        province.anchor_all()
        # A refusal the counters show: a verifier asking for the overview.
        assert province.request("GET", "/operator/overview", Role.VERIFIER).status == 403
        size = province.parts.audit_log.size()
        reply = province.request("GET", "/operator/overview", Role.OPERATOR)
        assert province.parts.audit_log.size() == size  # the overview names nobody: no event
    assert reply.status == 200, reply.text
    view = reply.json()
    assert OverviewOut.model_validate(view).model_dump(mode="json") == view
    chain = view["chain"]
    assert chain["head"] >= chain["indexHeight"] > 0
    assert chain["lag"] == chain["head"] - chain["indexHeight"]
    [key] = [k for k in view["keys"] if k["keyId"] == "key-1"]
    assert (key["active"], key["held"], key["validNow"], key["compromisedFrom"]) == (
        True,
        True,
        True,
        None,
    )
    assert world.accounts.zj_writer.address in {w["account"] for w in view["writers"]}
    assert view["writerLeaseHolder"] == "writer-host-1"
    assert view["clientsByRole"]["verifier"] == {"active": 1, "revoked": 1}
    assert view["clientsByRole"]["operator"] == {"active": 1, "revoked": 0}
    assert view["templates"] == len(TEMPLATES)
    assert view["agenciesActive"] >= 1
    batches = view["batches"]
    assert (batches["pendingCredentials"], batches["openBatches"]) == (0, 0)
    assert batches["latencyBatches"] == 1
    assert batches["latencyP50Seconds"] == batches["latencyP95Seconds"]
    assert view["outboxByState"]["final"] >= 1
    assert sum(h["count"] for h in view["issuedPerHour"]) == 1
    assert sum(h["count"] for h in view["verifiedPerHour"]) == 1
    purposes = {h["key"] for h in view["auditEventsPerPurposePerHour"]}
    assert PERSONAL["X-Purpose"] in purposes
    assert any(name.startswith("tongban_api_denied_total{") for name in view["counters"])
    assert view["proposalsAwaitingGovernor"] == [proposal]
    assert view["unavailable"] == []


def test_the_overview_of_a_process_without_chain_or_issuer_leaves_those_sections_null(
    engine_province: Province,
) -> None:
    province = engine_province
    _append(province, 0)
    _append(province, 1, purpose="tax.review", action="presentation.verify")
    _append(province, 2, action="audit.note")
    reply = province.request("GET", "/operator/overview", Role.OPERATOR)
    assert reply.status == 200, reply.text
    view = reply.json()
    assert OverviewOut.model_validate(view).model_dump(mode="json") == view
    assert view["chain"] == {"head": None, "indexHeight": None, "lag": None, "error": None}
    assert (view["keys"], view["writers"], view["batches"]) == (None, None, None)
    assert view["proposalsAwaitingGovernor"] is None  # this service acts for no governor
    assert set(view["outboxByState"].values()) == {0}
    assert all(c == {"active": 1, "revoked": 0} for c in view["clientsByRole"].values())
    assert sum(h["count"] for h in view["verifiedPerHour"]) == 2
    per_purpose: dict[str, int] = {}
    for h in view["auditEventsPerPurposePerHour"]:
        per_purpose[h["key"]] = per_purpose.get(h["key"], 0) + h["count"]
    assert per_purpose == {"cross-province.enrolment": 2, "tax.review": 1}
    assert view["issuedPerHour"] == []


def test_utc8_days_turn_at_16_00_utc() -> None:
    midnight = datetime(2026, 12, 6, 16, 0, tzinfo=UTC)
    ms = int(midnight.timestamp() * 1000)
    assert utc8_day(ms - 1) == date(2026, 12, 6)
    assert utc8_day(ms) == date(2026, 12, 7)


def test_the_overview_counters_are_read_from_the_metrics_rendering() -> None:
    metrics = Metrics()
    metrics.rate_limited.inc("clients")
    metrics.rate_limited.inc("clients")
    metrics.denied.inc("bad_token")
    metrics.observe_request("/credentials/verify", 200, 0.01)
    metrics.observe_request("/credentials/verify", 500, 0.01)
    metrics.observe_request("/audit/events", 503, 0.01)
    assert counters_of(metrics.render()) == {
        "tongban_rate_limited_total{bucket=clients}": 2.0,
        "tongban_api_denied_total{reason=bad_token}": 1.0,
        "tongban_http_requests_total{status=5xx}": 2.0,
    }
